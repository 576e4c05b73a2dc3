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
    p.add_argument("--store", type=Path, default=None, help="where the store link goes (default: var/store)")
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

    p = sub.add_parser("query", help="run a SPARQL query (text, or @file.rq) on the built store")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--format", default="table", choices=["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "rdfxml", "jsonld"])
    p.add_argument("--store", type=Path, default=None)
    p.set_defaults(run=_query)

    p = sub.add_parser("stats", help="figures about the built store")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--store", type=Path, default=None)
    p.set_defaults(run=_stats)

    p = sub.add_parser("serve", help="serve the built store over HTTP (SPARQL endpoint)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30.0, help="query timeout in seconds (the query's process is killed)")
    p.add_argument("--row-limit", type=int, default=10000, help="most solutions returned for one query; 0 for none")
    p.add_argument("--max-query-bytes", type=int, default=64 * 1024, help="longer queries are refused with 413")
    p.add_argument("--memory-limit", type=int, default=4096, metavar="MB", help="address space of a query process in MB; 0 for none")
    p.add_argument("--allow-service", action="append", default=[], metavar="IRI", help="a SERVICE endpoint queries may call (repeatable)")
    p.add_argument("--access-log", metavar="FILE", default=None, help="write an access log to FILE ('-' for standard output); off by default")
    p.add_argument("--store", type=Path, default=None)
    p.set_defaults(run=_serve)
    return parser


def _paths(args) -> Paths:
    paths = Paths()
    if getattr(args, "store", None) is not None:
        paths = Paths(ontology=paths.ontology, shapes=paths.shapes, data=paths.data, store=args.store)
    return paths


def _build(args) -> int:
    from .build import build

    outcome = build(_paths(args), Inference(args.inference))
    info = outcome.info
    times = ", ".join(f"{k} {v:.2f}s" for k, v in outcome.timings.items())
    print(
        f"built {info.id}: {info.triples} triples in {info.graphs} graphs "
        f"({len(outcome.inferred)} inferred, {args.inference}); {outcome.report.summary()}; {times}"
    )
    print(f"store: {_paths(args).store}")
    return 0


def _validate(args) -> int:
    from .build import check, load_sources
    from .load import display_path, parse_graph
    from .report import render, render_error

    paths = _paths(args)
    try:
        sources = load_sources(paths, data=args.paths or None, context=not args.no_context)
        shapes = parse_graph([paths.shapes])
        _, report, _ = check(sources, shapes, Inference(args.inference))
    except KGError as e:
        # Machine-readable reports say why there is no report; main() still prints the error and exits 2 (or 1).
        if args.format != "text":
            sys.stdout.write(render_error(e, args.format))
        for fmt, path in args.output:
            _write_report(path, render_error(e, fmt))
        raise
    files = [display_path(f.path) for f in sources.data_files]
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

    return KGStore.open(_paths(args).store)


def _query(args) -> int:
    from . import query as q

    text = args.query
    if text.startswith("@"):
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


def _stats(args) -> int:
    from .stats import compute

    figures = compute(_open_store(args))
    if args.format == "json":
        print(json.dumps(figures, indent=2))
        return 0
    build = figures["build"]
    print(f"build      {build['id']} ({build['created']}, inference {build['inference']})")
    print(f"triples    {figures['triples']} ({figures['asserted_triples']} asserted, {figures['inferred_triples']} inferred)")
    print(f"graphs     {len(figures['graphs'])}")
    for name, n in figures["entities"].items():
        print(f"  {name:<20} {n}")
    print(f"wikidata links {figures['wikidata_links']}")
    return 0


def _serve(args) -> int:
    from server.run import serve

    for name in ("timeout", "row_limit", "max_query_bytes", "memory_limit"):
        if getattr(args, name) < 0:
            raise InputError("must not be negative", "--" + name.replace("_", "-"))
    settings = {
        "ROW_LIMIT": args.row_limit,
        "MAX_QUERY_BYTES": args.max_query_bytes,
        "MEMORY_LIMIT": args.memory_limit * 1024 * 1024,
        "SERVICE_ALLOW": args.allow_service,
    }
    return serve(store=_paths(args).store, host=args.host, port=args.port, workers=args.workers, timeout=args.timeout, settings=settings, access_log=args.access_log)


if __name__ == "__main__":
    sys.exit(main())
