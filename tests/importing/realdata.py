"""The real published exports, read in place from ../shared/datasets (never copied into the project): a test
that needs one skips with the reason where it is absent, and fails instead when CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
DATASETS = PROJECT.parent / "shared" / "datasets"


def require(*relative: str) -> list[Path]:
    paths = [DATASETS / r for r in relative]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        reason = f"real dataset not present: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: real-data tests must run)")
        pytest.skip(reason)
    return paths
