"""The mapping file: one YAML file per source, saying how its rows become RDF (docs/importing.md).

The ideas are RML's (logical sources, subject templates, predicate-object maps, referencing object maps with
joins, functions), written as a small YAML file that a curator can read. `load_mapping` reads and checks the
file and compiles it once: templates are split into parts, prefixes expanded and normalisers looked up, so the
engine does no parsing per cell. Every mistake in the file is an InputError naming `file:line`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml
from pyoxigraph import NamedNode

from kg.errors import InputError
from kg.namespaces import BASE, ID, PREFIXES

PREFIXES_BUILT_IN = {
    **PREFIXES,
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wgs": "http://www.w3.org/2003/01/geo/wgs84_pos#",
}

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][\w-]*")
CURIE = re.compile(r"([A-Za-z][\w-]*):(.*)")


# ---------------------------------------------------------------- YAML with line numbers

class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping and of every key, so errors can point into the file."""


class Node(dict):
    line: int = 0
    lines: dict

    def line_of(self, key) -> int:
        return self.lines.get(key, self.line)


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    result = Node()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path, display: str | None = None):
    """A YAML file with line numbers on its mappings; InputError with file:line:column on a syntax error."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", display) from e
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        raise InputError(f"not valid YAML: {e.problem or e.context}", where) from e
    except yaml.YAMLError as e:
        raise InputError(f"not valid YAML: {e}", display) from e


# ---------------------------------------------------------------- compiled mapping

@dataclass(frozen=True)
class Placeholder:
    column: str
    normalisers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]   # (name, ((arg, value), ...))


@dataclass(frozen=True)
class Template:
    """`project/keep-{Programme|slug}-{Acronym|slug}`: text parts and placeholders, split once."""
    text: str
    parts: tuple[str | Placeholder, ...]
    kind: str                 # "iri" or "literal"
    prefix: str = ""          # for IRIs: the expanded namespace the template starts in ("" for absolute)

    @functools.cached_property
    def columns(self) -> list[str]:
        # Computed once: the engine asks for every cell of every row.
        return [p.column for p in self.parts if isinstance(p, Placeholder)]

    @property
    def whole_value(self) -> bool:
        """A template that is one placeholder and nothing else: an IRI taken whole from a cell (a URL)."""
        return len(self.parts) == 1 and isinstance(self.parts[0], Placeholder)


@dataclass(frozen=True)
class Condition:
    op: str                   # equals | in | not_blank | blank | matches | all | any | not
    column: str | None = None
    values: tuple[str, ...] = ()
    pattern: re.Pattern | None = None
    children: tuple["Condition", ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ObjectMap:
    kind: str                 # column | template | literal | iri | constant | map
    line: int
    column: str | None = None
    template: Template | None = None
    constant: str | None = None           # literal text, or an expanded IRI
    normaliser: str | None = None
    args: dict = field(default_factory=dict, hash=False)
    language: str | None = None
    datatype: str | None = None
    ref_map: str | None = None
    join: tuple[tuple[str, str], ...] = ()   # (child column, parent column)
    lookup: dict | None = field(default=None, hash=False)
    args_key: str = ""        # the args, hashable, for the engine's cache of normalised values


@dataclass(frozen=True)
class PropertyMap:
    predicate: NamedNode
    objects: ObjectMap
    required: bool
    when: Condition | None
    line: int
    inverse: bool = False     # written object -> subject: the project's ckg:hasParticipation from a partner row
    not_before: NamedNode | None = None   # a date earlier than this predicate's date on the same row is dropped

    @property
    def label(self) -> str:
        o = self.objects
        return o.column or (o.template.text if o.template else None) or "+".join(c for c, _ in o.join) or self.predicate.value


@dataclass(frozen=True)
class TriplesMap:
    name: str
    source: str
    subject: Template
    classes: tuple[NamedNode, ...]
    properties: tuple[PropertyMap, ...]
    when: Condition | None
    provenance: bool
    line: int


@dataclass(frozen=True)
class LogicalSource:
    name: str
    file: str                 # the manifest's file key
    sheet: str | None
    iterator: str | None
    record: Template | None
    line: int


@dataclass
class Mapping:
    path: str
    source: str
    sources: dict[str, LogicalSource]
    maps: dict[str, TriplesMap]
    prefixes: dict[str, str]

    def maps_of(self, source: str) -> list[TriplesMap]:
        return [m for m in self.maps.values() if m.source == source]

    def source_order(self) -> list[str]:
        """Logical sources, parents of joins before their children (the join index is built from parents)."""
        needs: dict[str, set[str]] = {name: set() for name in self.sources}
        for m in self.maps.values():
            for p in m.properties:
                if p.objects.kind == "map" and p.objects.join:
                    parent = self.maps[p.objects.ref_map].source
                    if parent != m.source:
                        needs[m.source].add(parent)
        order: list[str] = []
        visiting: set[str] = set()

        def visit(name: str):
            if name in order:
                return
            if name in visiting:
                raise InputError(f"the joins of logical source {name!r} go round in a circle",
                                 f"{self.path}:{self.sources[name].line}")
            visiting.add(name)
            for parent in sorted(needs[name]):
                visit(parent)
            visiting.discard(name)
            order.append(name)

        for name in self.sources:
            visit(name)
        return order

    def columns_of(self, source: str) -> dict[str, int]:
        """Every column a logical source's maps read, with the line that reads it (checked against the header)."""
        used: dict[str, int] = {}
        ls = self.sources[source]
        if ls.record:
            for c in ls.record.columns:
                used.setdefault(c, ls.line)
        for m in self.maps_of(source):
            for c in m.subject.columns:
                used.setdefault(c, m.line)
            _condition_columns(m.when, used)
            for p in m.properties:
                o = p.objects
                if o.column:
                    used.setdefault(o.column, o.line)
                if o.template:
                    for c in o.template.columns:
                        used.setdefault(c, o.line)
                for child, _ in o.join:
                    used.setdefault(child, o.line)
                _condition_columns(p.when, used)
        return used

    def parent_columns(self, source: str) -> dict[str, int]:
        """Columns of `source` that joins from other logical sources read."""
        used: dict[str, int] = {}
        for m in self.maps.values():
            for p in m.properties:
                if p.objects.kind == "map" and p.objects.join and self.maps[p.objects.ref_map].source == source:
                    for _, parent in p.objects.join:
                        used.setdefault(parent, p.objects.line)
        return used


