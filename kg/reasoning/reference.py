"""Reasoning: the owlrl closure of ontology + data, kept apart in its own graph.

Only what the closure adds is kept, and only statements about the KG's own resources and terms: owlrl also
derives tautologies (x owl:sameAs x, C rdfs:subClassOf C) and facts about other vocabularies that nobody
queries here and that would blur what the KG says.
"""

from __future__ import annotations

from enum import Enum

import owlrl
import rdflib.term
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.errors import KGError
from kg.namespaces import BASE

ERROR_CLASS = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
ERROR_TEXT = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")

REFLEXIVE_NOISE = {OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty}
TRIVIAL_TYPES = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}


class Inference(str, Enum):
    NONE = "none"
    RDFS = "rdfs"
    OWLRL = "owlrl"


class InconsistentKG(KGError):
    exit_code = 1


def closure(graph: Graph, mode: Inference) -> Graph:
    """Return the triples the closure adds to `graph` (which is left unchanged)."""
    inferred = Graph()
    if mode is Inference.NONE:
        return inferred
    work = Graph()
    for triple in graph:
        work.add(triple)
    semantics = owlrl.RDFS_Semantics if mode is Inference.RDFS else owlrl.OWLRL_Semantics
    # owlrl installs its own lexical conversions in rdflib's global table and leaves them there; some are wrong (its
    # gMonthDay refuses "--11-15"), which made every later literal check in the process disagree: put rdflib's back.
    conversions = dict(rdflib.term._toPythonMapping)
    try:
        owlrl.DeductiveClosure(semantics, axiomatic_triples=False, datatype_axioms=False).expand(work)
    finally:
        rdflib.term._toPythonMapping.clear()
        rdflib.term._toPythonMapping.update(conversions)

    errors = [str(o) for s in work.subjects(RDF.type, ERROR_CLASS) for o in work.objects(s, ERROR_TEXT)]
    if errors:
        raise InconsistentKG("the OWL RL closure is inconsistent: " + "; ".join(sorted(errors)))

    # owlrl's RDFS rules route literals through shared proxies, so "Co-City" (an acronym) and "Co-City"@en
    # (a label) leak into each other's properties. A derived literal that only re-spells, with another language
    # tag or datatype, a value the same subject already has for the same property is such an artefact.
    asserted_text = {(s, p, str(o)) for s, p, o in graph if isinstance(o, Literal)}
    for s, p, o in work:
        if (s, p, o) in graph or not _worth_keeping(s, p, o):
            continue
        if isinstance(o, Literal) and (s, p, str(o)) in asserted_text:
            continue
        inferred.add((s, p, o))
    return inferred


def _worth_keeping(s, p, o) -> bool:
    if isinstance(s, (Literal, BNode)) or not str(s).startswith(BASE):
        return False
    if s == o and p in REFLEXIVE_NOISE:
        return False
    if p == RDF.type and o in TRIVIAL_TYPES:
        return False
    return True
