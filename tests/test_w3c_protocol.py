"""The W3C SPARQL 1.1 Protocol tests that apply to a read-only endpoint, and the Service Description tests.

The protocol manifest's HTTP requests are sent in order to the endpoint holding the kasei.us test graphs; tests
that need SPARQL Update are "not applicable", and pass as such only if the endpoint refuses the update (4xx).
The report is printed; the suite fails if fewer tests pass than tests/conformance/baseline.json records, or if a
test outside its known failures fails.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store.embedded import KGStore
from server import create_app

from .conformance import w3c

BASELINE = Path(__file__).parent / "conformance" / "baseline.json"


@pytest.fixture(scope="module")
def results():
    root = w3c.conformance_root(__file__)
    tests = w3c.protocol_tests(root / "w3c-sparql11" / "protocol" / "manifest.ttl")
    kg_store = KGStore.in_memory()
    for path, graph in sorted(w3c.protocol_graph_data(tests)):
        kg_store.store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    app = create_app({"KG_STORE": kg_store, "TESTING": True})
    tally = w3c.Tally("W3C SPARQL 1.1 protocol and service description over HTTP")
    try:
        client = app.test_client()
        for test in tests:
            tally.add(w3c.run_protocol_test(client, test))
        for outcome in w3c.service_description_outcomes(
            client, root / "void-sd" / "sd-void-shacl.ttl", root / "void-sd" / "sparql-service-description.ttl"
        ):
            tally.add(outcome)
    finally:
        app.config["KG_BACKEND"].close()
    return tally


def test_w3c_protocol_suite_holds_its_baseline(results, capsys):
    """Prints the report; fails when fewer tests pass than recorded, or a test outside the known failures fails."""
    problems = w3c.check_baseline(results, BASELINE, "protocol", capsys)
    assert not problems, "\n".join(problems)


def test_update_operations_are_refused_not_run(results):
    """A read-only endpoint answers every SPARQL Update test with a refusal; none may report success."""
    na = results.names(w3c.NOT_APPLICABLE)
    assert na and all(n.startswith("protocol/update_") for n in na)
