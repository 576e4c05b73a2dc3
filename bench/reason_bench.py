"""Time the reasoning: kg.reasoning.rules.materialise over the store against owlrl's closure, on generated data.

    .venv/bin/python bench/reason_bench.py                          # 100k and 1M; owlrl at 10k
    .venv/bin/python bench/reason_bench.py --sizes 10k,100k --owlrl 10k,100k --disk

Each size is the real ontology and data plus `kg synth` projects (kg/synth.py) making up about that many
triples, loaded with Oxigraph's parser into an in-memory store (and, with --disk, an on-disk one, as `kg build`
writes). materialise runs on a fresh store each repeat, the best wall time kept, with its CPU time (this
process's; on a shared machine the wall time is the noisier), in two ways: every conclusion of its rules, and
only those in the KG's own vocabulary (vocabulary=CKG). owlrl runs once per size asked, through
kg.reasoning.reference.closure in both modes, on the same triples parsed by rdflib. Writes bench/results/reasoning.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.synth import generator as synth
from kg.config import Paths
from kg.sources.load import load_into_store
from kg.namespaces import CKG
from kg.reasoning.reference import Inference, closure
from kg.reasoning.rules import materialise
from kg.store.embedded import KGStore

RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "tmp"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def label(n: int) -> str:
    return f"{n / 1_000_000:g}M" if n >= 1_000_000 else f"{n / 1000:g}k"


def data_file(size: int, seed: int) -> Path:
    """Generated projects making, with the real data, about `size` triples; written once per size and seed."""
    real = sum(1 for _ in _sources_store().store)
    path = WORK / f"reasoning-{label(size)}-{seed}.nq"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        synth.write(path, synth.projects_for(max(size - real, 1000)), seed=seed)
    return path


def _sources_store(extra: Path | None = None, folder: Path | None = None) -> KGStore:
    kg_store = KGStore(ox.Store(str(folder))) if folder else KGStore.in_memory()
    paths = Paths()
    load_into_store(kg_store, [paths.ontology, paths.data] + ([extra] if extra else []))
    return kg_store


def time_materialise(extra: Path, repeat: int, vocabulary: str | None, disk: bool) -> dict:
    best = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(dir=WORK) as folder:
            kg_store = _sources_store(extra, Path(folder) / "db" if disk else None)
            triples = len(kg_store)
            wall, cpu = time.perf_counter(), time.process_time()
            summary = materialise(kg_store, vocabulary=vocabulary)
            run = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "summary": summary, "triples": triples}
            del kg_store
        if best is None or run["wall"] < best["wall"]:
            best = run
    return best


def time_owlrl(extra: Path) -> dict:
    from rdflib import Dataset

    from kg.sources.load import load_files, union

    dataset = Dataset()
    paths = Paths()
    load_files(dataset, [paths.ontology, paths.data])
    dataset.parse(extra, format="nquads")
    graph = union(dataset)
    times = {}
    for mode in (Inference.RDFS, Inference.OWLRL):
        t = time.perf_counter()
        inferred = closure(graph, mode)
        times[mode.value] = (time.perf_counter() - t, len(inferred))
    return {"triples": len(graph), **times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="sizes for materialise (default 100k,1M)")
    parser.add_argument("--owlrl", default="10k", help="sizes for owlrl as well ('' for none; 100k takes minutes)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--disk", action="store_true", help="also time materialise on an on-disk store")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default=str(RESULTS / "reasoning.md"), help="'-' to print only")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    owlrl_sizes = [parse_size(s) for s in args.owlrl.split(",") if s]

    rows, owlrl_rows = [], []
    for size in sorted(set(sizes) | set(owlrl_sizes)):
        extra = data_file(size, args.seed)
        if size in sizes:
            for where in ["memory"] + (["disk"] if args.disk else []):
                for vocabulary in (None, str(CKG)):
                    run = time_materialise(extra, args.repeat, vocabulary, where == "disk")
                    rows.append({"size": size, "where": where, "vocabulary": vocabulary, **run})
                    print(f"{label(size)} {where} {'ckg' if vocabulary else 'all'}: {run['wall']:.2f} s wall, "
                          f"{run['cpu']:.2f} s CPU, {run['summary'].triples:,} triples added", flush=True)
        if size in owlrl_sizes:
            owlrl_rows.append({"size": size, **time_owlrl(extra)})
            print(f"{label(size)} owlrl: {owlrl_rows[-1]}", flush=True)

    report = render(rows, owlrl_rows, args)
    if args.output == "-":
        print(report)
    else:
        Path(args.output).write_text(report, encoding="utf-8")
        print(f"wrote {args.output}")


def render(rows: list[dict], owlrl_rows: list[dict], args) -> str:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.machine())
    lines = [
        "# Reasoning: kg.reasoning.rules against owlrl",
        "",
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; {cpu}, {platform.python_version()}, "
        f"pyoxigraph {ox.__version__}; `{' '.join(['bench/reason_bench.py', *sys.argv[1:]])}`.",
        "Data: the real ontology and data plus `kg synth` projects (seed "
        f"{args.seed}); best of {args.repeat} runs, each on a fresh store. CPU is this process's, over its threads "
        "(the queries of a step run side by side, one thread per CPU).",
        "",
        "| triples | store | written | added | wall s | CPU s (all threads) | seconds by step | rounds |",
        "|---:|---|---|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        s = r["summary"]
        steps = ", ".join(f"{k} {v:.2f}" for k, v in s.timings.items() if v >= 0.005)
        lines.append(
            f"| {r['triples']:,} | {r['where']} | {'CKG only' if r['vocabulary'] else 'all'} | {s.triples:,} | "
            f"{r['wall']:.2f} | {r['cpu']:.2f} | {steps} | {s.rounds} |"
        )
    lines += ["", "Added, by rule (best run of each row):", ""]
    for r in rows:
        by_rule = ", ".join(f"{k} {v:,}" for k, v in r["summary"].by_rule.items())
        lines.append(f"- {label(r['size'])}, {r['where']}, {'CKG only' if r['vocabulary'] else 'all'}: {by_rule}")
    if owlrl_rows:
        lines += ["", "owlrl (kg.reasoning.reference.closure, one run):", "", "| triples | RDFS s | added | OWL RL s | added |", "|---:|---:|---:|---:|---:|"]
        for r in owlrl_rows:
            lines.append(f"| {r['triples']:,} | {r['rdfs'][0]:.1f} | {r['rdfs'][1]:,} | {r['owlrl'][0]:.1f} | {r['owlrl'][1]:,} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
