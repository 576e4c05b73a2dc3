"""`kg build`: load, reason, validate and store the KG; a failing validation writes nothing."""

from __future__ import annotations

from kg.reasoning.reference import Inference

from .options import ENGINE_CHOICES, ENGINE_HELP, add_store_options, location, paths, remote_options

INFERENCE_CHOICES = [m.value for m in Inference]


def add_parser(sub) -> None:
    p = sub.add_parser("build", help="load, reason, validate and store the KG (a failing validation writes nothing)")
    p.add_argument("--inference", choices=INFERENCE_CHOICES, default="owlrl", help="closure kept in its own graph (default: owlrl)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="rdflib", help=ENGINE_HELP)
    add_store_options(p, "where the build goes: the store link of an on-disk build (default: var/store), `memory` (build, "
                      "check and keep nothing), or a SPARQL server's query endpoint URL, whose KG graphs it replaces")
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.build import Engine, build

    place = location(args)
    remote = None
    if place.url is not None:
        from kg.store.remote import RemoteStore

        remote = RemoteStore.connect(place.url, **remote_options(args))  # unreachable: fail before the work
        remote.check_writable()
    outcome = build(paths(args), Inference(args.inference), in_memory=place.in_memory, remote=remote, engine=Engine(args.engine))
    info = outcome.info
    triples = info.triples if info else len(outcome.store)
    graphs = info.graphs if info else len(outcome.store.named_graphs())
    times = ", ".join(f"{k} {v:.2f}s" for k, v in outcome.timings.items())
    print(
        f"built {info.id if info else 'in memory'}: {triples} triples in {graphs} graphs "
        f"({outcome.inferred_count} inferred, {args.inference}, {args.engine} engine); {outcome.report.summary()}; {times}"
    )
    if remote is not None:
        rate = triples / outcome.timings["upload"] if outcome.timings.get("upload") else 0
        print(f"store: {place.url} ({remote.kind}; {rate:,.0f} triples/s uploaded)")
    else:
        print(f"store: {place if place.path is not None else 'memory (nothing was kept)'}")
    return 0
