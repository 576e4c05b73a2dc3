"""The mapping engine: rows in, pyoxigraph quads out, into the source's named graph.

A row is all or nothing: if its subject or a required value cannot be made, the row goes to the rejects with
file, sheet, row, column and reason, and none of its quads are kept (an organisation without its country would
break the shapes; a participation without its project would dangle). A value that is not required and does not
normalise is dropped and reported; a blank cell is simply absent.
"""

from __future__ import annotations

import datetime
import decimal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from pyoxigraph import Literal, NamedNode, Quad

from kg.errors import InputError
from kg.importing.mapping import (ID, Condition, Mapping, ObjectMap, PropertyMap, Template, TriplesMap,
                                  CURIE, dataset_iri, graph_iri, iri_part, record_iri)
from kg.importing.readers import BadRow, Row, read_rows
from kg.importing.rejects import ROW_REJECTED, VALUE_DROPPED, Reject
from kg.namespaces import CKG

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = NamedNode(XSD + "string")
XSD_INTEGER = NamedNode(XSD + "integer")
PROV_DERIVED = NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
DCT_SOURCE = NamedNode("http://purl.org/dc/terms/source")
SOURCE_RECORD = NamedNode(str(CKG) + "SourceRecord")
SOURCE_FILE = NamedNode(str(CKG) + "sourceFile")
SOURCE_SHEET = NamedNode(str(CKG) + "sourceSheet")
SOURCE_ROW = NamedNode(str(CKG) + "sourceRow")
SOURCE_IDENTIFIER = NamedNode(str(CKG) + "sourceIdentifier")


@dataclass(frozen=True)
class InputFile:
    """One file of a source, as the manifest describes it."""
    path: Path
    format: str
    display: str = ""             # the path reports show
    delimiter: str = ","
    encoding: str = "utf-8-sig"


@dataclass
class MappingResult:
    source: str
    # Each quad once, in the order the rows made them: iterating a set visits them in hash order, all over the
    # heap, and the later stages' passes over a few hundred thousand quads took three times as long.
    quads: dict[Quad, None] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)          # rows read per logical source
    rejected_rows: int = 0
    entities: Counter = field(default_factory=Counter)      # distinct subjects per class IRI
    seconds: float = 0.0


class _RowError(Exception):
    def __init__(self, column: str | None, value: str | None, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


class _Missing(Exception):
    """A blank cell where a value was needed: not an error unless the value is required."""

    def __init__(self, column: str | None):
        super().__init__(column)
        self.column = column


def _lexical(value) -> str:
    if isinstance(value, tuple):
        return str(value[0])
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _literal(value, language: str | None, datatype: str | None) -> Literal:
    if isinstance(value, tuple):
        return Literal(str(value[0]), datatype=NamedNode(str(value[1])))
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD_INTEGER)
    if isinstance(value, decimal.Decimal):
        return Literal(str(value), datatype=NamedNode(XSD + "decimal"))
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "date"))
    if language:
        return Literal(str(value), language=language)
    if datatype:
        return Literal(str(value), datatype=NamedNode(datatype))
    return Literal(str(value))


