"""SHACL validation compiled to SPARQL and run by the store, with pyshacl (kg.validation.shacl) as the reference.

pyshacl validates focus node by focus node in Python: about 18 s for 100k triples, minutes for 1M. Here a shapes
graph (read generically with rdflib) becomes a plan of SELECT queries, each checking one constraint (or several)
for all focus nodes at once inside the store, in standard SPARQL 1.1: the same plan runs on the embedded
pyoxigraph store and on a remote SPARQL server (anything with `select(text)` whose default graph is the union of
the named graphs). The number of queries depends on the shapes only, never on the data.

  sh:class                   one query per class: the values, MINUS the instances of the class
  other value constraints    datatype, nodeKind, pattern, languageIn, ranges, lengths, in, or/and/not/xone/node:
                             one query per shape, a boolean column per constraint, one scan of the path for all
  minimums                   minCount, qualifiedMinCount, hasValue: one query per set of focus nodes, for every
                             shape sharing it (an EXISTS, or a count where the minimum is above 1)
  maximums                   maxCount, qualifiedMaxCount: one query each (a self-join for 1, a count otherwise)
  uniqueLang                 a self-join on the path
  SHACL-SPARQL               each constraint's query, the focus nodes joined in at the start of its WHERE clause

Queries on a property shape's values find the failing values first and only then ask whether their subject is a
focus node; queries that need every focus node (minimums, node shapes, SHACL-SPARQL) start from the focus nodes.

A shape using SHACL this compiler does not turn into SPARQL (a component, a path form, a SPARQL construct) makes
`compile_shapes` raise UnsupportedShape naming the shape and what it uses: a new shape is never silently skipped.

Where SHACL leaves room, the results follow pyshacl; the known differences (all on data our shapes and fixtures
do not contain) are:
- sh:datatype checks that a literal is well-formed for the datatypes pyshacl checks (rdflib converts them: xsd:date,
  dateTime, time, decimal, the integer types, double, float, boolean, duration, hexBinary, base64Binary), by the
  XSD lexical rules. rdflib's Python parsers are laxer in places ("1e3" and " 1.5" are decimals to Python, a
  dateTime may lack seconds) and stricter in others (Python dates stop at years 1 to 9999). Like pyshacl, the
  datatypes rdflib has no parser for (xsd:gYear, xsd:gYearMonth, ...) get no lexical check: "abc"^^xsd:gYear
  passes both, as SHACL allows (it asks the check only for the datatypes SPARQL 1.1 supports).
- A store keeps values, not spellings: Oxigraph gives "1.50"^^xsd:decimal back as "1.5" and language tags in lower
  case, so sh:value can be spelled differently from pyshacl's (the same RDF term by value).
- sh:pattern is SPARQL REGEX (XPath syntax and flags); pyshacl uses Python's re, honouring only the i and m flags.
  On our patterns the one difference is `$`: Python also matches it before a final newline ("AB\\n" passes
  ^[A-Z]{2}$ in pyshacl, not here).
- sh:languageIn uses SPARQL langMatches; pyshacl compares the whole tag or its first subtag, which differs only for
  ranges with a subtag (en-GB).
- sh:in and sh:hasValue compare terms after the store's canonicalisation ("01"^^xsd:integer is "1"^^xsd:integer).
- A SHACL-SPARQL constraint's query runs on the store's SPARQL engine, pyshacl's on rdflib's: rdflib compares an
  ill-typed "abc"^^xsd:integer with numbers (and finds it greater than 150), a SPARQL store raises a type error.
- A SHACL-SPARQL constraint's messages keep their language tags (pyshacl drops them when it fills in {?value}).
- A focus node with two English labels is labelled with the first in sorted order (pyshacl's side: either).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
import itertools

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.errors import KGError
from kg.validation.results import Report, Result, message_text, show

# SHACL instances (rdf:type/rdfs:subClassOf* in the data graph) are matched as `node rdf:type ?t` with ?t among the
# class and its subclasses, which run() asks the store for once (one query, rdfs:subClassOf without a path) and
# writes into a VALUES block where the compiled text has a marker. The same on every store, and a SPARQL server
# needs no property path for it: Virtuoso loses solutions of `*` and `+` paths joined with other patterns
# (kg.store.dialect), `?x a/rdfs:subClassOf* C` after a pattern binding ?x matching 1 geometry of 41.
_CLASSES = "urn:x-kg-validation:subclasses-of:"
_INSTANCE = re.compile(r"\{ VALUES (\?_t\d+) \{ ((?:<" + re.escape(_CLASSES) + r"\d+> )+)\} (\S+) <" + re.escape(str(RDF.type))
                       + r"> \1 \}")
_CLASS_MARK = re.compile("<" + re.escape(_CLASSES) + r"(\d+)>")


class UnsupportedShape(KGError):
    """The shapes use SHACL that this compiler cannot turn into SPARQL: validating without it would skip it."""

    exit_code = 2


#################################################################
# The compiled plan
#################################################################


@dataclass(frozen=True)
class ResultPath:
    predicate: URIRef
    inverse: bool = False

    def __str__(self) -> str:  # as kg.validation.shacl.read_report shows a path
        return ("^" if self.inverse else "") + str(self.predicate)


@dataclass(frozen=True)
class Source:
    """What a result names besides its focus node and value: shape, path, severity, messages."""

    shape: Node  # sh:sourceShape
    path: ResultPath | None  # sh:resultPath (the shape's sh:path); None on a node shape
    severity: URIRef
    messages: tuple[Literal, ...]  # the shape's sh:message values (and a SPARQL constraint's)
    constraint: Node | None = None  # a SHACL-SPARQL constraint: its sh:sparql node (sh:sourceConstraint)


@dataclass(frozen=True)
class Test:
    """One constraint inside a query, and what a failure reports."""

    source: Source
    component: URIRef
    generic_message: str  # pyshacl's kind of message, for a shape with no sh:message
    column: str = ""  # "values": the boolean column (false: fails); "counts": the count column
    op: str = ""  # "counts": "min" (fails below `bound`)
    bound: int = 0


@dataclass(frozen=True)
class CompiledQuery:
    """One SELECT, and how to read its rows:
    values  ?this ?value and a boolean column per test: each false column is a result
    rows    every row (?this, and ?value when `reports_value`) is a result of the one test
    counts  ?this and a count per test: below the test's bound is a result
    sparql  a SHACL-SPARQL constraint: every row is a result, its message filled in from the row
    """

    kind: str
    text: str
    tests: tuple[Test, ...]
    reports_value: bool = False
    variables: tuple[str, ...] = ()  # sparql: the projected variables, for {?var} in messages


@dataclass(frozen=True)
class Plan:
    queries: tuple[CompiledQuery, ...]
    shapes: Graph
    classes: tuple[str, ...] = ()  # the classes whose instances the queries match (IRIs), by marker number


@dataclass(frozen=True)
class Finding:
    """A validation result as RDF terms (rdflib), before it is placed in a file and labelled."""

    focus: Node
    path: ResultPath | None
    value: Node | None
    shape: Node
    component: URIRef
    severity: URIRef
    messages: tuple[Literal, ...]
    constraint: Node | None = None


#################################################################
# Compilation
#################################################################

# Parameters that are not constraints, or that belong to a constraint handled under another parameter.
_NOT_CONSTRAINTS = {
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property, SH.path, SH.message,
    SH.severity, SH.deactivated, SH.name, SH.description, SH.order, SH.group, SH.defaultValue, SH.flags,
    SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.declare, SH.prefixes,
}
_VALUE_PARAMETERS = (
    SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.languageIn, SH.minExclusive, SH.minInclusive,
    SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH["in"], SH["or"], SH["and"], SH["not"],
    SH.xone, SH.node,
)
_COUNT_PARAMETERS = (SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.hasValue)
_SHAPE_PARAMETERS = (*_VALUE_PARAMETERS, *_COUNT_PARAMETERS, SH.uniqueLang, SH.sparql)
_COMPARISONS = {SH.minExclusive: ">", SH.minInclusive: ">=", SH.maxExclusive: "<", SH.maxInclusive: "<="}
_NUMERIC_TYPES = {
    XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.long, XSD.int, XSD.short, XSD.byte, XSD.nonNegativeInteger,
    XSD.nonPositiveInteger, XSD.positiveInteger, XSD.negativeInteger, XSD.unsignedLong, XSD.unsignedInt,
    XSD.unsignedShort, XSD.unsignedByte,
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})",
    SH.BlankNodeOrLiteral: "!isIRI({v})",
    SH.IRIOrLiteral: "!isBlank({v})",
}

# The lexical spaces (XSD 1.1) of the datatypes pyshacl checks for ill-typed literals; see the module's notes.
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_LEAP_YEAR = r"-?([0-9]*([02468][048]|[13579][26])00|[0-9]*[0-9]{2}(0[48]|[2468][048]|[13579][26]))"
_MONTH_DAY = r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
_ZONE = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DATE = rf"({_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_INTEGER = r"[+-]?[0-9]+"
_LEXICAL = {
    XSD.boolean: r"true|false|1|0",
    XSD.decimal: _DECIMAL,
    XSD.integer: _INTEGER,
    XSD.nonPositiveInteger: r"-[0-9]+|[+-]?0+",
    XSD.negativeInteger: r"-0*[1-9][0-9]*",
    XSD.nonNegativeInteger: r"\+?[0-9]+|-0+",
    XSD.positiveInteger: r"\+?0*[1-9][0-9]*",
    XSD.long: _INTEGER, XSD.int: _INTEGER, XSD.short: _INTEGER, XSD.byte: _INTEGER,
    XSD.unsignedLong: r"\+?[0-9]+|-0+", XSD.unsignedInt: r"\+?[0-9]+|-0+",
    XSD.unsignedShort: r"\+?[0-9]+|-0+", XSD.unsignedByte: r"\+?[0-9]+|-0+",
    XSD.double: rf"({_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)",
    XSD.float: rf"({_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)",
    XSD.date: _DATE + _ZONE,
    XSD.dateTime: rf"{_DATE}T{_TIME}{_ZONE}",
    XSD.time: _TIME + _ZONE,
    XSD.hexBinary: r"([0-9a-fA-F]{2})*",
}
_RANGES = {
    XSD.long: (-(2**63), 2**63 - 1), XSD.int: (-(2**31), 2**31 - 1), XSD.short: (-32768, 32767),
    XSD.byte: (-128, 127), XSD.unsignedLong: (0, 2**64 - 1), XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 65535), XSD.unsignedByte: (0, 255),
}
# XPath regular expressions have no look-ahead, so "at least one part" is spelled out.
_LEXICAL[XSD.duration] = (
    r"-?P(([0-9]+Y([0-9]+M)?([0-9]+D)?|[0-9]+M([0-9]+D)?|[0-9]+D)(T([0-9]+H([0-9]+M)?([0-9]+(\.[0-9]+)?S)?"
    r"|[0-9]+M([0-9]+(\.[0-9]+)?S)?|[0-9]+(\.[0-9]+)?S))?|T([0-9]+H([0-9]+M)?([0-9]+(\.[0-9]+)?S)?"
    r"|[0-9]+M([0-9]+(\.[0-9]+)?S)?|[0-9]+(\.[0-9]+)?S))"
)
_LEXICAL[XSD.base64Binary] = (
    r"(([A-Za-z0-9+/] ?){4})*(([A-Za-z0-9+/] ?){3}[A-Za-z0-9+/]|([A-Za-z0-9+/] ?){2}[AEIMQUYcgkosw048] ?="
    r"|[A-Za-z0-9+/] ?[AQgw] ?= ?=)?"
)


def compile_shapes(shapes: Graph) -> Plan:
    """The SPARQL queries that validate data against `shapes`; raises UnsupportedShape for SHACL it cannot compile."""
    compiler = _Compiler(shapes)
    queries = tuple(compiler.compile())
    return Plan(queries, shapes, tuple(compiler.classes))


def _classes_apart(targets: frozenset) -> tuple[list[str], list[tuple]]:
    """The classes among `targets`, whose instances are matched together (_Compiler.instance_of), and the other
    targets, each sorted."""
    classes = sorted(target[1] for target in targets if target[0] == "class")
    return classes, [target for target in sorted(targets, key=str) if target[0] != "class"]


class _Compiler:
    def __init__(self, shapes: Graph):
        self.g = shapes
        self._fresh = itertools.count()
        self.classes: list[str] = []  # IRIs of the classes instance_of matched, each marker's number its index
        self.custom = self._custom_parameters()
        self.class_types = {RDFS.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)}  # implicit targets, as pyshacl

    # --- which shapes are validated, on which focus nodes ---

    def compile(self) -> list[CompiledQuery]:
        queries: list[CompiledQuery] = []
        minimums: dict[frozenset, list[tuple[Test, str]]] = {}  # focus nodes -> (test, its count expression)
        for shape in self._validated_shapes():
            queries += self._compile_shape(shape, minimums)
        for targets, tests in sorted(minimums.items(), key=lambda item: str(item[1][0][0].source.shape)):
            queries.append(self._minimum_query(targets, tests))
        return queries

    def _targeted(self, shape: Node) -> bool:
        return any(self.g.value(shape, p) is not None for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                                                                  SH.targetObjectsOf)) or self._implicit_class(shape)

    def _implicit_class(self, shape: Node) -> bool:
        return isinstance(shape, URIRef) and any(t in self.class_types for t in self.g.objects(shape, RDF.type))

    def _shapes(self) -> list[Node]:
        found: set[Node] = set()
        for kind in (SH.NodeShape, SH.PropertyShape):
            found.update(self.g.subjects(RDF.type, kind))
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            found.update(self.g.subjects(p, None))
        found.update(self.g.objects(None, SH.property))
        return sorted(found, key=_sort_key)

    def _validated_shapes(self) -> list[Node]:
        """Shapes with targets, and the property shapes under them (sh:property), each once, in a stable order."""
        shapes = self._shapes()
        for shape in shapes:
            if self.g.value(shape, SH.target) is not None:
                raise UnsupportedShape(f"{self.name(shape)} uses sh:target (SHACL-SPARQL or custom targets): not supported")
        validated = [s for s in shapes if self._targeted(s) and not self._deactivated(s)]
        seen = set(validated)
        todo = list(validated)
        while todo:
            shape = todo.pop()
            for child in sorted(self.g.objects(shape, SH.property), key=_sort_key):
                if child not in seen and not self._deactivated(child):
                    seen.add(child)
                    validated.append(child)
                    todo.append(child)
        return sorted(validated, key=_sort_key)

    def _targets(self, shape: Node, stack: tuple = ()) -> frozenset:
        """What selects the focus nodes of `shape`: ("class", C), ("node", n), ("subjects", p), ("objects", p), or
        ("values", path, targets of the parent property shape) for a shape under a property shape."""
        if shape in stack:
            raise UnsupportedShape(f"{self.name(shape)} is its own ancestor through sh:property: not supported")
        if self._deactivated(shape):
            return frozenset()
        found = {("class", self.iri(c, shape)) for c in self.g.objects(shape, SH.targetClass)}
        if self._implicit_class(shape):
            found.add(("class", self.iri(shape, shape)))
        found |= {("node", self.term(n, shape)) for n in self.g.objects(shape, SH.targetNode)}
        found |= {("subjects", self.iri(p, shape)) for p in self.g.objects(shape, SH.targetSubjectsOf)}
        found |= {("objects", self.iri(p, shape)) for p in self.g.objects(shape, SH.targetObjectsOf)}
        for parent in self.g.subjects(SH.property, shape):
            if self.g.value(parent, SH.path) is None:  # a node shape: its focus nodes are this shape's
                found |= self._targets(parent, stack + (shape,))
            else:  # a property shape: its values are
                inner = self._targets(parent, stack + (shape,))
                if inner:
                    found.add(("values", self.path(parent)[0], inner))
        return frozenset(found)

    def _generate(self, targets: frozenset, var: str = "?this") -> str:
        """A group binding `var` to each focus node once."""
        classes, others = _classes_apart(targets)
        parts = [self.instance_of(var, classes)] if classes else []
        for target in others:
            kind = target[0]
            if kind == "node":
                parts.append(f"VALUES {var} {{ {target[1]} }}")
            elif kind == "subjects":
                parts.append(f"{var} {target[1]} [] .")
            elif kind == "objects":
                parts.append(f"[] {target[1]} {var} .")
            else:
                f = self.var("f")
                parts.append(f"{self._generate(target[2], f)} {f} {target[1]} {var} .")
        union = " UNION ".join(f"{{ {p} }}" for p in parts)
        return f"{{ SELECT DISTINCT {var} WHERE {{ {union} }} }}"

    def _member(self, targets: frozenset, var: str = "?this") -> str:
        """A condition true when the node `var` is a focus node: for queries that find failing values first."""
        classes, others = _classes_apart(targets)
        parts = [f"EXISTS {{ {self.instance_of(var, classes)} }}"] if classes else []
        for target in others:
            kind = target[0]
            if kind == "node":
                parts.append(f"sameTerm({var}, {target[1]})")
            elif kind == "subjects":
                parts.append(f"EXISTS {{ {var} {target[1]} [] }}")
            elif kind == "objects":
                parts.append(f"EXISTS {{ [] {target[1]} {var} }}")
            else:
                f = self.var("f")
                parts.append(f"EXISTS {{ {f} {target[1]} {var} FILTER ({self._member(target[2], f)}) }}")
        return " || ".join(parts)

    # --- one shape ---

    def _compile_shape(self, shape: Node, minimums: dict) -> list[CompiledQuery]:
        """The queries of one shape. Most find failing values first and only then ask whether their subject is a
        focus node (`member`): Oxigraph answers that several times faster than walking all focus nodes, since
        failures are few. What needs every focus node (minimums, node shapes, SPARQL) starts from them."""
        targets = self._targets(shape)
        if not targets:
            return []
        self._check_parameters(shape)
        is_property = self.g.value(shape, SH.path) is not None
        for parameter in (SH.minCount, SH.maxCount, SH.uniqueLang, SH.qualifiedValueShape):
            if not is_property and self.g.value(shape, parameter) is not None:
                raise UnsupportedShape(f"{self.name(shape)} is a node shape with {self.qname(parameter)}, which only a property shape can have")
        path, result_path = self.path(shape) if is_property else ("", None)
        source = Source(
            shape,
            result_path,
            self.g.value(shape, SH.severity) or SH.Violation,
            tuple(sorted(m for m in self.g.objects(shape, SH.message) if isinstance(m, Literal))),
        )
        member = self._member(targets)
        # Property shapes: failing values first, their subjects then kept if focus nodes. Node shapes: the focus.
        values = f"?this {path} ?value ." if is_property else f"{self._generate(targets)}\n  BIND (?this AS ?value)"
        keep = (lambda text: _only_focus(text, member)) if is_property else (lambda text: text)
        queries = []

        # sh:class as MINUS, the instances found once for all values: an EXISTS per value was ten times slower.
        for c in self.g.objects(shape, SH["class"]):
            test = Test(source, SH.ClassConstraintComponent, f"Value does not have class {self.show(c)}")
            text = f"SELECT ?this ?value WHERE {{\n  {values}\n  MINUS {{ {self.instance_of('?value', [self.iri(c, shape)])} }}\n}}"
            queries.append(CompiledQuery("rows", keep(text), (test,), reports_value=True))

        conditions = self._value_conditions(shape, "?value", (shape,), classes=False)
        if not is_property:  # the focus node is not the value asked for: a result without sh:value
            for h in self.g.objects(shape, SH.hasValue):
                test = Test(source, SH.HasValueConstraintComponent, f"Node is not {self.show(h)}")
                text = f"SELECT ?this WHERE {{\n  {self._generate(targets)}\n  FILTER (!sameTerm(?this, {self.term(h, shape)}))\n}}"
                queries.append(CompiledQuery("rows", text, (test,)))
        if conditions:
            tests = [Test(source, component, message, f"ok{i}") for i, (_, component, message) in enumerate(conditions)]
            failing = " || ".join(f"!COALESCE({expr}, false)" for expr, _, _ in conditions)
            columns = [(f"ok{i}", f"COALESCE({expr}, false)") for i, (expr, _, _) in enumerate(conditions)]
            text = _columns_after(["?this", "?value"], values, failing, columns)
            queries.append(CompiledQuery("values", keep(text), tuple(tests)))

        if is_property:
            v = "?_value"  # inside EXISTS and subqueries only, so one name serves every test
            for condition, op, bound, component, message in self._counts(shape):
                if op == "min":
                    test = Test(source, component, message, bound=bound, op="min")
                    minimums.setdefault(targets, []).append((test, self._count(path, v, condition, bound)))
                else:
                    test = Test(source, component, message)
                    queries.append(CompiledQuery("rows", self._maximum_query(path, condition, bound, member), (test,)))
            if self._true(shape, SH.uniqueLang):
                text = (f"SELECT DISTINCT ?this WHERE {{\n  ?this {path} ?a . ?this {path} ?b .\n"
                        f"  FILTER (isLiteral(?a) && isLiteral(?b) && LANG(?a) != \"\" && !sameTerm(?a, ?b) "
                        f"&& LCASE(LANG(?a)) = LCASE(LANG(?b)))\n}}")
                text = _only_focus(text, member)
                test = Test(source, SH.UniqueLangConstraintComponent, "More than one String shares the same Language")
                queries.append(CompiledQuery("rows", text, (test,)))

        for constraint in sorted(self.g.objects(shape, SH.sparql), key=_sort_key):
            query = self._sparql(shape, constraint, self._generate(targets), path, source)
            if query is not None:
                queries.append(query)
        return queries

    def _count(self, path: str, v: str, condition, bound: int) -> tuple[str, str, str]:
        """How to count the focus node's values (meeting `condition`): (a pattern joined to the focus nodes, or "";
        the condition true when there are fewer than `bound`; the count as the column's expression), ?COUNTED naming
        a count subquery's count. EXISTS when the bound is 1 (Oxigraph answers it from its indexes), a count
        subquery otherwise."""
        where = f"?this {path} {v}" + (f" FILTER ({condition(v)})" if condition else "")
        if bound == 1:
            return "", f"NOT EXISTS {{ {where} }}", f"IF(EXISTS {{ {where} }}, 1, 0)"
        return (f"OPTIONAL {{ SELECT ?this (COUNT(DISTINCT {v}) AS ?COUNTED) WHERE {{ {where} }} GROUP BY ?this }}",
                f"COALESCE(?COUNTED, 0) < {bound}", "COALESCE(?COUNTED, 0)")

    def _minimum_query(self, targets: frozenset, tests: list[tuple[Test, tuple[str, str, str]]]) -> CompiledQuery:
        """One query for every minimum on the same focus nodes: they are walked once for all of them. The failing
        focus nodes are found first, in a subquery, and their counts bound after it (_columns_after)."""
        parts, failing, columns, counted, named = [self._generate(targets)], [], [], [], []
        for i, (test, (pattern, fails, column)) in enumerate(tests):
            # each test's own variables: two count subqueries sharing a name would be joined on it
            own = lambda text: text.replace("?COUNTED", f"?n{i}")  # noqa: E731
            if pattern:
                parts.append(own(pattern))
                counted.append(f"?n{i}")
            failing.append(own(fails))
            columns.append((f"c{i}", own(column)))
            named.append(Test(test.source, test.component, test.generic_message, f"c{i}", test.op, test.bound))
        text = _columns_after(["?this"], "\n    ".join(parts), " || ".join(failing), columns, counted)
        return CompiledQuery("counts", text, tuple(named))

    def _maximum_query(self, path: str, condition, bound: int, member: str) -> str:
        """The focus nodes with more than `bound` values (meeting `condition`): from the values, then the focus."""
        if bound == 0:
            where = f"?this {path} ?a ." + (f"\n  FILTER ({condition('?a')})" if condition else "")
        elif bound == 1:  # two different values: a self-join, cheaper than counting every subject's values
            test = "!sameTerm(?a, ?b)" + (f" && ({condition('?a')}) && ({condition('?b')})" if condition else "")
            where = f"?this {path} ?a . ?this {path} ?b .\n  FILTER ({test})"
        else:
            inner = f"?this {path} ?a" + (f" FILTER ({condition('?a')})" if condition else "")
            where = f"{{ SELECT ?this WHERE {{ {inner} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?a) > {bound}) }}"
        return _only_focus(f"SELECT DISTINCT ?this WHERE {{\n  {where}\n}}", member)

    def _check_parameters(self, shape: Node) -> None:
        for p in set(self.g.predicates(shape, None)):
            if p in self.custom:
                raise UnsupportedShape(f"{self.name(shape)} uses the custom constraint component {self.name(self.custom[p])} "
                                       f"(parameter {self.qname(p)}): not supported")
            if str(p).startswith(str(SH)) and p not in _NOT_CONSTRAINTS and p not in _SHAPE_PARAMETERS:
                raise UnsupportedShape(f"{self.name(shape)} uses {self.qname(p)}, a constraint this compiler does not support")

    def _value_conditions(self, shape: Node, v: str, stack: tuple, classes: bool = True) -> list[tuple[str, URIRef, str]]:
        """(SPARQL condition on the value `v`, component, generic message) for each value-node constraint of `shape`
        (but sh:class when `classes` is false)."""
        g, out = self.g, []
        for c in g.objects(shape, SH["class"]) if classes else ():
            out.append((f"EXISTS {{ {self.instance_of(v, [self.iri(c, shape)])} }}", SH.ClassConstraintComponent,
                        f"Value does not have class {self.show(c)}"))
        datatypes = list(g.objects(shape, SH.datatype))
        if len(datatypes) > 1:
            raise UnsupportedShape(f"{self.name(shape)} has {len(datatypes)} sh:datatype values; SHACL allows one")
        for d in datatypes:
            out.append((self._datatype(d, v, shape), SH.DatatypeConstraintComponent, f"Value is not Literal with datatype {self.show(d)}"))
        for k in g.objects(shape, SH.nodeKind):
            if k not in _NODE_KINDS:
                raise UnsupportedShape(f"{self.name(shape)}: sh:nodeKind {self.show(k)} is not a SHACL node kind")
            out.append((_NODE_KINDS[k].format(v=v), SH.NodeKindConstraintComponent, f"Value is not of Node Kind {self.show(k)}"))
        flags = g.value(shape, SH.flags)
        for pattern in g.objects(shape, SH.pattern):
            out.append((self._pattern(pattern, flags, v, shape), SH.PatternConstraintComponent,
                        f"Value does not match pattern '{pattern}'"))
        for languages in g.objects(shape, SH.languageIn):
            tags = self.items(languages, shape, SH.languageIn)
            if not all(isinstance(t, Literal) for t in tags):
                raise UnsupportedShape(f"{self.name(shape)}: sh:languageIn must list strings")
            matches = " || ".join(f"langMatches(LANG({v}), {_string(str(t))})" for t in tags) or "false"
            out.append((f"(isLiteral({v}) && ({matches}))", SH.LanguageInConstraintComponent,
                        f"String language is not in {self.show_list(tags)}"))
        for parameter, op in _COMPARISONS.items():
            for bound in g.objects(shape, parameter):
                name = parameter.split("#")[-1]
                component = SH[name[0].upper() + name[1:] + "ConstraintComponent"]
                out.append((self._comparison(v, op, bound, shape), component, f"Value is not {op} {self.show(bound)}"))
        for parameter, op, component in ((SH.minLength, ">=", SH.MinLengthConstraintComponent),
                                         (SH.maxLength, "<=", SH.MaxLengthConstraintComponent)):
            for n in g.objects(shape, parameter):
                out.append((f"(!isBlank({v}) && STRLEN(STR({v})) {op} {self.integer(n, shape, parameter)})", component,
                            f"String length not {op} {n}"))
        for listed in g.objects(shape, SH["in"]):
            members = self.items(listed, shape, SH["in"])
            expr = " || ".join(f"sameTerm({v}, {self.term(m, shape)})" for m in members) or "false"
            out.append((f"({expr})", SH.InConstraintComponent, f"Value not in list {self.show_list(members)}"))
        for parameter, component, join, verb in (
            (SH["or"], SH.OrConstraintComponent, " || ", "one or more shapes in"),
            (SH["and"], SH.AndConstraintComponent, " && ", "all shapes in"),
        ):
            for listed in g.objects(shape, parameter):
                members = self.items(listed, shape, parameter)
                inner = join.join(f"({self._conforms(m, v, stack)})" for m in members) or ("false" if join == " || " else "true")
                out.append((f"({inner})", component, f"Node must conform to {verb} {self.show_list(members)}"))
        for listed in g.objects(shape, SH.xone):
            members = self.items(listed, shape, SH.xone)
            ones = " + ".join(f"IF({self._conforms(m, v, stack)}, 1, 0)" for m in members) or "0"
            out.append((f"({ones} = 1)", SH.XoneConstraintComponent, f"Node must conform to exactly one shape in {self.show_list(members)}"))
        for negated in g.objects(shape, SH["not"]):
            out.append((f"!({self._conforms(negated, v, stack)})", SH.NotConstraintComponent,
                        f"Node must not conform to shape {self.show(negated)}"))
        for node in g.objects(shape, SH.node):
            out.append((f"({self._conforms(node, v, stack)})", SH.NodeConstraintComponent,
                        f"Value does not conform to Shape {self.show(node)}."))
        return out

    def _counts(self, shape: Node) -> list[tuple[Callable[[str], str] | None, str, int, URIRef, str]]:
        """(condition on a value, as a function of its variable; "min" or "max"; bound; component; generic message)
        for each test on how many values a focus node has."""
        g, out = self.g, []
        for n in g.objects(shape, SH.minCount):
            bound = self.integer(n, shape, SH.minCount)
            if bound > 0:
                out.append((None, "min", bound, SH.MinCountConstraintComponent, f"Less than {bound} values"))
        for n in g.objects(shape, SH.maxCount):
            bound = self.integer(n, shape, SH.maxCount)
            out.append((None, "max", bound, SH.MaxCountConstraintComponent, f"More than {bound} values"))
        siblings = self._siblings(shape) if self._true(shape, SH.qualifiedValueShapesDisjoint) else []
        for qualified in sorted(g.objects(shape, SH.qualifiedValueShape), key=_sort_key):
            others = [s for s in siblings if s != qualified]

            def condition(v: str, qualified=qualified, others=others) -> str:
                conforms = self._conforms(qualified, v, (shape,))
                if others:
                    excluded = " || ".join(f"({self._conforms(s, v, (shape,))})" for s in others)
                    conforms = f"({conforms}) && !({excluded})"
                return f"COALESCE({conforms}, false)"

            condition("?_check")  # an unsupported nested shape fails here, at compile time
            low, high = g.value(shape, SH.qualifiedMinCount), g.value(shape, SH.qualifiedMaxCount)
            if low is None and high is None:
                raise UnsupportedShape(f"{self.name(shape)} has sh:qualifiedValueShape without sh:qualifiedMinCount or sh:qualifiedMaxCount")
            if low is not None and self.integer(low, shape, SH.qualifiedMinCount) > 0:
                bound = self.integer(low, shape, SH.qualifiedMinCount)
                out.append((condition, "min", bound, SH.QualifiedMinCountConstraintComponent,
                            f"Focus node does not conform to shape MinCount {bound}: {self.show(qualified)}"))
            if high is not None:
                bound = self.integer(high, shape, SH.qualifiedMaxCount)
                out.append((condition, "max", bound, SH.QualifiedMaxCountConstraintComponent,
                            f"Focus node does not conform to shape MaxCount {bound}: {self.show(qualified)}"))
        for h in g.objects(shape, SH.hasValue):
            out.append((lambda v, h=h: f"sameTerm({v}, {self.term(h, shape)})", "min", 1, SH.HasValueConstraintComponent,
                        f"Node does not contain a value in the set: {self.show(h)}"))
        return out

    def _siblings(self, shape: Node) -> list[Node]:
        """The qualified value shapes of the property shapes beside `shape` (sh:qualifiedValueShapesDisjoint)."""
        found = set()
        for parent in self.g.subjects(SH.property, shape):
            for sibling in self.g.objects(parent, SH.property):
                found.update(self.g.objects(sibling, SH.qualifiedValueShape))
        return sorted(found, key=_sort_key)

    def _conforms(self, shape: Node, v: str, stack: tuple) -> str:
        """A SPARQL condition, never an error, true when the node `v` conforms to the nested shape `shape`."""
        if shape in stack:
            raise UnsupportedShape(f"{self.name(shape)} refers to itself (recursive shapes are undefined in SHACL)")
        if self._deactivated(shape):
            return "true"
        self._check_parameters(shape)
        stack = stack + (shape,)
        for parameter in (SH.uniqueLang, SH.sparql, SH.qualifiedValueShape):
            if self.g.value(shape, parameter) is not None:
                raise UnsupportedShape(f"{self.name(shape)}: {self.qname(parameter)} inside a nested shape (sh:or, sh:node, ...) is not supported")
        parts = []
        if self.g.value(shape, SH.path) is not None:
            parts += self._nested_property(shape, v, stack)
        else:
            for parameter in (SH.minCount, SH.maxCount):
                if self.g.value(shape, parameter) is not None:
                    raise UnsupportedShape(f"{self.name(shape)} is a node shape with {self.qname(parameter)}")
            parts += [f"COALESCE({expr}, false)" for expr, _, _ in self._value_conditions(shape, v, stack)]
            parts += [f"sameTerm({v}, {self.term(h, shape)})" for h in self.g.objects(shape, SH.hasValue)]
        for child in sorted(self.g.objects(shape, SH.property), key=_sort_key):
            parts.append(f"({self._conforms(child, v, stack)})")
        return " && ".join(parts) or "true"

    def _nested_property(self, shape: Node, v: str, stack: tuple) -> list[str]:
        """The property shape `shape` applied to the node `v` as a condition (inside sh:or, sh:node, ...)."""
        path = self.path(shape)[0]
        y = self.var("y")
        parts = []
        conditions = self._value_conditions(shape, y, stack)
        if conditions:
            ok = " && ".join(f"COALESCE({expr}, false)" for expr, _, _ in conditions)
            parts.append(f"NOT EXISTS {{ {v} {path} {y} FILTER (!({ok})) }}")
        for n in self.g.objects(shape, SH.minCount):
            bound = self.integer(n, shape, SH.minCount)
            if bound > 1:
                raise UnsupportedShape(f"{self.name(shape)}: sh:minCount above 1 in a nested shape is not supported")
            if bound == 1:
                parts.append(f"EXISTS {{ {v} {path} [] }}")
        for n in self.g.objects(shape, SH.maxCount):
            if self.integer(n, shape, SH.maxCount) != 0:
                raise UnsupportedShape(f"{self.name(shape)}: sh:maxCount above 0 in a nested shape is not supported")
            parts.append(f"NOT EXISTS {{ {v} {path} [] }}")
        parts += [f"EXISTS {{ {v} {path} {self.term(h, shape)} }}" for h in self.g.objects(shape, SH.hasValue)]
        return parts

    def _comparison(self, v: str, op: str, bound: Node, shape: Node) -> str:
        """`v op bound` where SPARQL defines it, false elsewhere (a string against a number): said outright, since
        Virtuoso compares values of any two types ("EUR 710,000" > 0 is true there) where SPARQL raises an error."""
        term = self.term(bound, shape)
        if isinstance(bound, Literal) and bound.datatype in _NUMERIC_TYPES:
            return f"(isNumeric({v}) && {v} {op} {term})"
        if isinstance(bound, Literal):
            return f"(isLiteral({v}) && DATATYPE({v}) = DATATYPE({term}) && {v} {op} {term})"
        return f"({v} {op} {term})"

    def _datatype(self, datatype: Node, v: str, shape: Node) -> str:
        if not isinstance(datatype, URIRef):
            raise UnsupportedShape(f"{self.name(shape)}: sh:datatype must be an IRI")
        if datatype == RDFS.Literal:  # as pyshacl: every literal is an rdfs:Literal
            return f"isLiteral({v})"
        expr = f"isLiteral({v}) && DATATYPE({v}) = {self.iri(datatype, shape)}"
        if datatype in _LEXICAL:
            expr += f" && REGEX(STR({v}), {_string('^(' + _LEXICAL[datatype] + ')$')})"
        if datatype in _RANGES:
            low, high = _RANGES[datatype]
            expr += f" && <{XSD.integer}>(STR({v})) >= {low} && <{XSD.integer}>(STR({v})) <= {high}"
        return f"({expr})"

    def _pattern(self, pattern: Node, flags: Node | None, v: str, shape: Node) -> str:
        if not isinstance(pattern, Literal):
            raise UnsupportedShape(f"{self.name(shape)}: sh:pattern must be a string")
        flag_text = str(flags) if flags is not None else ""
        if set(flag_text) - set("smixq"):
            raise UnsupportedShape(f"{self.name(shape)}: sh:flags {flag_text!r} has flags SPARQL REGEX does not know")
        try:
            re.compile(str(pattern))
        except re.error as e:
            raise UnsupportedShape(f"{self.name(shape)}: sh:pattern {str(pattern)!r} is not a regular expression ({e})") from None
        args = _string(str(pattern)) + (f", {_string(flag_text)}" if flag_text else "")
        return f"(!isBlank({v}) && REGEX(STR({v}), {args}))"

    # --- SHACL-SPARQL ---

    def _sparql(self, shape: Node, constraint: Node, focus: str, path_text: str, source: Source) -> CompiledQuery | None:
        g = self.g
        if self._deactivated(constraint):
            return None
        where = f"{self.name(shape)}'s SPARQL constraint {self.name(constraint)}"
        if g.value(constraint, SH.ask) is not None:
            raise UnsupportedShape(f"{where} uses sh:ask, which SHACL does not allow in a constraint")
        selects = list(g.objects(constraint, SH.select))
        if len(selects) != 1 or not isinstance(selects[0], Literal):
            raise UnsupportedShape(f"{where} needs exactly one sh:select string")
        body = str(selects[0])
        for name in ("shapesGraph", "currentShape"):
            if _mentions(body, name):
                raise UnsupportedShape(f"{where} uses ${name}, which is not supported")
        if _mentions(body, "PATH"):
            if not path_text:
                raise UnsupportedShape(f"{where} uses $PATH on a node shape, which has no path")
            body = _substitute_path(body, path_text)
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(self._prefixes(constraint, where).items()))
        variables = _check_select(prologue + body, where)
        text = prologue + _insert_focus(body, focus, where)
        messages = tuple(sorted(m for m in g.objects(constraint, SH.message) if isinstance(m, Literal)))
        source = Source(source.shape, source.path, source.severity, messages + source.messages, constraint)
        test = Test(source, SH.SPARQLConstraintComponent, f"Validation of the SPARQL constraint {self.show(constraint)} failed")
        return CompiledQuery("sparql", text, (test,), variables=variables)

    def _prefixes(self, constraint: Node, where: str) -> dict[str, str]:
        """The prefixes sh:prefixes points to: their sh:declare values, following owl:imports in the shapes graph."""
        found: dict[str, str] = {}
        todo, seen = list(self.g.objects(constraint, SH.prefixes)), set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo += list(self.g.objects(node, OWL.imports))
            for declaration in self.g.objects(node, SH.declare):
                prefix, namespace = self.g.value(declaration, SH.prefix), self.g.value(declaration, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShape(f"{where}: a sh:declare of {self.name(node)} lacks sh:prefix or sh:namespace")
                if found.get(str(prefix), str(namespace)) != str(namespace):
                    raise UnsupportedShape(f"{where}: the prefix {prefix}: is declared twice, differently")
                found[str(prefix)] = str(namespace)
        return found

    # --- terms, names, small helpers ---

    def instance_of(self, node: str, classes: list[str]) -> str:
        """A group matching when `node` is a SHACL instance of one of `classes` (IRIs as written in SPARQL): its type
        among them and their subclasses, a marker standing for each class until run() knows its subclasses."""
        marks = []
        for cls in classes:
            iri = cls[1:-1]
            if iri not in self.classes:
                self.classes.append(iri)
            marks.append(f"<{_CLASSES}{self.classes.index(iri)}>")
        t = self.var("t")
        return f"{{ VALUES {t} {{ {' '.join(marks)} }} {node} <{RDF.type}> {t} }}"

    def var(self, stem: str) -> str:
        return f"?_{stem}{next(self._fresh)}"

    def path(self, shape: Node) -> tuple[str, ResultPath]:
        paths = list(self.g.objects(shape, SH.path))
        if len(paths) != 1:
            raise UnsupportedShape(f"{self.name(shape)} has {len(paths)} sh:path values; a property shape has one")
        path = paths[0]
        if isinstance(path, URIRef):
            return self.iri(path, shape), ResultPath(path)
        inverse = self.g.value(path, SH.inversePath)
        if isinstance(path, BNode) and isinstance(inverse, URIRef) and len(set(self.g.predicate_objects(path))) == 1:
            return "^" + self.iri(inverse, shape), ResultPath(inverse, inverse=True)
        raise UnsupportedShape(f"{self.name(shape)}: only an IRI or sh:inversePath of an IRI is supported as sh:path, "
                               f"not {self._describe_path(path)}")

    def _describe_path(self, path: Node) -> str:
        if isinstance(path, BNode):
            predicates = sorted(self.qname(p) for p in set(self.g.predicates(path, None)))
            if RDF.first in set(self.g.predicates(path, None)):
                return "a sequence path (an RDF list)"
            return "a path with " + ", ".join(predicates)
        return self.show(path)

    def iri(self, node: Node, shape: Node) -> str:
        if not isinstance(node, URIRef):
            raise UnsupportedShape(f"{self.name(shape)}: expected an IRI, found {self.show(node)}")
        if re.search(r'[\x00-\x20<>"{}|^`\\]', str(node)):
            raise UnsupportedShape(f"{self.name(shape)}: the IRI {str(node)!r} cannot be written in SPARQL")
        return f"<{node}>"

    def term(self, node: Node, shape: Node) -> str:
        if isinstance(node, URIRef):
            return self.iri(node, shape)
        if isinstance(node, Literal):
            text = _string(str(node))
            if node.language:
                return f"{text}@{node.language}"
            if node.datatype is not None and node.datatype != XSD.string:
                return f"{text}^^{self.iri(node.datatype, shape)}"
            return text
        raise UnsupportedShape(f"{self.name(shape)}: a blank node cannot be named in a query ({self.show(node)})")

    def integer(self, node: Node, shape: Node, parameter: URIRef) -> int:
        try:
            value = int(str(node))
        except ValueError:
            value = -1
        if not isinstance(node, Literal) or value < 0:
            raise UnsupportedShape(f"{self.name(shape)}: {self.qname(parameter)} must be a non-negative integer, not {self.show(node)}")
        return value

    def items(self, node: Node, shape: Node, parameter: URIRef) -> list[Node]:
        if node == RDF.nil:
            return []
        if self.g.value(node, RDF.first) is None:
            raise UnsupportedShape(f"{self.name(shape)}: {self.qname(parameter)} must be an RDF list")
        return list(Collection(self.g, node))

    def _deactivated(self, node: Node) -> bool:
        return self._true(node, SH.deactivated)

    def _true(self, node: Node, parameter: URIRef) -> bool:
        value = self.g.value(node, parameter)
        return isinstance(value, Literal) and value.value is True

    def _custom_parameters(self) -> dict[Node, Node]:
        """Parameter predicate -> the custom sh:ConstraintComponent that declares it."""
        found = {}
        for component in self.g.subjects(RDF.type, SH.ConstraintComponent):
            for parameter in self.g.objects(component, SH.parameter):
                path = self.g.value(parameter, SH.path)
                if path is not None:
                    found[path] = component
        return found

    def qname(self, node: Node) -> str:
        try:
            return self.g.namespace_manager.normalizeUri(node)
        except Exception:
            return f"<{node}>"

    def show(self, node: Node) -> str:
        if isinstance(node, URIRef):
            return self.qname(node)
        if isinstance(node, BNode):
            return "[" + " ; ".join(f"{self.qname(p)} {self.show(o)}" for p, o in sorted(self.g.predicate_objects(node))) + "]"
        return node.n3(self.g.namespace_manager) if isinstance(node, Literal) else str(node)

    def show_list(self, nodes: list[Node]) -> str:
        return "(" + " ".join(self.show(n) for n in nodes) + ")"

    def name(self, node: Node) -> str:
        """How an error names a shape: its IRI, or for a blank node the named shape it hangs under."""
        if isinstance(node, URIRef):
            return self.qname(node)
        for owner, parameter in self.g.subject_predicates(node):
            return f"a blank node under {self.name(owner)} {self.qname(parameter)}"
        for holder in self.g.subjects(RDF.first, node):  # a member of a list (sh:or, sh:in, ...)
            head = holder
            while True:
                previous = next(self.g.subjects(RDF.rest, head), None)
                if previous is None:
                    break
                head = previous
            for owner, parameter in self.g.subject_predicates(head):
                return f"a member of {self.name(owner)} {self.qname(parameter)}"
        return "a blank node shape"


def _columns_after(variables: list[str], pattern: str, failing: str, columns: list[tuple[str, str]],
                   carried: list[str] = ()) -> str:
    """A SELECT of `variables` and one column per (name, expression): the rows of `pattern` where `failing` holds,
    found in a subquery (which also projects the `carried` variables the columns read), each column bound after it,
    for those rows only. The filter does not read the columns: on Virtuoso a variable bound to an expression holding
    EXISTS comes back with another value than the one a FILTER of the same group saw (IF(EXISTS {…}, 1, 0) filtered
    as 0, answered as 1; kg.store.dialect)."""
    names = " ".join(f"?{name}" for name, _ in columns)
    binds = "".join(f"\n  BIND ({expression} AS ?{name})" for name, expression in columns)
    inner = " ".join([*variables, *carried])
    return (f"SELECT {' '.join(variables)} {names} WHERE {{\n"
            f"  {{ SELECT {inner} WHERE {{\n    {pattern}\n    FILTER ({failing})\n  }} }}{binds}\n}}")


def _only_focus(select: str, member: str) -> str:
    """`select` (candidate failures) keeping only the rows whose ?this is a focus node.

    The candidates are a subquery so that the focus test runs on them alone: written as one FILTER in the same
    group, Oxigraph turned its EXISTS into a join over every row (ten to a hundred times slower).
    """
    return f"SELECT * WHERE {{\n  {{ {select} }}\n  FILTER ({member})\n}}"


def _sort_key(node: Node) -> tuple[int, str]:
    return (isinstance(node, BNode), str(node))


def _string(text: str) -> str:
    """A SPARQL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


