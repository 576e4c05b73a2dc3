"""The SPARQL endpoint: protocol, negotiation, limits that really stop work, description, caching, browsers."""

from __future__ import annotations

import csv
import gzip
import io
import os
import threading
import time
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import Namespace

from server import create_app

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance"
PROJECTS = "SELECT ?p WHERE { ?p a ckg:Project } ORDER BY ?p"


@pytest.fixture()
def make_client(store):
    apps = []

    def make(**config):
        app = create_app({"KG_STORE": store, "TESTING": True, **config})
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.config["KG_BACKEND"].close()


def test_service_description_conforms_to_the_sd_void_shapes(client):
    import pyshacl

    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    g = Graph().parse(data=r.data, format="turtle")
    assert (URIRef("http://localhost/sparql"), SD.endpoint, URIRef("http://localhost/sparql")) in g
    shapes = SHARED / "void-sd" / "sd-void-shacl.ttl"
    if not shapes.is_file():
        pytest.fail(f"conformance shapes missing: {shapes}")
    conforms, _, text = pyshacl.validate(g, shacl_graph=Graph().parse(shapes), inference="none")
    assert conforms, text
    names = {str(o) for o in g.objects(None, SD.name)}
    assert "https://w3id.org/cohesion-kg/graph/data/projects/conet" in names
    assert "https://w3id.org/cohesion-kg/graph/inferred" in names
    limits = {str(p).rsplit("/", 1)[-1]: str(o) for p, o in g.predicate_objects(URIRef("http://localhost/sparql"))}
    assert limits["queryTimeout"] == "30.0" and limits["rowLimit"] == "10000"


@pytest.mark.parametrize("accept, fmt", [("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"), ("application/n-triples", "nt")])
def test_service_description_in_other_rdf_formats(client, accept, fmt):
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.mimetype == accept
    assert len(Graph().parse(data=r.data, format=fmt)) > 20


def test_browsers_get_the_query_editor_with_examples(client):
    r = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "/vendor/@zazuko/yasgui/build/yasgui.min.js" in page
    assert "Who worked with whom" in page and "PREFIX ckg:" in page
    js = client.get("/vendor/@zazuko/yasgui/build/yasgui.min.js")
    assert js.status_code == 200 and len(js.data) > 100_000, "run `make setup` to install the query editor"
    assert client.get("/vendor/../../app.py").status_code == 404


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv;q=0.9, text/tab-separated-values", "text/tab-separated-values"),
        ("text/*", "text/csv"),
        ("*/*", "application/sparql-results+json"),
        ("application/json;q=0.1, application/sparql-results+json", "application/sparql-results+json"),
        ("image/png, text/tab-separated-values;q=0.2", "text/tab-separated-values"),
    ],
)
def test_content_negotiation_for_solutions(client, accept, expected):
    r = client.get("/sparql", query_string={"query": PROJECTS}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == expected
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize("accept, expected", [("application/ld+json", "application/ld+json"), ("application/rdf+xml", "application/rdf+xml"), ("*/*", "text/turtle")])
def test_content_negotiation_for_graphs(client, accept, expected):
    r = client.get("/sparql", query_string={"query": "DESCRIBE project:conet"}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == expected


def test_format_parameter_for_links(client):
    assert client.get("/sparql", query_string={"query": PROJECTS, "format": "csv"}).mimetype == "text/csv"
    assert client.get("/sparql", query_string={"query": PROJECTS, "format": "application/sparql-results+xml"}).mimetype == "application/sparql-results+xml"
    r = client.get("/sparql", query_string={"query": PROJECTS, "format": "turtle"})
    assert r.status_code == 406  # a graph format for solutions
    assert client.get("/sparql", query_string={"query": PROJECTS, "format": "pdf"}).status_code == 400


def test_406_when_nothing_fits(client):
    r = client.get("/sparql", query_string={"query": PROJECTS}, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "available" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        ({"method": "GET", "query_string": {"query": "SELECT * WHERE {\n ?s ?p }"}}, 400, "query line 2 column"),
        ({"method": "GET", "query_string": {"query": ["ASK {}", "ASK {}"]}}, 400, "more than once"),
        ({"method": "GET", "query_string": {"query": "  "}}, 400, "missing 'query'"),
        ({"method": "POST", "data": b"\xff\xfe", "content_type": "application/sparql-query"}, 400, "UTF-8"),
        ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415, "unsupported content type"),
        ({"method": "POST", "data": "INSERT DATA { <a:b> <a:c> <a:d> }", "content_type": "application/sparql-update"}, 403, "read-only"),
        ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ({"method": "GET", "query_string": {"query": "LOAD <http://example.org/x>"}}, 403, "LOAD is SPARQL Update"),
        ({"method": "GET", "query_string": {"query": "PREFIX x: <http://ex/> DELETE WHERE { ?s ?p ?o }"}}, 403, "DELETE"),
        ({"method": "GET", "query_string": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}}, 403, "SERVICE <http://127.0.0.1:9/sparql> is not allowed"),
        ({"method": "GET", "query_string": {"query": "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }"}}, 403, "variable endpoint"),
        ({"method": "PUT", "data": "x"}, 405, ""),
    ],
)
def test_bad_requests_get_the_right_status_and_a_clear_message(client, kwargs, status, message):
    method = kwargs.pop("method")
    r = client.open("/sparql", method=method, **kwargs)
    assert r.status_code == status
    assert message in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_oversized_query_is_413(make_client):
    c = make_client(MAX_QUERY_BYTES=100)
    r = c.post("/sparql", data="ASK { " + "?s ?p ?o . " * 20 + "}", content_type="application/sparql-query")
    assert r.status_code == 413


