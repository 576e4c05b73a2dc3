"""Literal well-formedness, checked at load time on what each file parsed.

An RDF parser accepts `"abc"^^xsd:integer` and `"2019-02-31x"^^xsd:date` (the syntax is fine, the value is not), and
rdflib accepts `@it-toolongsubtag`. Left in, they crash later stages far from their cause: owlrl stops on the
value, a store load names a line of a temporary file. So every file's literals are checked as the file is loaded,
and each bad one becomes a BadLiteral with the file, line and column where it is written; the validation report
shows it as a violation (kg.validation.checks), in both engines, before anything reasons on it.

The judges are maintained validators, the same in both engines so they agree: rdflib's XSD lexical checks
(`Literal.ill_typed`, rdflib 7) for datatypes, and Oxigraph's BCP 47 parser (oxilangtag, RFC 5646
well-formedness, the one its Turtle parser applies) for language tags.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg.sources import positions

ILL_TYPED = "ill-typed"
LANGUAGE_TAG = "language-tag"


@dataclass(frozen=True)
class BadLiteral:
    """A literal whose lexical form is not valid for its datatype, or whose language tag is not BCP 47, in the
    triple (subject, predicate, literal) of `file` (a display path) at line:column (0 when it cannot be found, as
    in JSON-LD and RDF/XML)."""

    file: str
    line: int
    column: int
    subject: Node
    predicate: URIRef
    literal: Literal
    problem: str  # ILL_TYPED or LANGUAGE_TAG
    message: str


class _QuietIllTyped(logging.Filter):
    # rdflib logs a traceback for every literal it cannot convert; such a literal is reported here, with its place.
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form to value")


logging.getLogger("rdflib.term").addFilter(_QuietIllTyped())


def problem(literal: Literal) -> tuple[str, str] | None:
    """(ILL_TYPED or LANGUAGE_TAG, why) for a bad literal; None for a good one."""
    if literal.language is not None:
        why = language_tag_error(literal.language)
        return (LANGUAGE_TAG, f'"{literal.language.lower()}" is not a well-formed BCP 47 language tag: {why}') if why else None
    if literal.datatype is not None and literal.ill_typed:
        return ILL_TYPED, f'"{literal}" is not a valid {_short(literal.datatype)}'
    return None


@lru_cache(maxsize=4096)
def language_tag_error(tag: str) -> str | None:
    """Why `tag` is not a well-formed language tag (RFC 5646), or None when it is."""
    try:
        ox.Literal("", language=tag)
    except ValueError as e:
        return str(e)
    return None


def check_triples(file: Path, shown: str, triples: Iterable[tuple]) -> list[BadLiteral]:
    """The bad literals among the objects of `triples`, parsed from `file`, located in it."""
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdflib warns about a "weird boolean" it then reports as ill-typed
        for s, p, o in triples:
            if isinstance(o, Literal) and (o.language is not None or (o.datatype is not None and o.datatype != XSD.string)):
                found = problem(o)
                if found:
                    bad.append((s, p, _as_stored(o), *found))
    return locate(file, shown, bad)


def check_store_graph(store: ox.Store, graph: ox.NamedNode, file: Path, shown: str) -> list[BadLiteral]:
    """The bad literals of one named graph of an Oxigraph store (a file loaded into it), located in `file`.

    Asked of the store, not of a Python loop over its quads: its distinct language tags (a handful), then its
    distinct typed literals other than strings, each judged once as rdflib would judge it when parsing."""
    bad = []
    tags = [row[0].value for row in store.query(
        f"SELECT DISTINCT (LANG(?o) AS ?l) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} FILTER (isLiteral(?o) && LANG(?o) != \"\") }}")]
    bad_tags = [t for t in tags if language_tag_error(t)]
    if bad_tags:
        values = " ".join(f'"{t}"' for t in bad_tags)
        for s, p, o in store.query(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?l {{ {values} }} GRAPH {graph} {{ ?s ?p ?o }} FILTER (isLiteral(?o) && LANG(?o) = ?l) }}"
        ):
            literal = Literal(o.value, lang=o.language)
            bad.append((_rdflib(s), _rdflib(p), literal, *problem(literal)))
    ill_typed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (o,) in store.query(
            f"SELECT DISTINCT ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
            f"FILTER (isLiteral(?o) && LANG(?o) = \"\" && DATATYPE(?o) != <{XSD.string}>) }}"
        ):
            if Literal(o.value, datatype=URIRef(o.datatype.value)).ill_typed:
                ill_typed.append(o)
    for start in range(0, len(ill_typed), 200):
        values = " ".join(str(o) for o in ill_typed[start:start + 200])
        for s, p, o in store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?o {{ {values} }} GRAPH {graph} {{ ?s ?p ?o }} }}"):
            literal = Literal(o.value, datatype=URIRef(o.datatype.value))
            bad.append((_rdflib(s), _rdflib(p), literal, *problem(literal)))
    return locate(file, shown, bad)


def locate(file: Path, shown: str, bad: list[tuple]) -> list[BadLiteral]:
    """BadLiterals for (subject, predicate, literal, problem, message) tuples, placed where `file` writes each
    literal: the occurrence under the same subject and predicate, else the first one not yet taken."""
    if not bad:
        return []
    written: dict[tuple, list[positions.LiteralAt]] = defaultdict(list)
    for at in positions.literals(file):
        written[(at.lexical, at.datatype, (at.language or "").lower())].append(at)
    taken: set[positions.LiteralAt] = set()
    located = []
    for s, p, o, kind, message in sorted(bad, key=lambda b: (str(b[0]), str(b[1]), str(b[2]))):
        datatype = None if o.language is not None or o.datatype in (None, XSD.string) else str(o.datatype)
        candidates = [at for at in written.get((str(o), datatype, (o.language or "").lower()), []) if at not in taken]
        at = next((c for c in candidates if c.subject == str(s) and c.verb == str(p)), candidates[0] if candidates else None)
        if at is not None:
            taken.add(at)
        located.append(BadLiteral(shown, at.line if at else 0, at.column if at else 0, s, p, o, kind, message))
    return sorted(located, key=lambda b: (b.line, b.column, str(b.subject)))


def _as_stored(literal: Literal) -> Literal:
    """The literal as a store keeps it: Oxigraph writes language tags in lower case (BCP 47 tags are
    case-insensitive), so both engines report the same value."""
    if literal.language is not None and literal.language != literal.language.lower():
        return Literal(str(literal), lang=literal.language.lower())
    return literal


def _short(datatype: URIRef) -> str:
    return "xsd:" + datatype[len(str(XSD)):] if datatype.startswith(str(XSD)) else f"<{datatype}>"


def _rdflib(term) -> Node:
    from rdflib import BNode

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal(term.value)