#################################################################
# SHACL-SPARQL query text
#################################################################

# What is not code in a query: strings, IRIs and comments. Braces and variables inside them are not the query's.
_NOT_CODE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''" r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>' r"|#[^\n]*",
    re.S,
)


def _segments(text: str) -> list[tuple[bool, str]]:
    """The query cut into (is_code, text) pieces."""
    out, at = [], 0
    for m in _NOT_CODE.finditer(text):
        if m.start() > at:
            out.append((True, text[at:m.start()]))
        out.append((False, m.group()))
        at = m.end()
    if at < len(text):
        out.append((True, text[at:]))
    return out


def _mentions(text: str, name: str) -> bool:
    return any(code and re.search(rf"[?$]{name}\b", piece) for code, piece in _segments(text))


def _substitute_path(text: str, path: str) -> str:
    return "".join(re.sub(r"[?$]PATH\b", lambda _: path, piece) if code else piece for code, piece in _segments(text))


def _insert_focus(text: str, focus: str, where: str) -> str:
    """The query with the focus nodes bound first in its WHERE clause: `$this` pre-bound to each at once.

    Joining them in at the start (rather than around the query) keeps the meaning of a FILTER NOT EXISTS or
    OPTIONAL that uses $this without binding it. SHACL's own restrictions on these queries (no MINUS, VALUES or
    SERVICE; subqueries project $this; checked by _check_select) make that the same as pre-binding.
    """
    out, depth = [], 0
    segments = _segments(text)
    for i, (code, piece) in enumerate(segments):
        if code:
            for j, ch in enumerate(piece):
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                elif ch == "{" and depth == 0:
                    out.append(piece[: j + 1] + f"\n  {focus}\n" + piece[j + 1:])
                    return "".join(out) + "".join(p for _, p in segments[i + 1:])
        out.append(piece)
    raise UnsupportedShape(f"{where}: no WHERE clause found in its sh:select")


