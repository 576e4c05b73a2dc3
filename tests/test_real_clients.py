"""Real SPARQL clients against `kg serve` (gunicorn, several workers) on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, SPARQLWrapper

from .live import serving

CKG = "https://w3id.org/cohesion-kg/ontology/"


@pytest.fixture(scope="module")
def endpoint(disk_store):
    with serving(disk_store, "--workers", "2", "--timeout", "5") as base:
        yield base + "/sparql"


def test_sparqlwrapper_select_json_and_csv(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(f"PREFIX ckg: <{CKG}> SELECT ?p WHERE {{ ?p a ckg:Project }}")
    sw.setReturnFormat(JSON)
    rows = sw.queryAndConvert()["results"]["bindings"]
    assert len(rows) == 4
    sw.setReturnFormat(CSV)
    assert sw.queryAndConvert().decode().splitlines()[0] == "p"


def test_sparqlwrapper_post_and_construct(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setMethod("POST")
    sw.setQuery("DESCRIBE <https://w3id.org/cohesion-kg/id/project/crisco>")
    sw.setReturnFormat(TURTLE)
    g = Graph().parse(data=sw.queryAndConvert(), format="turtle")
    assert (URIRef("https://w3id.org/cohesion-kg/id/project/crisco"), URIRef(CKG + "acronym"), None) in g


def test_rdflib_sparqlstore_reads_the_kg_as_a_graph(endpoint):
    g = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    rows = list(g.query(f"PREFIX ckg: <{CKG}> SELECT (COUNT(*) AS ?n) WHERE {{ ?x ckg:participant ?o }}"))
    assert int(rows[0][0]) == 53
    assert (URIRef("https://w3id.org/cohesion-kg/id/project/conet"), URIRef(CKG + "acronym"), None) in g


def test_runaway_query_is_stopped_under_gunicorn_and_others_are_served(endpoint):
    runaway = requests.get(endpoint, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"}, timeout=30)
    assert runaway.status_code == 503 and "5 s limit" in runaway.text
    ok = requests.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert ok.json()["boolean"] is True
