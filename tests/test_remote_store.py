"""A SPARQL server as the store: `kg build --store URL` fills `oxigraph serve` and Virtuoso with the real KG, which
then answer as the embedded store does, through the library, `kg query`/`kg stats` and `kg serve --store URL`;
Virtuoso's ResultSetMaxRows (1000 here) is paged past or reported; bad credentials and a server that is down
give one clear line, never a traceback."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

import pyoxigraph as ox
import pytest
import requests

from kg.queries import catalogue as named_queries
from kg.queries import run as q
from kg.config import ROOT
from kg.store import remote as remote_module
from kg.store.embedded import KGStore
from kg.store.remote import BUILD_GRAPH, RemoteStore

from .live import free_port, serving
from .servers import VIRTUOSO_MAX_ROWS, FaultyProxy, oxigraph_server, virtuoso_server

# Virtuoso departs from SPARQL 1.1 in the others (docs/operations.md): booleans come back as 0/1, COALESCE drops
# language tags, a BIND that fails removes the row, and a * path joined with other patterns loses solutions.
# Virtuoso 7.2 loses solutions of a `+` path joined with other patterns, however written (kg/store/dialect.py).
DIFFERENT_ON_VIRTUOSO = {"partners-by-programme"}
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
    differ = []
    for name in names:
        text = named_queries.get(name).bind({})
        theirs, ours = _rows(q.run(remote_store, text)), _rows(q.run(store, text))
        if theirs != ours:
            differ.append(f"{name}: {len(theirs)} rows, {len(ours)} on the embedded store; e.g. "
                          f"{sorted(set(theirs) ^ set(ours), key=str)[:2]}")
    known = DIFFERENT_ON_VIRTUOSO if kind == "virtuoso" else set()
    assert len(names) >= 18 and {line.split(":")[0] for line in differ} == known, "\n".join(differ)


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


# --- Switching builds: atomic, retried, resumed -----------------------------------------------------------------

TEST_GRAPH = "https://w3id.org/cohesion-kg/graph/test/"
BULK = 20_000  # triples of a graph the switch test changes whole (and grows): a switch that takes a while
GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
WRITE_PATHS = {"oxigraph": ("/store", "/update"), "virtuoso": ("/sparql-graph-crud-auth", "/sparql-auth")}


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def switching(request, tmp_path_factory):
    """(server, kind): a server of each kind of its own, for the tests that switch it from build to build."""
    start = oxigraph_server if request.param == "oxigraph" else virtuoso_server
    with start(tmp_path_factory.mktemp(request.param + "-switching")) as server:
        yield server, request.param


def _data(folder, label: str, extra: str, bulk: int = BULK):
    """The KG's data/ plus a graph of `bulk` triples whose values say `label`, and a graph of one triple, `extra`."""
    shutil.copytree(ROOT / "data", folder)
    with open(folder / "bulk.nq", "w") as out:
        for i in range(bulk):
            out.write(f'<https://example.org/bulk/{i}> <https://example.org/bulk#v> "{label} {i}" <{TEST_GRAPH}bulk> .\n')
    (folder / f"{extra}.nq").write_text(f'<https://example.org/{extra}> <https://example.org/bulk#v> "{extra}" <{TEST_GRAPH}{extra}> .\n')
    return folder


def _changed(store, label: str):
    """An in-memory KG: the session's, plus a one-triple graph named `label` (each test's build differs)."""
    kg = KGStore.in_memory()
    kg.store.bulk_extend(list(store.store))
    graph = ox.NamedNode(TEST_GRAPH + label)
    kg.store.add(ox.Quad(ox.NamedNode("https://example.org/" + label), ox.NamedNode("https://example.org/v"), ox.Literal(label), graph))
    return kg


def _served(server) -> tuple:
    """(build id, the graphs' sizes as the server counts them) of what the server serves. With no build yet, every
    graph but kg's own (the build record, staging graphs a failed build left): the tests share a server, in any order."""
    store = RemoteStore.connect(server.url)
    if store.info is None:
        return None, {g: n for g, n in store.graph_sizes().items() if not g.startswith(BUILD_GRAPH)}
    return store.info.id, store.graph_sizes()