def _check_select(text: str, where: str) -> tuple[str, ...]:
    """Refuse what SHACL forbids in a SPARQL constraint; return the variables the query projects."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        parsed = parseQuery(text)
    except Exception as e:
        raise UnsupportedShape(f"{where}: its sh:select is not valid SPARQL ({e})") from None
    query = parsed[1]
    if query.name != "SelectQuery":
        raise UnsupportedShape(f"{where}: sh:select must hold a SELECT query")
    forbidden = {"MinusGraphPattern": "MINUS", "InlineData": "VALUES", "ServiceGraphPattern": "SERVICE"}

    def walk(node, top: bool) -> None:
        if isinstance(node, CompValue):
            if node.name in forbidden:
                raise UnsupportedShape(f"{where}: SHACL does not allow {forbidden[node.name]} in a SPARQL constraint")
            if node.name == "SubSelect" and not top:
                projected = {str(v.get("var") or v.get("evar")) for v in node.get("projection") or []}
                if "this" not in projected:
                    raise UnsupportedShape(f"{where}: a subquery must project $this (SHACL pre-binding)")
            if node.name == "Bind" and str(node.get("var")) == "this":
                raise UnsupportedShape(f"{where}: $this cannot be bound with BIND")
            for value in node.values():
                walk(value, False)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value, False)

    walk(query, True)
    for v in query.get("projection") or []:
        if v.get("evar") is not None and str(v.get("evar")) in ("this", "value", "path"):
            raise UnsupportedShape(f"{where}: ${v.get('evar')} cannot be bound with AS")
    variables = tuple(str(v) for v in translateQuery(parsed).algebra["PV"])
    if "this" not in variables:
        raise UnsupportedShape(f"{where}: the SELECT must project $this")
    if "failure" in variables:
        raise UnsupportedShape(f"{where}: ?failure (a failure rather than a result) is not supported")
    return variables


#################################################################
# Running a plan
#################################################################


def run(store, plan: Plan) -> list[Finding]:
    """Run every query of `plan` with `store.select`; the findings, each once."""
    findings: set[Finding] = set()
    classes = _subclasses(store, plan.classes)
    for query in plan.queries:
        findings.update(_findings(store, query, _with_classes(query.text, plan.classes, classes)))
    return sorted(findings, key=lambda f: (str(f.focus), str(f.shape), str(f.component), str(f.value)))


def _subclasses(store, classes: tuple[str, ...]) -> dict[str, tuple[list[str], bool]]:
    """Each class's IRI and those of its subclasses in the data (rdfs:subClassOf*, as SHACL's instances take it), and
    whether a blank node is among its subclasses (a query cannot name one). One query, whatever the data."""
    if not classes:
        return {}
    def key(term) -> tuple[bool, str]:
        return isinstance(term, (ox.BlankNode, BNode)), getattr(term, "value", str(term))

    below: dict[tuple[bool, str], set[tuple[bool, str]]] = {}
    for row in store.select(f"SELECT DISTINCT ?sub ?super WHERE {{ ?sub <{RDFS.subClassOf}> ?super }}"):
        below.setdefault(key(row["super"]), set()).add(key(row["sub"]))
    found = {}
    for cls in classes:
        seen, todo = {(False, cls)}, [(False, cls)]
        while todo:
            for sub in below.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        found[cls] = (sorted(iri for blank, iri in seen if not blank), any(blank for blank, _ in seen))
    return found


def _with_classes(text: str, classes: tuple[str, ...], subclasses: dict[str, tuple[list[str], bool]]) -> str:
    """The query with each class marker replaced by the class and its subclasses; where a blank node is among them,
    the instance group gets a second branch following rdfs:subClassOf+ from the node's blank types."""
    if not classes:
        return text

    def instance(m: re.Match) -> str:
        t, marks, node = m.group(1), m.group(2), m.group(3)
        named = [classes[int(i)] for i in _CLASS_MARK.findall(marks)]
        iris = sorted({sub for cls in named for sub in subclasses[cls][0]})
        group = f"{{ VALUES {t} {{ {' '.join(f'<{iri}>' for iri in iris)} }} {node} <{RDF.type}> {t} }}"
        blank = [cls for cls in named if subclasses[cls][1]]
        if blank:
            ends = " ".join(f"<{cls}>" for cls in blank)
            group = (f"{{ {group} UNION {{ {node} <{RDF.type}> {t} FILTER (isBlank({t})) "
                     f"VALUES {t}_class {{ {ends} }} {t} <{RDFS.subClassOf}>+ {t}_class }} }}")
        return group

    return _INSTANCE.sub(instance, text)


