"""The catalogue of named queries: SPARQL files under queries/ that say in a comment header what they ask and
which parameters they take, and the safe binding of those parameters.

A file's header is its leading block of comments (docs/queries.md):

    # title: Partners of a project
    # description: Every organisation that took part in the project, with its roles
    #   and its country. (An indented line continues the field above it.)
    # param: project iri "The project" class=ckg:Project default=project:conet
    # param: lang lang "Language of the labels" default=en

A parameter is named after the query variable it binds. Values arrive as text from the command line or a web
form; each is checked against its type and turned into one RDF term by pyoxigraph, whose N-Triples writer
escapes it, and the terms go into a VALUES block placed first in the query's top-level WHERE group. The user's
text therefore never becomes query syntax, and the query text itself is never rewritten token by token.
A VALUES block at the start of the group (not the trailing one, which SPARQL joins only after grouping) is seen
by every pattern and by the filters of OPTIONAL parts, which is where the label language is picked.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

import pyoxigraph as ox

from kg.config import ROOT
from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.sparql_text import tokens

QUERIES_DIR = ROOT / "queries"

XSD = "http://www.w3.org/2001/XMLSchema#"
TYPES = ("iri", "string", "integer", "date", "year", "lang")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # file names are slugs, so they can sit in URLs as they are
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIELD = re.compile(r"#\s?([a-z]+):\s*(.*)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YEAR = re.compile(r"[0-9]{4}")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_STRING = 500  # characters; a search text longer than this is a mistake, not a question


class CatalogueError(InputError):
    """A query file whose header cannot be read: `where` is file:line."""


class UnknownQuery(InputError):
    """No query of that name in the catalogue."""


class ParameterError(InputError):
    """A parameter value that is unknown, missing or ill-typed: `where` names the parameter."""

    def __init__(self, name: str, message: str):
        super().__init__(message, f"parameter {name!r}")
        self.name = name


@dataclass(frozen=True)
class Param:
    name: str  # also the query variable it binds
    type: str  # one of TYPES
    label: str
    default: str | None = None
    optional: bool = False  # may be left out: the variable then stays unbound (UNDEF) and constrains nothing
    cls: str | None = None  # for iri: the class whose instances are offered as choices
    minimum: int | None = None  # for integer and year
    maximum: int | None = None

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    def term(self, text: str) -> ox.NamedNode | ox.Literal:
        """The RDF term for a value given as text; ParameterError naming this parameter when it does not fit."""
        value = text.strip()
        if self.type == "iri":
            return ox.NamedNode(_iri(self.name, value))
        if self.type == "string":
            if len(value) > MAX_STRING:
                raise ParameterError(self.name, f"longer than {MAX_STRING} characters")
            return ox.Literal(value)
        if self.type in ("integer", "year"):
            pattern, kind = (_INTEGER, "an integer") if self.type == "integer" else (_YEAR, "a year of four digits")
            if not pattern.fullmatch(value):
                raise ParameterError(self.name, f"{value!r} is not {kind}")
            number = int(value)
            if self.minimum is not None and number < self.minimum or self.maximum is not None and number > self.maximum:
                raise ParameterError(self.name, f"{number} is outside {self.minimum}..{self.maximum}")
            return ox.Literal(str(number), datatype=ox.NamedNode(XSD + "integer"))
        if self.type == "date":
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                raise ParameterError(self.name, f"{value!r} is not a date (YYYY-MM-DD)") from None
            return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))
        if self.type == "lang":
            if not _LANG.fullmatch(value):
                raise ParameterError(self.name, f"{value!r} is not a language tag such as en or it")
            # A plain string, compared with langMatches(lang(?label), ?lang) in the queries.
            return ox.Literal(value.lower())
        raise AssertionError(self.type)


def _iri(name: str, value: str) -> str:
    """A full IRI from <…>, a full IRI, or a prefixed name with one of the KG's prefixes (project:conet)."""
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    prefix, colon, local = value.partition(":")
    if colon and prefix in PREFIXES and not local.startswith("//"):
        value = PREFIXES[prefix] + local
    if not _SCHEME.match(value):
        raise ParameterError(name, f"{value!r} is not an IRI: give it in full (https://…) or as a prefixed name such as project:conet")
    try:
        ox.NamedNode(value)
    except ValueError as e:
        raise ParameterError(name, f"{value!r} is not an IRI: {e}") from None
    return value


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    text: str
    path: Path

    def describe(self) -> dict:
        """What the catalogue says of this query, as JSON-ready data (for `kg query --list` and /queries.json)."""
        params = []
        for p in self.params:
            entry = {"name": p.name, "type": p.type, "label": p.label, "default": p.default, "required": p.required}
            extra = {"class": p.cls, "min": p.minimum, "max": p.maximum}
            params.append({**entry, **{k: v for k, v in extra.items() if v is not None}})
        return {"name": self.name, "title": self.title, "description": self.description, "params": params}

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def terms(self, values: Mapping[str, str]) -> dict[str, ox.NamedNode | ox.Literal | None]:
        """Each parameter's term: the value given, else its default; None (UNDEF) for an optional one left out.
        An empty value counts as not given, as a web form sends one for every field."""
        for name in values:
            if self.param(name) is None:
                known = ", ".join(p.name for p in self.params) or "none"
                raise ParameterError(name, f"unknown parameter of query {self.name!r} (its parameters: {known})")
        out = {}
        for p in self.params:
            given = (values.get(p.name) or "").strip()
            if given:
                out[p.name] = p.term(given)
            elif p.default is not None:
                out[p.name] = p.term(p.default)
            elif p.optional:
                out[p.name] = None
            else:
                raise ParameterError(p.name, f"missing: query {self.name!r} needs it ({p.label})")
        return out

    @property
    def body(self) -> str:
        """The query without its header, named by a one-line comment: the header's defaults no longer hold
        once values are bound, and the text travels in URLs."""
        lines = self.text.splitlines(keepends=True)
        first = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), len(lines))
        return f"# {self.title} (named query {self.name})\n" + "".join(lines[first:])

    def bind(self, values: Mapping[str, str]) -> str:
        """The query text with the parameters bound, ready to run."""
        terms = self.terms(values)
        text = self.body
        if not terms:
            return text
        variables = " ".join(f"?{name}" for name in terms)
        row = " ".join("UNDEF" if t is None else str(t) for t in terms.values())
        block = f"\n  # parameters\n  VALUES ({variables}) {{ ({row}) }}\n"
        at = _where_body(text)
        return text[:at] + block + text[at:]