def _condition_columns(c: Condition | None, used: dict[str, int]) -> None:
    if c is None:
        return
    if c.column:
        used.setdefault(c.column, c.line)
    for child in c.children:
        _condition_columns(child, used)


# ---------------------------------------------------------------- loading and checking

class _Checker:
    def __init__(self, display: str, prefixes: dict[str, str], normalisers: set[str] | None):
        self.display = display
        self.prefixes = prefixes
        self.normalisers = normalisers

    def error(self, line: int, message: str) -> InputError:
        return InputError(message, f"{self.display}:{line}")

    def keys(self, node, allowed: set[str], required: set[str], what: str, line: int = 0) -> None:
        if not isinstance(node, Node):
            raise self.error(getattr(node, "line", line), f"{what} must be a mapping of keys to values")
        for key in node:
            if key not in allowed:
                raise self.error(node.line_of(key),
                                 f"{what}: unknown key {key!r} (expected one of {', '.join(sorted(allowed))})")
        for key in sorted(required - set(node)):
            raise self.error(node.line, f"{what}: missing key {key!r}")

    def iri(self, text, line: int) -> str:
        if not isinstance(text, str) or not text:
            raise self.error(line, f"expected an IRI or prefix:name, found {text!r}")
        if text.startswith(("http://", "https://", "urn:")):
            return text
        m = CURIE.fullmatch(text)
        if not m or m.group(1) not in self.prefixes:
            known = ", ".join(sorted(self.prefixes))
            raise self.error(line, f"{text!r} is not an absolute IRI or a name with a known prefix ({known})")
        return self.prefixes[m.group(1)] + m.group(2)

    def normaliser(self, name, line: int) -> str:
        if not isinstance(name, str) or not name:
            raise self.error(line, f"a normaliser is named by a string, found {name!r}")
        if self.normalisers is not None and name not in self.normalisers:
            raise self.error(line, f"unknown normaliser {name!r} (known: {', '.join(sorted(self.normalisers))})")
        return name

    def template_normaliser(self, text: str, line: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        """`country:scheme=iso` -> ("country", (("scheme", "iso"),))."""
        name, _, rest = text.partition(":")
        args = []
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, value = pair.partition("=")
            if not eq or not _NAME.fullmatch(key.strip()):
                raise self.error(line, f"normaliser arguments in a template are written name:key=value,key=value; "
                                       f"found {text!r}")
            args.append((key.strip(), value.strip()))
        return self.normaliser(name.strip(), line), tuple(args)

    def template(self, text, line: int, kind: str) -> Template:
        if not isinstance(text, str) or not text:
            raise self.error(line, f"a template is a non-empty string, found {text!r}")
        parts: list[str | Placeholder] = []
        pos = 0
        escaped = text.replace("{{", "\0").replace("}}", "\1")
        for m in _PLACEHOLDER.finditer(escaped):
            if m.start() > pos:
                parts.append(escaped[pos:m.start()].replace("\0", "{").replace("\1", "}"))
            column, *norms = [s.strip() for s in m.group(1).split("|")]
            if not column:
                raise self.error(line, f"empty placeholder {{}} in template {text!r}")
            parts.append(Placeholder(column, tuple(self.template_normaliser(n, line) for n in norms)))
            pos = m.end()
        rest = escaped[pos:]
        if "{" in rest or "}" in rest:
            raise self.error(line, f"unbalanced brace in template {text!r} (write {{{{ or }}}} for a literal brace)")
        if rest:
            parts.append(rest.replace("\0", "{").replace("\1", "}"))
        prefix = ""
        if kind == "iri":
            head = parts[0] if parts and isinstance(parts[0], str) else ""
            m = CURIE.match(head)
            if head.startswith(("http://", "https://", "urn:")):
                prefix = ""
            elif len(parts) == 1 and isinstance(parts[0], Placeholder):
                prefix = ""      # a whole IRI from a cell
            elif m and m.group(1) in self.prefixes and not m.group(2).startswith("//"):
                prefix = self.prefixes[m.group(1)]
                parts[0] = m.group(2)
            else:
                # Relative templates mint things under id/: "city/gn-{geonameId}".
                prefix = str(ID)
        return Template(text, tuple(p for p in parts if p != ""), kind, prefix)

    def condition(self, node, line: int) -> Condition:
        if not isinstance(node, Node):
            raise self.error(line, "a condition is a mapping such as {column: X, equals: Y}")
        line = node.line
        for op in ("all", "any"):
            if op in node:
                self.keys(node, {op}, {op}, f"condition {op!r}")
                if not isinstance(node[op], list) or not node[op]:
                    raise self.error(line, f"{op!r} takes a list of conditions")
                return Condition(op, children=tuple(self.condition(c, line) for c in node[op]), line=line)
        if "not" in node:
            self.keys(node, {"not"}, {"not"}, "condition 'not'")
            return Condition("not", children=(self.condition(node["not"], line),), line=line)
        ops = {"equals", "in", "not_blank", "blank", "matches"}
        self.keys(node, ops | {"column"}, {"column"}, "condition")
        given = [op for op in ops if op in node]
        if len(given) != 1:
            raise self.error(line, f"a condition on a column has exactly one of {', '.join(sorted(ops))}")
        op = given[0]
        column = str(node["column"])
        value = node[op]
        if op == "equals":
            return Condition(op, column, (str(value),), line=line)
        if op == "in":
            if not isinstance(value, list):
                raise self.error(node.line_of(op), "'in' takes a list of values")
            return Condition(op, column, tuple(str(v) for v in value), line=line)
        if op == "matches":
            try:
                return Condition(op, column, pattern=re.compile(str(value)), line=line)
            except re.error as e:
                raise self.error(node.line_of(op), f"not a valid regular expression: {e}") from e
        if value is not True:
            raise self.error(node.line_of(op), f"{op!r} takes the value true")
        return Condition(op, column, line=line)


_OBJECT_KINDS = ("column", "template", "literal", "iri", "constant", "map")
_PROPERTY_KEYS = {"predicate", "inverse", "required", "when", "normalise", "args", "language", "datatype", "join", "lookup",
                  "not_before",
                  *_OBJECT_KINDS}


def load_mapping(path: Path, display: str | None = None, normalisers: set[str] | None = None) -> Mapping:
    """Read, check and compile a mapping file. `normalisers` is the set of known normaliser names (default: the
    registry of kg.importing.normalise)."""
    display = display or str(path)
    if normalisers is None:
        from kg.importing.normalise import NORMALISERS
        normalisers = set(NORMALISERS)
    doc = load_yaml(path, display)
    check = _Checker(display, dict(PREFIXES_BUILT_IN), normalisers)
    if not isinstance(doc, Node):
        raise InputError("a mapping file is a YAML mapping with the keys source, sources and maps", display)
    check.keys(doc, {"source", "prefixes", "sources", "maps"}, {"source", "sources", "maps"}, "mapping")

    prefixes = doc.get("prefixes") or Node()
    if not isinstance(prefixes, dict):
        raise check.error(doc.line_of("prefixes"), "prefixes is a mapping of prefix to namespace IRI")
    for name, ns in prefixes.items():
        if not _NAME.fullmatch(str(name)) or not isinstance(ns, str) or not ns.startswith(("http://", "https://")):
            raise check.error(prefixes.line_of(name), f"prefix {name!r}: expected a name and an http(s) namespace")
        check.prefixes[str(name)] = ns

    sources: dict[str, LogicalSource] = {}
    raw_sources = doc["sources"]
    if not isinstance(raw_sources, Node) or not raw_sources:
        raise check.error(doc.line_of("sources"), "sources is a mapping of logical source names to their file")
    for name, node in raw_sources.items():
        check.keys(node, {"file", "sheet", "iterator", "record"}, {"file"}, f"logical source {name!r}",
                   raw_sources.line_of(name))
        record = node.get("record")
        sources[str(name)] = LogicalSource(
            str(name), str(node["file"]),
            str(node["sheet"]) if node.get("sheet") is not None else None,
            str(node["iterator"]) if node.get("iterator") is not None else None,
            check.template(record, node.line_of("record"), "literal") if record is not None else None,
            node.line)

    raw_maps = doc["maps"]
    if not isinstance(raw_maps, Node) or not raw_maps:
        raise check.error(doc.line_of("maps"), "maps is a mapping of map names to subject and properties")
    maps: dict[str, TriplesMap] = {}
    pending_refs: list[tuple[ObjectMap, str, str]] = []
    for name, node in raw_maps.items():
        what = f"map {name!r}"
        check.keys(node, {"source", "subject", "class", "properties", "when", "provenance"},
                   {"source", "subject"}, what, raw_maps.line_of(name))
        if node["source"] not in sources:
            raise check.error(node.line_of("source"),
                              f"{what}: no logical source {node['source']!r} (declared: {', '.join(sources)})")
        classes = node.get("class") or []
        if isinstance(classes, str):
            classes = [classes]
        properties = []
        raw_props = node.get("properties") or []
        if not isinstance(raw_props, list):
            raise check.error(node.line_of("properties"), f"{what}: properties is a list")
        for prop in raw_props:
            properties.append(_property(check, prop, what, pending_refs, str(node["source"])))
        when = node.get("when")
        provenance = node.get("provenance", True)
        if not isinstance(provenance, bool):
            raise check.error(node.line_of("provenance"), f"{what}: provenance is true or false")
        maps[str(name)] = TriplesMap(
            str(name), str(node["source"]), check.template(node["subject"], node.line_of("subject"), "iri"),
            tuple(NamedNode(check.iri(c, node.line_of("class"))) for c in classes),
            tuple(properties),
            check.condition(when, node.line_of("when")) if when is not None else None,
            provenance, node.line)

    for obj, owner, owner_source in pending_refs:
        if obj.ref_map not in maps:
            raise check.error(obj.line, f"{owner}: no map {obj.ref_map!r} to refer to (maps: {', '.join(maps)})")
        if not obj.join and maps[obj.ref_map].source != owner_source:
            raise check.error(obj.line, f"{owner}: map {obj.ref_map!r} reads another logical source, "
                                        "so the reference needs a join")
    mapping = Mapping(display, str(doc["source"]), sources, maps, check.prefixes)
    mapping.source_order()
    return mapping


def _property(check: _Checker, node, what: str, pending_refs: list, source: str) -> PropertyMap:
    line = getattr(node, "line", 0)
    check.keys(node, _PROPERTY_KEYS, {"predicate"}, f"{what}: property")
    kinds = [k for k in _OBJECT_KINDS if k in node]
    if len(kinds) != 1:
        raise check.error(line, f"{what}: a property has exactly one of {', '.join(_OBJECT_KINDS)}; found "
                                f"{', '.join(kinds) or 'none'}")
    kind = kinds[0]
    value = node[kind]
    vline = node.line_of(kind)
    predicate = NamedNode(check.iri(node["predicate"], node.line_of("predicate")))
    normaliser = node.get("normalise")
    args = node.get("args") or {}
    if normaliser is not None:
        if kind != "column":
            raise check.error(node.line_of("normalise"),
                              f"{what}: 'normalise' applies to a column; in a template write {{Column|name}}")
        normaliser = check.normaliser(normaliser, node.line_of("normalise"))
    if args and normaliser is None:
        raise check.error(node.line_of("args"), f"{what}: 'args' without a normaliser")
    if not isinstance(args, dict):
        raise check.error(node.line_of("args"), f"{what}: args is a mapping of argument names to values")
    language = node.get("language")
    datatype = node.get("datatype")
    if kind in ("iri", "constant", "map") and (language or datatype):
        raise check.error(line, f"{what}: language and datatype are for literals, not IRIs")
    if language and datatype:
        raise check.error(line, f"{what}: a literal has a language or a datatype, not both")
    if language is not None and (not isinstance(language, str) or not re.fullmatch(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*", language)):
        raise check.error(node.line_of("language"), f"{what}: {language!r} is not a language tag")
    lookup = node.get("lookup")
    if lookup is not None:
        if kind not in ("column", "iri", "template") or not isinstance(lookup, dict):
            raise check.error(node.line_of("lookup"), f"{what}: lookup is a mapping of source values to values")
        lookup = {str(k): str(v) for k, v in lookup.items()}
    join = node.get("join")
    if join is not None and kind != "map":
        raise check.error(node.line_of("join"), f"{what}: 'join' goes with 'map'")
    if join is not None and (not isinstance(join, dict) or not join):
        raise check.error(node.line_of("join"), f"{what}: join is a mapping of this source's columns to the "
                                                "referred map's columns")

    common = dict(line=vline, normaliser=normaliser, args=dict(args), args_key=repr(sorted(args.items())),
                  language=language,
                  datatype=check.iri(datatype, node.line_of("datatype")) if datatype else None, lookup=lookup)
    if kind == "column":
        obj = ObjectMap("column", column=str(value), **common)
    elif kind == "template":
        obj = ObjectMap("template", template=check.template(value, vline, "literal"), **common)
    elif kind == "literal":
        obj = ObjectMap("literal", constant=str(value), **common)
    elif kind == "iri":
        obj = ObjectMap("iri", template=check.template(value, vline, "iri"), **common)
    elif kind == "constant":
        obj = ObjectMap("constant", constant=check.iri(value, vline), **common)
    else:
        obj = ObjectMap("map", ref_map=str(value),
                        join=tuple((str(k), str(v)) for k, v in (join or {}).items()), **common)
        pending_refs.append((obj, what, source))
    required = node.get("required", kind == "map")
    if not isinstance(required, bool):
        raise check.error(node.line_of("required"), f"{what}: required is true or false")
    when = node.get("when")
    inverse = node.get("inverse", False)
    if not isinstance(inverse, bool) or (inverse and kind not in ("iri", "constant", "map")):
        raise check.error(node.line_of("inverse"), f"{what}: inverse is true or false, and only for IRI objects")
    not_before = node.get("not_before")
    if not_before is not None:
        if kind not in ("column", "template") or required:
            raise check.error(node.line_of("not_before"), f"{what}: not_before is for an optional date from a "
                                                          "column or a template")
        not_before = NamedNode(check.iri(not_before, node.line_of("not_before")))
    return PropertyMap(predicate, obj, required,
                       check.condition(when, node.line_of("when")) if when is not None else None, line, inverse,
                       not_before)


# ---------------------------------------------------------------- IRIs

def iri_part(value: str) -> str:
    """A cell value placed inside an IRI: characters an IRI path segment cannot hold are %-encoded. Letters and
    digits of any script stay as they are (RFC 3987): the server decodes a request's path to them, so a
    %-encoded IRI in the store would never be found by its own URL."""
    if value.isascii():
        return quote(value, safe="-._~")
    return "".join(ch if ch.isalnum() and not ch.isascii() else quote(ch, safe="-._~") for ch in value)


def record_iri(source: str, record_id: str) -> str:
    return f"{ID}record/{iri_part(source)}/{iri_part(record_id)}"


def dataset_iri(source: str) -> str:
    return f"{ID}source/dataset-{source}"


def graph_iri(source: str) -> str:
    return f"{BASE}graph/import/{source}"
