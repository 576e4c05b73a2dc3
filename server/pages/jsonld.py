"""JSON-LD for machines: the KG's published context, and descriptions compacted with it.

The context is the KG's prefixes (the same ones its Turtle and SPARQL use) plus language maps for labels and
comments, so `{"label": {"en": ..., "it": ...}}` reads the way the data is written. It is served at
/context.jsonld and also embedded in every answer, so that a document can be read without fetching anything.
"""

from __future__ import annotations

from rdflib import Graph

from kg.namespaces import PREFIXES

CONTEXT_PATH = "/context.jsonld"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

CONTEXT = {
    # "id" is left out: as a JSON-LD term it would read like "@id" to people.
    **{prefix: namespace for prefix, namespace in PREFIXES.items() if prefix != "id"},
    "label": {"@id": "rdfs:label", "@container": "@language"},
    "comment": {"@id": "rdfs:comment", "@container": "@language"},
}


def context_document() -> dict:
    return {"@context": CONTEXT}


def compacted(ntriples: bytes) -> bytes:
    """N-Triples (as the store writes them) as JSON-LD compacted with CONTEXT."""
    graph = Graph().parse(data=ntriples, format="nt")
    return graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True, encoding="utf-8")