def _finding(test: Test, focus, value=None, path: ResultPath | None = None, messages=None) -> Finding:
    source = test.source
    return Finding(rdflib_term(focus), path or source.path, rdflib_term(value), source.shape, test.component, source.severity,
                   messages or source.messages or (Literal(test.generic_message),), source.constraint)


def _findings(store, query: CompiledQuery, text: str) -> Iterable[Finding]:
    rows = store.select(text)
    if query.kind == "values":
        for row in rows:
            for test in query.tests:
                if not _true(row[test.column]):
                    yield _finding(test, row["this"], row["value"])
    elif query.kind == "rows":
        test = query.tests[0]
        for row in rows:
            yield _finding(test, row["this"], row["value"] if query.reports_value else None)
    elif query.kind == "counts":
        for row in rows:
            for test in query.tests:
                if _int(row[test.column]) < test.bound:
                    yield _finding(test, row["this"])
    else:
        test = query.tests[0]
        for row in rows:
            bound = {name: rdflib_term(row[name]) for name in query.variables}
            focus = bound.get("this")
            if focus is None:
                continue
            value = bound.get("value")
            if value is None and test.source.path is None:  # as pyshacl: on a node shape, the focus node is the value
                value = focus
            path = ResultPath(bound["path"]) if isinstance(bound.get("path"), URIRef) else None
            messages = tuple(_fill(m, bound) for m in test.source.messages)
            yield _finding(test, focus, value, path, messages)


