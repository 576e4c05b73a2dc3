"""`kg query`: a SPARQL query (text, @file.rq) or a named query of the catalogue, on the built store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kg.errors import InputError

from .options import add_store_options, open_store


def _param_spec(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. project=project:conet, not {text!r}")
    return key, value


def add_parser(sub) -> None:
    p = sub.add_parser("query", help="run a SPARQL query (text, @file.rq, or --named NAME) on the built store")
    p.add_argument("query", metavar="QUERY", nargs="?", help="the query text, or @file.rq")
    p.add_argument("--named", metavar="NAME", help="run the catalogue's query NAME (queries/NAME.rq) instead; see --list")
    p.add_argument("--param", action="append", type=_param_spec, default=[], metavar="KEY=VALUE", help="a parameter of the --named query (repeatable)")
    p.add_argument("--list", action="store_true", help="list the catalogue of named queries and their parameters")
    p.add_argument("--format", default="table", choices=["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "rdfxml", "jsonld"])
    add_store_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.queries import run as q

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
    result = q.run(open_store(args), text)
    formats = q.formats_for(q.kind_of(result))
    if args.format not in formats:
        kind = "a graph" if q.kind_of(result) == "graph" else "solutions"
        raise InputError(f"format {args.format!r} does not fit a query that returns {kind}; use one of: {', '.join(formats)}", "--format")
    sys.stdout.buffer.write(q.serialize(result, formats[args.format]))
    sys.stdout.flush()
    return 0


def _named_query_text(name: str, params: list[tuple[str, str]]) -> str:
    from kg.queries import catalogue
    from kg.queries.catalogue import ParameterError

    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise ParameterError(key, "given more than once")
        values[key] = value
    return catalogue.get(name).bind(values)


def _list_queries(args) -> int:
    from kg.queries import catalogue

    queries = catalogue.catalogue()
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