def _where_body(text: str) -> int:
    """The offset just inside the brace that opens the query's top-level WHERE group, or -1."""
    toks = tokens(text)
    for i, t in enumerate(toks[:-1]):
        if t.depth == 0 and t.kind == "word" and t.text.upper() == "WHERE" and toks[i + 1].text == "{":
            return toks[i + 1].end
    return -1


def parse(path: Path) -> NamedQuery:
    """Read one query file; CatalogueError (file:line) for a header that cannot be read."""
    shown = _shown(path)
    if not _NAME.fullmatch(path.stem):
        raise CatalogueError("a query's file name must be a slug: lower-case letters, digits and '-'", shown)
    text = path.read_text(encoding="utf-8")
    fields: list[tuple[str, str, int]] = []  # (key, value, line)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        if stripped == "#":
            continue
        m = _FIELD.fullmatch(stripped)
        if m and not stripped.startswith("#  "):
            fields.append((m.group(1), m.group(2).strip(), number))
        elif stripped.startswith("#  ") and fields:
            key, value, at = fields[-1]
            fields[-1] = (key, f"{value} {stripped[1:].strip()}", at)
        else:
            raise CatalogueError("a header line is '# key: value' or an indented continuation '#   …'", f"{shown}:{number}")
    title = description = None
    params: list[Param] = []
    for key, value, number in fields:
        where = f"{shown}:{number}"
        if key == "title" and title is None:
            title = value
        elif key == "description" and description is None:
            description = value
        elif key == "param":
            param = _param(value, where)
            if any(p.name == param.name for p in params):
                raise CatalogueError(f"parameter {param.name!r} is declared twice", where)
            params.append(param)
        else:
            raise CatalogueError(f"unexpected header field {key!r} (title, description and param, once each but param)", where)
    if not title or not description:
        raise CatalogueError("the header needs a '# title:' and a '# description:'", shown)
    query = NamedQuery(path.stem, title, description, tuple(params), text, path)
    if params and _where_body(text) < 0:
        raise CatalogueError("a query with parameters needs a top-level 'WHERE {' to bind them in", shown)
    used = {t.text[1:] for t in tokens(text) if t.kind == "var"}
    for p in params:
        if p.name not in used:
            raise CatalogueError(f"parameter {p.name!r} binds ?{p.name}, which the query never uses", shown)
        if p.default is not None:
            try:
                p.term(p.default)
            except ParameterError as e:
                raise CatalogueError(f"default of parameter {p.name!r}: {e.message}", shown) from None
    return query


def _param(spec: str, where: str) -> Param:
    """`NAME TYPE "Label" [default=VALUE] [optional] [class=IRI] [min=N] [max=N]`."""
    try:
        words = shlex.split(spec)
    except ValueError as e:
        raise CatalogueError(f"param: {e}", where) from None
    if len(words) < 3:
        raise CatalogueError('param: expected NAME TYPE "Label" [options]', where)
    name, kind, label, *options = words
    if not _VARIABLE.fullmatch(name):
        raise CatalogueError(f"param: {name!r} is not a SPARQL variable name", where)
    if kind not in TYPES:
        raise CatalogueError(f"param {name!r}: unknown type {kind!r} (one of {', '.join(TYPES)})", where)
    settings: dict = {}
    for option in options:
        key, eq, value = option.partition("=")
        if option == "optional":
            settings["optional"] = True
        elif eq and key == "default":
            settings["default"] = value
        elif eq and key == "class" and kind == "iri":
            try:
                settings["cls"] = _iri(name, value)
            except ParameterError as e:
                raise CatalogueError(f"param {name!r}: class: {e.message}", where) from None
        elif eq and key in ("min", "max") and kind in ("integer", "year") and _INTEGER.fullmatch(value):
            settings["minimum" if key == "min" else "maximum"] = int(value)
        else:
            raise CatalogueError(f"param {name!r}: unknown option {option!r}", where)
    if settings.get("optional") and "default" in settings:
        raise CatalogueError(f"param {name!r}: a parameter with a default is never unbound; drop 'optional'", where)
    return Param(name, kind, label, **settings)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def catalogue(folder: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every query under `folder`, by name, in name order."""
    return {q.name: q for q in (parse(p) for p in sorted(folder.glob("*.rq")))}


def get(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    queries = catalogue(folder)
    if name not in queries:
        raise UnknownQuery(f"no query named {name!r} in the catalogue (`kg query --list` or /queries lists it)")
    return queries[name]
