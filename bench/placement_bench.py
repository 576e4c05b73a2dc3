#!/usr/bin/env python3
"""What placing a validation's results in their files costs, against the SHACL validation that found them.

    .venv/bin/python bench/placement_bench.py                          # 300 projects (rdflib), 7,400 (store, ~1M)
    .venv/bin/python bench/placement_bench.py --rdflib 60 --store 1000 --output -

Each result names the file and line of its node (kg.validation.placement, kg.sources.positions); before issue 14
each result rescanned its file with regular expressions, so `kg validate FILE --no-context` on 300 generated
projects took 328 s, most of it placement. For each engine and with and without the KG's own data as context:

  1. `kg synth` writes N projects as N-Quads (kept in --work between runs);
  2. the files are loaded (literal check included), the checks SHACL cannot express are found;
  3. SHACL alone: the shapes run with no placement (pyshacl, or the shapes compiled to SPARQL on the store);
  4. unplaced: SHACL, then the checks' findings merged into the report, nothing placed (what validation would
     cost if results named no file);
  5. placed: the validate step as `kg validate` runs it, every result placed in its file, every cache cold (the
     file indexes and the origin are new).

The ratio placed / SHACL alone is issue 14's measure (target: at most 1.2 at 1M triples); placed - unplaced is
what placement itself costs. Context is the ontology and data/; --imported adds what `kg import` wrote.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rdflib import Graph  # noqa: E402

from kg.build import data_paths, load_sources  # noqa: E402
from kg.config import Paths  # noqa: E402
from kg.sources import positions  # noqa: E402
from kg.sources.load import load_into_store, parse_graph  # noqa: E402
from kg.store.embedded import KGStore  # noqa: E402
from kg.validation import checks, checks_store  # noqa: E402
from kg.validation.compiled import compile_shapes, validate_store_report  # noqa: E402
from kg.validation.placement import Origin, StoreOrigin  # noqa: E402
from kg.validation.results import Report  # noqa: E402
from kg.validation.shacl import read_report, validate  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "placement.md"


def synth(projects: int, work: Path) -> Path:
    out = work / f"synth-{projects}.nq"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "kg.cli", "synth", "--projects", str(projects), "-o", str(out)],
                       cwd=ROOT, check=True, capture_output=True)
    return out


def cold() -> None:
    positions.forget()


def timed(f):
    t = time.perf_counter()
    value = f()
    return value, time.perf_counter() - t


def bench_store(paths: Paths, data: Path, context: bool, shapes: Graph) -> dict:
    files = [paths.ontology, *data_paths(paths, [data], context=context)]
    kg_store = KGStore.in_memory()
    loaded, load_s = timed(lambda: load_into_store(kg_store, files))
    triples = len(kg_store.store)
    findings, checks_s = timed(lambda: checks_store.find(kg_store) + checks.literal_findings(loaded))
    plan = compile_shapes(shapes)
    bare, shacl_s = timed(lambda: validate_store_report(kg_store, plan))
    _, unplaced_s = timed(lambda: checks_store.merge(validate_store_report(kg_store, plan), findings, kg_store))
    graphs = {g: f.path for f in loaded for g in (f.graph, *f.declared)}
    cold()

    def placed():
        origin = StoreOrigin(kg_store, graphs)
        report = validate_store_report(kg_store, plan, locate=origin)
        origin.prefetch([(f.focus, f.path, f.value) for f in findings if f.place is None])
        return checks_store.merge(report, findings, kg_store, origin.place)

    report, placed_s = timed(placed)
    return row("store", data, context, triples, load_s, checks_s, shacl_s, unplaced_s, placed_s, report)


def bench_rdflib(paths: Paths, data: Path, context: bool, shapes: Graph) -> dict:
    sources, load_s = timed(lambda: load_sources(paths, data=[data], context=context))
    union = sources.union()
    findings, checks_s = timed(lambda: checks.find(union) + checks.literal_findings(sources.files))
    report_graph, shacl_s = timed(lambda: validate(union, shapes))
    nowhere = lambda node: ("", 0)  # noqa: E731
    _, unplaced_s = timed(lambda: checks.add_findings(read_report(report_graph, union, nowhere), findings,
                                                      lambda triple: ("", 0), lambda node: ""))
    graphs = {f.graph: f.path for f in sources.files}
    for f in sources.files:
        for declared in f.declared:
            graphs.setdefault(declared, f.path)
    cold()

    def place():
        origin = Origin(sources.dataset, graphs)
        return checks.merge(read_report(report_graph, union, origin), findings, union, origin)

    report, place_s = timed(place)
    return row("rdflib", data, context, len(union), load_s, checks_s, shacl_s, shacl_s + unplaced_s, shacl_s + place_s, report)


def row(engine, data, context, triples, load_s, checks_s, shacl_s, unplaced_s, placed_s, report: Report) -> dict:
    return {
        "engine": engine, "data": data.name, "context": "yes" if context else "no", "triples": triples,
        "load": load_s, "checks": checks_s, "shacl": shacl_s, "unplaced": unplaced_s, "placed": placed_s,
        "ratio": placed_s / shacl_s, "results": len(report.results), "with_line": sum(1 for r in report.results if r.line),
    }


def table(rows: list[dict]) -> str:
    head = ("| engine | data | context | triples | load (s) | checks (s) | SHACL alone (s) | unplaced (s) | placed (s) "
            "| placed / SHACL | placement (s) | results | with a line |\n"
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    return head + "".join(
        f"| {r['engine']} | {r['data']} | {r['context']} | {r['triples']:,} | {r['load']:.1f} | {r['checks']:.1f} | "
        f"{r['shacl']:.1f} | {r['unplaced']:.1f} | {r['placed']:.1f} | {r['ratio']:.2f} | "
        f"{r['placed'] - r['unplaced']:.1f} | {r['results']:,} | {r['with_line']:,} |\n"
        for r in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rdflib", type=int, default=300, help="projects for the rdflib engine (default 300: ~40k triples)")
    parser.add_argument("--store", type=int, default=7400, help="projects for the store engine (default 7,400: ~1M triples)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/placement-bench"), help="where generated data is kept")
    parser.add_argument("--output", default=str(RESULTS), help="report file, or - for standard output")
    parser.add_argument("--imported", action="store_true", help="context includes var/imported (kg import's output)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    paths = Paths() if args.imported else Paths(imported=args.work / "no-imports")
    shapes = parse_graph([paths.shapes])
    rows = []
    for projects, bench in ((args.rdflib, bench_rdflib), (args.store, bench_store)):
        if projects:
            data = synth(projects, args.work)
            for context in (False, True):
                rows.append(bench(paths, data, context, shapes))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    text = (
        f"# Placement: results in their files, against SHACL\n\n"
        f"`{' '.join(['.venv/bin/python', 'bench/placement_bench.py', *sys.argv[1:]])}`, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, Python {platform.python_version()}, "
        f"load average at the end {' '.join(load)}.\n\n" + table(rows)
    )
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
