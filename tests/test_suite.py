"""Rules the test suite keeps about itself."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent


def test_no_test_skips_because_a_package_is_missing():
    """A package the tests need is in the test extra and imported outright: `importorskip` would let a broken
    install pass by testing nothing (system components skip through tests/system_packages.py, which fails under
    CI=true)."""
    call = re.compile(r"\bimportorskip\s*\(")
    found = [f"{p.relative_to(TESTS)}:{n}" for p in sorted(TESTS.rglob("*.py")) if p != Path(__file__)
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if call.search(line)]
    assert not found, found