class Engine:
    """Runs one compiled mapping over the files of one source."""

    def __init__(self, mapping: Mapping, source: str, normalise: Callable | None = None,
                 error_type: type[Exception] | None = None):
        if normalise is None:
            from kg.importing import normalise as normalise_module
            normalise, error_type = normalise_module.apply, normalise_module.NormaliseError
        self.mapping = mapping
        self.source = source
        self.graph = NamedNode(graph_iri(source))
        self.dataset = NamedNode(dataset_iri(source))
        self._apply = normalise
        self._error = error_type or ValueError
        self._cache: dict[tuple, object] = {}
        self._rendered: dict[tuple, object] = {}
        self._file_names: dict[str, str] = {}
        # Join indexes: (map name, parent columns) -> key -> subject IRIs of accepted parent rows.
        self._indexes: dict[tuple[str, tuple[str, ...]], dict[tuple, list[NamedNode]]] = {}
        self._joins_by_source: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        for m in mapping.maps.values():
            for p in m.properties:
                o = p.objects
                if o.kind == "map" and o.join:
                    key = (o.ref_map, tuple(parent for _, parent in o.join))
                    if key not in self._indexes:
                        self._indexes[key] = defaultdict(list)
                        self._joins_by_source[mapping.maps[o.ref_map].source].append(key)

    # ------------------------------------------------------------ values

    def normalise(self, name: str, value: str, args: dict | None = None, args_key=""):
        """Normalisers are pure, and exports repeat values (a country, a programme) thousands of times."""
        key = (name, value, args_key)
        try:
            hit = self._cache[key]
        except KeyError:
            try:
                hit = self._apply(name, value, **(args or {}))
            except self._error as e:
                hit = e
            self._cache[key] = hit
        if isinstance(hit, Exception):
            raise hit
        return hit

    def _render(self, template: Template, values: dict[str, str], encode: bool) -> str:
        # Exports repeat a programme, an acronym, a town on many rows: each template is rendered once per
        # distinct combination of its cells (or fails once, with the same error).
        key = (id(template), encode, *[values.get(c, "") for c in template.columns])
        try:
            hit = self._rendered[key]
        except KeyError:
            try:
                hit = self._render_parts(template, values, encode)
            except (_Missing, _RowError) as e:
                hit = e
            self._rendered[key] = hit
        if isinstance(hit, Exception):
            raise hit.with_traceback(None)
        return hit

    def _render_parts(self, template: Template, values: dict[str, str], encode: bool) -> str:
        out = []
        for part in template.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            raw = values.get(part.column, "")
            value: object = raw.strip()
            if not value:
                raise _Missing(part.column)
            for name, args in part.normalisers:
                try:
                    value = self.normalise(name, _lexical(value), dict(args) if args else None, args)
                except self._error as e:
                    raise _RowError(part.column, raw, f"{name}: {e}") from None
                if value is None or value == "":
                    raise _Missing(part.column)
            text = _lexical(value)
            out.append(iri_part(text) if encode else text)
        return "".join(out)

    def _iri(self, text: str, column: str | None, raw: str | None) -> NamedNode:
        try:
            return NamedNode(text)
        except ValueError as e:
            raise _RowError(column, raw, f"not a valid IRI {text!r}: {e}") from None

    def _expand(self, text: str, column: str | None) -> NamedNode:
        """A lookup result: a prefixed name, an absolute IRI, or a path under id/."""
        if text.startswith(("http://", "https://", "urn:")):
            return self._iri(text, column, text)
        m = CURIE.fullmatch(text)
        if m and m.group(1) in self.mapping.prefixes:
            return self._iri(self.mapping.prefixes[m.group(1)] + m.group(2), column, text)
        return self._iri(f"{ID}{text}", column, text)

    def _template_iri(self, template: Template, values: dict[str, str]) -> NamedNode:
        if template.whole_value:
            column = template.parts[0].column
            text = self._render(template, values, encode=False)
            if not text.startswith(("http://", "https://")) or any(c in text for c in ' <>"{}|\\^`'):
                raise _RowError(column, values.get(column, ""), f"not an http(s) IRI: {text!r}")
            return self._iri(text, column, text)
        text = template.prefix + self._render(template, values, encode=True)
        return self._iri(text, template.columns[0] if template.columns else None, None)

    def _object(self, prop: PropertyMap, row: Row, subjects: dict) -> list:
        o: ObjectMap = prop.objects
        values = row.values
        if o.kind == "constant":
            return [NamedNode(o.constant)]
        if o.kind == "literal":
            return [_literal(o.constant, o.language, o.datatype)]
        if o.kind == "map":
            if not o.join:
                target = self._subject(self.mapping.maps[o.ref_map], row, subjects)
                if target is None:
                    raise _Missing(None)
                return [target]
            key = tuple(_join_key(values.get(child, "")) for child, _ in o.join)
            targets = self._indexes[(o.ref_map, tuple(p for _, p in o.join))].get(key)
            if not targets:
                shown = " and ".join(f"{parent}={values.get(child, '').strip()!r}" for child, parent in o.join)
                parent_source = self.mapping.sources[self.mapping.maps[o.ref_map].source]
                raise _RowError("+".join(child for child, _ in o.join), "|".join(values.get(c, "") for c, _ in o.join),
                                f"no {o.ref_map} with {shown} in {parent_source.file}"
                                + (f" sheet {parent_source.sheet!r}" if parent_source.sheet else ""))
            return targets
        if o.kind == "iri":
            if o.lookup is not None:
                text = self._render(o.template, values, encode=False)
                return [self._expand(self._lookup(o, text, o.template.columns[0] if o.template.columns else None),
                                     o.template.columns[0] if o.template.columns else None)]
            return [self._template_iri(o.template, values)]
        if o.kind == "template":
            text = self._render(o.template, values, encode=False)
            if o.lookup is not None:
                text = self._lookup(o, text, o.template.columns[0] if o.template.columns else None)
            return [_literal(text, o.language, o.datatype)]
        # a column
        raw = values.get(o.column, "")
        value: object = raw.strip()
        if not value:
            raise _Missing(o.column)
        if o.normaliser:
            try:
                value = self.normalise(o.normaliser, value, o.args, o.args_key)
            except self._error as e:
                raise _RowError(o.column, raw, f"{o.normaliser}: {e}") from None
            if value is None or value == "":
                raise _Missing(o.column)
        if o.lookup is not None:
            value = self._lookup(o, _lexical(value), o.column)
        return [_literal(value, o.language, o.datatype)]

    def _lookup(self, o: ObjectMap, text: str, column: str | None) -> str:
        try:
            return o.lookup[text]
        except KeyError:
            raise _RowError(column, text, f"{text!r} is not one of the values the mapping knows "
                                          f"({', '.join(sorted(o.lookup))})") from None

    def _subject(self, m: TriplesMap, row: Row, subjects: dict) -> NamedNode | None:
        """The subject of map `m` for this row, or None where its condition leaves the row out."""
        if m.name in subjects:
            return subjects[m.name]
        subject = None
        if m.when is None or _holds(m.when, row.values):
            try:
                subject = self._template_iri(m.subject, row.values)
            except _Missing as e:
                raise _RowError(e.column, "", f"empty, and the {m.name} identifier is made from it") from None
        subjects[m.name] = subject
        return subject

    # ------------------------------------------------------------ rows

    def _row(self, row: Row, maps: list[TriplesMap], result: MappingResult) -> list[Quad] | None:
        subjects: dict[str, NamedNode | None] = {}
        quads: list[Quad] = []
        errors: list[_RowError] = []
        dropped: list[_RowError] = []
        g = self.graph
        record = None
        ls = self.mapping.sources[maps[0].source]
        for m in maps:
            try:
                s = self._subject(m, row, subjects)
            except _RowError as e:
                errors.append(e)
                continue
            if s is None:
                continue
            for c in m.classes:
                quads.append(Quad(s, RDF_TYPE, c, g))
            ordered = []
            for prop in m.properties:
                if prop.when is not None and not _holds(prop.when, row.values):
                    continue
                try:
                    objects = self._object(prop, row, subjects)
                except _Missing as e:
                    if prop.required:
                        errors.append(_RowError(e.column or prop.label, "",
                                                f"empty, and {m.name} needs it for {self._short(prop.predicate)}"))
                    continue
                except _RowError as e:
                    (errors if prop.required else dropped).append(e)
                    continue
                if prop.not_before is not None:
                    ordered.append((prop, objects))
                    continue
                for o in objects:
                    quads.append(Quad(o, prop.predicate, s, g) if prop.inverse else Quad(s, prop.predicate, o, g))
            for prop, objects in ordered:
                # The row stays; only the date that cannot be right beside the other is left out, with its place.
                earlier = [q.object for q in quads if q.subject == s and q.predicate == prop.not_before]
                for o in objects:
                    before = next((e for e in earlier if _ends_before(o, e)), None)
                    if before is None:
                        quads.append(Quad(s, prop.predicate, o, g))
                    else:
                        column = prop.objects.column or prop.label
                        dropped.append(_RowError(column, row.values.get(column, o.value),
                                                 f"{o.value} is before {self._short(prop.not_before)} {before.value} "
                                                 f"on the same row"))
            if m.provenance:
                if record is None:
                    record = NamedNode(record_iri(self.source, self._record_id(ls, row)))
                quads.append(Quad(s, PROV_DERIVED, record, g))
                quads.append(Quad(s, DCT_SOURCE, self.dataset, g))
        place = dict(file=row.file, sheet=row.sheet or "", row=row.number, source=self.source)
        if errors:
            for e in errors:
                result.rejects.append(Reject(column=e.column or "", value=e.value or "", reason=e.reason,
                                             action=ROW_REJECTED, **place))
            return None
        for e in dropped:
            result.rejects.append(Reject(column=e.column or "", value=e.value or "", reason=e.reason,
                                         action=VALUE_DROPPED, **place))
        if record is not None:
            name = self._file_names.get(row.file)
            if name is None:
                name = self._file_names[row.file] = Path(row.file).name
            quads += [
                Quad(record, RDF_TYPE, SOURCE_RECORD, g),
                Quad(record, RDFS_LABEL, Literal(f"{name}{' sheet ' + row.sheet if row.sheet else ''} row "
                                                 f"{row.number}", language="en"), g),
                Quad(record, DCT_SOURCE, self.dataset, g),
                Quad(record, SOURCE_FILE, Literal(name), g),
                Quad(record, SOURCE_ROW, Literal(str(row.number), datatype=XSD_INTEGER), g),
            ]
            if row.sheet:
                quads.append(Quad(record, SOURCE_SHEET, Literal(row.sheet), g))
        self._index(maps[0].source, row, subjects)
        return quads

    def _short(self, predicate: NamedNode) -> str:
        for prefix, ns in self.mapping.prefixes.items():
            if predicate.value.startswith(ns):
                return f"{prefix}:{predicate.value[len(ns):]}"
        return predicate.value

    def _record_id(self, ls, row: Row) -> str:
        # Ids from the source when the mapping says how; the row number only as the last resort.
        if ls.record is not None:
            try:
                return self._render(ls.record, row.values, encode=False)
            except (_Missing, _RowError):
                pass
        sheet = f"{row.sheet}-" if row.sheet else ""
        return f"{ls.name}-{sheet}row-{row.number}"

    def _index(self, source: str, row: Row, subjects: dict) -> None:
        for key in self._joins_by_source.get(source, ()):
            map_name, columns = key
            s = subjects.get(map_name)
            if s is None:
                continue
            index_key = tuple(_join_key(row.values.get(c, "")) for c in columns)
            targets = self._indexes[key][index_key]
            if s not in targets:
                targets.append(s)

    # ------------------------------------------------------------ the run

    def run(self, files: dict[str, InputFile]) -> MappingResult:
        start = time.perf_counter()
        result = MappingResult(self.source)
        for source_name in self.mapping.source_order():
            ls = self.mapping.sources[source_name]
            maps = self.mapping.maps_of(source_name)
            if ls.file not in files:
                raise InputError(f"logical source {source_name!r} reads file {ls.file!r}, which the manifest "
                                 f"does not give (files: {', '.join(files)})", f"{self.mapping.path}:{ls.line}")
            spec = files[ls.file]
            display = spec.display or str(spec.path)
            rows = read_rows(spec.path, spec.format, display=display, sheet=ls.sheet, delimiter=spec.delimiter,
                             encoding=spec.encoding, iterator=ls.iterator)
            rows = list(rows)
            self._check_columns(source_name, rows, spec, display)
            for row in rows:
                result.rows[source_name] += 1
                if isinstance(row, BadRow):
                    result.rejected_rows += 1
                    result.rejects.append(Reject(row.file, row.sheet or "", row.number, row.column or "", "",
                                                 row.reason, ROW_REJECTED, self.source))
                    continue
                if not maps:
                    continue
                quads = self._row(row, maps, result)
                if quads is None:
                    result.rejected_rows += 1
                else:
                    result.quads.update(dict.fromkeys(quads))
        for q in result.quads:
            if q.predicate == RDF_TYPE:
                result.entities[q.object] += 1
        result.entities = Counter({k.value: v for k, v in result.entities.items()})
        result.seconds = time.perf_counter() - start
        return result

    def _check_columns(self, source_name: str, rows: list, spec: InputFile, display: str) -> None:
        """A column the mapping reads and the file lacks is a mistake in the mapping (or a changed export):
        stop with both places rather than reject every row."""
        seen: set[str] = set()
        for row in rows:
            if isinstance(row, Row):
                seen.update(row.values)
                if spec.format != "json":
                    break        # CSV and sheet rows all carry the header's columns
        if not seen:
            return
        wanted = {**self.mapping.columns_of(source_name), **self.mapping.parent_columns(source_name)}
        missing = sorted(c for c in wanted if c not in seen)
        if missing:
            sheet = f" sheet {self.mapping.sources[source_name].sheet!r}" if self.mapping.sources[source_name].sheet else ""
            raise InputError(f"{display}{sheet} has no column {', '.join(map(repr, missing))} "
                             f"(it has: {', '.join(sorted(seen))})",
                             f"{self.mapping.path}:{wanted[missing[0]]}")


