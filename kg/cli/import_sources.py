"""`kg import`: run the sources' mappings, reconcile them with the KG and with each other, write var/imported/,
then validate what was imported together with the KG (a violation names the source row it came from)."""

from __future__ import annotations

import sys
from pathlib import Path

from kg.errors import InputError


def _input_spec(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise InputError(f"expected SOURCE=PATH, e.g. keep-eu=downloads/keep.xlsx, not {text!r}", "--input")
    return name, Path(path)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help="import published exports (URBACT, keep.eu, CORDIS, ...) into var/imported/ (see docs/importing.md)",
        description="Map each source's export to RDF with its mapping file (imports/mappings/), reconcile cities, "
        "organisations and projects with the KG and across sources, and write one N-Quads file per source (its own "
        "named graph), the rejects, the decisions and the review file under var/imported/. `kg build` loads them. "
        "Then validate the imported data with the KG. Exit codes: 0 imported and valid, 1 violations, 2 unreadable "
        "input (a bad manifest, mapping or file), 3 internal error.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="sources to import (default: every source whose file is present)")
    p.add_argument("--input", action="append", default=[], metavar="SOURCE=PATH",
                   help="read SOURCE from PATH instead of its configured file (a newer download, a test file; a folder for a source of several files)")
    p.add_argument("--no-validate", action="store_true", help="write the import without validating it")
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.config import Paths
    from kg.importing.run import import_sources
    from kg.namespaces import compact

    inputs = dict(_input_spec(text) for text in args.input)
    outcome = import_sources(args.sources or None, inputs, out=Paths().imported)
    for name, why in outcome.skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    for name, s in outcome.imported.items():
        rows = sum(s.rows.values())
        entities = ", ".join(f"{n} {compact(kind) or kind}" for kind, n in s.entities.items())
        print(f"imported {name}: {rows} rows, {s.quads} statements ({entities}); {s.rejects} rejects "
              f"-> {outcome.out}/{name}.rejects.csv")
    if outcome.imported:
        matched = sum(1 for d in outcome.decisions if d.status in ("matched", "pinned"))
        print(f"reconciled {len(outcome.decisions)} candidates: {matched} matched, {len(outcome.review)} for review "
              f"-> {outcome.out}/review.csv; " + ", ".join(f"{k} {v:.2f}s" for k, v in outcome.seconds.items()))
    if not outcome.imported:
        raise InputError("nothing imported: no source's file is present", "kg import")
    if args.no_validate:
        return 0
    from .validate import validate_imported

    return validate_imported(outcome)
