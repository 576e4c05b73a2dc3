#!/usr/bin/env python3
"""Throughput and latency of `kg serve` against `oxigraph serve-read-only`, on the same data, in one run.

    .venv/bin/python bench/endpoint_bench.py                 # about 6 minutes; writes bench/results/endpoint.md
    .venv/bin/python bench/endpoint_bench.py --duration 3    # a quick look

What it does, in order:
  1. checks for its tools (wrk, the `oxigraph` command) and says how to get them; it installs nothing;
  2. generates projects with their organisations, participations, cities, outputs and events with `kg synth`'s
     generator (kg/synth.py; deterministic, --seed) so that the KG plus them holds about --triples triples, and
     builds them with the real ontology, data and shapes through `kg build` (OWL RL closure and SHACL validation
     included) into a temporary folder;
  3. dumps the built store's quads to N-Quads and loads exactly those into an Oxigraph store (`oxigraph load`);
  4. serves both on 127.0.0.1 (`kg serve`, `oxigraph serve-read-only --union-default-graph`), checks that every
     benchmark query gets the same answer from both, then times each scenario with wrk at 1 and 8 connections:
       repeated   one look-up query, the same on every request
       distinct   look-up queries that never repeat within a run (kg serve is restarted before each such run so
                  its answer cache starts empty)
       partners   the partner co-occurrence query (pairs of organisations sharing projects, aggregated)
     and, as a floor, gunicorn answering the repeated look-up's bytes with no work (bare WSGI, and through Flask);
     before each run it waits for other processes to leave the CPUs, and measures a disturbed run again;
  5. writes the figures and the ratios kg/oxigraph to bench/results/endpoint.md and prints them.

Both servers are always stopped, whatever happens. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin, where `kg` and `oxigraph` are installed
RESULTS = ROOT / "bench" / "results" / "endpoint.md"

BASE = "https://w3id.org/cohesion-kg/"
ID = BASE + "id/"
PREFIXES = {
    "ckg": BASE + "ontology/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "https://schema.org/",
    **{kind: f"{ID}{kind}/" for kind in ("project", "organisation", "participation", "city", "country", "programme", "role", "theme", "source")},
}
# Every query carries its own prologue: Oxigraph predeclares no prefixes, and kg serve accepts redeclared ones.
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p in ("ckg", "rdfs"))
JSON = "application/sparql-results+json"


def fail(message: str, code: int = 2) -> None:
    print(f"endpoint_bench: {message}", file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Tools:
    wrk: str
    oxigraph: str
    kg: str
    wrk_version: str
    oxigraph_version: str


def find_tools() -> Tools:
    """The commands this benchmark runs; a missing one stops it with the way to install it."""
    missing = []
    wrk = shutil.which("wrk")
    if wrk is None:
        missing.append("wrk (HTTP load generator): `apt-get update && apt-get install -y wrk` on Debian/Ubuntu, `brew install wrk` on macOS")
    oxigraph = _in_venv_or_path("oxigraph")
    if oxigraph is None:
        missing.append(f"oxigraph (the Oxigraph server, PyPI package `oxigraph`): `{BIN / 'pip'} install oxigraph`")
    kg = _in_venv_or_path("kg")
    if kg is None:
        missing.append("kg (this project's command): `make setup`")
    if missing:
        fail("missing tools:\n  - " + "\n  - ".join(missing))
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0].strip()
    ox_version = subprocess.run([oxigraph, "--version"], capture_output=True, text=True).stdout.strip()
    return Tools(wrk, oxigraph, kg, wrk_version, ox_version)


def _in_venv_or_path(name: str) -> str | None:
    candidate = BIN / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else shutil.which(name)


# --------------------------------------------------------------------------------------------------------------
# Data: the real KG plus generated projects, organisations and participations
# --------------------------------------------------------------------------------------------------------------

# Triples the OWL RL closure adds per asserted triple of generated data, measured on a build of 100 projects;
# with kg.synth.generator.TRIPLES_PER_PROJECT it sizes the data for a KG of --triples triples, closure included.
INFERRED_PER_ASSERTED = 0.92


@dataclass
class Reference:
    """What generated things point to (kg.synth.generator reads it from the real data) and the size of the real KG."""

    synth: object  # kg.synth.generator.Reference
    real_triples: int


def read_reference(data_dir: Path) -> Reference:
    import pyoxigraph as ox

    from kg.synth import generator as synth

    real = sum(1 for path in sorted(data_dir.rglob("*.ttl")) for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    return Reference(synth.read_reference(data_dir), real)


@dataclass
class Generated:
    path: Path
    organisations: list[str]
    projects: list[str]
    participations: list[str]


def generate(path: Path, ref: Reference, target_triples: int, seed: int) -> Generated:
    """Write projects with their organisations, participations, cities, outputs and events with `kg synth`'s
    generator (N-Quads), sized so that the built KG holds about `target_triples` (asserted plus inferred).

    Partners are drawn with a skewed (Zipf-like) preference, so some organisations take part in many projects and
    some pairs of organisations share several projects: the co-occurrence query has real aggregation to do.
    """
    from kg.synth import generator as synth

    budget = max(0, target_triples - int(ref.real_triples * 1.5))  # the real KG grows by about half with its closure
    projects = max(5, round(budget / (synth.TRIPLES_PER_PROJECT * (1 + INFERRED_PER_ASSERTED))))
    summary = synth.write(path, projects, seed, reference=ref.synth, collect=True)
    return Generated(path, summary.iris["organisation"], summary.iris["project"], summary.iris["participation"])


@dataclass
class Data:
    kg_store: Path  # the store link `kg serve --store` takes
    oxigraph_dir: Path  # the Oxigraph store loaded with the same quads
    quads: int
    generated: Generated
    real_triples: int
    build_seconds: float
    build_line: str


def data_only_env(data: Path) -> dict:
    """The environment for `kg build` of the data folder `data` and nothing else: no published sources imported
    (a build imports them by default) and none imported earlier (var/imported) read."""
    none = str(data.parent / "no-imports")
    return {**os.environ, "KG_DATA": str(data), "KG_IMPORTS": none, "KG_IMPORTED": none}


def link_real_data(data: Path) -> Path:
    """A data folder holding the KG's real files, for generated data to join. They are linked, not copied: kg
    names each file's graph after its place in the project."""
    real = ROOT / "data"
    for src in sorted(real.rglob("*")):
        if src.is_file():
            dest = data / src.relative_to(real)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(src)
    return data


