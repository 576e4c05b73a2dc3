#!/usr/bin/env python3
"""The KG as it grows: load, reasoning, validation, queries and endpoint throughput at 10k to 10M triples, for
each store back end, against the same work done by plain rdflib, owlrl and pyshacl in the same run.

    .venv/bin/python bench/scale_bench.py                                # 10k, 100k, 1M; writes bench/results/scale.md
    .venv/bin/python bench/scale_bench.py --sizes 10k,100k,1M,10M        # 10M too (embedded back ends only)
    .venv/bin/python bench/scale_bench.py --sizes 10k --backends memory --output -    # a quick look

For each size:
  1. `kg synth` generates projects (deterministic, --seed) beside the KG's real data and ontology, so that the
     whole holds about that many triples;
  2. reference: one process loads it with rdflib (kg.sources.load), runs the queries with rdflib's SPARQL engine, the
     owlrl RDFS closure and pyshacl, each only up to the size where it still ends in reasonable time
     (REFERENCE_LIMITS: owlrl's closure, rdflib's SPARQL and pyshacl stop at 100k);
  3. for each back end (embedded Oxigraph in memory, embedded Oxigraph on disk, `oxigraph serve` and Virtuoso
     reached through the SPARQL protocols), one process loads the same files, materialises the entailments with
     SPARQL (kg.reasoning.rules), validates with the shapes compiled to SPARQL (kg.validation.compiled) and runs the
     queries; for the servers, the server's own peak memory is reported beside the client's;
  4. endpoint throughput: `kg serve` in front of each back end, closed-loop clients asking distinct look-ups.
Each step is timed on its own; peak memory is the step process's maximum resident set (and the server's), for
`kg build` the machine's memory in use at its peak above what it was when the build started (the build and the
worker processes it forks, whose pages are partly shared).
Ratios are reference time / back end time (how many times faster), for the same step at the same size.

Steps run in fresh processes with a time limit (--step-timeout); a step that overruns is reported as such and the
run goes on. Nothing listens beyond 127.0.0.1; every server started is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint_bench import PARTNERS, PROLOGUE, Server, data_only_env, free_port, link_real_data, machine  # noqa: E402
from load_bench import Requests, run_phase, summarise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "scale.md"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
BACKENDS = ["memory", "disk", "oxigraph-server", "virtuoso"]
REMOTE = {"oxigraph-server", "virtuoso"}

# The queries the issue names: a look-up, the co-partner network, aggregations by country and by programme.
LOOKUP = PROLOGUE + "SELECT ?property ?value WHERE {{ <{iri}> ?property ?value }}"
BY_COUNTRY = PROLOGUE + """SELECT ?country (COUNT(DISTINCT ?organisation) AS ?organisations) (COUNT(DISTINCT ?project) AS ?projects) WHERE {
  ?participation ckg:participant ?organisation ; ckg:inProject ?project .
  ?organisation ckg:country ?country .
} GROUP BY ?country ORDER BY DESC(?organisations)"""
BY_PROGRAMME = PROLOGUE + """SELECT ?programme (COUNT(DISTINCT ?project) AS ?projects) (COUNT(DISTINCT ?organisation) AS ?organisations) WHERE {
  ?project ckg:fundedBy ?level .
  ?level ckg:partOfProgramme* ?programme .
  ?participation ckg:inProject ?project ; ckg:participant ?organisation .
} GROUP BY ?programme ORDER BY DESC(?projects)"""
QUERIES = {"look-up": LOOKUP, "co-partners": PARTNERS, "by-country": BY_COUNTRY, "by-programme": BY_PROGRAMME}


def fail(message: str, code: int = 2) -> None:
    print(f"scale_bench: {message}", file=sys.stderr)
    raise SystemExit(code)


# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


def count_triples(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip() and not line.startswith(b"#"))


def real_triples() -> int:
    from kg.sources.load import load_into_store
    from kg.store.embedded import KGStore

    store = KGStore.in_memory()
    load_into_store(store, [ROOT / "ontology", ROOT / "data"])
    return len(store)


def synth(out: Path, projects: int, seed: int) -> float:
    t = time.perf_counter()
    done = subprocess.run([str(BIN / "kg"), "synth", "--projects", str(projects), "--seed", str(seed), "--output", str(out)],
                          capture_output=True, text=True)
    if done.returncode:
        fail(f"kg synth failed: {done.stderr.strip()[-2000:]}", 1)
    return time.perf_counter() - t


def prepare(work: Path, size: int, seed: int, per_project: float, real: int) -> dict:
    """A data folder: the real data linked, plus synth.nq sized so the whole (with the ontology) holds `size`."""
    folder = work / "data"
    link_real_data(folder)
    projects = max(1, round((size - real) / per_project))
    seconds = synth(folder / "synth.nq", projects, seed)
    generated = count_triples(folder / "synth.nq")
    return {"data": str(folder), "projects": projects, "synth_seconds": seconds, "generated": generated, "triples": generated + real}


def per_project(work: Path, seed: int) -> float:
    probe = work / "probe.nq"
    synth(probe, 200, seed)
    n = count_triples(probe)
    probe.unlink()
    return n / 200


# --------------------------------------------------------------------------------------------------------------
# Steps, each in its own process (python scale_bench.py --step ...): figures appended to a JSON lines file
# --------------------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, out: Path):
        self.out = out

    def __call__(self, step: str, seconds: float, **extra) -> None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open(self.out, "a") as f:
            f.write(json.dumps({"step": step, "seconds": seconds, "peak_mb": peak, **extra}) + "\n")


def lookup_iri(select) -> str:
    """A mid-sized organisation, picked the same way in every process."""
    rows = list(select(PROLOGUE + "SELECT ?o WHERE { ?o a ckg:Organisation } ORDER BY ?o LIMIT 1 OFFSET 100"))
    if not rows:
        rows = list(select(PROLOGUE + "SELECT ?o WHERE { ?o a ckg:Organisation } ORDER BY ?o LIMIT 1"))
    return str(rows[0][0] if not isinstance(rows[0], dict) else rows[0]["o"]).strip("<>")


def reference_step(data: Path, out: Path, size: int, limits: dict) -> None:
    """rdflib, owlrl and pyshacl: the KG's reference pipeline (kg.build with engine rdflib), step by step."""
    os.environ.update(data_only_env(data))
    from kg.build import load_sources
    from kg.config import Paths
    from kg.sources.load import parse_graph
    from kg.reasoning.reference import Inference, closure
    from kg.validation.shacl import validate
    from rdflib.namespace import RDF, SH

    record = Recorder(out)
    paths = Paths()
    t = time.perf_counter()
    sources = load_sources(paths)
    union = sources.union()
    record("load", time.perf_counter() - t, triples=len(union))

    if size <= limits["reason"]:
        t = time.perf_counter()
        inferred = closure(union, Inference.OWLRL)
        record("reason", time.perf_counter() - t, inferred=len(inferred), rules="owlrl OWL RL closure")
        for triple in inferred:  # validation and queries read the inferred triples, as a build's store has them
            union.add(triple)
    if size <= limits["validate"]:
        shapes = parse_graph([paths.shapes])
        t = time.perf_counter()
        report = validate(union, shapes)
        results = sum(1 for _ in report.subjects(RDF.type, SH.ValidationResult))
        record("validate", time.perf_counter() - t, results=results,
               data="asserted + inferred" if size <= limits["reason"] else "asserted only (no closure at this size)")
    if size <= limits["queries"]:
        iri = lookup_iri(lambda q: union.query(q))
        for name, text in QUERIES.items():
            t = time.perf_counter()
            rows = len(list(union.query(text.format(iri=iri) if name == "look-up" else text)))
            record("query " + name, time.perf_counter() - t, rows=rows)


