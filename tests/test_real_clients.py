"""Real SPARQL clients against `kg serve` (granian, several workers) on 127.0.0.1."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, SPARQLWrapper

from .live import Served, serving

CKG = "https://w3id.org/cohesion-kg/ontology/"


@pytest.fixture(scope="module")
def endpoint(disk_store):
    with serving(disk_store, "--workers", "2", "--timeout", "5") as base:
        endpoint = Served(base + "/sparql")
        endpoint.pid = base.pid
        yield endpoint


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


def _workers(master: int) -> dict[int, float]:
    """The processes `master` started, with the CPU seconds each has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def _age(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - started


def test_a_runaway_gets_its_503_on_time_its_worker_is_recycled_and_nothing_burns_after(endpoint):
    master = endpoint.pid
    before = _workers(master)
    assert len(before) == 2
    # granian stops a server whose worker exits twice within 5.5 s of a restart; a worker waits until it is 6 s old.
    time.sleep(max(0.0, 6.5 - min(_age(pid) for pid in before)))
    statuses, stop = [], threading.Event()

    def cheap():
        while not stop.is_set():
            r = requests.get(endpoint, params={"query": "SELECT ?o WHERE { <https://w3id.org/cohesion-kg/id/project/conet> ?p ?o }"},
                             headers={"Accept": "application/sparql-results+json"}, timeout=10)
            statuses.append(r.status_code)

    client = threading.Thread(target=cheap)
    client.start()
    try:
        started = time.monotonic()
        runaway = requests.get(endpoint, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"}, timeout=30)
        answered = time.monotonic() - started
        assert runaway.status_code == 503 and "5 s limit" in runaway.text and runaway.headers["Retry-After"]
        assert 5.0 <= answered < 5.5
        # The query cannot be interrupted inside its COUNT: its worker is replaced, and within 2 s of the timeout
        # no process of the server is using CPU for it.
        time.sleep(max(0.0, started + 7.0 - time.monotonic()))
        first = _workers(master)
        time.sleep(1.0)
        second = _workers(master)
    finally:
        stop.set()
        client.join()
    assert len(second) == 2 and set(second) != set(before), "the runaway's worker was not replaced"
    burnt = sum(second[pid] - first.get(pid, 0.0) for pid in second)
    assert burnt < 0.5, f"the server used {burnt:.2f} s of CPU in the second after timeout + 2 s"
    assert statuses and set(statuses) == {200}, f"cheap queries during the runaway: {sorted(set(statuses))}"
    ok = requests.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert ok.json()["boolean"] is True


def test_a_query_that_outgrows_the_worker_memory_is_answered_503_and_its_worker_replaced(disk_store):
    with serving(disk_store, "--workers", "1", "--timeout", "20", "--memory-limit", "400") as base:
        before = _workers(base.pid)
        assert len(before) == 1
        worker = next(iter(before))
        time.sleep(max(0.0, 6.5 - _age(worker)))
        started = time.monotonic()
        # Sorting the KG crossed with itself: ~10^8 rows held in memory, about 1 GB more each second.
        hog = requests.get(base + "/sparql", params={"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c"}, timeout=30)
        assert hog.status_code == 503 and "memory" in hog.text and hog.headers["Retry-After"]
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (worker in _workers(base.pid) or not _workers(base.pid)):
            time.sleep(0.1)
        assert worker not in _workers(base.pid), "the worker that held the memory is still there"
        # With one worker nothing listens until its replacement has started (with two, the other one answers).
        while True:
            try:
                ok = requests.get(base + "/health", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "no worker came back"
                time.sleep(0.1)
        assert ok.status_code == 200 and ok.json()["worker"] != worker
