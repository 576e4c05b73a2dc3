"""The `kg` command: build, validate, query, stats, serve.

Exit codes, the same for every subcommand:
  0  success (for `validate`: the data conforms)
  1  the data does not conform (violations; warnings too with --fail-on warning), or the KG is inconsistent
  2  the input could not be read: a missing file, a syntax error, a bad query, an unknown option
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .config import Paths
from .errors import InputError, KGError, ValidationFailed
from .reason import Inference
from .report import RENDERERS, describe

INFERENCE_CHOICES = [m.value for m in Inference]
ENGINE_CHOICES = ["rdflib", "store"]
ENGINE_HELP = ("rdflib: owlrl and pyshacl, the reference (minutes at 100k triples); store: the same steps as SPARQL "
               "run by Oxigraph, for large data (seconds at 1M triples; the OWL RL rules the KG relies on, see "
               "docs/validation.md) (default: rdflib)")

VALIDATE_DESCRIPTION = """\
Validate RDF files or folders (default: the KG's data/) against the SHACL shapes in shapes/, together with
the ontology and, unless --no-context, the rest of the KG's data, so links to existing entities resolve.
Besides the shapes, three checks: a dangling IRI (an id/ IRI used as an object that nothing describes,
violation), a duplicate entity (same English label and class under two IRIs, warning), a shared Wikidata
link (schema:sameAs to one Wikidata entity from two resources, violation). Results name the file and line
of the node, its label, the path, the value, the shape and the severity. See docs/validation.md."""


def _validate_epilog() -> str:
    formats = "\n".join(f"  {name:<7} {describe(name)}" for name in RENDERERS)
    return (
        "formats (--format for standard output, -o FORMAT=PATH for files; one run can write several):\n"
        f"{formats}\n\n"
        "exit codes:\n"
        "  0  conforms: no violations (and no warnings, with --fail-on warning)\n"
        "  1  violations (or warnings with --fail-on warning), or an inconsistent KG under --inference owlrl\n"
        "  2  the input could not be read: a syntax error (reported as file:line:column), a missing file or\n"
        "     folder, an unknown file type or option; a json, junit or github report on standard output, and\n"
        "     every -o file, then carries the error instead of results"
    )


def _output_spec(text: str) -> tuple[str, Path]:
    fmt, sep, path = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"expected FORMAT=PATH, e.g. junit=kg-validate.xml, not {text!r}")
    if fmt not in RENDERERS:
        raise argparse.ArgumentTypeError(f"unknown format {fmt!r} (choose from {', '.join(RENDERERS)})")
    return fmt, Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except ValidationFailed as e:
        from .report import render

        sys.stdout.write(render(e.report, "text", color=sys.stdout.isatty()))
        print(f"kg: build stopped, nothing was written: {e.report.summary()}", file=sys.stderr)
        return e.exit_code
    except KGError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # the machine said no: a full disk, a folder that cannot be written
        where = f"{e.filename}: " if e.filename else ""
        print(f"kg: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kg: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kg",
        description="Cohesion KG: build, validate, query and serve the knowledge graph.",
        epilog="Exit codes: 0 success/conforms, 1 violations, 2 unreadable input or bad usage.",
    )
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="load, reason, validate and store the KG (a failing validation writes nothing)")
    p.add_argument("--inference", choices=INFERENCE_CHOICES, default="owlrl", help="closure kept in its own graph (default: owlrl)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="rdflib", help=ENGINE_HELP)
    _store_options(p, "where the build goes: the store link of an on-disk build (default: var/store), `memory` (build, "
                   "check and keep nothing), or a SPARQL server's query endpoint URL, whose KG graphs it replaces")
    p.set_defaults(run=_build)

    p = sub.add_parser(
        "validate",
        help="validate RDF files or folders against the shapes (default: data/)",
        description=VALIDATE_DESCRIPTION,
        epilog=_validate_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="Turtle, TriG, JSON-LD, N-Triples (...) files or folders (default: data/)")
    p.add_argument("--inference", choices=INFERENCE_CHOICES, default="none", help="reason before validating (default: none)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="rdflib", help=ENGINE_HELP)
    p.add_argument("--format", choices=list(RENDERERS), default="text", help="report format on standard output (default: text)")
    p.add_argument(
        "--output", "-o", action="append", type=_output_spec, default=[], metavar="FORMAT=PATH",
        help="also write the report in FORMAT to PATH (repeatable), e.g. -o junit=reports/kg-validate.xml",
    )
    p.add_argument("--fail-on", choices=["violation", "warning"], default="violation", help="lowest severity that fails (exit 1)")
    p.add_argument("--no-context", action="store_true", help="validate PATHS alone, without the KG's own data beside them")
    p.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto",
        help="colour the text report: auto = on a terminal, unless NO_COLOR is set (default: auto)",
    )
    p.set_defaults(run=_validate)

    p = sub.add_parser("query", help="run a SPARQL query (text, @file.rq, or --named NAME) on the built store")
    p.add_argument("query", metavar="QUERY", nargs="?", help="the query text, or @file.rq")
    p.add_argument("--named", metavar="NAME", help="run the catalogue's query NAME (queries/NAME.rq) instead; see --list")
    p.add_argument("--param", action="append", type=_param_spec, default=[], metavar="KEY=VALUE", help="a parameter of the --named query (repeatable)")
    p.add_argument("--list", action="store_true", help="list the catalogue of named queries and their parameters")
    p.add_argument("--format", default="table", choices=["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "rdfxml", "jsonld"])
    _store_options(p)
    p.set_defaults(run=_query)

    p = sub.add_parser("stats", help="figures about the built store")
    p.add_argument("--format", choices=["table", "json"], default="table")
    _store_options(p)
    p.set_defaults(run=_stats)

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
    p.set_defaults(run=_synth)

    p = sub.add_parser(
        "network", help="export the co-participation network of organisations or cities (see docs/network.md)",
        description="Export the co-participation network materialised by `kg build`: organisations (or cities) linked "
        "by the projects they shared, with degree, weighted degree, betweenness, component and community per node. "
        "Filters select projects; an edge's weight is the number of selected projects its ends shared.",
    )
    p.add_argument("--kind", choices=["organisation", "city"], default="organisation", help="whose network (default: organisation)")
    p.add_argument("--format", choices=["graphml", "gexf", "csv", "json", "cytoscape"], default="graphml",
                   help="graphml, gexf (1.2), csv (two files: PATH-edges.csv and PATH-nodes.csv), json (graphology) or cytoscape (default: graphml)")
    p.add_argument("--programme", metavar="IRI", help="projects funded under this funding level or any level below it (IRI or programme:slug)")
    p.add_argument("--fund", metavar="IRI", help="projects funded under this fund (IRI or programme:slug)")
    p.add_argument("--country", metavar="IRI|ISO", help="projects with a participant in this country (ISO 3166-1 alpha-2 code or IRI)")
    p.add_argument("--from", dest="start", metavar="YEAR", help="projects that ran in or after YEAR")
    p.add_argument("--to", dest="end", metavar="YEAR", help="projects that ran in or before YEAR")
    p.add_argument("--output", "-o", metavar="PATH", default="-", help="file to write ('-', the default, for standard output; csv needs a PATH)")
    _store_options(p)
    p.set_defaults(run=_network)

    p = sub.add_parser("serve", help="serve the built store over HTTP (SPARQL endpoint)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30.0, help="query timeout in seconds (the query's process is killed)")
    p.add_argument("--row-limit", type=int, default=10000, help="most solutions returned for one query; 0 for none")
    p.add_argument("--max-query-bytes", type=int, default=64 * 1024, help="longer queries are refused with 413")
    p.add_argument("--max-nesting", type=int, default=64, metavar="N", help="queries with brackets nested deeper are refused with 400")
    p.add_argument("--memory-limit", type=int, default=4096, metavar="MB", help="address space of a query process in MB; 0 for none")
    p.add_argument("--allow-service", action="append", default=[], metavar="IRI", help="a SERVICE endpoint queries may call (repeatable)")
    p.add_argument("--follow-interval", type=float, default=1.0, metavar="S", help="seconds between looks at the store link for a new build; 0 serves the first build until restarted (or SIGHUP)")
    p.add_argument("--access-log", metavar="FILE", default=None, help="write an access log to FILE ('-' for standard output); off by default")
    _store_options(p)
    p.set_defaults(run=_serve)
    return parser


STORE_HELP = ("the store: an on-disk build's store link (default: $KG_STORE, else var/store), `memory` (the KG built "
              "from its sources now), or a SPARQL server's query endpoint URL (see docs/operations.md)")


def _store_options(p, help_text: str = STORE_HELP) -> None:
    from .remote_store import KINDS

    p.add_argument("--store", default=None, metavar="PATH|memory|URL", help=help_text)
    p.add_argument("--store-kind", choices=KINDS, default=None,
                   help="the server behind a --store URL, for its endpoints' names and quirks (default: from its Server header)")
    p.add_argument("--store-graph-store", metavar="URL", default=None,
                   help="its Graph Store Protocol endpoint, where `kg build` writes (default: by --store-kind's convention); "
                   "credentials come from KG_STORE_USER and KG_STORE_PASSWORD")


def _paths(args) -> Paths:
    paths = Paths()
    location = _location(args)
    if location.path is not None:
        paths = Paths(ontology=paths.ontology, shapes=paths.shapes, data=paths.data, store=location.path)
    return paths


def _location(args):
    from .store import locate

    return locate(getattr(args, "store", None))


def _remote_options(args) -> dict:
    return {"kind": getattr(args, "store_kind", None), "graph_store": getattr(args, "store_graph_store", None)}


def _build(args) -> int:
    from .build import build

    location = _location(args)
    remote = None
    if location.url is not None:
        from .remote_store import RemoteStore

        remote = RemoteStore.connect(location.url, **_remote_options(args))  # unreachable: fail before the work
        remote.check_writable()
    from .build import Engine

    outcome = build(_paths(args), Inference(args.inference), in_memory=location.in_memory, remote=remote, engine=Engine(args.engine))
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
        print(f"store: {location.url} ({remote.kind}; {rate:,.0f} triples/s uploaded)")
    else:
        print(f"store: {location if location.path is not None else 'memory (nothing was kept)'}")
    return 0


def _validate(args) -> int:
    from .build import check, load_sources
    from .load import discover, display_path, parse_graph
    from .report import render, render_error

    paths = _paths(args)
    try:
        shapes = parse_graph([paths.shapes])
        if args.engine == "store":
            from .build import check_store, data_paths
            from .store import KGStore

            targets = data_paths(paths, args.paths or None, context=not args.no_context)
            loaded, _, report, _ = check_store(KGStore.in_memory(), [paths.ontology, *targets], shapes, Inference(args.inference))
            ontology = {p.resolve() for p in discover([paths.ontology])}
            data_files = [f for f in loaded if f.path.resolve() not in ontology]
        else:
            sources = load_sources(paths, data=args.paths or None, context=not args.no_context)
            _, report, _ = check(sources, shapes, Inference(args.inference))
            data_files = sources.data_files
    except KGError as e:
        # Machine-readable reports say why there is no report; main() still prints the error and exits 2 (or 1).
        if args.format != "text":
            sys.stdout.write(render_error(e, args.format))
        for fmt, path in args.output:
            _write_report(path, render_error(e, fmt))
        raise
    files = [display_path(f.path) for f in data_files]
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    sys.stdout.write(render(report, args.format, color=color, fail_on=args.fail_on, files=files))
    for fmt, path in args.output:
        _write_report(path, render(report, fmt, fail_on=args.fail_on, files=files))
    return 1 if report.fails(args.fail_on) else 0


def _write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _open_store(args):
    from .store import KGStore

    location = _location(args)
    if location.url is not None:
        from .remote_store import RemoteStore

        return RemoteStore.connect(location.url, **_remote_options(args))
    if location.in_memory:
        from .build import build

        return build(_paths(args), Inference.OWLRL, in_memory=True).store
    return KGStore.open(location.path)


def _param_spec(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. project=project:conet, not {text!r}")
    return key, value


def _query(args) -> int:
    from . import query as q

    if args.list:
        return _list_queries(args)
    if (args.query is None) == (args.named is None):
        raise InputError("give either a QUERY or --named NAME (--list shows the names)")
    if args.param and args.named is None:
        raise InputError("parameters go with a --named query", "--param")
    text = args.query
    if args.named is not None:
        text = _named_query_text(args.named, args.param)
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(getattr(e, "strerror", None) or str(e), str(path)) from None
    result = q.run(_open_store(args), text)
    formats = q.formats_for(q.kind_of(result))
    if args.format not in formats:
        kind = "a graph" if q.kind_of(result) == "graph" else "solutions"
        raise InputError(f"format {args.format!r} does not fit a query that returns {kind}; use one of: {', '.join(formats)}", "--format")
    sys.stdout.buffer.write(q.serialize(result, formats[args.format]))
    sys.stdout.flush()
    return 0


def _named_query_text(name: str, params: list[tuple[str, str]]) -> str:
    from . import named_queries
    from .named_queries import ParameterError

    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise ParameterError(key, "given more than once")
        values[key] = value
    return named_queries.get(name).bind(values)


def _list_queries(args) -> int:
    from . import named_queries

    queries = named_queries.catalogue()
    if args.format == "json":
        print(json.dumps([nq.describe() for nq in queries.values()], indent=2, ensure_ascii=False))
        return 0
    if args.format != "table":
        raise InputError("--list writes a table or json", "--format")
    for nq in queries.values():
        print(f"{nq.name}: {nq.title}")
        for p in nq.params:
            given = f"default {p.default}" if p.default is not None else ("optional" if p.optional else "required")
            print(f"    --param {p.name}=<{p.type}>  {p.label} ({given})")
    return 0


def _stats(args) -> int:
    from .stats import compute

    figures = compute(_open_store(args))
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


def _synth(args) -> int:
    from . import synth

    try:
        summary = synth.write(args.output, args.projects, args.seed, fmt=args.format, compress=args.gzip)
    except BrokenPipeError:  # `kg synth ... | head`: the reader left, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    where = "standard output" if args.output == "-" else args.output
    print(f"kg synth: {summary.line()}; seed {args.seed}, written to {where}", file=sys.stderr)
    return 0


def _network(args) -> int:
    from .network import NETWORK_GRAPH, filters, lookup, network_graph
    from .network.export import FORMATS

    if args.format == "csv" and args.output == "-":
        raise InputError("csv writes two files (PATH-edges.csv and PATH-nodes.csv): give -o PATH", "--output")
    kg_store = _open_store(args)
    if str(NETWORK_GRAPH) not in kg_store.named_graphs():
        raise InputError("this build has no co-participation network: run `kg build` again", str(_location(args)))
    try:
        vocabulary = lookup.read_vocabulary(lookup.rows_of(kg_store.query(lookup.VOCABULARY_QUERY)))
        chosen = filters.parse(
            {"programme": args.programme, "fund": args.fund, "country": args.country, "from": args.start, "to": args.end},
            vocabulary,
        )
    except filters.OptionError as e:
        raise InputError(e.message, "--" + e.option) from None
    network = lookup.read_network(args.kind, lookup.rows_of(kg_store.query(lookup.network_query(args.kind))))
    projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY))) if chosen else {}
    graph = network_graph(network, projects, chosen, build=kg_store.info.id if kg_store.info else None)
    if args.format == "csv":
        stem = args.output[: -len(".csv")] if args.output.endswith(".csv") else args.output
        outputs = [(Path(stem + "-edges.csv"), FORMATS["csv"]), (Path(stem + "-nodes.csv"), FORMATS["nodes-csv"])]
    else:
        outputs = [(None if args.output == "-" else Path(args.output), FORMATS[args.format])]
    for path, fmt in outputs:
        data = fmt.write(graph)
        if path is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges", file=sys.stderr)
    return 0


def _serve(args) -> int:
    from server.run import serve

    for name in ("timeout", "row_limit", "max_query_bytes", "max_nesting", "memory_limit", "follow_interval"):
        if getattr(args, name) < 0:
            raise InputError("must not be negative", "--" + name.replace("_", "-"))
    settings = {
        "ROW_LIMIT": args.row_limit,
        "MAX_QUERY_BYTES": args.max_query_bytes,
        "MAX_NESTING": args.max_nesting,
        "MEMORY_LIMIT": args.memory_limit * 1024 * 1024,
        "SERVICE_ALLOW": args.allow_service,
        "FOLLOW_INTERVAL": args.follow_interval,
    }
    return serve(location=_location(args), paths=_paths(args), remote=_remote_options(args), host=args.host, port=args.port,
                 workers=args.workers, timeout=args.timeout, settings=settings, access_log=args.access_log)


if __name__ == "__main__":
    sys.exit(main())