def _fill(message: Literal, bound: dict) -> Literal:
    """{?var} and {$var} in a SPARQL constraint's message, replaced by the solution's values (as pyshacl does)."""
    text = re.sub(r"\{[?$](\w+)\}", lambda m: str(bound[m.group(1)]) if bound.get(m.group(1)) is not None else m.group(), str(message))
    return Literal(text, lang=message.language)


def _true(term) -> bool:
    return term is not None and getattr(term, "value", None) in ("true", "1")


def _int(term) -> int:
    return int(term.value) if term is not None else 0


def rdflib_term(term) -> Node | None:
    """A pyoxigraph term (or an rdflib one) as rdflib's."""
    if term is None or isinstance(term, Node):
        return term
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == str(XSD.string):  # a plain string, as rdflib reads "..." from Turtle
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)
    raise TypeError(f"not an RDF term: {term!r}")


#################################################################
# Results and the report
#################################################################

Locate = Callable[[Node], "tuple[str, int]"]


def validate_store(store, shapes: Graph | Plan, *, locate: Locate | None = None,
                   label: Callable[[Node], str] | None = None) -> list[Result]:
    """Validate what `store` holds (the union of its graphs) against `shapes`: Results sorted as read_report sorts
    them. `locate(node)` gives (file, line) for a focus node; `label(node)` its label (by default the store's
    rdfs:label, English first)."""
    return _results(run(store, _plan(shapes)), store, locate, label)


