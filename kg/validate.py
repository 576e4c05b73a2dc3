"""Validation with pyshacl: the data graph against our shapes, results as plain values with a place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from . import sparql_cache

sparql_cache.install()

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_NAMES = Graph()  # only for its namespace manager: literals show as "2"^^xsd:integer


@dataclass(frozen=True, order=True)
class Result:
    """One validation result, sorted by file, line, then focus node."""

    file: str
    line: int
    focus: str
    severity: str
    path: str
    value: str
    shape: str
    component: str
    message: str
    label: str = field(default="", compare=False)


@dataclass
class Report:
    results: list[Result]
    graph: Graph  # the raw SHACL validation report

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def fails(self, fail_on: str = "violation") -> bool:
        """Whether this report fails a gate set at `fail_on` ('violation' or 'warning')."""
        return not self.conforms or (fail_on == "warning" and self.count("Warning") > 0)

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def summary(self) -> str:
        parts = []
        for severity, noun in (("Violation", "violation"), ("Warning", "warning"), ("Info", "info")):
            n = self.count(severity)
            parts.append(f"{n} {noun}{'' if n == 1 or noun == 'info' else 's'}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Origin:
    """Which file a node is described in, so a result can point at it: call it with a node."""

    dataset: object  # rdflib Dataset holding one named graph per source file
    graphs: dict[URIRef, Path]  # named graph -> source file

    def __call__(self, node: Node) -> tuple[str, int]:
        best: tuple[str, int] | None = None
        for ctx in self.dataset.graphs():
            path = self.graphs.get(ctx.identifier)
            if path is None or (node, None, None) not in ctx:
                continue
            typed = (node, RDF.type, None) in ctx
            place = (_display(path), _line_of(path, node))
            if typed or best is None:
                best = place
            if typed:
                break
        return best or ("", 0)


class StoreOrigin:
    """Origin for a KG loaded into a store (kg.load.load_into_store): which file a node or a triple is in, asked of
    the store with one query per node. Call it with a node; `place(triple)` for a check's finding."""

    def __init__(self, store, graphs: dict[URIRef, Path]):
        self.store = store  # anything with select(), as kg.validate_sparql needs
        self.graphs = graphs  # named graph -> source file, in the order the files were loaded
        self._order = {str(g): i for i, g in enumerate(graphs)}
        self._seen: dict = {}

    def __call__(self, node: Node) -> tuple[str, int]:
        return self.place((node, None, None))

    def place(self, triple) -> tuple[str, int]:
        """The file and line of the subject in the file that asserts `triple` (the subject's own file otherwise);
        a typed description wins over a mere mention, as in Origin."""
        s, p, o = triple
        if not isinstance(s, URIRef):
            return ("", 0)
        key = (s, p, o) if p is not None and o is not None else s
        if key not in self._seen:
            graphs = self._graphs_holding(s, p, o) if key is not s else []
            self._seen[key] = self._best(s, graphs or self._graphs_holding(s, None, None))
        return self._seen[key]

    def _graphs_holding(self, s: URIRef, p, o) -> list[tuple[str, bool]]:
        pattern = f"{s.n3()} {p.n3()} {o.n3()}" if p is not None and not isinstance(o, BNode) else f"{s.n3()} ?p ?o"
        rows = self.store.select(
            f"SELECT DISTINCT ?g ?typed WHERE {{ GRAPH ?g {{ {pattern} }} BIND (EXISTS {{ GRAPH ?g {{ {s.n3()} a ?t }} }} AS ?typed) }}"
        )
        return [(r["g"].value, r["typed"].value == "true") for r in rows if r["g"] is not None and r["g"].value in self._order]

    def _best(self, s: URIRef, graphs: list[tuple[str, bool]]) -> tuple[str, int]:
        if not graphs:
            return ("", 0)
        graph, _ = min(graphs, key=lambda g: (not g[1], self._order[g[0]]))
        path = self.graphs[URIRef(graph)]
        return (_display(path), _line_of(path, s))


def validate(data: Graph, shapes: Graph, ontology: Graph | None = None) -> Graph:
    """Run pyshacl with SHACL-SPARQL enabled; return the raw report graph."""
    _, report_graph, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        abort_on_first=False,
    )
    return report_graph


def read_report(report_graph: Graph, data: Graph, locate) -> Report:
    """Turn the SHACL report graph into Results; `locate(node)` gives (file, line) for a focus node."""
    results = []
    for r in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(r, SH.focusNode)
        # A SPARQL constraint is named by sh:sourceConstraint; its sh:sourceShape is the node shape holding it.
        constraint = report_graph.value(r, SH.sourceConstraint)
        shape = constraint if isinstance(constraint, URIRef) else report_graph.value(r, SH.sourceShape)
        severity = report_graph.value(r, SH.resultSeverity)
        message = _message(report_graph.objects(r, SH.resultMessage))
        file, line = locate(focus)
        results.append(
            Result(
                file=file,
                line=line,
                focus=_show(focus),
                severity=severity.split("#")[-1] if severity else "Violation",
                path=_show_path(report_graph, report_graph.value(r, SH.resultPath)),
                value=_show(report_graph.value(r, SH.value)),
                shape=_show(shape),
                component=_show(report_graph.value(r, SH.sourceConstraintComponent)).split("#")[-1],
                message=message,
                label=_label(data, focus),
            )
        )
    return Report(sorted(set(results)), report_graph)


def _message(literals) -> str:
    """The shape's own message (pyshacl copies sh:message into the result), in English where there is one."""
    messages = {m.language: str(m) for m in literals if isinstance(m, Literal)}
    return messages.get("en") or messages.get(None) or next(iter(messages.values()), "")


def _label(graph: Graph, node) -> str:
    if node is None:
        return ""
    labels = {l.language: str(l) for l in graph.objects(node, RDFS.label) if isinstance(l, Literal)}
    return labels.get("en") or next(iter(labels.values()), "")


def _show(node) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        return "_:" + str(node)
    if isinstance(node, Literal):
        return node.n3(_NAMES.namespace_manager)
    return str(node)


def _show_path(graph: Graph, path) -> str:
    if path is None:
        return ""
    if isinstance(path, BNode):
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + str(inverse)
        return "(complex path)"
    return str(path)


def _display(path: Path) -> str:
    from .load import display_path

    return display_path(path)


@lru_cache(maxsize=256)
def _file_lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except OSError:
        return ()


def _line_of(path: Path, node: Node) -> int:
    """The first line where `node` starts a statement in a Turtle-like file; 0 when it cannot be found.

    Written for files people edit: the subject is at the start of a line, either as <full IRI> or as a
    prefixed name declared in the same file.
    """
    if not isinstance(node, URIRef):
        return 0
    lines = _file_lines(path)
    forms = [f"<{node}>"]
    for line in lines:
        m = re.match(r"\s*@prefix\s+([\w-]*):\s*<([^>]*)>", line) or re.match(r"\s*PREFIX\s+([\w-]*):\s*<([^>]*)>", line, re.I)
        if m and str(node).startswith(m.group(2)):
            local = str(node)[len(m.group(2)):]
            forms.append(f"{m.group(1)}:{local}")
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        for form in forms:
            if stripped.startswith(form) and (len(stripped) == len(form) or not _name_char(stripped[len(form)])):
                return number
    return 0


def _name_char(c: str) -> bool:
    return c.isalnum() or c in "-_./%:"
