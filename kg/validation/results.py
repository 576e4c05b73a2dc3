"""A validation's results as values: one Result per finding with its place, and the Report that holds them.
Every engine (pyshacl, the compiled shapes, the checks) produces these; kg.validation.formats renders them."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDFS

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_NAMES = Graph()  # only for its namespace manager: literals show as "2"^^xsd:integer


@dataclass(frozen=True, order=True)
class Result:
    """One validation result, sorted by file, line, then focus node. `column` is known for a result about a
    literal as written (an ill-typed literal, a malformed language tag); 0 otherwise."""

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
    column: int = 0


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


def message_text(literals) -> str:
    """The shape's own message (pyshacl copies sh:message into the result), in English where there is one."""
    messages = {m.language: str(m) for m in literals if isinstance(m, Literal)}
    return messages.get("en") or messages.get(None) or next(iter(messages.values()), "")


def label_of(graph: Graph, node) -> str:
    if node is None:
        return ""
    labels = {l.language: str(l) for l in graph.objects(node, RDFS.label) if isinstance(l, Literal)}
    return labels.get("en") or next(iter(labels.values()), "")


def show(node) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        return "_:" + str(node)
    if isinstance(node, Literal):
        return node.n3(_NAMES.namespace_manager)
    return str(node)
