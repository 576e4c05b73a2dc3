"""Reference data the imports need: imports/reference.ttl (programmes, a role) and a ckg:Country for every
country an import names that the curated KG does not describe, with its names in English and Italian from
pycountry's translations."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pycountry
import pyoxigraph
from pyoxigraph import Literal, NamedNode, Quad

from kg.errors import InputError
from kg.importing.mapping import graph_iri
from kg.namespaces import CKG, ID

REFERENCE_FILE = Path("imports") / "reference.ttl"
REFERENCE_GRAPH = NamedNode(graph_iri("reference"))
COUNTRY = f"{ID}country/"
ISO_SOURCE = NamedNode(f"{ID}source/dataset-iso-3166")
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
DCT_SOURCE = NamedNode("http://purl.org/dc/terms/source")
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/country/"
SKOS_EXACT = NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch")
# Kosovo has a user-assigned code that pycountry does not list.
_EXTRA = {"XK": ("XKX", "Kosovo", "Kosovo")}


def reference_quads(root: Path) -> list[Quad]:
    path = root / REFERENCE_FILE
    try:
        triples = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
        return [Quad(t.subject, t.predicate, t.object, REFERENCE_GRAPH) for t in triples]
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(str(e), str(REFERENCE_FILE)) from e


def country_quads(iris: Iterable[str], known: set[str]) -> list[Quad]:
    """A ckg:Country for each country IRI in `iris` that is not in `known` (the curated KG's)."""
    from kg.importing.normalise import country_name

    g = REFERENCE_GRAPH
    out = []
    for iri in sorted(set(iris) - known):
        if not iri.startswith(COUNTRY):
            continue
        code = iri[len(COUNTRY):].upper()
        record = pycountry.countries.get(alpha_2=code)
        if record is not None:
            alpha3, en, it = record.alpha_3, country_name(code, "en"), country_name(code, "it")
        elif code in _EXTRA:
            alpha3, en, it = _EXTRA[code]
        else:
            continue
        s = NamedNode(iri)
        out += [Quad(s, RDF_TYPE, NamedNode(str(CKG.Country)), g),
                Quad(s, RDFS_LABEL, Literal(en, language="en"), g),
                Quad(s, RDFS_LABEL, Literal(it, language="it"), g),
                Quad(s, NamedNode(str(CKG.iso3166Alpha2)), Literal(code), g),
                Quad(s, NamedNode(str(CKG.iso3166Alpha3)), Literal(alpha3), g),
                Quad(s, SKOS_EXACT, NamedNode(EU_AUTHORITY + alpha3), g),
                Quad(s, DCT_SOURCE, ISO_SOURCE, g)]
    return out