def validate_store_report(store, shapes: Graph | Plan, *, locate: Locate | None = None,
                          label: Callable[[Node], str] | None = None) -> Report:
    """validate_store as a kg.validation.shacl.Report, its `graph` a SHACL validation report, for the report renderers."""
    plan = _plan(shapes)
    findings = run(store, plan)
    return Report(_results(findings, store, locate, label), report_graph(findings, plan.shapes))


def _plan(shapes: Graph | Plan) -> Plan:
    return shapes if isinstance(shapes, Plan) else compile_shapes(shapes)


def _results(findings: list[Finding], store, locate: Locate | None, label: Callable[[Node], str] | None) -> list[Result]:
    locate = locate or (lambda node: ("", 0))
    if label is None:
        labels = store_labels(store, {f.focus for f in findings})
        label = lambda node: labels.get(node, "")  # noqa: E731
    places: dict[Node, tuple[str, int]] = {}
    prefetch = getattr(locate, "prefetch", None)
    if prefetch is not None:  # a StoreOrigin: one query per batch of focus nodes instead of one per node
        prefetch({f.focus for f in findings})
    results = set()
    for f in findings:
        if f.focus not in places:
            places[f.focus] = locate(f.focus)
        file, line = places[f.focus]
        results.add(
            Result(
                file=file,
                line=line,
                focus=show(f.focus),
                severity=f.severity.split("#")[-1],
                path=str(f.path) if f.path else "",
                value=show(f.value),
                shape=show(f.constraint if isinstance(f.constraint, URIRef) else f.shape),
                component=f.component.split("#")[-1],
                message=message_text(f.messages),
                label=label(f.focus),
            )
        )
    return sorted(results)


