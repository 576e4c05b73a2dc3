"""`kg synth`: generated projects under the ontology, conforming to the shapes (docs/synth.md)."""

from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "synth", help="generate synthetic data under the ontology, conforming to the shapes (see docs/synth.md)",
        description="Generate N synthetic projects with their partnerships, organisations, cities, outputs and events, "
        "pointing to the KG's real countries, programmes, roles and themes, as N-Quads (one graph per kind, under "
        "graph/synth/) or N-Triples. The same N and seed give the same bytes. About "
        "136 triples per project; validate or build it beside the real data (`kg validate FILE`, or put it in data/).",
    )
    p.add_argument("--projects", type=int, required=True, metavar="N", help="how many projects (about 136 triples each)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--output", "-o", default="-", metavar="PATH", help="file to write, atomically ('-', the default, for standard output)")
    p.add_argument("--format", choices=["nquads", "ntriples"], default="nquads", help="N-Quads with graph/synth/* graphs, or N-Triples (default: nquads)")
    p.add_argument("--gzip", action="store_true", default=None, help="gzip the output (default: when PATH ends in .gz)")
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.synth import generator

    try:
        summary = generator.write(args.output, args.projects, args.seed, fmt=args.format, compress=args.gzip)
    except BrokenPipeError:  # `kg synth ... | head`: the reader left, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    where = "standard output" if args.output == "-" else args.output
    print(f"kg synth: {summary.line()}; seed {args.seed}, written to {where}", file=sys.stderr)
    return 0
