"""The SPARQL 1.1 Service Description of the endpoint, built as a graph (never by string formatting)."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from kg import __version__
from kg.namespaces import CKG, INFERRED_GRAPH

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
PAV = Namespace("http://purl.org/pav/")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "RDF_XML", "JSON-LD"]


def describe(endpoint: str, backend, row_limit: int, service_allow: list[str]) -> Graph:
    g = Graph()
    for prefix, ns in (("sd", SD), ("void", VOID), ("pav", PAV), ("formats", FORMATS), ("dcterms", DCTERMS), ("ckg", CKG)):
        g.bind(prefix, ns)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for name in RESULT_FORMATS:
        g.add((service, SD.resultFormat, FORMATS[name]))
    # The default graph is the union of all named graphs; the closure lives in its own graph.
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    if service_allow:
        g.add((service, SD.feature, SD.BasicFederatedQuery))
    g.add((service, CKG.queryTimeout, Literal(str(backend.timeout), datatype=XSD.decimal)))
    if row_limit:
        g.add((service, CKG.rowLimit, Literal(row_limit)))

    dataset = BNode("dataset")
    issued = Literal(backend.created.isoformat(), datatype=XSD.dateTime)
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, PAV.version, Literal(backend.build_id)))
    g.add((dataset, DCTERMS.issued, issued))

    default = BNode("default-graph")
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, DCTERMS.issued, issued))
    g.add((default, VOID.triples, Literal(backend.triples)))

    for iri, size in sorted(backend.graph_sizes.items()):
        named = BNode()
        graph = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(iri)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, DCTERMS.issued, issued))
        g.add((graph, VOID.triples, Literal(size)))
        if iri == str(INFERRED_GRAPH):
            g.add((graph, DCTERMS.description, Literal("Triples inferred by the OWL RL closure of the ontology and data", lang="en")))
    g.add((service, DCTERMS.description, Literal(f"Cohesion KG SPARQL endpoint (kg {__version__}), read-only", lang="en")))
    return g
