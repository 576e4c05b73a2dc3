"""A SPARQL server as the store: `kg build --store URL` fills `oxigraph serve` and Virtuoso with the real KG, which
then answer as the embedded store does, through the library, `kg query`/`kg stats` and `kg serve --store URL`;
Virtuoso's ResultSetMaxRows (1000 here) is paged past or reported; bad credentials and a server that is down
give one clear line, never a traceback."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

import pyoxigraph as ox
import pytest
import requests

from kg.queries import catalogue as named_queries
from kg.queries import run as q
from kg.config import ROOT
from kg.store.remote import BUILD_GRAPH, RemoteStore

from .live import free_port, serving
from .servers import VIRTUOSO_MAX_ROWS, oxigraph_server, virtuoso_server

# Virtuoso departs from SPARQL 1.1 in the others (docs/operations.md): booleans come back as 0/1, COALESCE drops
# language tags, a BIND that fails removes the row, and a * path joined with other patterns loses solutions.
SAME_ON_VIRTUOSO = {
    "coordinators", "co-partner-pairs", "co-partners-of-organisation", "events-in-period", "funding-levels",
    "partners-by-country", "project-summary", "projects-by-funding",
}
EVERYTHING = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def _build_into(server, kg_cmd) -> tuple:
    # The reference engine, as the session's `store` the tests compare with was built by it.
    done = kg_cmd("build", "--engine", "rdflib", "--store", server.url, env=server.credentials)
    assert done.returncode == 0, done.stderr
    return server, done.stdout


@pytest.fixture(scope="module")
def oxigraph_built(tmp_path_factory, kg_cmd):
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield _build_into(server, kg_cmd)


@pytest.fixture(scope="module")
def virtuoso_built(tmp_path_factory, kg_cmd):
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield _build_into(server, kg_cmd)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote(request):
    """(server, kind, `kg build` output) of each server, built once per module."""
    server, output = request.getfixturevalue(f"{request.param}_built")
    return server, request.param, output


WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"


def _term(term):
    if term is None or isinstance(term, ox.BlankNode):
        return None if term is None else "_:b"  # labels are the store's own
    if isinstance(term, ox.Literal):
        if term.datatype.value.endswith(("#double", "#decimal", "#float")):
            # Virtuoso writes doubles with as few as 5 significant digits (0.25641), and 0 as 0.0.
            return ("number", float(f"{float(term.value):.5g}"))
        if ", " in term.value:  # GROUP_CONCAT: in no particular order, in any store
            return ("list", tuple(sorted(term.value.split(", "))), term.language)
        if term.datatype.value in (WKT_LITERAL, VIRTUOSO_GEOMETRY):
            # Virtuoso keeps a geo:wktLiteral as its own geometry type, its numbers as single floats
            # (POINT(13.3636 38.1166) comes back as POINT(13.363599777222 38.116600036621)^^virtrdf:Geometry).
            single = lambda x: struct.unpack("f", struct.pack("f", float(x)))[0]  # as Virtuoso keeps it
            return ("point", tuple(round(single(x), 6) for x in re.findall(r"-?[0-9.]+", term.value)))
    return str(term)


def _rows(result) -> list:
    names = [v.value for v in result.variables]
    return sorted((tuple(_term(s[n]) for n in names) for s in result), key=repr)


def test_build_writes_every_graph_and_the_build_record(remote, store):
    server, kind, output = remote
    remote_store = RemoteStore.connect(server.url)
    assert remote_store.kind == kind
    assert f"store: {server.url} ({kind};" in output and "triples/s uploaded" in output
    assert remote_store.info is not None and remote_store.info.graph_sizes == store.graph_sizes()
    # Counted by the server itself, not read from the record: what landed is what was validated.
    assert remote_store.graph_sizes() == store.graph_sizes()
    assert BUILD_GRAPH not in remote_store.named_graphs()


def test_named_queries_answer_as_the_embedded_store(remote, store):
    server, kind, _ = remote
    remote_store = RemoteStore.connect(server.url)
    names = [n for n, nq in named_queries.catalogue().items() if not any(p.required for p in nq.params)]
    names.remove("fact-provenance")  # right on both, but 9 s on oxigraph serve over an explicit dataset
    if kind == "virtuoso":
        names = [n for n in names if n in SAME_ON_VIRTUOSO]
    assert len(names) >= 8
    for name in names:
        text = named_queries.get(name).bind({})
        assert _rows(q.run(remote_store, text)) == _rows(q.run(store, text)), name


def test_kg_query_and_stats_read_the_server(remote, store, kg_cmd):
    server, _, _ = remote
    stats = kg_cmd("stats", "--format", "json", "--store", server.url)
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["triples"] == len(store) and figures["graphs"] == store.graph_sizes()
    done = kg_cmd("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s a ckg:Project }", "--format", "csv", "--store", server.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "4"]


def test_serve_fronts_the_server(remote):
    server, _, _ = remote
    build_id = RemoteStore.connect(server.url).info.id
    with serving(server.url, "--workers", "1") as base:
        health = requests.get(base + "/health", timeout=10).json()
        assert health["build"] == build_id
        answer = requests.get(base + "/sparql", params={"query": "SELECT ?p WHERE { ?p a ckg:Project }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200 and len(answer.json()["results"]["bindings"]) == 4
        assert answer.headers["KG-Build"] == build_id
        page = requests.get(base + "/id/project/conet", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "CoNet" in page.text
        network = requests.get(base + "/network", params={"format": "json"}, timeout=60)
        assert network.status_code == 200 and network.json()["nodes"]
        dump = requests.get(base + "/dumps/cohesion-kg.nq.gz", timeout=10)
        assert dump.status_code == 404 and "offers no dump files" in dump.text


def test_select_pages_past_virtuosos_row_limit(virtuoso_built, store):
    server, _ = virtuoso_built
    remote_store = RemoteStore.connect(server.url)
    assert len(store) > 10 * VIRTUOSO_MAX_ROWS
    assert _rows(remote_store.select(EVERYTHING)) == _rows(store.select(EVERYTHING))
    assert remote_store.max_rows == VIRTUOSO_MAX_ROWS
    # Paging keeps the query's own order: the pages are cut from it, ties broken by every variable.
    ordered = "SELECT ?s ?p WHERE { ?s ?p ?o FILTER (!isBlank(?s)) } ORDER BY DESC(STR(?p)) ?s"
    values = lambda rows: [(r["s"].value, r["p"].value) for r in rows]
    assert values(remote_store.select(ordered)) == values(store.select(ordered))
    # A CONSTRUCT is cut without a word; it is paged too, the limit read from the server's configuration.
    graph = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://w3id.org/cohesion-kg/graph/inferred> { ?s ?p ?o } }"
    assert len(q.run(remote_store, graph)) == store.graph_sizes()["https://w3id.org/cohesion-kg/graph/inferred"]


def test_served_endpoint_reports_virtuosos_cut(virtuoso_built):
    server, _ = virtuoso_built
    with serving(server.url, "--workers", "1") as base:
        answer = requests.get(base + "/sparql", params={"query": EVERYTHING}, headers={"Accept": "text/csv"}, timeout=30)
        assert answer.status_code == 200
        assert answer.headers["KG-Results-Truncated"] == "true"
        assert answer.headers["KG-Store-Row-Limit"] == str(VIRTUOSO_MAX_ROWS)
        assert len(answer.text.splitlines()) == VIRTUOSO_MAX_ROWS + 1
        within = requests.get(base + "/sparql", params={"query": EVERYTHING + " LIMIT 10"}, headers={"Accept": "text/csv"}, timeout=30)
        assert within.status_code == 200 and "KG-Results-Truncated" not in within.headers
        # The app's own pages page past it: the inferred graph is 2.5 times the limit.
        graph = requests.get(base + "/graph/inferred", headers={"Accept": "application/n-triples"}, timeout=60)
        assert graph.status_code == 200 and graph.text.count("\n") > 2 * VIRTUOSO_MAX_ROWS


def test_wrong_or_missing_credentials_stop_the_build_at_once(virtuoso_built, kg_cmd):
    server, _ = virtuoso_built
    started = time.monotonic()
    wrong = kg_cmd("build", "--store", server.url, env={"KG_STORE_USER": "dba", "KG_STORE_PASSWORD": "not-" + server.password})
    assert wrong.returncode == 2
    assert "refused the credentials in KG_STORE_USER/KG_STORE_PASSWORD (HTTP 401)" in wrong.stderr
    assert "sparql-graph-crud-auth" in wrong.stderr and "Traceback" not in wrong.stderr
    missing = kg_cmd("build", "--store", server.url, env={"KG_STORE_USER": "", "KG_STORE_PASSWORD": ""})
    assert missing.returncode == 2 and "asks for credentials (HTTP 401): set KG_STORE_USER and KG_STORE_PASSWORD" in missing.stderr
    assert time.monotonic() - started < 30  # refused before the build's own work, not after it
    assert RemoteStore.connect(server.url).info is not None  # and the build there is untouched


def test_a_server_that_is_down_is_one_clear_line(kg_cmd):
    down = f"http://127.0.0.1:{free_port()}/sparql"
    for args in (["query", "ASK {}"], ["stats"], ["build"]):
        done = kg_cmd(*args, "--store", down)
        assert done.returncode == 2, args
        assert done.stderr == f"kg: error: {down}: cannot reach the store: Connection refused\n", args
    served = subprocess.run([sys.executable, "-m", "kg.cli", "serve", "--store", down, "--port", str(free_port())],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert served.returncode == 2 and "cannot reach the store: Connection refused" in served.stderr


def test_serving_while_the_server_goes_down(tmp_path, store):
    with oxigraph_server(tmp_path) as server:
        RemoteStore.connect(server.url).replace_build(store, {"inference": "owlrl", "kg_version": "test"})
        with serving(server.url, "--workers", "1") as base:
            assert requests.get(base + "/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200
            os.kill(server.pid, signal.SIGTERM)
            os.waitpid(server.pid, 0)
            answer = requests.get(base + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}, timeout=10)
            assert answer.status_code == 502
            assert answer.text == "the SPARQL store behind this endpoint failed to answer: cannot reach the store: Connection refused\n"


def test_store_option_is_checked(kg_cmd):
    done = kg_cmd("query", "ASK {}", "--store", "ftp://example.org/sparql")
    assert done.returncode == 2 and "expected an http:// or https:// URL of a SPARQL endpoint" in done.stderr
