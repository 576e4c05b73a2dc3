"""Every SPARQL query behind the linked-data pages, in one place, and the small values they return.

Queries name the resource a page is about as <THIS> (and a list of resources as <THESE>, the derived graphs as
<DERIVED>); `fill` puts checked IRIs there, and nothing else is ever pasted into a query. Queries run through the app's Backend (in the query
child, with its timeout) over the union of all graphs, so asserted and inferred triples alike; the ones that need
to tell them apart ask for the graph. Labels are fetched once per page for every IRI it shows (`labels`) and
chosen in the reader's language in Python, which keeps the queries free of language plumbing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kg.namespaces import INFERRED_GRAPH
from kg.namespaces import NETWORK_GRAPH

# Graphs the build derives (reasoning, the co-participation network) rather than reads from a source file.
DERIVED_GRAPHS = (str(INFERRED_GRAPH), str(NETWORK_GRAPH))

# The characters SPARQL's IRIREF forbids between < and >: outside them an IRI cannot break out of its brackets.
_IRI = re.compile(r'[^<>"{}|^`\\\x00-\x20]+')


class NotAnIRI(ValueError):
    pass


def checked(iri: str) -> str:
    if not _IRI.fullmatch(iri):
        bad = next((c for c in iri if not _IRI.fullmatch(c)), " ")
        raise NotAnIRI(f"{iri!r} is not a valid IRI: it contains {bad!r}")
    return iri


def fill(query: str, this: str | None = None, these: list[str] | tuple[str, ...] = ()) -> str:
    """The query with <THIS> and <THESE> replaced by checked IRIs."""
    if this is not None:
        query = query.replace("<THIS>", f"<{checked(this)}>")
    if "<THESE>" in query:
        query = query.replace("<THESE>", " ".join(f"<{checked(i)}>" for i in these))
    return query.replace("<DERIVED>", ", ".join(f"<{g}>" for g in DERIVED_GRAPHS))


@dataclass(frozen=True)
class Term:
    """An RDF term as the SPARQL JSON results give it."""

    value: str
    kind: str = "uri"  # "uri", "literal" or "bnode"
    lang: str = ""
    datatype: str | None = None

    @classmethod
    def of(cls, binding: dict) -> Term:
        kind = "literal" if binding["type"] in ("literal", "typed-literal") else binding["type"]
        return cls(binding["value"], kind, binding.get("xml:lang", "").lower(), binding.get("datatype"))

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


def rows(backend, query: str, this: str | None = None, these=()) -> list[dict[str, Term]]:
    return [{k: Term.of(v) for k, v in row.items()} for row in backend.select(fill(query, this, these))]


# --- RDF descriptions -----------------------------------------------------------------------------------------

# What a machine gets for an IRI: its own triples (asserted and inferred), the labels of what they point to, the
# cells of the RDF lists it uses (the ontology's property chains), and for an IRI known only as an object (the
# ontology's version IRI) the triples that point to it, so a known IRI never answers with an empty graph.
DESCRIPTION = """
CONSTRUCT {
  <THIS> ?p ?o .
  ?linked rdfs:label ?label .
  ?cell rdf:first ?first ; rdf:rest ?rest .
  ?s ?q <THIS> .
}
WHERE {
  { <THIS> ?p ?o }
  UNION { <THIS> ?p1 ?linked . ?linked rdfs:label ?label }
  UNION { <THIS> ?p2 ?list . FILTER(isBlank(?list)) ?list rdf:rest* ?cell . ?cell rdf:first ?first ; rdf:rest ?rest }
  UNION { ?s ?q <THIS> . FILTER NOT EXISTS { <THIS> ?any ?thing } }
}
"""

# The ontology IRI stands for the whole ontology document: everything in the graph that declares it.
ONTOLOGY_DOCUMENT = """
CONSTRUCT { ?s ?p ?o }
WHERE { GRAPH ?g { <THIS> a owl:Ontology . ?s ?p ?o } }
"""


def description(backend, iri: str, format_name: str, whole_ontology: bool = False) -> bytes:
    """The RDF description of `iri` in one of kg.queries.run.GRAPH_FORMATS; empty when the KG does not know it."""
    return backend.graph(fill(ONTOLOGY_DOCUMENT if whole_ontology else DESCRIPTION, iri), format_name)


# --- What a page shows of any resource ---------------------------------------------------------------------------

FACTS = """
SELECT ?p ?o ?g WHERE { GRAPH ?g { <THIS> ?p ?o } }
"""

# Triples from the sources only: the inferred inverses (partner in, has partner) are already among the resource's
# own facts, and the network's pairs of co-partners have a page of their own (/network).
# A subject that is not blank is an IRI; Virtuoso takes seconds over isIRI here and none over isBlank.
INBOUND = """
SELECT DISTINCT ?s ?p WHERE { GRAPH ?g { ?s ?p <THIS> } FILTER(?g NOT IN (<DERIVED>) && !isBlank(?s)) }
LIMIT 2000
"""

KNOWN = """
ASK { { <THIS> ?p ?o } UNION { ?s ?p <THIS> } }
"""

# A thing's name is its rdfs:label; the few things with a title but no label (the ontology) go by the title.
LABELS = """
SELECT ?x ?label WHERE {
  VALUES ?x { <THESE> }
  { ?x rdfs:label ?label } UNION { ?x dct:title ?label FILTER NOT EXISTS { ?x rdfs:label ?any } }
}
"""


@dataclass(frozen=True)
class Fact:
    predicate: Term
    value: Term
    inferred: bool  # found only in the graph of the reasoner's conclusions


def facts(backend, iri: str) -> list[Fact]:
    graphs: dict[tuple[Term, Term], set[str]] = defaultdict(set)
    for row in rows(backend, FACTS, iri):
        graphs[(row["p"], row["o"])].add(row["g"].value)
    inferred = str(INFERRED_GRAPH)
    return [Fact(p, o, gs == {inferred}) for (p, o), gs in graphs.items()]


def known(backend, iri: str) -> bool:
    """Whether the KG says anything with `iri` as subject or object."""
    return backend.ask(fill(KNOWN, iri))


def inbound(backend, iri: str) -> list[tuple[Term, Term]]:
    return [(row["s"], row["p"]) for row in rows(backend, INBOUND, iri)]


def labels(backend, iris) -> dict[str, dict[str, list[str]]]:
    """{iri: {language tag: [labels]}} for the IRIs that have labels."""
    iris = sorted({i for i in iris if i})
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(iris), 500):
        for row in rows(backend, LABELS, these=iris[start:start + 500]):
            found[row["x"].value][row["label"].lang].append(row["label"].value)
    return found


# --- Projects ------------------------------------------------------------------------------------------------

PARTNERS = """
SELECT ?participation ?organisation ?role ?city ?country ?source WHERE {
  <THIS> ckg:hasParticipation ?participation .
  ?participation ckg:participant ?organisation .
  OPTIONAL { ?participation ckg:role ?role }
  OPTIONAL { ?organisation ckg:basedIn ?city }
  OPTIONAL { ?organisation ckg:country ?country }
  OPTIONAL { ?participation dct:source ?source }
}
"""

EVENTS = """
SELECT ?event ?city ?start ?end WHERE {
  ?event ckg:eventOf <THIS> .
  OPTIONAL { ?event ckg:location ?city }
  OPTIONAL { ?event ckg:startDate ?start }
  OPTIONAL { ?event ckg:endDate ?end }
}
"""

OUTPUTS = """
SELECT ?output ?place WHERE {
  ?output ckg:outputOf <THIS> .
  OPTIONAL { ?output dct:spatial ?place }
}
"""

# A project's funding, or a programme level itself, up to its fund: each level with how many levels sit above it
# (itself included), so that sorting by depth gives fund > programme > strand.
FUNDING_CHAIN = """
SELECT ?start ?level (COUNT(DISTINCT ?above) AS ?depth) WHERE {
  { <THIS> ckg:fundedBy ?start } UNION { <THIS> a ckg:FundingProgramme . BIND(<THIS> AS ?start) }
  ?start ckg:partOfProgramme* ?level .
  ?level ckg:partOfProgramme* ?above .
}
GROUP BY ?start ?level
"""

# Contradictions that concern this page: about the resource, about one of its participations, holding it as a
# claim, or the contradiction itself.
CONTRADICTIONS = """
SELECT ?contradiction ?comment ?about ?claim ?predicate ?value ?source WHERE {
  { ?contradiction ckg:about <THIS> }
  UNION { <THIS> ckg:hasParticipation ?participation . ?contradiction ckg:about ?participation }
  UNION { ?contradiction ckg:hasClaim <THIS> }
  UNION { <THIS> a ckg:Contradiction . BIND(<THIS> AS ?contradiction) }
  ?contradiction ckg:about ?about ; ckg:hasClaim ?claim .
  OPTIONAL { ?contradiction rdfs:comment ?comment }
  OPTIONAL { ?claim rdf:predicate ?predicate }
  OPTIONAL { ?claim rdf:object ?value }
  OPTIONAL { ?claim dct:source ?source }
}
"""

# --- Organisations, places, programmes, roles -----------------------------------------------------------------

ORGANISATION_PROJECTS = """
SELECT ?participation ?project ?role ?start ?end WHERE {
  ?participation ckg:participant <THIS> ; ckg:inProject ?project .
  OPTIONAL { ?participation ckg:role ?role }
  OPTIONAL { ?project ckg:startDate ?start }
  OPTIONAL { ?project ckg:endDate ?end }
}
"""

CITY_ORGANISATIONS = """
SELECT ?organisation ?project ?role WHERE {
  { ?organisation ckg:basedIn <THIS> } UNION { ?organisation ckg:governs <THIS> }
  OPTIONAL { ?participation ckg:participant ?organisation ; ckg:inProject ?project .
             OPTIONAL { ?participation ckg:role ?role } }
}
"""

CITY_EVENTS = """
SELECT ?event ?project ?start WHERE {
  ?event ckg:location <THIS> .
  OPTIONAL { ?event ckg:eventOf ?project }
  OPTIONAL { ?event ckg:startDate ?start }
}
"""

COUNTRY_MEMBERS = """
SELECT ?thing ?class WHERE {
  VALUES ?class { ckg:City ckg:Organisation }
  ?thing ckg:country <THIS> ; a ?class .
}
"""

PROGRAMME_CHILDREN = """
SELECT ?child WHERE { ?child ckg:partOfProgramme <THIS> }
"""

PROGRAMME_PROJECTS = """
SELECT ?project ?level WHERE { ?project ckg:fundedBy ?level . ?level ckg:partOfProgramme* <THIS> }
"""

ROLE_PARTICIPANTS = """
SELECT ?participation ?project ?organisation WHERE {
  ?participation ckg:role <THIS> ; ckg:inProject ?project ; ckg:participant ?organisation .
}
"""

# The members of an RDF list (a property chain) in order: a cell's position is the number of cells before it.
LIST_MEMBERS = """
SELECT ?property ?member (COUNT(?before) AS ?position) WHERE {
  <THIS> ?property ?list . FILTER(isBlank(?list))
  ?list rdf:rest* ?before . ?before rdf:rest* ?cell . ?cell rdf:first ?member .
}
GROUP BY ?property ?cell ?member
ORDER BY ?property ?position
"""

# The terms the ontology declares, with what it asserts of them (not what reasoning adds).
ONTOLOGY_TERMS = """
SELECT ?term ?type ?comment ?domain ?range WHERE {
  GRAPH ?g {
    <THIS> a owl:Ontology .
    VALUES ?type { owl:Class owl:ObjectProperty owl:DatatypeProperty }
    ?term a ?type . FILTER(isIRI(?term))
    OPTIONAL { ?term rdfs:comment ?comment }
    OPTIONAL { ?term rdfs:domain ?domain }
    OPTIONAL { ?term rdfs:range ?range }
  }
}
"""

# --- The home page ---------------------------------------------------------------------------------------------

COUNTS = """
SELECT ?class (COUNT(DISTINCT ?x) AS ?n) WHERE {
  VALUES ?class { ckg:Project ckg:Organisation ckg:City ckg:Country }
  ?x a ?class .
}
GROUP BY ?class
"""

TRIPLES = """
SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }
"""

PROJECTS = """
SELECT ?project ?acronym ?start ?end ?level WHERE {
  ?project a ckg:Project .
  OPTIONAL { ?project ckg:acronym ?acronym }
  OPTIONAL { ?project ckg:startDate ?start }
  OPTIONAL { ?project ckg:endDate ?end }
  OPTIONAL { ?project ckg:fundedBy ?level }
}
"""

INDEX = """
SELECT ?x ?class WHERE {
  VALUES ?class { ckg:Country ckg:FundingProgramme ckg:Theme ckg:Role }
  ?x a ?class .
}
"""

