"""`kg search`: find projects, organisations, cities and programmes by name, in the discovery index of a build
(the same index and ranking as /search)."""

from __future__ import annotations

import json
import sys

from .options import add_store_options, location, paths

KIND_CHOICES = ["project", "organisation", "city", "programme"]


def add_parser(sub) -> None:
    p = sub.add_parser("search", help="find things by name (any language, accents and case ignored)",
                       description="Search the names, titles and descriptions of the built KG. Ranked: a name equal to "
                       "the query first, then names starting with it, then names holding its words, then descriptions.")
    p.add_argument("query", help="the words to look for, e.g. torino or 'city of malmo'")
    p.add_argument("--kind", action="append", choices=KIND_CHOICES, help="only things of this kind (repeatable)")
    p.add_argument("--limit", type=int, default=10, help="at most this many results, 1-100 (default: %(default)s)")
    p.add_argument("--format", choices=["table", "json", "tsv"], default="table")
    add_store_options(p, "the build to search: an on-disk build's store link (default: $KG_STORE, else var/store), "
                         "or `memory` (the KG built from its sources now)")
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.discovery.search import SearchIndex

    index = SearchIndex(_index_path(args))
    hits, total = index.search(args.query, args.kind, args.limit)
    if args.format == "json":
        json.dump({"query": args.query, "total": total, "results": [h.as_json() for h in hits]}, sys.stdout,
                  ensure_ascii=False, indent=2)
        print()
    elif args.format == "tsv":
        print("iri\tkind\tlabel\tmatched\tmatch\tscore\tcountry")
        for h in hits:
            print("\t".join(str(v or "") for v in (h.iri, h.kind, h.label, h.matched, h.match, h.score, h.country_label)))
    else:
        for h in hits:
            place = ", ".join(p for p in (h.city_label if h.kind != "city" else None, h.country_label) if p)
            also = f"  (as “{h.matched}”)" if h.matched != h.label else ""
            print(f"{h.kind:<12} {h.label}{also}{'  · ' + place if place else ''}\n             {h.iri}")
        print(f"{len(hits)} of {total}{'+' if total >= 1000 else ''} for {args.query!r}", file=sys.stderr)
    return 0


def _index_path(args):
    from kg.discovery import index
    from kg.errors import InputError
    from kg.store.builds import current_build

    place = location(args)
    if place.url is not None:
        raise InputError("search reads a build's discovery index; a SPARQL server has none: search a build on disk "
                         "or `--store memory`")
    if place.in_memory:
        from kg.build import Engine, build
        from kg.reasoning.reference import Inference

        return index.path_in(build(paths(args), Inference.OWLRL, in_memory=True, engine=Engine.STORE).published)
    folder, _ = current_build(place.path)
    found = index.path_in(folder)
    if not found.is_file():
        raise InputError(f"the build at {folder} has no discovery index (made before search existed): run `kg build`")
    return found