def test_readers_see_the_old_build_or_the_new_never_a_mix(switching, kg_cmd, tmp_path):
    """Readers through the library and through `kg serve` query the server while `kg build` switches it to data
    that changes one graph whole, drops one and adds one: each answer is one build's, and none is an error."""
    server, kind = switching
    if kind == "virtuoso":
        # Measured with Debian's Virtuoso 7.2.3229: with these two readers querying, a Graph Store Protocol POST of
        # the staging upload never got its answer in 3 of 8 runs, and the readers' queries hung with it (server-side;
        # openlink/virtuoso-opensource#165). Without readers, builds into Virtuoso switch as tested below.
        pytest.xfail("Virtuoso's Graph Store Protocol writes can hang against concurrent readers (docs/operations.md)")
    env = {**server.credentials, "KG_DATA": str(_data(tmp_path / "old", "old", "gone"))}
    done = kg_cmd("build", "--store", server.url, env=env)
    assert done.returncode == 0, done.stderr
    old = RemoteStore.connect(server.url).info
    assert old.graph_sizes[TEST_GRAPH + "bulk"] == BULK and TEST_GRAPH + "gone" in old.graph_sizes
    stop = threading.Event()
    seen: dict[str, list] = {"library": [], "kg serve": []}  # (build id, its graphs' sizes as answered) in order
    errors: list[str] = []

    def library():
        store = RemoteStore.connect(server.url)
        while not stop.is_set():
            sizes = {row["g"].value: int(row["n"].value) for row in store.select(GRAPH_SIZES)}
            seen["library"].append((store.info.id, sizes))

    def served(base):
        for i in itertools.count():
            if stop.is_set():
                return
            answer = requests.get(base + "/sparql", params={"query": f"{GRAPH_SIZES} # {i}"},  # not from the cache
                                  headers={"Accept": "application/sparql-results+json"}, timeout=60)
            if answer.status_code != 200:
                errors.append(f"kg serve answered {answer.status_code}: {answer.text}")
                continue
            rows = answer.json()["results"]["bindings"]
            seen["kg serve"].append((answer.headers["KG-Build"], {r["g"]["value"]: int(r["n"]["value"]) for r in rows}))

    def guarded(read, *args):
        try:
            read(*args)
        except Exception as e:  # any failure of a reader fails the test
            errors.append(repr(e))

    with serving(server.url, "--workers", "1", "--follow-interval", "0.2") as base:
        readers = [threading.Thread(target=guarded, args=(library,)), threading.Thread(target=guarded, args=(served, base))]
        for reader in readers:
            reader.start()
        # Other sizes too, so that an answer reading the graph half switched is told from both builds'.
        env["KG_DATA"] = str(_data(tmp_path / "new", "new", "added", BULK + 1000))
        done = kg_cmd("build", "--store", server.url, env=env)
        time.sleep(1.5)  # the readers see the new build
        stop.set()
        for reader in readers:
            reader.join(timeout=120)
    assert done.returncode == 0, done.stderr
    assert errors == []
    new = RemoteStore.connect(server.url).info
    assert TEST_GRAPH + "added" in new.graph_sizes and TEST_GRAPH + "gone" not in new.graph_sizes
    builds = {old.id: old.graph_sizes, new.id: new.graph_sizes}
    # kg serve asks oxigraph serve (isolated) which build it serves once per --follow-interval: for that long after
    # the switch an answer may be the new build's graphs read through the old build's list of them (kg.store.remote,
    # "Reading a build"); never the old build's graphs half switched.
    through_old_list = {g: n for g, n in new.graph_sizes.items() if g in old.graph_sizes}
    for reader, answers in seen.items():
        assert [b for b, _ in answers][0] == old.id and answers[-1][0] == new.id, reader
        # Each answer is all one build's: its graphs, each of its size; once new, never old again.
        allowed = [*builds.values(), *([through_old_list] if reader == "kg serve" else [])]
        assert all(sizes in allowed for _, sizes in answers), reader
        firsts = [i for i, (_, sizes) in enumerate(answers) if sizes != old.graph_sizes]
        assert all(sizes != old.graph_sizes for _, sizes in answers[firsts[0]:]), reader
        lasts = [i for i, (_, sizes) in enumerate(answers) if sizes == new.graph_sizes]
        assert all(sizes == new.graph_sizes for _, sizes in answers[lasts[0]:]), reader
    # The library knows which build each answer came from.
    assert all(sizes == builds[build] for build, sizes in seen["library"])
    assert _served(server) == (new.id, new.graph_sizes)