def _ends_before(end, start) -> bool:
    from kg.importing.normalise import ends_before

    return isinstance(end, Literal) and isinstance(start, Literal) and ends_before(end, start)


def _join_key(value: str) -> str:
    # Exports spell the same key with stray spaces or another case in different sheets.
    return " ".join(value.split()).casefold()


def _holds(c: Condition, values: dict[str, str]) -> bool:
    if c.op == "all":
        return all(_holds(x, values) for x in c.children)
    if c.op == "any":
        return any(_holds(x, values) for x in c.children)
    if c.op == "not":
        return not _holds(c.children[0], values)
    v = values.get(c.column, "").strip()
    if c.op == "equals":
        return v == c.values[0]
    if c.op == "in":
        return v in c.values
    if c.op == "not_blank":
        return bool(v)
    if c.op == "blank":
        return not v
    return c.pattern.fullmatch(v) is not None


def run_mapping(mapping: Mapping, files: dict[str, InputFile], source: str | None = None, **kwargs) -> MappingResult:
    return Engine(mapping, source or mapping.source, **kwargs).run(files)


def nquads_lines(quads: Iterable[Quad]) -> list[str]:
    """Sorted N-Quads lines: the same graph always gives the same bytes."""
    return sorted({f"{q} .\n" for q in quads})
