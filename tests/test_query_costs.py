"""Cost classes (server/sparql/cost.py): light queries run in the request thread and never wait; anything that
must read all its input before a row, or that is not anchored, is heavy and waits for a slot."""

from __future__ import annotations

import pytest

from server.sparql.cost import Cost, classify

P = "PREFIX ckg: <https://w3id.org/cohesion-kg/ontology/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"

LIGHT = [
    "SELECT ?p ?o WHERE { <https://w3id.org/cohesion-kg/id/project/conet> ?p ?o }",
    "SELECT ?s ?p WHERE { ?s ?p <https://w3id.org/cohesion-kg/id/city/turin> }",
    P + 'SELECT ?l WHERE { <urn:x> rdfs:label ?l FILTER (lang(?l) = "en") }',
    P + "SELECT ?s ?l WHERE { ?s a ckg:Project ; rdfs:label ?l }",  # anchored by its class
    P + "SELECT ?o ?x ?z WHERE { <urn:a> ckg:p ?o . ?o ckg:q ?x . ?x ?y ?z }",  # each pattern bound by the one before
    P + 'SELECT ?s WHERE { ?s ckg:name "x"@en-GB ; ckg:n "1"^^<urn:t> }',
    P + "SELECT ?s ?p ?o WHERE { VALUES ?s { <urn:a> <urn:b> } ?s ?p ?o }",
    P + "SELECT * WHERE { <urn:a> ckg:p/ckg:q ?o } LIMIT 10",
    P + "SELECT * WHERE { <urn:a> ckg:partOfProgramme+ ?o }",  # a walk from a constant
    P + """SELECT ?start ?level (COUNT(DISTINCT ?above) AS ?depth) WHERE {
      { <urn:this> ckg:fundedBy ?start } UNION { <urn:this> a ckg:FundingProgramme . BIND(<urn:this> AS ?start) }
      ?start ckg:partOfProgramme* ?level . ?level ckg:partOfProgramme* ?above .
    } GROUP BY ?start ?level""",  # a page's funding chain
    "CONSTRUCT { ?s ?p ?o } WHERE { <urn:a> ?p ?o BIND(<urn:a> AS ?s) }",
    "DESCRIBE <urn:a>",
    "ASK {}",
    P + "SELECT * WHERE { ?a a ckg:City . ?b a ckg:City }  # a product, but it streams",
    # Sorting, grouping or counting the neighbourhood of a constant: a page's queries about one thing.
    "SELECT DISTINCT ?s ?p WHERE { GRAPH ?g { ?s ?p <urn:this> } FILTER(?g NOT IN (<urn:derived>)) } LIMIT 2000",
    P + "SELECT ?role (COUNT(?x) AS ?n) WHERE { ?x ckg:participant <urn:org> ; ckg:role ?role } GROUP BY ?role",
    P + "SELECT ?x ?l WHERE { VALUES ?x { <urn:a> } { ?x rdfs:label ?l } UNION { ?x dct:title ?l FILTER NOT EXISTS { ?x rdfs:label ?any } } }",
    P + "SELECT ?p WHERE { <urn:a> ckg:hasPartner ?p . ?p a ckg:Organisation } ORDER BY ?p",
]
HEAVY = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f FILTER (false) }",  # no anchor: no row may ever come
    "ASK { ?s ?p ?o }",
    P + "SELECT ?p WHERE { ?p a ckg:Project } ORDER BY ?p",  # a class scanned and sorted
    P + "SELECT (COUNT(*) AS ?n) WHERE { ?a a ckg:City . ?b a ckg:City . ?c a ckg:City }",  # classes multiplied
    P + "SELECT ?p WHERE { ?p rdf:type ckg:Project } ORDER BY ?p",
    P + "SELECT ?c (COUNT(?x) AS ?n) WHERE { VALUES ?c { ckg:City ckg:Project } ?x a ?c } GROUP BY ?c",
    P + "SELECT DISTINCT ?c WHERE { ?s ckg:country ?c }",
    P + "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s ckg:country ?c } GROUP BY ?c",
    "SELECT * WHERE { ?s <urn:p>* ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:p>|!<urn:q>)* ?b . ?c ?d ?e }",
    "SELECT * WHERE { <urn:a> (<urn:p>|!<urn:q>)+ ?o }",
    P + "SELECT * WHERE { ?s a ckg:Project ; ckg:partOfProgramme* ?o }",
    P + "SELECT * WHERE { ?s ckg:p [ ckg:q ?x ] }",
    P + "SELECT * WHERE { OPTIONAL { ?s ckg:p ?o } }",
    P + "SELECT * WHERE { ?s ?p ?o MINUS { ?o a ckg:City } }",
    P + "SELECT * WHERE { ?s ckg:p ?o FILTER NOT EXISTS { ?o a ckg:City } }",
    P + "SELECT * WHERE { { SELECT ?s WHERE { ?s a ckg:City } } ?s ?p ?o }",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <urn:g> WHERE { <urn:a> ?p ?o }",
    "SELECT * WHERE { <urn:a> ?p ?o ",  # unreadable: the safe side
]


@pytest.mark.parametrize("query", LIGHT)
def test_light(query):
    assert classify(query) is Cost.LIGHT


@pytest.mark.parametrize("query", HEAVY)
def test_heavy(query):
    assert classify(query) is Cost.HEAVY
