"""The W3C SPARQL 1.1 query-evaluation tests, sent over HTTP to the endpoint loaded with each test's data.

All tests run once per module; the report (pass count, failures with reasons) is printed, and the suite fails if
fewer tests pass than tests/conformance/baseline.json records, or if a test outside its known failures fails.
When the endpoint gets better, record the new baseline: KG_W3C_BASELINE=write python -m pytest tests/test_w3c_*.py
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import pytest

from kg.store.embedded import KGStore
from server import create_app

from .conformance import w3c

BASELINE = Path(__file__).parent / "conformance" / "baseline.json"


@pytest.fixture(scope="module")
def results():
    root = w3c.conformance_root(__file__)
    tests, left_out = w3c.query_tests(root / "w3c-sparql11")
    tally = w3c.Tally(f"W3C SPARQL 1.1 query evaluation over HTTP ({len(left_out)} more need named graphs or several files)")
    key = lambda t: str(t.data or "")
    # One endpoint per data file, its store let go of before the next.
    for _, group in groupby(sorted(tests, key=key), key=key):
        group = list(group)
        kg_store = KGStore.in_memory()
        w3c.load_data(kg_store.store, group[0].data)
        app = create_app({"KG_STORE": kg_store, "TESTING": True})
        try:
            client = app.test_client()
            for test in group:
                tally.add(w3c.run_query_test(client, test))
        finally:
            app.config["KG_BACKEND"].close()
    tally.outcomes.sort(key=lambda o: o.name)
    return tally


def test_w3c_query_suite_holds_its_baseline(results, capsys):
    """Prints the report; fails when fewer tests pass than recorded, or a test outside the known failures fails."""
    problems = w3c.check_baseline(results, BASELINE, "query", capsys)
    assert not problems, "\n".join(problems)