def prepare(work: Path, tools: Tools, target_triples: int, seed: int) -> Data:
    """Build the KG plus generated data with `kg build`, then load the very same quads into an Oxigraph store."""
    data = link_real_data(work / "data")
    ref = read_reference(ROOT / "data")
    generated = generate(data / "bench-generated.nq", ref, target_triples, seed)
    print(f"generated {len(generated.organisations)} organisations, {len(generated.projects)} projects, "
          f"{len(generated.participations)} participations -> {generated.path}")

    store_link = work / "store"
    env = data_only_env(data)
    print("kg build (OWL RL closure and SHACL validation; about a minute for 100k triples) ...", flush=True)
    t = time.perf_counter()
    done = subprocess.run([tools.kg, "build", "--no-import", "--store", str(store_link)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        fail(f"kg build failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", 1)
    line = done.stdout.strip().splitlines()[0]
    print(f"  {line} ({seconds:.0f} s)")
    ox_dir, quads = load_oxigraph(work, tools, store_link)
    return Data(store_link, ox_dir, quads, generated, ref.real_triples, seconds, line)


def load_oxigraph(work: Path, tools: Tools, store_link: Path) -> tuple[Path, int]:
    """The quads of the build at `store_link`, exactly as kg serve reads them, loaded with `oxigraph load` into an
    Oxigraph store of their own; its folder, and how many quads both hold."""
    import pyoxigraph as ox

    nquads = work / "kg.nq"
    store = ox.Store.read_only(str(store_link.resolve() / "oxigraph"))
    store.dump(str(nquads), format=ox.RdfFormat.N_QUADS)
    quads = len(store)
    in_default = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    del store
    if in_default:
        print(f"  note: {in_default} quads of the build are in the default graph, not in a named graph")
    ox_dir = work / "oxigraph"
    done = subprocess.run([tools.oxigraph, "load", "--location", str(ox_dir), "--file", str(nquads)], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"oxigraph load failed (exit {done.returncode}):\n{done.stderr[-3000:]}", 1)
    loaded = len(ox.Store.read_only(str(ox_dir)))
    if loaded != quads:
        fail(f"oxigraph holds {loaded} quads, the kg build {quads}", 1)
    print(f"  {quads} quads in both stores")
    return ox_dir, quads


def prepare_existing(work: Path, tools: Tools, store_link: Path) -> Data:
    """An existing build (the grown KG), its look-up IRIs read from it, loaded into Oxigraph as in prepare()."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_link.resolve() / "oxigraph"))

    def things(kind: str) -> list[str]:
        rows = store.query(f"SELECT DISTINCT ?x WHERE {{ ?x a <{BASE}ontology/{kind}> }} ORDER BY ?x", use_default_graph_as_union=True)
        return [row[0].value for row in rows]

    generated = Generated(store_link, things("Organisation"), things("Project"), things("Participation"))
    print(f"existing build {store_link}: {len(generated.organisations)} organisations, {len(generated.projects)} projects, "
          f"{len(generated.participations)} participations")
    del store
    ox_dir, quads = load_oxigraph(work, tools, store_link)
    info = json.loads((store_link.resolve() / "build.json").read_text())
    return Data(store_link, ox_dir, quads, generated, 0, 0.0, f"existing build {info['id']}: {info['triples']} triples")


# --------------------------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------------------------

LOOKUP = PROLOGUE + "SELECT ?property ?value WHERE {{ <{iri}> ?property ?value }}"
# The look-ups a page for a thing needs: what it says, what points to it, its label in one language.
LOOKUP_TEMPLATES = [
    LOOKUP,
    PROLOGUE + "SELECT ?subject ?property WHERE {{ ?subject ?property <{iri}> }}",
    PROLOGUE + 'SELECT ?label WHERE {{ <{iri}> rdfs:label ?label . FILTER (lang(?label) = "en") }}',
    PROLOGUE + 'SELECT ?label WHERE {{ <{iri}> rdfs:label ?label . FILTER (lang(?label) = "it") }}',
]
# "Who worked with whom", the endpoint's own example, with the top 100 pairs (under the row limit).
PARTNERS = PROLOGUE + """SELECT ?a ?b (COUNT(DISTINCT ?project) AS ?shared) (GROUP_CONCAT(DISTINCT ?acronym; separator=", ") AS ?projects) WHERE {
  ?project ckg:hasPartner ?x , ?y ; ckg:acronym ?acronym .
  FILTER (STR(?x) < STR(?y))
  ?x rdfs:label ?a . ?y rdfs:label ?b . FILTER (lang(?a) = "en" && lang(?b) = "en")
}
GROUP BY ?a ?b
ORDER BY DESC(?shared) ?a ?b
LIMIT 100"""


@dataclass
class Scenario:
    name: str
    title: str
    queries: list[str]
    ordered: bool = False  # answers compared row by row (ORDER BY) rather than as multisets
    fresh_server: bool = False  # restart kg serve before each run: no answer may come from its cache
    duration_factor: float = 1.0  # slow queries get longer runs, so Oxigraph finishes enough of them to count


DISTINCT_TEXTS = 250_000


def scenarios(generated: Generated, seed: int, names: list[str]) -> list[Scenario]:
    rng = random.Random(seed + 1)
    # A mid-sized organisation: a typical page, neither the biggest hub nor an empty one.
    repeated = LOOKUP.format(iri=generated.organisations[len(generated.organisations) // 10])
    things = generated.organisations + generated.projects + generated.participations
    distinct = [t.format(iri=iri) for iri in things for t in LOOKUP_TEMPLATES]
    rng.shuffle(distinct)
    # Enough texts that no run at the servers' rates comes back to one: later passes differ by a comment, which
    # neither server reads, so the work is the same and kg serve's answer cache never hits.
    passes = -(-DISTINCT_TEXTS // len(distinct))
    distinct = [text + (f"\n# pass {n}" if n else "") for n in range(passes) for text in distinct]
    every = {
        "repeated": Scenario("repeated", "Repeated look-up (one query, the same on every request)", [repeated]),
        "distinct": Scenario(
            "distinct",
            f"Distinct look-ups ({len(distinct):,} different queries over {len(things):,} IRIs, none repeated within a run)",
            distinct,
            fresh_server=True,
        ),
        "partners": Scenario("partners", "Partner co-occurrence (pairs of organisations sharing projects, top 100)", [PARTNERS], ordered=True, duration_factor=2.0),
    }
    return [every[n] for n in names]


def in_process_ms(kg_store: Path, queries: list[str], rounds: int) -> float:
    """Median time of a query run and serialised to JSON by pyoxigraph in this process: the floor under HTTP."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(kg_store.resolve() / "oxigraph"))
    times = []
    for i in range(rounds):
        text = queries[i % len(queries)]
        t = time.perf_counter()
        store.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


# Where a distinct look-up's time goes in the app, by who spends it (cProfile's own time per function).
PROFILE_PARTS = [
    ("pyoxigraph (parse, evaluate, write)", lambda f: "pyoxigraph" in f),
    ("Flask, werkzeug and the Flask extensions (CORS, gzip)", lambda f: any(k in f for k in ("/flask", "/werkzeug", "/flask_cors", "/flask_compress"))),
    ("server/ (protocol, negotiation, ETag, limits, cost classes, runner)", lambda f: "/server/" in f),
    ("kg/ (the query lexer, the store wrapper)", lambda f: "/kg/" in f),
    ("the Python standard library and the rest", lambda f: True),
]


def profile_app(kg_store: Path, queries: list[str], count: int = 2000) -> dict:
    """Distinct look-ups through the app's WSGI callable in this process, with no HTTP server: the time per
    request (unprofiled), and where it goes (profiled), by PROFILE_PARTS."""
    import cProfile
    import pstats

    from werkzeug.test import EnvironBuilder

    sys.path.insert(0, str(ROOT))
    from server import create_app

    app = create_app({"KG_STORE_PATH": str(kg_store), "FOLLOW_INTERVAL": 0})
    environs = [EnvironBuilder(path="/sparql", query_string={"query": q}, headers={"Accept": JSON}).get_environ()
                for q in queries[: 2 * count + 200]]

    def call(environ):
        b"".join(app(dict(environ), lambda status, headers, exc_info=None: None))

    for e in environs[:200]:
        call(e)
    t = time.perf_counter()
    for e in environs[200 : 200 + count]:
        call(e)
    per_request = (time.perf_counter() - t) / count
    profiler = cProfile.Profile()
    profiler.enable()
    for e in environs[200 + count :]:
        call(e)
    profiler.disable()
    spent = {name: 0.0 for name, _ in PROFILE_PARTS}
    for (filename, _, function), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        where = filename if filename != "~" else function  # built-in methods: '<method 'query' of 'pyoxigraph.Store' objects>'
        spent[next(name for name, matches in PROFILE_PARTS if matches(where))] += own
    total = sum(spent.values())
    return {"us": per_request * 1e6, "shares": {k: v / total for k, v in spent.items()}}


# --------------------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process (and its children) in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], port: int, path: str, ready_path: str, log: Path):
        self.name, self.argv, self.port, self.path, self.ready_path, self.log = name, argv, port, path, ready_path, log
        self.proc: subprocess.Popen | None = None
        self.env: dict | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=self.env)
        OUR_GROUPS.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} while starting; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + self.ready_path, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer on {self.base}{self.ready_path} within {timeout:g} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM to the server's own process group (granian's main process and its workers), then SIGKILL."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group is the one this process leads
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.proc.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(5)
        try:  # children that outlived their parent
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        OUR_GROUPS.discard(pgid)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def url_path(self, query: str) -> str:
        return f"{self.path}?query={urllib.parse.quote(query, safe='')}"

    def get(self, query: str) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(self.base + self.url_path(query), headers={"Accept": JSON})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


