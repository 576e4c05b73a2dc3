"""`kg validate`: files or folders against the shapes and the extra checks, with reports for people and CI."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kg.errors import KGError
from kg.reasoning.reference import Inference
from kg.validation.formats import RENDERERS, describe

from .build import INFERENCE_CHOICES
from .options import ENGINE_CHOICES, ENGINE_HELP, paths

DESCRIPTION = """\
Validate RDF files or folders (default: the KG's data/) against the SHACL shapes in shapes/, together with
the ontology and, unless --no-context, the rest of the KG's data, so links to existing entities resolve.
Besides the shapes, three checks: a dangling IRI (an id/ IRI used as an object that nothing describes,
violation), a duplicate entity (same English label and class under two IRIs, warning), a shared Wikidata
link (schema:sameAs to one Wikidata entity from two resources, violation). Results name the file and line
of the node, its label, the path, the value, the shape and the severity. See docs/validation.md."""


def _epilog() -> str:
    formats = "\n".join(f"  {name:<7} {describe(name)}" for name in RENDERERS)
    return (
        "formats (--format for standard output, -o FORMAT=PATH for files; one run can write several):\n"
        f"{formats}\n\n"
        "exit codes:\n"
        "  0  conforms: no violations (and no warnings, with --fail-on warning)\n"
        "  1  violations (or warnings with --fail-on warning), or an inconsistent KG under --inference owlrl\n"
        "  2  the input could not be read: a syntax error (reported as file:line:column), a missing file or\n"
        "     folder, an unknown file type or option; a json, junit or github report on standard output, and\n"
        "     every -o file, then carries the error instead of results\n"
        "  3  an internal error (a bug of ours; --debug prints the traceback)"
    )


def _output_spec(text: str) -> tuple[str, Path]:
    fmt, sep, path = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"expected FORMAT=PATH, e.g. junit=kg-validate.xml, not {text!r}")
    if fmt not in RENDERERS:
        raise argparse.ArgumentTypeError(f"unknown format {fmt!r} (choose from {', '.join(RENDERERS)})")
    return fmt, Path(path)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="validate RDF files or folders against the shapes (default: data/)",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="Turtle, TriG, JSON-LD, N-Triples (...) files or folders (default: data/)")
    p.add_argument("--inference", choices=INFERENCE_CHOICES, default="none", help="reason before validating (default: none)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="store", help=ENGINE_HELP)
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
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.build import check, load_sources
    from kg.sources.load import discover, display_path, parse_graph
    from kg.validation.formats import render, render_error

    found = paths(args)
    try:
        shapes = parse_graph([found.shapes])
        if args.engine == "store":
            from kg.build import check_store, data_paths
            from kg.store.embedded import KGStore

            targets = data_paths(found, args.paths or None, context=not args.no_context)
            loaded, _, report, _ = check_store(KGStore.in_memory(), [found.ontology, *targets], shapes, Inference(args.inference))
            ontology = {p.resolve() for p in discover([found.ontology])}
            data_files = [f for f in loaded if f.path.resolve() not in ontology]
        else:
            sources = load_sources(found, data=args.paths or None, context=not args.no_context)
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


RECORDS = """
SELECT ?s ?file ?sheet ?row WHERE {
  ?s prov:wasDerivedFrom ?record . ?record ckg:sourceFile ?file .
  OPTIONAL { ?record ckg:sourceSheet ?sheet } OPTIONAL { ?record ckg:sourceRow ?row }
}"""


def validate_imported(outcome) -> int:
    """Validate an import with the KG it joins (the store engine, as `kg build` does). A result about an imported
    node points at the source row it came from (file[sheet]:row) instead of a line of the generated N-Quads."""
    from dataclasses import replace

    from kg.build import check_store
    from kg.config import Paths
    from kg.importing.run import imported_files
    from kg.sources.load import parse_graph
    from kg.store.embedded import KGStore
    from kg.validation.formats import render
    from kg.validation.results import Report

    found = Paths()
    store = KGStore.in_memory()
    _, _, report, _ = check_store(store, [found.ontology, found.data, *imported_files(outcome.out)],
                                  parse_graph([found.shapes]), Inference.OWLRL)
    rows: dict[str, tuple[str, int]] = {}
    for r in store.query(RECORDS):
        sheet = f"[{r['sheet'].value}]" if r["sheet"] is not None else ""
        rows.setdefault(r["s"].value, (r["file"].value + sheet, int(r["row"].value) if r["row"] is not None else 0))
    placed = [replace(res, file=rows[res.focus][0], line=rows[res.focus][1]) if res.focus in rows else res
              for res in report.results]
    report = Report(sorted(set(placed)), report.graph)
    sys.stdout.write(render(report, "text", color=sys.stdout.isatty()))
    return 1 if report.fails("violation") else 0
