"""`kg stats`: what the built store holds."""

from __future__ import annotations

import json

from .options import add_store_options, open_store


def add_parser(sub) -> None:
    p = sub.add_parser("stats", help="figures about the built store")
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_store_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.store.stats import compute

    figures = compute(open_store(args))
    if args.format == "json":
        print(json.dumps(figures, indent=2))
        return 0
    build = figures["build"]
    if build:
        print(f"build      {build['id']} ({build['created']}, inference {build['inference']})")
    else:
        print("build      none recorded (built in memory, or a store `kg build` did not fill)")
    print(f"triples    {figures['triples']} ({figures['asserted_triples']} asserted, {figures['inferred_triples']} inferred, {figures['network_triples']} in the network)")
    print(f"graphs     {len(figures['graphs'])}")
    for name, n in figures["entities"].items():
        print(f"  {name:<20} {n}")
    print(f"wikidata links {figures['wikidata_links']}")
    return 0
