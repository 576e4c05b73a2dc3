"""Validation with pyshacl: the data graph against our shapes, results as plain values with a place."""

from __future__ import annotations

import pyshacl
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.validation import sparql_cache
from kg.validation.results import Report, Result, label_of, message_text, show

sparql_cache.install()


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
        message = message_text(report_graph.objects(r, SH.resultMessage))
        file, line = locate(focus)
        results.append(
            Result(
                file=file,
                line=line,
                focus=show(focus),
                severity=severity.split("#")[-1] if severity else "Violation",
                path=show_path(report_graph, report_graph.value(r, SH.resultPath)),
                value=show(report_graph.value(r, SH.value)),
                shape=show(shape),
                component=show(report_graph.value(r, SH.sourceConstraintComponent)).split("#")[-1],
                message=message,
                label=label_of(data, focus),
            )
        )
    return Report(sorted(set(results)), report_graph)


def show_path(graph: Graph, path) -> str:
    if path is None:
        return ""
    if isinstance(path, BNode):
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + str(inverse)
        return "(complex path)"
    return str(path)