def kg_server(tools: Tools, data: Data, workers: int, threads: int | None, log: Path) -> Server:
    port = free_port()
    argv = [tools.kg, "serve", "--store", str(data.kg_store), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    label = f"kg serve ({workers} workers{f', {threads} threads' if threads else ''})"
    return Server(label, argv, port, "/sparql", "/health", log)


def oxigraph_server(tools: Tools, data: Data, log: Path) -> Server:
    port = free_port()
    argv = [tools.oxigraph, "serve-read-only", "--location", str(data.oxigraph_dir), "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    return Server("oxigraph serve-read-only", argv, port, "/query", "/query?query=" + urllib.parse.quote("ASK {}"), log)


# The floor under any Flask endpoint on this machine: granian (WSGI, as kg serve) answering the kg answer's bytes
# with no work at all, bare and through Flask with an access log.
BASELINE_APP = '''
import os
BODY = open(os.environ["BENCH_BODY"], "rb").read()
HEADERS = [("Content-Type", "application/sparql-results+json; charset=utf-8"), ("Content-Length", str(len(BODY)))]

def wsgi(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]

from flask import Flask, Response
flask_app = Flask(__name__)

@flask_app.get("/sparql")
def sparql():
    return Response(BODY, content_type="application/sparql-results+json; charset=utf-8")
'''
BASELINES = {
    "baseline: bare WSGI": ["baseline_app:wsgi"],
    "baseline: Flask + access log": ["--access-log", "baseline_app:flask_app"],
}


def baseline_server(label: str, workers: int, body: bytes, work: Path) -> Server:
    (work / "baseline_app.py").write_text(BASELINE_APP)
    (work / "baseline_body.json").write_bytes(body)
    port = free_port()
    argv = [str(BIN / "granian"), "--interface", "wsgi", "--working-dir", str(work), "--workers", str(workers),
            "--blocking-threads", "8", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *BASELINES[label]]
    server = Server(label, argv, port, "/sparql", "/sparql", work / "baseline.log")
    server.env = {**os.environ, "BENCH_BODY": str(work / "baseline_body.json")}
    return server


# --------------------------------------------------------------------------------------------------------------
# Same answers from both
# --------------------------------------------------------------------------------------------------------------


def normalised(body: bytes, ordered: bool):
    doc = json.loads(body)
    rows = []
    for binding in doc["results"]["bindings"]:
        row = {}
        for var, term in binding.items():
            term = dict(term)
            if var == "projects":  # GROUP_CONCAT: the order of the concatenated values is not defined
                term["value"] = ", ".join(sorted(term["value"].split(", ")))
            row[var] = term
        rows.append(json.dumps(row, sort_keys=True))
    return doc["head"]["vars"], rows if ordered else sorted(rows)


def check_same_answers(kg: Server, ox: Server, scenario: Scenario, sample: int) -> dict:
    """Compare both servers' answers to the scenario's queries (all of them, or an even sample); return sizes."""
    step = max(1, len(scenario.queries) // sample)
    queries = scenario.queries[::step][:sample]
    sizes = {"kg": [], "oxigraph": [], "rows": []}
    for text in queries:
        ks, kh, kb = kg.get(text)
        os_, _, ob = ox.get(text)
        if ks != 200 or os_ != 200:
            raise RuntimeError(f"{scenario.name}: kg answered {ks}, oxigraph {os_} to:\n{text}\n{kb[:500]!r}\n{ob[:500]!r}")
        if kh.get("KG-Results-Truncated"):
            raise RuntimeError(f"{scenario.name}: kg truncated the answer at its row limit:\n{text}")
        a, b = normalised(kb, scenario.ordered), normalised(ob, scenario.ordered)
        if a != b:
            raise RuntimeError(f"{scenario.name}: different answers ({len(a[1])} rows from kg, {len(b[1])} from oxigraph) to:\n{text}")
        sizes["kg"].append(len(kb))
        sizes["oxigraph"].append(len(ob))
        sizes["rows"].append(len(a[1]))
    return {k: statistics.median(v) for k, v in sizes.items()} | {"checked": len(queries)}


# --------------------------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------------------------

# Each wrk thread reads the request paths from a file and takes every n-th one from its own offset, so no two
# requests of a run are the same until the list is exhausted. done() reports the figures as one JSON line.
LUA = r"""
local paths, counter, nthreads = {}, 0, 1
local threads, created = {}, 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  nthreads = tonumber(args[2])
  counter = id
end

function request()
  local path = paths[(counter % #paths) + 1]
  counter = counter + nthreads
  return wrk.format("GET", path, {["Accept"] = "application/sparql-results+json"})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass
class Run:
    server: str
    scenario: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrk_cpu: float  # share of one core the load generator used
    machine_busy: float  # share of all cores busy during the run
    others: float  # cores used by processes neither wrk nor the servers (other people's work)
    distinct_queries: int
    raw: dict = field(default_factory=dict)


TICK = os.sysconf("SC_CLK_TCK")
OUR_GROUPS: set[int] = set()  # process groups of the servers this run started


def cpu_times() -> tuple[float, float]:
    """CPU seconds of the whole machine since boot: (all, idle)."""
    with open("/proc/stat") as f:
        fields = [float(x) / TICK for x in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


def group_cpu(groups: set[int]) -> float:
    """CPU seconds used so far by the live processes of the given process groups."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) in groups:  # rest[0] is the state; pgrp is the 5th field of stat
            total += (int(rest[11]) + int(rest[12])) / TICK
    return total


def wait_for_quiet(limit: float, threshold: float = 0.2) -> float:
    """Wait (at most `limit` seconds) until other processes use less than `threshold` cores; return their load."""
    deadline = time.monotonic() + limit
    load = other_load(1.0)
    announced = False
    while load > threshold and time.monotonic() < deadline:
        if not announced:
            print(f"  waiting for other processes to calm down ({load:.1f} cores busy) ...", flush=True)
            announced = True
        load = other_load(2.0)
    return load


def other_load(seconds: float = 2.0) -> float:
    """Cores kept busy by processes this benchmark did not start, over a short quiet moment."""
    total0, idle0 = cpu_times()
    ours0 = group_cpu(OUR_GROUPS)
    time.sleep(seconds)
    total1, idle1 = cpu_times()
    ours1 = group_cpu(OUR_GROUPS)
    return max(0.0, ((total1 - total0) - (idle1 - idle0) - (ours1 - ours0)) / seconds)


def run_wrk(tools: Tools, server: Server, scenario: Scenario, connections: int, duration: float, work: Path, label: str) -> Run:
    script = work / "bench.lua"
    if not script.exists():
        script.write_text(LUA)
    paths = work / f"paths-{scenario.name}-{server.path.strip('/')}.txt"
    if not paths.exists():
        paths.write_text("\n".join(server.url_path(q) for q in scenario.queries) + "\n")
    threads = min(2, connections)
    argv = [tools.wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "30s", "--latency",
            "-s", str(script), server.base, "--", str(paths), str(threads)]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total0, idle0 = cpu_times()
    ours0 = group_cpu(OUR_GROUPS)
    wall0 = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.monotonic() - wall0
    ours1 = group_cpu(OUR_GROUPS)
    total1, idle1 = cpu_times()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(work / "wrk.log", "a") as log:
        log.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    match = re.search(r"^BENCH (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    wrk_seconds = after_children.ru_utime + after_children.ru_stime - before_children.ru_utime - before_children.ru_stime
    wrk_cpu = wrk_seconds / seconds
    busy_seconds = (total1 - total0) - (idle1 - idle0)
    busy = busy_seconds / max(1e-9, total1 - total0)
    others = max(0.0, (busy_seconds - wrk_seconds - (ours1 - ours0)) / wall)
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    run = Run(label, scenario.name, connections, raw["requests"], seconds, raw["requests"] / seconds,
              raw["p50_us"] / 1000, raw["p99_us"] / 1000, errors, wrk_cpu, busy, others, len(scenario.queries), raw)
    print(f"  {label:<30} {scenario.name:<9} c={connections:<2} {fmt_rps(run.rps):>8} req/s  p50 {run.p50_ms:7.2f} ms  "
          f"p99 {run.p99_ms:7.2f} ms  errors {errors}  wrk {wrk_cpu:.0%} of a core, machine {busy:.0%} busy, "
          f"others {others:.2f} cores", flush=True)
    return run


def warm_up(tools: Tools, server: Server, work: Path) -> None:
    """A second of one small query at 4 connections, so every worker has started its query process."""
    warm = Scenario("warmup", "", [PROLOGUE + "SELECT (COUNT(*) AS ?n) WHERE { ?o a ckg:Organisation }"])
    paths = work / f"paths-warmup-{server.path.strip('/')}.txt"
    paths.write_text(server.url_path(warm.queries[0]) + "\n")
    script = work / "bench.lua"
    script.write_text(LUA)
    subprocess.run([tools.wrk, "-t1", "-c4", "-d1s", "-s", str(script), server.base, "--", str(paths), "1"], capture_output=True)


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------

# The endpoint issue's targets, as kg serve's share of Oxigraph's requests/s, by scenario and clients.
TARGETS = {"repeated": {1: 1.0, 8: 1.5}, "distinct": {1: 0.5, 8: 0.5}, "partners": {1: 1.0, 8: 1.5}}
TARGET_NOTES = {
    "repeated": "repeated look-ups: at least Oxigraph's throughput at 1 client, 1.5x at 8",
    "distinct": "distinct look-ups: at least 0.5 of Oxigraph's throughput",
    "partners": "no target of its own; one repeated query, so held to the repeated look-ups' targets",
}


def target(scenario: str, clients: int) -> float:
    by_clients = TARGETS[scenario]
    return by_clients.get(clients, by_clients[max(by_clients)])


def machine() -> dict:
    info = {"nproc": str(os.cpu_count())}
    try:
        info["cpu"] = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    try:
        kb = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
        info["ram"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        info["ram"] = "?"
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    import pyoxigraph

    info["pyoxigraph"] = pyoxigraph.__version__
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "kg", "server"], capture_output=True, text=True).stdout.strip()
    info["commit"] = (head or "?") + (" with uncommitted changes in kg/ or server/" if dirty else "")
    return info


def code_fingerprint() -> str:
    """A digest of the Python code kg serve runs (kg/ and server/), to notice an edit in the middle of a run."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(list((ROOT / "kg").rglob("*.py")) + list((ROOT / "server").rglob("*.py"))):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def fmt_rps(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.2f}"


def plural(n: float, word: str) -> str:
    return f"{n:,.0f} {word}{'' if n == 1 else 's'}"


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a (no request of Oxigraph's finished)"


def report(args, tools: Tools, data: Data, scens: list[Scenario], runs: list[Run], checks: dict, inproc: dict, started: datetime,
           profile: dict | None = None) -> str:
    m = machine()
    g = data.generated
    out = [
        "# Endpoint benchmark: `kg serve` against `oxigraph serve-read-only`",
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC with `{' '.join(['.venv/bin/python', 'bench/endpoint_bench.py'] + args.argv)}`, "
        f"{args.elapsed / 60:.1f} minutes in all"
        " (how and why: [bench/README.md](../README.md#endpoint-benchmark)).",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, {m['os']} |",
        f"| software | Python {m['python']}, pyoxigraph {m['pyoxigraph']} (kg), {tools.oxigraph_version} (server), {tools.wrk_version} |",
        f"| code | commit {m['commit']} (kg/ and server/ digest {args.code_before}) |",
        (f"| data | {data.quads:,} quads of an existing build ({data.build_line}): {len(g.organisations):,} organisations, "
         f"{len(g.projects):,} projects, {len(g.participations):,} participations |" if args.store else
         f"| data | {data.quads:,} quads: the KG's ontology and real data ({data.real_triples:,} triples) plus {len(g.organisations):,} organisations, "
         f"{len(g.projects):,} projects and {len(g.participations):,} participations generated with seed {args.seed}, and the OWL RL closure |"),
        *([] if args.store else [f"| build | `kg build`, {data.build_seconds:.0f} s: {data.build_line} |"]),
        "| kg serve | `kg serve --workers N` (granian) with its defaults, every feature on: request threads, 30 s timeout, cost classes, row and byte limits, answer cache, CORS, gzip |",
        f"| oxigraph | `oxigraph serve-read-only --union-default-graph` on a store loaded with `oxigraph load` from the build's own quads |",
        f"| load | wrk, {args.duration:g} s per run ({2 * args.duration:g} s for the partner query), `-t1 -c1` and `-t2 -c8`; GET `?query=` URL-encoded, `Accept: {JSON}`; no `Accept-Encoding` |",
        "",
        "Before any timing, every query of the repeated and partner scenarios and an even sample of the distinct ones was sent to both "
        "servers and the answers compared (JSON results, rows as multisets; in order for the partner query): all equal.",
        "",
    ]
    kg_labels = sorted({r.server for r in runs if r.server.startswith("kg serve")}, key=lambda s: [int(n) for n in re.findall(r"\d+", s)])
    verdicts = []
    for sc in scens:
        c = checks.get(sc.name, {})
        out += [f"## {sc.title}", ""]
        if sc.name in inproc:
            out.append(f"In-process floor: pyoxigraph runs the query and writes JSON in {inproc[sc.name]:.3f} ms (median). "
                       f"Answer: {plural(c.get('rows', 0), 'row')}, {c.get('kg', 0):,.0f} bytes from kg, {c.get('oxigraph', 0):,.0f} from Oxigraph"
                       + (f" (medians over the {c['checked']} queries checked)." if c.get("checked", 0) > 1 else "."))
            out.append("")
        out += ["| clients | server | req/s | p50 ms | p99 ms | kg/oxigraph req/s | kg/oxigraph p50 (lower is better) |", "|---:|---|---:|---:|---:|---:|---:|"]
        for conns in args.connections:
            ox = next((r for r in runs if r.scenario == sc.name and r.connections == conns and r.server == "oxigraph"), None)
            for label in kg_labels + ["oxigraph"]:
                r = next((r for r in runs if r.scenario == sc.name and r.connections == conns and r.server == label), None)
                if r is None:
                    continue
                compared = ox is not None and label != "oxigraph"
                ratio = f"**{fmt_ratio(r.rps, ox.rps)}**" if compared else ""
                lat = fmt_ratio(r.p50_ms, ox.p50_ms) if compared else ""
                err = f" ({r.errors} errors)" if r.errors else ""
                out.append(f"| {conns} | {label} | {fmt_rps(r.rps)}{err} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio} | {lat} |")
                if compared:
                    verdicts.append((sc, conns, label, r.rps / ox.rps if ox.rps else float("inf")))
        if sc.name == "distinct" and profile:
            out += ["", f"Profile: through the app's WSGI callable in one process, with no HTTP server, a distinct look-up "
                    f"takes {profile['us']:.0f} µs (2,000 of them, after 200 to warm up); Oxigraph's server answers one in about "
                    f"{2e6 / max(r.rps for r in runs if r.scenario == 'distinct' and r.server == 'oxigraph'):.0f} µs of a core "
                    "(its 8-client rate on 2 cores). Where the app's time goes (cProfile, own time):", "",
                    "| part | share |", "|---|---:|"]
            out += [f"| {name} | {share:.0%} |" for name, share in profile["shares"].items()]
        if sc.fresh_server:
            most = max((r.requests for r in runs if r.scenario == sc.name and r.server.startswith("kg serve")), default=0)
            note = "no query was repeated in any kg run" if most <= len(sc.queries) else f"the busiest kg run sent {most:,} requests, so the list wrapped around and some answers came from the cache"
            out += ["", f"kg serve was restarted before each run, so its answer cache started empty; {len(sc.queries):,} distinct queries: {note}."]
        out.append("")
    base_runs = [r for r in runs if r.server.startswith("baseline")]
    if base_runs:
        out += [
            "## The floor under a Python endpoint here",
            "",
            f"granian with {min(args.workers)} workers of 8 threads (as kg serve) answering the repeated look-up's bytes without "
            "doing anything: bare WSGI, and a one-line Flask view with granian's access log, beside kg serve's and Oxigraph's "
            "figures for the repeated look-up. kg serve's answer cache sits in front of Flask, so a repeated look-up can at best "
            "reach the bare WSGI figure.",
            "",
            "| clients | server | req/s | p50 ms | p99 ms | /oxigraph req/s |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for conns in args.connections:
            ox = next((r for r in runs if r.scenario == "repeated" and r.connections == conns and r.server == "oxigraph"), None)
            for r in [r for r in runs if r.scenario == "repeated" and r.connections == conns]:
                ratio = fmt_ratio(r.rps, ox.rps) if ox and r is not ox else ""
                out.append(f"| {conns} | {r.server} | {fmt_rps(r.rps)} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio} |")
        out.append("")
    out += ["## Targets", ""]
    for sc in scens:
        for (s, conns, label, ratio) in verdicts:
            if s is sc:
                goal = target(sc.name, conns)
                mark = "met" if ratio >= goal else f"NOT met (by {goal - ratio:.2f})"
                shown = f"{ratio:.2f} of Oxigraph's req/s" if ratio != float("inf") else "Oxigraph finished no request in the run"
                out.append(f"- {sc.name}, {conns} client{'s' if conns > 1 else ''}, {label}: {shown}, target {goal:g} ({TARGET_NOTES[sc.name]}): **{mark}**")
    if args.code_before != args.code_after:
        out += ["", "**Warning:** the code under kg/ or server/ changed during this run; servers (re)started after the change "
                "ran the new code. Run again for figures of one version."]
    shared = max(r.others for r in runs)
    if shared > 0.2:
        out += ["", f"**Warning:** other processes used up to {shared:.1f} of the {m['nproc']} CPUs during this run; "
                "the figures are lower and noisier than on a quiet machine (see 'others' below)."]
    out += [
        "",
        "## Every run",
        "",
        "wrk's own CPU use (share of one core) shows whether the load generator could have been the limit; "
        "'machine busy' is the share of all CPUs in use during the run (servers, wrk and anything else); "
        "'others' is the CPU, in cores, used by processes this benchmark did not start.",
        "",
        "| scenario | clients | server | requests | seconds | errors | wrk CPU | machine busy | others (cores) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(f"| {r.scenario} | {r.connections} | {r.server} | {r.requests:,} | {r.seconds:.1f} | {r.errors} | {r.wrk_cpu:.0%} | {r.machine_busy:.0%} | {r.others:.2f} |")
    out += ["", "## Queries", ""]
    for sc in scens:
        shown = sc.queries[0]
        more = f" (the first of {len(sc.queries):,}; templates: what the IRI says, what points to it, its English and Italian label)" if len(sc.queries) > 1 else ""
        out += [f"{sc.name}{more}:", "", "```sparql", shown, "```", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", default="1,8", help="concurrent clients, comma-separated (default 1,8)")
    parser.add_argument("--workers", default=None, help="kg serve worker counts, comma-separated (default: 2, and nproc if different)")
    parser.add_argument("--triples", type=int, default=100_000, help="about how many triples the built KG holds (default 100000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", default=None, help="kg serve request threads per worker, comma-separated (default: its own)")
    parser.add_argument("--store", type=Path, help="bench this existing build (a store link, e.g. var/store after `kg build` "
                        "with the imports: the grown KG) instead of generating one; --triples and --seed are then unused")
    parser.add_argument("--scenarios", default="repeated,distinct,partners")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"the report (default {RESULTS.relative_to(ROOT)}); '-' prints only")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false",
                        help="skip the floor runs (gunicorn answering the same bytes bare and through Flask)")
    parser.add_argument("--wait-quiet", type=float, default=60, metavar="SECONDS",
                        help="before each run, wait up to this long for other processes to leave the CPUs (default 60)")
    parser.add_argument("--retries", type=int, default=2, help="runs disturbed by other processes are measured again up to this many times (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (data, stores, logs) and say where it is")
    args = parser.parse_args(argv)
    args.argv = argv
    args.connections = [int(c) for c in args.connections.split(",")]
    nproc = os.cpu_count() or 1
    args.workers = [int(w) for w in args.workers.split(",")] if args.workers else sorted({2, nproc})
    args.threads = [int(t) for t in args.threads.split(",")] if args.threads else [None]
    names = args.scenarios.split(",")
    unknown = set(names) - set(TARGETS)
    if unknown:
        fail(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(TARGETS)}")

    tools = find_tools()
    started = datetime.now(timezone.utc)
    args.code_before = code_fingerprint()
    clock = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="kg-endpoint-bench-"))
    servers: list[Server] = []
    try:
        data = prepare_existing(work, tools, args.store) if args.store else prepare(work, tools, args.triples, args.seed)
        scens = scenarios(data.generated, args.seed, names)
        inproc = {s.name: in_process_ms(data.kg_store, s.queries, 3 if s.name == "partners" else 500) for s in scens}
        distinct = next((s for s in scens if s.name == "distinct"), None)
        profile = profile_app(data.kg_store, distinct.queries) if distinct else None

        ox = oxigraph_server(tools, data, work / "oxigraph.log")
        kgs = [kg_server(tools, data, w, t, work / f"kg-{w}-{t}.log") for w in args.workers for t in args.threads]
        servers = [ox, *kgs]
        for s in servers:
            s.start()
            print(f"{s.name} ready on {s.base}")
        checks = {}
        for sc in scens:
            for kg in kgs:
                checks[sc.name] = check_same_answers(kg, ox, sc, sample=200)
            print(f"same answers from both servers for {sc.name} ({checks[sc.name]['checked']} queries checked)")
        for s in servers:
            warm_up(tools, s, work)

        runs: list[Run] = []

        def measure(server: Server, sc: Scenario, conns: int, label: str) -> Run:
            """One wrk run on a quiet machine: waits for quiet, and runs again if other processes got busy meanwhile."""
            for attempt in range(args.retries + 1):
                wait_for_quiet(args.wait_quiet)
                if sc.fresh_server:
                    server.restart()
                    warm_up(tools, server, work)
                run = run_wrk(tools, server, sc, conns, args.duration * sc.duration_factor, work, label)
                if run.others <= 0.2:
                    break
                if attempt < args.retries:
                    print(f"  other processes used {run.others:.1f} cores during that run: measuring it again", flush=True)
            return run

        print(f"timing: {len(scens)} scenarios x {len(args.connections)} concurrency levels x {len(servers)} servers x {args.duration:g} s")
        for sc in scens:
            for conns in args.connections:
                for kg in kgs:
                    runs.append(measure(kg, sc, conns, kg.name))
                runs.append(measure(ox, sc, conns, "oxigraph"))
        repeated = next((sc for sc in scens if sc.name == "repeated"), None)
        if args.baselines and repeated is not None:
            _, _, body = kgs[0].get(repeated.queries[0])
            for label in BASELINES:
                base = baseline_server(label, min(args.workers), body, work)
                servers.append(base)
                base.start()
                warm_up(tools, base, work)
                for conns in args.connections:
                    runs.append(measure(base, repeated, conns, label))
                base.stop()
    except RuntimeError as e:
        print(f"endpoint_bench: {e}", file=sys.stderr)
        print(f"endpoint_bench: logs kept in {work}", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            print(f"working folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    args.code_after = code_fingerprint()
    args.elapsed = time.monotonic() - clock
    text = report(args, tools, data, scens, runs, checks, inproc, started, profile)
    print()
    print(text)
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