def _quiet_retries(monkeypatch) -> None:
    # The same attempts, without the waits between them; and a hanging request given up after 3 s, not 120.
    monkeypatch.setattr(remote_module, "RETRY_WAITS", (0.05,) * len(remote_module.RETRY_WAITS))
    monkeypatch.setattr(remote_module, "CHUNK_TIMEOUT", 3.0)


def test_failed_writes_are_sent_again(switching, store, monkeypatch):
    """Through a proxy that answers 503, drops the connection, hangs, or loses the answer of a write the server
    did (a chunk with blank nodes: Virtuoso then holds them twice), the build still lands exactly."""
    server, kind = switching
    _quiet_retries(monkeypatch)
    gsp, update = WRITE_PATHS[kind]
    applied = lambda w: w.authorized or not server.user  # else Virtuoso asks for credentials, and does nothing
    plan = [("503", lambda w: w.path == gsp and w.method == "POST"),
            ("drop", lambda w: w.path == gsp and w.method == "POST"),
            ("cut", lambda w: w.path == gsp and b"_:" in w.body and applied(w)),
            ("hang", lambda w: w.path == gsp and w.method == "POST"),
            ("503", lambda w: w.path == update)]  # the switch, or the marker before it on Virtuoso

    def fault(write):
        if plan and plan[0][1](write):
            return plan.pop(0)[0]  # each fault once, in this order
        return None

    kg = _changed(store, "retried")
    with FaultyProxy(server, WRITE_PATHS[kind], fault) as proxy:
        info = RemoteStore(proxy.url, user=server.user, password=server.password).replace_build(kg, {"inference": "owlrl", "kg_version": "test"})
    assert plan == []
    assert [f for _, f in proxy.writes if f] == ["503", "drop", "cut", "hang", "503"]
    assert _served(server) == (info.id, kg.graph_sizes())


def test_a_failed_upload_changes_nothing_and_a_rerun_resumes_it(switching, kg_cmd, tmp_path):
    """`kg build` through a proxy that refuses every chunk after the first five fails with one line, the served
    build untouched; run again, it sends only what the failed run had not, and switches."""
    server, kind = switching
    before = _served(server)
    gsp, _ = WRITE_PATHS[kind]
    sent = []

    def refuse_after_five(write):
        if write.path == gsp and write.method == "POST" and (write.authorized or not server.user):
            sent.append(write.graph)
            return "503" if len(sent) > 5 else None
        return None

    env = {**server.credentials, "KG_DATA": str(_data(tmp_path / "data", "resumed", "resumed"))}
    with FaultyProxy(server, WRITE_PATHS[kind], refuse_after_five) as proxy:
        failed = kg_cmd("build", "--store", proxy.url, env=env)
    assert failed.returncode == 2
    assert failed.stderr.startswith(f"kg: error: {proxy.url.rsplit('/', 1)[0]}{gsp}: the store answered HTTP 503")
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert _served(server) == before
    staged = set(sent[:5])  # each graph is one chunk here: these five were staged whole
    sent.clear()

    def count(write):
        if write.path == gsp and write.method == "POST" and (write.authorized or not server.user):
            sent.append(write.graph)

    with FaultyProxy(server, WRITE_PATHS[kind], count) as proxy:
        done = kg_cmd("build", "--store", proxy.url, env=env)
    assert done.returncode == 0, done.stderr
    info = RemoteStore.connect(server.url).info
    assert _served(server) == (info.id, info.graph_sizes)
    assert staged.isdisjoint(sent)
    # All but those five: the ontology's graph, which has blank nodes, is staged anew (their labels are new in
    # every build) whether or not it was among them.
    assert len(sent) in (len(info.graph_sizes) - 5, len(info.graph_sizes) - 4)
    # The staging graphs are gone, the failed run's too.
    assert _staging_left(server) == ([], [])