def store_step(data: Path, out: Path, backend: str, work: Path, endpoint: dict | None) -> None:
    """The store pipeline on one back end: load, SPARQL reasoning, SPARQL validation, the queries."""
    os.environ.update(data_only_env(data))
    import pyoxigraph as ox

    from kg.config import Paths
    from kg.sources.load import load_into_store, parse_graph
    from kg.reasoning.rules import materialise
    from kg.store.embedded import KGStore
    from kg.validation.compiled import validate_store

    record = Recorder(out)
    paths = Paths()
    files = [paths.ontology, paths.data]
    t = time.perf_counter()
    if backend in REMOTE:
        from kg.store.remote import RemoteStore

        # Parsed here by Oxigraph (one graph per file, as a build does), then sent graph by graph through the
        # Graph Store Protocol: the bulk load a `kg build --store URL` does.
        parsed = KGStore.in_memory()
        load_into_store(parsed, files)
        store = RemoteStore(endpoint["url"], endpoint["kind"], user=endpoint.get("user"), password=endpoint.get("password"), timeout=3600)
        graphs = parsed.named_graphs()
        for graph in graphs:
            store.load_graph(graph, parsed.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        del parsed
    else:
        store = KGStore.in_memory() if backend == "memory" else KGStore(ox.Store(str(work / "oxigraph")), path=work)
        load_into_store(store, files)
        if backend == "disk":
            store.store.flush()
    record("load", time.perf_counter() - t, triples=len(store))

    t = time.perf_counter()
    added = materialise(store).triples
    record("reason", time.perf_counter() - t, inferred=added, rules="kg.reasoning.rules (OWL RL subset)")

    shapes = parse_graph([paths.shapes])
    t = time.perf_counter()
    results = validate_store(store, shapes)
    record("validate", time.perf_counter() - t, results=len(results))
    if backend in REMOTE and len(store) <= PYSHACL_ON_SERVER_LIMIT:
        from kg.namespaces import INFERRED_GRAPH

        seconds, compared = same_as_pyshacl(store, [*graphs, str(INFERRED_GRAPH)], shapes, results)
        record("pyshacl on the server's data", seconds, **compared)

    iri = lookup_iri(lambda q: [{"o": r["o"]} for r in store.select(q)])
    for name, text in QUERIES.items():
        t = time.perf_counter()
        rows = sum(1 for _ in store.select(text.format(iri=iri) if name == "look-up" else text))
        record("query " + name, time.perf_counter() - t, rows=rows)
    if backend in REMOTE:
        record("server peak", 0.0, server_peak_mb=server_peak_mb(endpoint.get("pid")))


PYSHACL_ON_SERVER_LIMIT = 200_000  # triples: pyshacl takes about 30 s at 100k


def same_as_pyshacl(store, graphs: list[str], shapes, results) -> tuple[float, dict]:
    """pyshacl on the triples the server holds in `graphs` (read back: a server may keep literals otherwise than
    they were sent), compared result by result with `results` (the compiled validation on the server)."""
    from rdflib import Graph

    from kg.validation.compiled import rdflib_term
    from kg.validation.shacl import read_report, validate

    held = Graph()
    for g in graphs:
        for s, p, o in store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"):
            held.add((rdflib_term(s), rdflib_term(p), rdflib_term(o)))
    t = time.perf_counter()
    reference = read_report(validate(held, shapes), held, lambda node: ("", 0)).results

    def key(r):
        return tuple("_:" if str(v).startswith("_:") else str(v) for v in (r.focus, r.path, r.value, r.component, r.severity, r.shape))

    ours, theirs = {key(r) for r in results}, {key(r) for r in reference}
    return time.perf_counter() - t, {"results": len(reference), "same": ours == theirs,
                                     "only_compiled": len(ours - theirs), "only_pyshacl": len(theirs - ours)}


def server_peak_mb(pid: int | None) -> float | None:
    """The peak resident set of a server process (VmHWM), summed over its children (Virtuoso has none)."""
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------------------------------------------
# The orchestrator
# --------------------------------------------------------------------------------------------------------------


@dataclass
class StepRun:
    label: str
    records: list[dict] = field(default_factory=list)
    wall: float = 0.0
    peak_mb: float = 0.0
    timed_out: bool = False
    error: str = ""


def run_step(label: str, argv: list[str], out: Path, timeout: float) -> StepRun:
    out.unlink(missing_ok=True)
    run = StepRun(label)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *argv, "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = t + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            run.peak_mb = usage.ru_maxrss / 1024
            if code:
                run.error = (proc.stderr.read() or "").strip().splitlines()[-1:] or [f"exit {code}"]
                run.error = run.error[0]
            break
        if time.perf_counter() > deadline:
            proc.kill()
            proc.wait()
            run.timed_out = True
            break
        time.sleep(0.05)
    run.wall = time.perf_counter() - t
    if out.exists():
        run.records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    status = "timed out" if run.timed_out else (f"failed: {run.error}" if run.error else "done")
    steps = ", ".join(f"{r['step']} {r['seconds']:.2f}s" for r in run.records if r["step"] != "server peak")
    print(f"  {label}: {status} in {run.wall:.0f} s ({steps})", flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--remote-limit", default="1M", help="largest size loaded into the servers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step-timeout", type=float, default=1200, help="seconds before a step process is stopped")
    parser.add_argument("--output", default=str(RESULTS), help="results file ('-' to print only)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step == "reference":
        reference_step(args.data, args.out, args.size, REFERENCE_LIMITS)
        return 0
    if args.step:
        store_step(args.data, args.out, args.step, args.work, json.loads(args.endpoint) if args.endpoint else None)
        return 0
    return orchestrate(args)


# The largest size each reference step runs at: beyond, it takes hours (owlrl, rdflib's SPARQL) or about ten
# minutes (pyshacl at 1M), and the figures of the sizes below say how it grows.
# The reference stops at 100k: past it owlrl's closure and rdflib's SPARQL are superlinear, and rdflib's load and
# pyshacl took 832 s at 1M (2026-12-05), a quarter of hour for a ratio the 100k row already gives.
REFERENCE_LIMITS = {"validate": 100_000, "reason": 100_000, "queries": 100_000}


def orchestrate(args) -> int:
    sizes = [s.strip() for s in args.sizes.split(",")]
    backends = [b.strip() for b in args.backends.split(",")]
    for s in sizes:
        if s not in SIZES:
            fail(f"--sizes: unknown size {s!r} (known: {', '.join(SIZES)})")
    for b in backends:
        if b not in BACKENDS:
            fail(f"--backends: unknown back end {b!r} (known: {', '.join(BACKENDS)})")
    started = datetime.now(timezone.utc)
    results = []
    with tempfile.TemporaryDirectory(prefix="kg-scale-") as tmp:
        work = Path(tmp)
        real = real_triples()
        k = per_project(work, args.seed)
        print(f"the real KG holds {real:,} triples; kg synth writes about {k:.1f} triples per project", flush=True)
        for name in sizes:
            size = SIZES[name]
            folder = work / name
            folder.mkdir()
            prepared = prepare(folder, size, args.seed, k, real)
            print(f"{name}: {prepared['projects']:,} projects, {prepared['triples']:,} triples "
                  f"(kg synth {prepared['synth_seconds']:.1f} s)", flush=True)
            row = {"size": name, **prepared, "runs": {}}
            if size <= REFERENCE_LIMITS["validate"]:
                row["runs"]["rdflib"] = run_step("rdflib + owlrl + pyshacl", ["--step", "reference", "--data", prepared["data"],
                                                 "--size", str(size)], folder / "reference.jsonl", args.step_timeout)
            for backend in backends:
                if backend in REMOTE and size > SIZES[args.remote_limit]:
                    continue
                row["runs"][backend] = run_backend(backend, prepared, folder, args.step_timeout)
            results.append(row)
            (Path(prepared["data"]) / "synth.nq").unlink(missing_ok=True)
    text = report(args, results, started, k, real)
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")
    return 0


def run_backend(backend: str, prepared: dict, folder: Path, timeout: float) -> StepRun:
    work = folder / backend
    work.mkdir()
    argv = ["--step", backend, "--data", prepared["data"], "--work", str(work)]
    if backend not in REMOTE:
        run = run_step(backend, argv, folder / f"{backend}.jsonl", timeout)
        if backend == "disk":  # served from a build on disk; `kg serve --store memory` would build with rdflib
            serve_and_measure(run, str(work / "store"), prepared, {}, timeout)
        return run
    from tests.servers import oxigraph_server, virtuoso_server  # started as the integration tests start them

    # Virtuoso's row limit raised from the tests' 1,000 (which makes them page) to what a server for this much
    # data would be given: the build steps page past it anyway, but every page is a query.
    start = oxigraph_server if backend == "oxigraph-server" else lambda folder: virtuoso_server(folder, max_rows=1_000_000)
    (work / "server").mkdir()
    try:
        with start(work / "server") as server:
            endpoint = {"url": server.url, "pid": server.pid, "user": server.user, "password": server.password,
                        "kind": "oxigraph" if backend == "oxigraph-server" else "virtuoso"}
            run = run_step(backend, argv + ["--endpoint", json.dumps(endpoint)], folder / f"{backend}.jsonl", timeout)
            serve_and_measure(run, server.url, prepared, server.credentials, timeout)
            return run
    except BaseException as e:  # a server that cannot be had is reported, and the other back ends still run
        if isinstance(e, KeyboardInterrupt):
            raise
        run = StepRun(backend, error=f"could not run the server: {type(e).__name__}: {e}"[:300])
        print(f"  {backend}: {run.error}", flush=True)
        return run


THROUGHPUT_CLIENTS, THROUGHPUT_SECONDS = 8, 10.0


def run_measured(argv: list[str], env: dict, timeout: float) -> dict:
    """A command's exit code, output, wall time and peak memory: the most the machine had in use (MemTotal less
    MemAvailable), sampled every 0.2 s, above what it had when the command started. kg build forks workers that
    share its pages: the largest single process (what getrusage gives) left them out, the sum of their resident
    sets counts the shared pages once per process, and their proportional set sizes (smaps_rollup), read every
    0.2 s, slowed the 1M build by a fifth. On a quiet machine the rise in use is the command's."""
    before = memory_in_use_kb()
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = [before], threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], memory_in_use_kb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        code, seconds = proc.returncode, time.perf_counter() - t
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code, seconds = None, timeout
    finally:
        done.set()
        sampler.join()
    return {"code": code, "out": out, "err": err, "seconds": seconds, "peak_mb": (peak[0] - before) / 1024}


def memory_in_use_kb() -> int:
    """The machine's memory in use (kB): MemTotal less MemAvailable, from Linux's /proc/meminfo."""
    fields = {line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()}
    return fields["MemTotal"] - fields["MemAvailable"]


def serve_and_measure(run: StepRun, store: str, prepared: dict, env: dict, timeout: float) -> None:
    """`kg build` with its defaults into the back end (the store engine), then `kg serve` in front of it: a cold
    filtered /network (on a build on disk), and closed-loop clients asking distinct look-ups (never answered from
    the cache), of `kg serve` and, for a server, of the server itself in the same run."""
    env = {**data_only_env(Path(prepared["data"])), **env}
    done = run_measured([str(BIN / "kg"), "build", "--no-import", "--store", store], env, timeout)
    if done["code"] != 0:
        error = "timed out" if done["code"] is None else done["err"].strip()[-300:]
        run.records.append({"step": "kg build", "seconds": done["seconds"], "peak_mb": done["peak_mb"], "error": error})
        print(f"    kg build failed: {error}", flush=True)
        return
    run.records.append({"step": "kg build", "seconds": done["seconds"], "peak_mb": done["peak_mb"],
                        "steps": done["out"].splitlines()[0].split(";")[-1].strip()})
    print(f"    kg build {done['seconds']:.1f} s, peak {done['peak_mb']:,.0f} MB", flush=True)
    port = free_port()
    server = Server("kg serve", [str(BIN / "kg"), "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", "2"], port, "/sparql", "/health", Path(store).parent / "serve.log" if "://" not in store else Path(prepared["data"]).parent / "serve.log")
    server.env = env
    try:
        server.start(timeout=120)
        if "://" not in store:
            network_cold(run, server)
        things = {}
        for kind in ("Organisation", "Project"):
            status, _, body = server.get(PROLOGUE + f"SELECT ?s WHERE {{ ?s a ckg:{kind} }} LIMIT 5000")
            things[kind] = [b["s"]["value"] for b in json.loads(body)["results"]["bindings"]] if status == 200 else []
        throughput(run, "endpoint look-ups", port, Requests(things["Organisation"], things["Project"], 1))
        if "://" in store:  # the server's own endpoint, asked the same look-ups (others than kg serve's: not cached)
            url = urllib.parse.urlsplit(store)
            own = throughput(run, "server look-ups", url.port, Requests(things["Organisation"], things["Project"], 2, url.path))
            kg = next(r for r in run.records if r["step"] == "endpoint look-ups")
            if own:
                kg["of_server"] = round(kg["requests_per_s"] / own, 2)
    except Exception as e:
        run.records.append({"step": "endpoint look-ups", "seconds": 0, "peak_mb": 0, "error": str(e)[:200]})
    finally:
        server.stop()


def throughput(run: StepRun, step: str, port: int, requests: Requests) -> float:
    import threading

    samples, _ = run_phase(port, {"cheap": 1.0}, THROUGHPUT_CLIENTS, 0, THROUGHPUT_SECONDS, threading.Semaphore(10**7),
                           requests, 1, 60)
    row = summarise(samples, THROUGHPUT_SECONDS).get("cheap", {})
    run.records.append({"step": step, "seconds": THROUGHPUT_SECONDS, "peak_mb": 0,
                        "requests_per_s": round(row.get("per_second", 0), 1), "p50_ms": round(row.get("p50", 0) * 1000, 1),
                        "p99_ms": round(row.get("p99", 0) * 1000, 1), "statuses": row.get("statuses", {})})
    print(f"    {step}: {row.get('per_second', 0):.0f}/s, p99 {row.get('p99', 0) * 1000:.0f} ms {row.get('statuses')}", flush=True)
    return row.get("per_second", 0)


def network_cold(run: StepRun, server: Server) -> None:
    """The first filtered /network of a fresh server (each worker's cache empty): by a country, and by a
    programme and period."""
    def first(text: str) -> str | None:
        status, _, body = server.get(PROLOGUE + text)
        rows = json.loads(body)["results"]["bindings"] if status == 200 else []
        return rows[0]["x"]["value"] if rows else None

    country = first("SELECT ?x WHERE { ?o a ckg:Organisation ; ckg:country ?x } LIMIT 1")
    programme = first("SELECT ?x WHERE { ?p ckg:fundedBy ?x } LIMIT 1")
    for label, options in (("country", {"country": country}), ("programme, 2015-2020", {"programme": programme, "from": 2015, "to": 2020})):
        query = urllib.parse.urlencode({"kind": "organisation", "format": "json", **{k: v for k, v in options.items() if v}})
        t = time.perf_counter()
        with urllib.request.urlopen(f"{server.base}/network?{query}", timeout=120) as r:
            size, status = len(r.read()), r.status
        seconds = time.perf_counter() - t
        run.records.append({"step": f"network filtered cold ({label})", "seconds": seconds, "peak_mb": 0,
                            "status": status, "bytes": size})
        print(f"    /network by {label}, cold: {seconds:.2f} s, {size:,} bytes", flush=True)


# --------------------------------------------------------------------------------------------------------------
# The results file
# --------------------------------------------------------------------------------------------------------------


def targets(results: list[dict]) -> list[str]:
    """The issue's targets, met or missed with the margin, from this run's rows (— where the run has no figure)."""
    def record(size: str, backend: str, step: str) -> dict | None:
        for row in results:
            if row["size"] == size and backend in row["runs"]:
                return next((r for r in row["runs"][backend].records if r["step"] == step), None)
        return None

    lines = ["## Targets", "", "| target | figure | verdict |", "|---|---|---|"]

    def verdict(name: str, value: float | None, limit: float, unit: str, higher: bool = False, shown: str | None = None) -> None:
        if value is None:
            lines.append(f"| {name} | — | not measured in this run |")
            return
        met = value >= limit if higher else value < limit
        margin = abs(value - limit)
        lines.append(f"| {name} | {shown or f'{value:,.2f} {unit}'} | {'met' if met else '**missed**'} by {margin:,.2f} {unit} |")

    def seconds(size, backend, step):
        r = record(size, backend, step)
        return None if r is None or r.get("error") else r["seconds"]

    verdict("`kg build` (defaults, on disk), 1M, < 60 s on this machine", seconds("1M", "disk", "kg build"), 60, "s")
    build_10m = record("10M", "disk", "kg build")
    verdict("`kg build` (defaults, on disk), 10M, within 24 GB", None if build_10m is None or build_10m.get("error") else build_10m["peak_mb"] / 1024,
            24, "GB", shown=None if build_10m is None else f"{build_10m['peak_mb'] / 1024:,.1f} GB in {build_10m['seconds']:,.0f} s")
    verdict("reasoning, 1M, in memory, < 10 s", seconds("1M", "memory", "reason"), 10, "s")
    for backend in ("oxigraph-server", "virtuoso"):
        r = record("1M", backend, "kg build")
        figure = "—" if r is None else (r.get("error") or "{:,.0f} s".format(r["seconds"]))[:120]
        state = "not measured in this run" if r is None else "**failed**" if r.get("error") else "met"
        lines.append(f"| `kg build --store URL` into {backend}, 1M | {figure} | {state} |")
    for size in ("10k", "100k"):
        ours, reference = record(size, "virtuoso", "validate"), record(size, "virtuoso", "pyshacl on the server's data")
        if ours is not None and reference is not None:
            lines.append(f"| compiled SHACL on Virtuoso = pyshacl on the data Virtuoso holds, {size}, result by result | "
                         f"{ours.get('results')} and {reference.get('results')} results, {reference.get('only_compiled')} only "
                         f"compiled, {reference.get('only_pyshacl')} only pyshacl | {'met' if reference.get('same') else '**missed**'} |")
        else:
            lines.append(f"| compiled SHACL on Virtuoso = pyshacl, {size} | — | not measured in this run |")
    for backend in ("oxigraph-server", "virtuoso"):
        r = record("1M", backend, "endpoint look-ups")
        ratio = None if r is None else r.get("of_server")
        verdict(f"`kg serve --store URL` look-ups ≥ 0.8 × {backend}'s own, 1M", ratio, 0.8, "×", higher=True)
    for label in ("country", "programme, 2015-2020"):
        verdict(f"filtered /network (by {label}), 1M, cold, < 1 s", seconds("1M", "disk", f"network filtered cold ({label})"), 1, "s")
    return lines + [""]


def report(args, results: list[dict], started: datetime, k: float, real: int) -> str:
    m = machine()
    lines = [
        "# Scale: load, reasoning, validation and queries from 10k to 10M triples",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC, commit {m['commit']}, on {m['cpu']} ({m['nproc']} CPUs, {m['ram']}), "
        f"{m['os']}, Python {m['python']}, pyoxigraph {m['pyoxigraph']}.",
        "",
        f"Command: `.venv/bin/python bench/scale_bench.py {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        f"Data: the real KG ({real:,} triples with the ontology) plus `kg synth --seed {args.seed}` projects "
        f"(about {k:.0f} triples each). Time in seconds; rate in triples per second of the data at that size; "
        "peak is the step process's maximum resident set (for a server, also the server's; for `kg build`, the rise in "
        "the machine's memory in use (MemTotal less MemAvailable) from its start to its peak, sampled every 0.2 s: the "
        "build and its forked workers); "
        "× is the reference's time divided by the back end's (how many times faster), same step, same size.",
        "",
    ]
    lines += targets(results)
    for row in results:
        lines += [f"## {row['size']}: {row['triples']:,} triples ({row['projects']:,} generated projects)", "",
                  "| back end | step | seconds | triples/s | × rdflib | peak MB | notes |", "|---|---|---:|---:|---:|---:|---|"]
        reference = {r["step"]: r for r in row["runs"].get("rdflib", StepRun("")).records}
        for name, run in row["runs"].items():
            if not run.records:
                lines.append(f"| {name} | | | | | | {'timed out' if run.timed_out else run.error} |")
                continue
            for r in run.records:
                if r["step"] == "server peak":
                    lines.append(f"| {name} | server | | | | {r.get('server_peak_mb') or 0:,.0f} | the server process's own peak |")
                    continue
                ref = reference.get(r["step"])
                ratio = f"{ref['seconds'] / r['seconds']:,.1f}" if ref and name != "rdflib" and r["seconds"] > 0 else ""
                rate = f"{row['triples'] / r['seconds']:,.0f}" if r["seconds"] > 0 and not r["step"].startswith("endpoint") else ""
                notes = ", ".join(f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}"
                                  for key, value in r.items() if key not in ("step", "seconds", "peak_mb"))
                peak = f"{r['peak_mb']:,.0f}" if r["peak_mb"] else ""
                lines.append(f"| {name} | {r['step']} | {r['seconds']:,.2f} | {rate} | {ratio} | {peak} | {notes} |")
            if run.timed_out:
                lines.append(f"| {name} | (next step) | > {args.step_timeout:g} | | | | stopped at the step time limit |")
            elif run.error:
                lines.append(f"| {name} | (next step) | | | | | failed: {run.error} |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