def test_dataset_parameters_choose_the_graphs(client):
    conet = "https://w3id.org/cohesion-kg/graph/data/projects/conet"
    r = client.get("/sparql", query_string={"query": PROJECTS, "default-graph-uri": conet})
    assert [b["p"]["value"] for b in r.get_json()["results"]["bindings"]] == ["https://w3id.org/cohesion-kg/id/project/conet"]
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    r = client.get("/sparql", query_string={"query": q, "named-graph-uri": conet})
    assert [b["g"]["value"] for b in r.get_json()["results"]["bindings"]] == [conet]


def test_row_limit_cuts_and_announces(make_client):
    c = make_client(ROW_LIMIT=3)
    r = c.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s a ckg:City }"})
    assert len(r.get_json()["results"]["bindings"]) == 3
    assert r.headers["KG-Row-Limit"] == "3" and r.headers["KG-Results-Truncated"] == "true"
    r = c.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s a ckg:City } LIMIT 2", "format": "csv"})
    assert len(list(csv.reader(io.StringIO(r.get_data(as_text=True))))) == 3  # header + 2
    assert "KG-Results-Truncated" not in r.headers
    r = c.get("/sparql", query_string={"query": PROJECTS.replace("ORDER BY ?p", "") + " VALUES ?p { project:conet project:crisco }"})
    assert r.status_code == 200 and len(r.get_json()["results"]["bindings"]) == 2


# Streams rows for hours: stopped between two of them at the deadline.
STREAMING_RUNAWAY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Counts 10^7 solutions inside one operator (about 1 s here): no row comes out before it is done.
BLOCKING = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d rdfs:label ?f }"


def _query_threads() -> int:
    return sum(t.name == "kg-query" for t in threading.enumerate())


def test_a_streaming_runaway_gets_its_503_on_time_and_stops_between_rows(make_client):
    c = make_client(QUERY_TIMEOUT=1.0, ROW_LIMIT=0, MAX_RESULT_BYTES=0, CACHE_BYTES=0)
    stuck = c.application.config["KG_BACKEND"].runner.watchdog
    started = time.monotonic()
    r = c.get("/sparql", query_string={"query": STREAMING_RUNAWAY})
    elapsed = time.monotonic() - started
    assert r.status_code == 503 and "1 s limit" in r.get_data(as_text=True)
    assert r.headers["Retry-After"] == "5"
    assert 1.0 <= elapsed < 1.5
    deadline = time.monotonic() + 1.0
    while _query_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _query_threads() == 0, "the runaway query is still running after its 503"
    assert stuck.stuck == 0
    ok = c.get("/sparql", query_string={"query": PROJECTS})
    assert ok.status_code == 200 and len(ok.get_json()["results"]["bindings"]) == 4


def test_a_light_runaway_runs_in_the_request_thread_and_is_stopped_between_rows_at_its_timeout(make_client):
    from server.sparql.cost import Cost, classify

    # Every pattern is anchored by its class and nothing blocks: light, though it streams 10^10 rows.
    runaway = "SELECT * WHERE { ?a a ckg:City . ?b a ckg:City . ?c a ckg:City . ?d a ckg:City . ?e a ckg:City }"
    assert classify(runaway) is Cost.LIGHT
    c = make_client(QUERY_TIMEOUT=1.0, ROW_LIMIT=0, MAX_RESULT_BYTES=0, CACHE_BYTES=0)
    started = time.monotonic()
    r = c.get("/sparql", query_string={"query": runaway})
    elapsed = time.monotonic() - started
    assert r.status_code == 503 and "1 s limit" in r.get_data(as_text=True) and r.headers["Retry-After"]
    assert 1.0 <= elapsed < 1.5
    assert _query_threads() == 0 and c.application.config["KG_BACKEND"].runner.watchdog.stuck == 0


