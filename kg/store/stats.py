"""Figures about a built KG, computed from the store by SPARQL."""

from __future__ import annotations

from kg.namespaces import CKG, INFERRED_GRAPH
from kg.namespaces import NETWORK_GRAPH

# What a person asks first: how many of each kind of thing.
KINDS = [
    ("projects", CKG.Project),
    ("organisations", CKG.Organisation),
    ("participations", CKG.Participation),
    ("cities", CKG.City),
    ("countries", CKG.Country),
    ("funding programmes", CKG.FundingProgramme),
    ("outputs", CKG.Output),
    ("events", CKG.Event),
    ("themes", CKG.Theme),
    ("source documents", CKG.SourceDocument),
    ("claims", CKG.Claim),
    ("contradictions", CKG.Contradiction),
]


def compute(kg_store) -> dict:
    def scalar(query: str) -> int:
        return int(next(iter(kg_store.query(query)))[0].value)

    graphs = {}
    for solution in kg_store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"):
        graphs[solution["g"].value] = int(solution["n"].value)
    # Entities are counted from asserted and inferred types alike, so subclasses count under their parents.
    entities = {
        name: scalar(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a/rdfs:subClassOf* <{cls}> }}")
        for name, cls in KINDS
    }
    wikidata = scalar(
        "SELECT (COUNT(*) AS ?n) WHERE { ?x schema:sameAs ?w FILTER STRSTARTS(STR(?w), 'http://www.wikidata.org/entity/') }"
    )
    return {
        "build": kg_store.info.__dict__ if kg_store.info else None,
        "triples": len(kg_store),
        # The sources' triples, then what the build derived from them: the closure and the network.
        "asserted_triples": sum(n for g, n in graphs.items() if g not in (str(INFERRED_GRAPH), str(NETWORK_GRAPH))),
        "inferred_triples": graphs.get(str(INFERRED_GRAPH), 0),
        "network_triples": graphs.get(str(NETWORK_GRAPH), 0),
        "graphs": graphs,
        "entities": entities,
        "wikidata_links": wikidata,
    }
