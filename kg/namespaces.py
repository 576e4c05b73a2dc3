"""The IRIs the KG mints, in one place."""

import re

from rdflib import Namespace

BASE = "https://w3id.org/cohesion-kg/"

CKG = Namespace(BASE + "ontology/")      # ontology terms
ID = Namespace(BASE + "id/")             # things: id/{kind}/{slug}
GRAPH = Namespace(BASE + "graph/")       # named graphs: one per source file, plus the inferred one
SHAPES = Namespace(BASE + "shapes/")

INFERRED_GRAPH = GRAPH["inferred"]
NETWORK_GRAPH = GRAPH["network"]  # the co-participation networks a build materialises (kg.network)

SCHEMA = Namespace("https://schema.org/")
EURIO = Namespace("http://data.europa.eu/s66#")
ORG = Namespace("http://www.w3.org/ns/org#")

# The kinds of things under id/; each gets a prefix, as SPARQL and Turtle names cannot contain "/".
KINDS = ("project", "organisation", "participation", "city", "country", "programme", "role", "theme",
         "output", "event", "source", "claim", "contradiction")

# Prefixes offered to every query and serialisation, so users can write ckg:Project or project:conet.
PREFIXES = {
    "ckg": str(CKG),
    **{kind: f"{ID}{kind}/" for kind in KINDS},
    "id": str(ID),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": str(SCHEMA),
    "org": str(ORG),
    "eurio": str(EURIO),
    "foaf": "http://xmlns.com/foaf/0.1/",
    "sh": "http://www.w3.org/ns/shacl#",
}


_LOCAL_NAME = re.compile(r"[\w.-]+")


def compact(iri: str) -> str | None:
    """`project:conet` for an IRI under one of PREFIXES whose rest is a plain name; None otherwise."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and _LOCAL_NAME.fullmatch(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return None