def _staging_left(server) -> tuple[list, list]:
    """(the staging graphs on the server, found by a scan of every quad; those the list of staging graphs names)."""
    def column(query):
        answer = requests.post(server.url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert answer.status_code == 200, answer.text
        return sorted(row["g"]["value"] for row in answer.json()["results"]["bindings"])

    staged = remote_module.STAGED_GRAPH
    return (column(f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{remote_module.STAGING}")) }}'),
            column(f"SELECT ?g WHERE {{ GRAPH <{staged}> {{ <{staged}> ?p ?g }} }}"))


def test_staging_graphs_a_clean_left_are_dropped_by_the_next_build(switching, store, monkeypatch):
    """A build whose staging graphs could not be dropped is served all the same, with a warning; the next build,
    of other data (other staging graphs), drops them with its own."""
    server, kind = switching
    _quiet_retries(monkeypatch)
    gsp, _ = WRITE_PATHS[kind]
    refuse = lambda w: "503" if w.path == gsp and w.method == "DELETE" and (w.graph or "").startswith(remote_module.STAGING) else None
    with FaultyProxy(server, WRITE_PATHS[kind], refuse) as proxy:
        cut = RemoteStore(proxy.url, user=server.user, password=server.password)
        first = cut.replace_build(_changed(store, "clean-cut"), {"inference": "owlrl", "kg_version": "test"})
    assert cut.cleanup_error is not None and "503" in cut.cleanup_error.message
    assert _served(server) == (first.id, first.graph_sizes)
    left, listed = _staging_left(server)
    assert left and left == listed

    after = RemoteStore(server.url, user=server.user, password=server.password)
    second = after.replace_build(_changed(store, "clean-after"), {"inference": "owlrl", "kg_version": "test"})
    assert after.cleanup_error is None
    assert _served(server) == (second.id, second.graph_sizes)
    assert _staging_left(server) == ([], [])


# --- Answers passed on as the server wrote them (oxigraph serve) -----------------------------------------------

RESULT_TYPES = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "csv": None,
                "tsv": ox.QueryResultsFormat.TSV}


def _answers(remote_store, job):
    """(passed on, parsed): the job answered as `kg serve` answers it, and by the parsed path; the first checked to
    have been the server's own bytes."""
    from server.sparql.executor import execute, execute_remote

    parsed = execute(remote_store, job, page=False)
    sent = []
    original = remote_store._send
    remote_store._send = lambda *args, **kwargs: sent.append(args) or original(*args, **kwargs)
    try:
        passed = execute_remote(remote_store, job)
    finally:
        remote_store._send = original
    return passed, parsed, sent


def _solutions(answer, name: str):
    if RESULT_TYPES[name] is None:  # CSV cannot be read back into terms: its lines, in any order
        return sorted(answer.body.decode().splitlines())
    result = ox.parse_query_results(answer.body, RESULT_TYPES[name])
    return _rows(result) if isinstance(result, ox.QuerySolutions) else bool(result)


def test_passed_on_answers_equal_the_parsed_ones(oxigraph_built):
    from server.sparql.executor import QueryJob

    server, _ = oxigraph_built
    remote_store = RemoteStore.connect(server.url, follow_interval=3600)  # no look at the build between answers
    names = [n for n, nq in named_queries.catalogue().items() if not any(p.required for p in nq.params)]
    names.remove("fact-provenance")  # slow on oxigraph serve (test_named_queries_answer_as_the_embedded_store)
    texts = [named_queries.get(name).bind({}) for name in names] + ["ASK { ?s a ckg:Project }", "ASK { ?s a ckg:Nothing }"]
    for text in texts:
        for name in RESULT_TYPES:
            passed, parsed, sent = _answers(remote_store, QueryJob(text=text, result_format=name, row_limit=10_000))
            assert passed.status == parsed.status == 200, (text, name, passed.body[:300])
            assert sent == [], (text, name)  # one request, answered in the client's format
            assert (passed.media_type, passed.kind, passed.truncated) == (parsed.media_type, parsed.kind, False)
            assert _solutions(passed, name) == _solutions(parsed, name), (text, name)
    graph = "CONSTRUCT { ?p ?property ?value } WHERE { ?p a ckg:Project ; ?property ?value FILTER (!isBlank(?value)) }"
    for name, fmt in (("turtle", ox.RdfFormat.TURTLE), ("ntriples", ox.RdfFormat.N_TRIPLES),
                      ("rdfxml", ox.RdfFormat.RDF_XML), ("jsonld", ox.RdfFormat.JSON_LD)):
        passed, parsed, sent = _answers(remote_store, QueryJob(text=graph, graph_format=name, row_limit=10_000))
        assert passed.status == parsed.status == 200 and sent == [] and passed.media_type == parsed.media_type
        triples = lambda answer: sorted(map(str, ox.parse(answer.body, format=fmt)))
        assert triples(passed) == triples(parsed) and len(triples(passed)) > 20, name


def test_an_answer_past_the_row_limit_is_cut_and_flagged_as_before(oxigraph_built):
    from server.sparql.executor import QueryJob

    server, _ = oxigraph_built
    remote_store = RemoteStore.connect(server.url, follow_interval=3600)
    projects = "SELECT ?p WHERE { ?p a ckg:Project }"  # 4 of them
    for name in RESULT_TYPES:
        cut, parsed, _ = _answers(remote_store, QueryJob(text=projects, result_format=name, row_limit=3))
        assert (cut.status, cut.truncated) == (200, True) and cut.body == parsed.body, name
        assert len(_solutions(cut, name)) == 3 + (name == "csv"), name  # CSV: the header line too
        whole, _, sent = _answers(remote_store, QueryJob(text=projects, result_format=name, row_limit=4))
        assert (whole.status, whole.truncated, sent) == (200, False, []), name
        assert len(_solutions(whole, name)) == 4 + (name == "csv"), name


def test_errors_of_the_server_come_out_as_clear_errors_when_passed_on(oxigraph_built):
    from server.sparql.executor import QueryJob, execute_remote

    server, _ = oxigraph_built
    job = QueryJob(text="SELECT ?p WHERE { ?p a ckg:Project }", result_format="json")
    wrong = execute_remote(RemoteStore.connect(server.url), QueryJob(text="SELECT ?p WHERE { ?p a }", result_format="json"))
    assert wrong.status == 400 and wrong.body.startswith(b"query line 1 column")
    with FaultyProxy(server, ("/query",), fault=lambda request: "503") as proxy:
        failed = execute_remote(RemoteStore(proxy.url, "oxigraph"), job)
    assert failed.status == 502
    assert failed.body == b"the SPARQL store behind this endpoint failed to answer: the store answered HTTP 503: " \
                          b"Service Unavailable\n"
    with FaultyProxy(server, ("/query",), fault=lambda request: "hang", hang=3.0) as proxy:
        slow = RemoteStore(proxy.url, "oxigraph", timeout=0.5)
        late = execute_remote(slow, job)
    assert late.status == 503 and b"ran longer than the 0.5 s limit" in late.body


def test_an_isolated_server_is_asked_for_its_build_once_per_interval_others_after_every_answer(monkeypatch):
    for kind, looks in (("oxigraph", 1), ("virtuoso", 3), ("generic", 3)):
        store = RemoteStore("http://127.0.0.1:9/sparql", kind, follow_interval=60.0)
        asked = []
        monkeypatch.setattr(store, "_served_build", lambda deadline: asked.append(1) or ("b1", None))
        assert all(store._still_serving("b1", time.monotonic() + 10) for _ in range(3))
        assert len(asked) == looks, kind
    strict = RemoteStore("http://127.0.0.1:9/sparql", "oxigraph")  # the library's default: every answer
    monkeypatch.setattr(strict, "_served_build", lambda deadline: asked.append(1) or ("b1", None))
    asked.clear()
    assert all(strict._still_serving("b1", time.monotonic() + 10) for _ in range(3)) and len(asked) == 3


def test_a_switch_is_followed_within_the_interval(tmp_path, store):
    from server.app import create_app

    interval = 0.5
    with oxigraph_server(tmp_path) as server:
        RemoteStore.connect(server.url).replace_build(_changed(store, "first"), {"inference": "owlrl", "kg_version": "test"})
        client = create_app({"KG_STORE_URL": server.url, "FOLLOW_INTERVAL": interval, "TESTING": True}).test_client()
        ask = lambda i: client.get("/sparql", query_string={"query": f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g # {i}"},
                                   headers={"Accept": "text/tab-separated-values"})
        first = ask(0)
        assert first.status_code == 200 and f"<{TEST_GRAPH}first>" in first.text
        new = RemoteStore.connect(server.url).replace_build(_changed(store, "second"), {"inference": "owlrl", "kg_version": "test"})
        switched = time.monotonic()
        for i in itertools.count(1):
            answer = ask(i)
            if answer.headers["KG-Build"] == new.id:
                break
            assert time.monotonic() - switched < interval + 0.5, "the switch was not followed within the interval"
            time.sleep(0.05)
        assert f"<{TEST_GRAPH}second>" in answer.text and f"<{TEST_GRAPH}first>" not in answer.text
        # The same query asked again is the new build's, never an answer cached for the old one.
        again = client.get("/sparql", query_string={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g # 0"},
                           headers={"Accept": "text/tab-separated-values"})
        assert again.headers["KG-Build"] == new.id and f"<{TEST_GRAPH}second>" in again.text