def store_labels(store, nodes: Iterable[Node], batch: int = 200) -> dict[Node, str]:
    """The label of each IRI among `nodes`, as kg.validation.shacl labels a result: English, else any (the first in order)."""
    iris = sorted(n for n in nodes if isinstance(n, URIRef) and not re.search(r'[\x00-\x20<>"{}|^`\\]', str(n)))
    found: dict[Node, dict[str, str]] = {}
    for start in range(0, len(iris), batch):
        chunk = " ".join(f"<{n}>" for n in iris[start:start + batch])
        for row in store.select(f"SELECT ?s ?label WHERE {{ VALUES ?s {{ {chunk} }} ?s <{RDFS.label}> ?label FILTER (isLiteral(?label)) }}"):
            term = rdflib_term(row["label"])
            languages = found.setdefault(rdflib_term(row["s"]), {})
            key = term.language or ""
            if key not in languages or str(term) < languages[key]:
                languages[key] = str(term)
    return {n: ls.get("en") or ls[sorted(ls)[0]] for n, ls in found.items() if ls}


def report_graph(findings: list[Finding], shapes: Graph) -> Graph:
    """A SHACL validation report (sh:ValidationReport) of `findings`, as pyshacl writes one."""
    g = Graph()
    g.bind("sh", SH)
    report = BNode()
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.conforms, Literal(not any(f.severity == SH.Violation for f in findings))))
    copied: set[Node] = set()
    for f in findings:
        r = BNode()
        g.add((report, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.focusNode, f.focus))
        g.add((r, SH.resultSeverity, f.severity))
        g.add((r, SH.sourceShape, f.shape))
        g.add((r, SH.sourceConstraintComponent, f.component))
        if f.constraint is not None:
            g.add((r, SH.sourceConstraint, f.constraint))
        if f.value is not None:
            g.add((r, SH.value, f.value))
        if f.path is not None:
            if f.path.inverse:
                path = BNode()
                g.add((path, SH.inversePath, f.path.predicate))
            else:
                path = f.path.predicate
            g.add((r, SH.resultPath, path))
        for m in f.messages:
            g.add((r, SH.resultMessage, m))
        for node in (f.shape, f.constraint):
            if isinstance(node, BNode) and node not in copied:
                copied.add(node)
                _copy_description(shapes, node, g)
    return g


def _copy_description(source: Graph, node: BNode, target: Graph) -> None:
    """A blank node's triples and those of the blank nodes below it, so a blank sh:sourceShape means something."""
    todo, seen = [node], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for p, o in source.predicate_objects(n):
            target.add((n, p, o))
            if isinstance(o, BNode):
                todo.append(o)
