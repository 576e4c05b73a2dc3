"""How long validation compiled to SPARQL (kg.validation.compiled) and the checks on the store (kg.validation.checks_store) take,
against pyshacl on the same data.

    .venv/bin/python bench/validate_sparql_bench.py                       # 100k and 1M; pyshacl at 100k
    .venv/bin/python bench/validate_sparql_bench.py --sizes 10k,100k --pyshacl-up-to 100k --top 10

Data: the real ontology and data (data/) loaded into an in-memory pyoxigraph store by Oxigraph's parser, one
named graph per file, plus generated projects (kg.synth.generator, N-Quads) to the size asked. No reasoning: the asserted
triples only (the build validates asserted + OWL RL triples; the closure adds about a third). The timings are
in-process, start-up and loading excluded; `--top` lists the slowest queries of the plan.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text.rstrip("km")) * {"k": 1_000, "m": 1_000_000}.get(text[-1], 1))


def run(size: int, seed: int, pyshacl: bool, top: int) -> None:
    import pyoxigraph as ox

    from kg.validation import checks_store as checks_sparql
    from kg.synth import generator as synth
    from kg.config import Paths
    from kg.sources.load import load_into_store, parse_graph
    from kg.store.embedded import KGStore
    from kg.validation.compiled import _findings, compile_shapes

    paths = Paths()
    store = KGStore.in_memory()
    load_into_store(store, [paths.ontology, paths.data])
    generated = io.BytesIO()
    synth.generate(lambda text: generated.write(text.encode()), synth.projects_for(size), seed)
    store.store.bulk_load(generated.getvalue(), format=ox.RdfFormat.N_QUADS)
    triples = len(store)

    shapes = parse_graph([paths.shapes])
    t = time.perf_counter()
    plan = compile_shapes(shapes)
    compiled = time.perf_counter() - t

    timings, findings = [], 0
    t = time.perf_counter()
    for query in plan.queries:
        q = time.perf_counter()
        findings += len(set(_findings(store, query)))
        names = sorted({str(test.source.shape).rsplit("/", 1)[-1] for test in query.tests})
        timings.append((time.perf_counter() - q, query.kind, ", ".join(names)))
    validated = time.perf_counter() - t

    t = time.perf_counter()
    checked = len(checks_sparql.find(store))
    checks_time = time.perf_counter() - t
    print(f"{triples:>10,} triples  compile {compiled:.3f} s  validate_store {validated:.2f} s ({len(plan.queries)} queries, "
          f"{findings} results)  checks {checks_time:.2f} s ({checked} findings)", flush=True)
    for seconds, kind, names in sorted(timings, reverse=True)[:top]:
        print(f"    {seconds:7.3f} s  {kind:<7} {names[:90]}")

    if pyshacl:
        from rdflib import Dataset
        from rdflib.namespace import RDF, SH

        from kg.sources.load import union
        from kg.validation.shacl import validate

        dataset = Dataset()
        dataset.parse(data=store.store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
        data = union(dataset)
        t = time.perf_counter()
        report = validate(data, shapes)
        results = len(set(report.subjects(RDF.type, SH.ValidationResult)))
        print(f"{triples:>10,} triples  pyshacl {time.perf_counter() - t:.2f} s ({results} results)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1M", help="generated triples, e.g. 10k,100k,1M")
    parser.add_argument("--pyshacl-up-to", default="100k", help="also time pyshacl up to this size (0: never)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=8, help="how many of the slowest queries to list")
    args = parser.parse_args()
    limit = parse_size(args.pyshacl_up_to) if args.pyshacl_up_to != "0" else 0
    for size in (parse_size(s) for s in args.sizes.split(",") if s.strip()):
        run(size, args.seed, size <= limit, args.top)


if __name__ == "__main__":
    main()
