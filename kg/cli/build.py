"""`kg build`: load, reason, validate and store the KG; a failing validation writes nothing."""

from __future__ import annotations

import sys

from kg.reasoning.reference import Inference

from .options import ENGINE_CHOICES, ENGINE_HELP, add_store_options, location, paths, remote_options

INFERENCE_CHOICES = [m.value for m in Inference]


def add_parser(sub) -> None:
    p = sub.add_parser("build", help="load, reason, validate and store the KG (a failing validation writes nothing)")
    p.add_argument("--inference", choices=INFERENCE_CHOICES, default="owlrl", help="closure kept in its own graph (default: owlrl)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="store", help=ENGINE_HELP)
    p.add_argument("--no-import", action="store_true",
                   help="build from data/ and the last import as they are, without importing the sources again")
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
    if not args.no_import:
        import_present(paths(args))
    # `--store memory` keeps nothing, so it publishes nothing either.
    outcome = build(paths(args), Inference(args.inference), in_memory=place.in_memory, remote=remote, engine=Engine(args.engine),
                    publish=not place.in_memory)
    info = outcome.info
    triples = info.triples if info else len(outcome.store)
    graphs = info.graphs if info else len(outcome.store.named_graphs())
    times = ", ".join(f"{k} {v:.2f}s" for k, v in outcome.timings.items())
    print(
        f"built {info.id if info else 'in memory'}: {triples} triples in {graphs} graphs "
        f"({outcome.inferred_count} inferred, {args.inference}, {args.engine} engine); {outcome.report.summary()}; {times}"
    )
    if remote is not None:
        steps = remote.timings  # the upload's own steps: staging, the switch, dropping the staging graphs
        rate = triples / steps["upload"] if steps["upload"] else 0
        print(f"store: {place.url} ({remote.kind}; {rate:,.0f} triples/s uploaded, switched in {steps['switch']:.2f}s, "
              f"staging dropped in {steps['clean']:.2f}s)")
        if remote.cleanup_error is not None:
            print(f"kg: warning: staging graphs are left on the server, the next build drops them: {remote.cleanup_error}",
                  file=sys.stderr)
    else:
        print(f"store: {place if place.path is not None else 'memory (nothing was kept)'}")
    return 0


def import_present(found) -> None:
    """Import every configured source whose file is present, saying which were skipped and why; the build then
    loads what the import wrote. Without a manifest (a checkout without imports/) there is nothing to import."""
    from kg.importing.run import import_sources

    if not (found.imports / "sources.yaml").is_file():
        print(f"import: no {found.imports / 'sources.yaml'}: nothing to import")
        return
    outcome = import_sources(None, out=found.imported)
    for name, why in outcome.skipped.items():
        print(f"import: skipped {name}: {why}")
    for name, s in outcome.imported.items():
        print(f"import: {name}: {sum(s.rows.values())} rows, {s.quads} statements, {s.rejects} rejects")