def test_a_query_stuck_in_a_blocking_operator_is_answered_on_time_and_handed_to_the_watchdog(make_client):
    seen = []
    c = make_client(QUERY_TIMEOUT=0.1, CACHE_BYTES=0, ON_TROUBLE=seen.append)
    started = time.monotonic()
    r = c.get("/sparql", query_string={"query": BLOCKING})
    assert r.status_code == 503 and time.monotonic() - started < 0.4
    # Meanwhile a light query runs in the request thread, beside the stuck one.
    ok = c.get("/sparql", query_string={"query": "SELECT ?p ?o WHERE { project:conet ?p ?o }"})
    assert ok.status_code == 200 and ok.get_json()["results"]["bindings"]
    deadline = time.monotonic() + 2.0
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen and "COUNT(*)" in seen[0], "the watchdog did not report the stuck query"
    while _query_threads():  # let it finish before the next test (under `kg serve` its worker is recycled)
        time.sleep(0.05)


def test_heavy_queries_past_their_slots_are_refused_with_retry_after_and_light_ones_still_run(make_client):
    c = make_client(QUERY_TIMEOUT=30.0, CACHE_BYTES=0, SLOW_QUERIES=1, THREADS=2)
    runner = c.application.config["KG_BACKEND"].runner
    assert runner.max_heavy == 1
    results = {}
    slow = threading.Thread(target=lambda: results.update(slow=c.get("/sparql", query_string={"query": BLOCKING})))
    slow.start()
    deadline = time.monotonic() + 2
    while not _query_threads() and time.monotonic() < deadline:
        time.sleep(0.005)
    refused = c.get("/sparql", query_string={"query": BLOCKING + " # another"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
    assert "long queries" in refused.get_data(as_text=True)
    started = time.monotonic()
    light = c.get("/sparql", query_string={"query": "SELECT ?o WHERE { project:conet ckg:acronym ?o }"})
    assert light.status_code == 200 and time.monotonic() - started < 0.5
    slow.join()
    assert results["slow"].status_code == 200


def test_heavy_queries_run_at_a_lower_cpu_priority_than_the_request_threads(make_client):
    c = make_client(QUERY_TIMEOUT=5.0, CACHE_BYTES=0)
    done = threading.Thread(target=lambda: c.get("/sparql", query_string={"query": BLOCKING}))
    done.start()

    def nice_values() -> set[int]:
        found = set()
        for task in Path("/proc/self/task").iterdir():
            try:
                found.add(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
            except OSError:
                pass
        return found

    seen = set()
    while done.is_alive():
        seen |= nice_values()
        time.sleep(0.01)
    assert 10 in seen, f"no thread ran at nice 10 while the heavy query ran (nice values seen: {sorted(seen)})"
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0


def test_the_byte_limit_cuts_an_answer_between_rows_and_flags_it(make_client):
    c = make_client(ROW_LIMIT=0, MAX_RESULT_BYTES=20_000, CACHE_BYTES=0)
    r = c.get("/sparql", query_string={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "format": "tsv"})
    assert r.status_code == 200 and r.headers["KG-Results-Truncated"] == "true"
    body = r.get_data()
    assert 10_000 < len(body) <= 20_000 and body.endswith(b"\n")
    assert all(line.count(b"\t") == 2 for line in body.splitlines())  # whole rows only
    g = c.get("/sparql", query_string={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert g.status_code == 200 and g.headers["KG-Results-Truncated"] == "true"
    assert 50 < len(Graph().parse(data=g.get_data(as_text=True), format="turtle"))


def test_etag_and_last_modified_tied_to_the_build(client):
    r = client.get("/sparql", query_string={"query": PROJECTS})
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert r.headers["KG-Build"] and "max-age" in r.headers["Cache-Control"]
    again = client.get("/sparql", query_string={"query": PROJECTS}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/sparql", query_string={"query": PROJECTS}, headers={"Accept": "text/csv"})
    assert other.headers["ETag"] != etag
    assert modified


def test_cors_for_browser_clients(client):
    r = client.get("/sparql", query_string={"query": PROJECTS}, headers={"Origin": "https://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "KG-Row-Limit" in r.headers["Access-Control-Expose-Headers"]
    pre = client.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200 and "POST" in pre.headers["Access-Control-Allow-Methods"]


def test_gzip_when_the_client_accepts_it(client):
    q = "CONSTRUCT WHERE { ?s ?p ?o }"
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept-Encoding": "gzip", "Accept": "application/n-triples"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert len(Graph().parse(data=gzip.decompress(r.data).decode(), format="nt")) > 5000


def test_repeated_gets_are_answered_from_the_response_cache_with_the_same_headers(make_client):
    c = make_client()
    headers = {"Accept": "text/csv", "Origin": "https://example.org", "Accept-Encoding": "identity"}
    first = c.get("/sparql", query_string={"query": PROJECTS}, headers=headers)
    backend = c.application.config["KG_BACKEND"]
    runs = []
    original = backend.run
    backend.run = lambda job: runs.append(job) or original(job)
    second = c.get("/sparql", query_string={"query": PROJECTS}, headers=headers)
    assert runs == [], "a repeated GET reached the query process"
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Access-Control-Allow-Origin"] == "*" and second.mimetype == "text/csv"
    assert c.get("/sparql", query_string={"query": PROJECTS}, headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    other = c.get("/sparql", query_string={"query": PROJECTS}, headers={"Accept": "application/sparql-results+xml"})
    assert other.mimetype == "application/sparql-results+xml" and len(runs) == 1


# --- The row limit: a complete result is never flagged (issue 14, defect 6) ------------------------------------


def test_row_limit_asks_one_row_more_for_a_select():
    from kg.sparql_text import with_row_limit

    assert with_row_limit("SELECT * WHERE { ?s ?p ?o }", 10) == ("SELECT * WHERE { ?s ?p ?o }\nLIMIT 11\n", True)
    assert with_row_limit("SELECT * WHERE { ?s ?p ?o } LIMIT 50", 10) == ("SELECT * WHERE { ?s ?p ?o } LIMIT 11", True)
    assert with_row_limit("SELECT * WHERE { ?s ?p ?o } LIMIT 10", 10) == ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", False)
    # A graph's triples cannot be told apart by solution: capped at the limit itself, and never flagged.
    assert with_row_limit("CONSTRUCT WHERE { ?s ?p ?o }", 10) == ("CONSTRUCT WHERE { ?s ?p ?o }\nLIMIT 10\n", True)
    assert with_row_limit("ASK { ?s ?p ?o }", 10) == ("ASK { ?s ?p ?o }", False)


def _rows(r) -> int:
    if r.mimetype == "application/sparql-results+json":
        return len(r.get_json()["results"]["bindings"])
    if r.mimetype == "application/sparql-results+xml":
        return r.get_data(as_text=True).count("<result>")
    return len(r.get_data(as_text=True).splitlines()) - 1  # csv, tsv: a header line


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_complete_result_of_exactly_the_row_limit_is_not_flagged(make_client, fmt):
    exact = make_client(ROW_LIMIT=4)  # the KG has four projects
    r = exact.get("/sparql", query_string={"query": PROJECTS, "format": fmt})
    assert r.status_code == 200 and _rows(r) == 4
    assert "KG-Results-Truncated" not in r.headers
    cut = make_client(ROW_LIMIT=3)
    r = cut.get("/sparql", query_string={"query": PROJECTS, "format": fmt})
    assert r.status_code == 200 and _rows(r) == 3
    assert r.headers["KG-Results-Truncated"] == "true"


def test_the_cut_keeps_every_term_as_it_was(make_client, client):
    """The rows returned under the limit are the first rows of the whole answer, term for term."""
    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label"
    whole = client.get("/sparql", query_string={"query": query + " LIMIT 5"}).get_json()["results"]["bindings"]
    cut = make_client(ROW_LIMIT=5).get("/sparql", query_string={"query": query})
    assert cut.headers["KG-Results-Truncated"] == "true"
    assert cut.get_json()["results"]["bindings"] == whole


def test_a_named_query_of_exactly_the_row_limit_is_not_flagged(client, make_client):
    rows = _rows(client.get("/queries/coordinators.csv"))
    assert rows > 1
    exact = make_client(ROW_LIMIT=rows).get("/queries/coordinators.csv")
    assert _rows(exact) == rows and "KG-Results-Truncated" not in exact.headers
    cut = make_client(ROW_LIMIT=rows - 1).get("/queries/coordinators.csv")
    assert _rows(cut) == rows - 1 and cut.headers["KG-Results-Truncated"] == "true"


def test_one_cache_setting_turns_the_response_cache_off(make_client):
    c = make_client(CACHE_BYTES=0)
    c.get("/sparql", query_string={"query": PROJECTS})
    backend = c.application.config["KG_BACKEND"]
    runs = []
    original = backend.run
    backend.run = lambda job: runs.append(job) or original(job)
    c.get("/sparql", query_string={"query": PROJECTS})
    assert len(runs) == 1
    assert "RESPONSE_CACHE_BYTES" not in c.application.config  # merged into CACHE_BYTES
