"""Validation compiled to SPARQL (kg.validation.compiled) gives pyshacl's results (kg.validation.shacl, the reference).

Compared on every fixture of tests/fixtures/invalid/ and invalid-checks/ (with the KG's own data and ontology as
context, as `kg validate FIXTURE` loads them), on the real data with its OWL RL closure (as `kg build` validates),
on generated data and on a broken copy of it, and on small shapes using the SHACL our shapes do not (yet) use.
Results are compared field by field; sh:value is compared by value where the store canonicalises it
("0.00"^^xsd:decimal is "0"^^xsd:decimal in Oxigraph). SHACL the compiler cannot handle must be refused by name.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef, namespace  # XSD as namespace.XSD: pytest's collection trips on the name
from rdflib.namespace import RDF, RDFS, SH

from kg.validation import formats as report_formats
from kg.build import load_sources
from kg.sources.load import display_path, load_files, parse_graph, union
from kg.namespaces import CKG, ID, INFERRED_GRAPH, SCHEMA
from kg.reasoning.reference import Inference, closure
from kg.store.embedded import KGStore
from kg.validation.placement import Origin
from kg.validation.results import Result
from kg.validation.shacl import read_report, validate
from kg.validation.compiled import UnsupportedShape, compile_shapes, rdflib_term, validate_store, validate_store_report

from .conftest import FIXTURES

pytestmark = pytest.mark.filterwarnings("ignore:Serializing weird numerical")  # ill-typed on purpose

FIXTURE_FILES = sorted((FIXTURES / "invalid").glob("*.ttl")) + sorted((FIXTURES / "invalid-checks").glob("*.ttl"))
DCT = "http://purl.org/dc/terms/"


#################################################################
# Comparing results
#################################################################

FIELDS = ("focus", "path", "value", "component", "severity", "shape", "message", "file", "line", "label")
_NUMERIC = {"xsd:decimal", "xsd:integer", "xsd:double", "xsd:float", "xsd:boolean", "xsd:int", "xsd:long"}


def canonical_value(value: str) -> str:
    """sh:value as the store keeps it: numbers by value, language tags in lower case."""
    m = re.fullmatch(r'(".*")@([A-Za-z0-9-]+)', value, re.S)
    if m:
        return f"{m.group(1)}@{m.group(2).lower()}"
    m = re.fullmatch(r'"(.*)"\^\^(xsd:\w+)', value, re.S)
    if m and m.group(2) in _NUMERIC:
        literal = Literal(m.group(1), datatype=namespace.XSD[m.group(2)[4:]])
        if not literal.ill_typed and literal.value is not None:
            number = literal.value
            return f"{m.group(2)} {number.normalize() if isinstance(number, Decimal) else number!r}"
    return value


def key(r: Result, fields=FIELDS) -> tuple:
    values = {f: getattr(r, f) for f in fields}
    if "value" in values:
        values["value"] = canonical_value(values["value"])
    for f in ("focus", "shape", "value"):  # blank nodes are named differently by each side
        if f in values and isinstance(values[f], str) and values[f].startswith("_:"):
            values[f] = "_:"
    return tuple(values.values())


def assert_same_results(mine: list[Result], reference: list[Result], fields=FIELDS) -> None:
    ours, theirs = {key(r, fields) for r in mine}, {key(r, fields) for r in reference}
    if ours == theirs:
        return
    lines = [f"validate_sparql and pyshacl disagree ({len(ours & theirs)} results in common)"]
    for title, rows in (("only from validate_sparql", ours - theirs), ("only from pyshacl", theirs - ours)):
        lines.append(f"{title} ({len(rows)}):")
        lines += ["  " + ", ".join(f"{f}={v!r}" for f, v in zip(fields, row) if v not in ("", 0)) for row in sorted(rows)]
    pytest.fail("\n".join(lines), pytrace=False)


#################################################################
# The KG's data, loaded once
#################################################################


@pytest.fixture(scope="session")
def shapes(paths) -> Graph:
    return parse_graph([paths.shapes])


@pytest.fixture(scope="session")
def plan(shapes):
    return compile_shapes(shapes)


@pytest.fixture(scope="session")
def context(paths):
    """Ontology and real data: the rdflib Dataset (a fixture's graph is added and removed again), its union, its
    N-Quads, and the named graph -> file map a Result's place comes from."""
    sources = load_sources(paths)
    files = {f.graph: f.path for f in sources.files}
    return sources.dataset, union(sources.dataset), sources.dataset.serialize(format="nquads", encoding="utf-8"), files


def store_of(nquads: bytes, *graphs: tuple[Graph, URIRef]) -> KGStore:
    store = KGStore.in_memory()
    store.store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
    for graph, name in graphs:
        store.add_graph(graph, str(name))
    return store


def both(store: KGStore, data: Graph, shapes: Graph, plan, locate=lambda node: ("", 0)):
    """(validate_sparql's results, pyshacl's results) on the same data."""
    reference = read_report(validate(data, shapes), data, locate).results
    return validate_store(store, plan, locate=locate), reference


#################################################################
# Fixtures, real data, generated data
#################################################################


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_results_equal_pyshacl(fixture, context, shapes, plan):
    dataset, data, nquads, files = context
    loaded = load_files(dataset, [fixture])
    own = dataset.graph(loaded[0].graph)
    added = [t for t in own if t not in data]  # the context's union graph, with the fixture, for this test only
    try:
        for triple in added:
            data.add(triple)
        origin = Origin(dataset, {**files, loaded[0].graph: fixture})
        mine, reference = both(store_of(nquads, (own, loaded[0].graph)), data, shapes, plan, origin)
    finally:
        for triple in added:
            data.remove(triple)
        dataset.remove_graph(own)
    assert_same_results(mine, reference)
    if fixture.parent.name == "invalid":  # each fixture proves its shape fires (tests/test_shapes.py)
        assert any(r.shape.endswith("/" + fixture.stem) and r.file == display_path(fixture) and r.line > 0 for r in mine)


def test_real_data_with_its_closure_conforms_under_both(context, shapes, plan):
    dataset, context_union, nquads, _ = context
    inferred = closure(context_union, Inference.OWLRL)
    data = context_union + inferred
    mine, reference = both(store_of(nquads, (inferred, INFERRED_GRAPH)), data, shapes, plan)
    assert_same_results(mine, reference)
    assert mine == []


@pytest.fixture(scope="session")
def generated():
    """About 5,500 triples of generated projects (kg.synth.generator), which point into the real data."""
    from kg.synth import generator as synth

    text = []
    synth.generate(text.append, 40, seed=11, fmt="ntriples")
    return Graph().parse(data="".join(text), format="nt")


def break_data(graph: Graph) -> tuple[Graph, set[str]]:
    """A copy of generated data with faults of many kinds; the components they should trip."""
    g = Graph()
    for triple in graph:
        g.add(triple)

    def instances(cls, n=None):
        found = sorted(s for s in g.subjects(RDF.type, cls) if isinstance(s, URIRef))
        return found if n is None else found[n]

    projects, participations = instances(CKG.Project), instances(CKG.Participation)
    organisations = sorted({o for p in participations for o in g.objects(p, CKG.participant)})
    cities = instances(CKG.City)
    p0, p1, p2, p3 = projects[:4]
    for label in list(g.objects(p0, RDFS.label)):  # LabelEnglish, qualified minimum
        if label.language == "en":
            g.remove((p0, RDFS.label, label))
    g.add((p1, RDFS.label, Literal("A second English label", lang="en")))  # uniqueLang
    g.add((p1, RDFS.label, Literal("An untagged label")))  # datatype rdf:langString
    g.add((p2, CKG.startDate, Literal("2010-02-30", datatype=namespace.XSD.date)))  # ill-typed: sh:or of datatypes, maxCount
    g.add((p2, CKG.totalBudget, Literal("-5.50", datatype=namespace.XSD.decimal)))  # minExclusive
    g.add((p3, CKG.euContribution, Literal("abc", datatype=namespace.XSD.decimal)))  # ill-typed: datatype, minExclusive
    g.add((p3, CKG.sdg, URIRef("http://metadata.un.org/sdg/18")))  # pattern
    g.add((p3, CKG.theme, Literal("social cohesion")))  # class on a literal
    g.remove((p3, CKG.acronym, None))  # minCount
    g.add((p3, CKG.acronym, Literal("X", lang="en")))  # datatype xsd:string
    part = participations[0]
    g.add((part, CKG.role, URIRef(f"{ID}role/lead-partner")))  # class
    g.remove((g.value(part, CKG.inProject), CKG.hasParticipation, part))  # Participation-listed
    other = next(p for p in participations if g.value(p, CKG.inProject) == g.value(participations[-1], CKG.inProject)
                 and (p, CKG.role, URIRef(f"{ID}role/coordinator")) not in g)
    g.add((other, CKG.role, URIRef(f"{ID}role/coordinator")))  # Project-oneCoordinator
    org = organisations[0]
    g.add((org, CKG.country, URIRef(f"{ID}country/mt")))  # maxCount, and Organisation-countryOfCity
    g.add((org, SCHEMA.sameAs, URIRef("http://www.wikidata.org/entity/Q1")))  # maxCount 0
    g.set((organisations[1], CKG.nativeName, Literal("No language tag")))  # datatype, a warning
    g.add((organisations[2], SCHEMA.url, Literal("https://example.org/")))  # nodeKind
    g.add((cities[0], SCHEMA.sameAs, URIRef("https://www.wikidata.org/wiki/Q2")))  # pattern, maxCount
    g.remove((cities[1], URIRef(DCT + "source"), None))  # minCount
    g.add((cities[2], URIRef(DCT + "source"), projects[5]))  # class
    g.add((cities[3], RDF.type, CKG.Project))  # a city that is also a project: many minimums
    return g, {
        "QualifiedMinCountConstraintComponent", "UniqueLangConstraintComponent", "DatatypeConstraintComponent",
        "OrConstraintComponent", "MaxCountConstraintComponent", "MinExclusiveConstraintComponent",
        "PatternConstraintComponent", "ClassConstraintComponent", "MinCountConstraintComponent",
        "NodeKindConstraintComponent", "SPARQLConstraintComponent",
    }


def test_broken_generated_data_gives_pyshacl_results(generated, context, shapes, plan):
    _, context_union, nquads, _ = context
    broken, expected = break_data(generated)
    store = store_of(nquads, (broken, URIRef(f"{ID}graph/generated")))
    mine, reference = both(store, context_union + broken, shapes, plan)
    assert_same_results(mine, reference, FIELDS[:-1])  # a node given two English labels: either may label it
    assert expected <= {r.component for r in mine}
    assert {"Violation", "Warning"} <= {r.severity for r in mine}


#################################################################
# The report
#################################################################


def test_report_graph_is_a_shacl_report_that_reads_back(generated, context, plan):
    _, context_union, nquads, _ = context
    broken, _ = break_data(generated)
    store = store_of(nquads, (broken, URIRef(f"{ID}graph/generated")))
    report = validate_store_report(store, plan, label=lambda node: "")
    assert report.results and not report.conforms
    raw = report.graph
    (node,) = raw.subjects(RDF.type, SH.ValidationReport)
    assert raw.value(node, SH.conforms) == Literal(False)
    results = list(raw.objects(node, SH.result))
    assert len(results) >= len(report.results)
    for r in results:
        for required in (SH.focusNode, SH.resultSeverity, SH.sourceShape, SH.sourceConstraintComponent, SH.resultMessage):
            assert raw.value(r, required) is not None, required
    again = read_report(raw, context_union + broken, lambda node: ("", 0)).results
    assert_same_results(report.results, again, FIELDS[:-1])


def test_every_report_format_renders_a_store_report(generated, context, plan):
    _, _, nquads, _ = context
    broken, _ = break_data(generated)
    report = validate_store_report(store_of(nquads, (broken, URIRef(f"{ID}graph/generated"))), plan)
    for fmt in report_formats.RENDERERS:
        assert report_formats.render(report, fmt).strip(), fmt
    labels = {r.label for r in report.results}
    assert labels - {""}, "results are labelled from the store"


def test_queries_do_not_grow_with_the_focus_nodes(generated, context, plan):
    """One query per constraint for all focus nodes, and one for the subclasses of the target classes: more data,
    the same queries."""
    _, _, nquads, _ = context

    class Counting:
        def __init__(self, store):
            self.store, self.calls = store, 0

        def select(self, text):
            self.calls += 1
            return self.store.select(text)

    small, large = Counting(store_of(nquads)), Counting(store_of(nquads, (generated, URIRef(f"{ID}graph/generated"))))
    validate_store(small, plan)
    validate_store(large, plan)
    assert plan.classes and small.calls == large.calls == len(plan.queries) + 1


#################################################################
# SHACL our shapes do not use yet, against pyshacl
#################################################################

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
"""

OTHER_SHAPES = PREFIXES + """
ex:PersonShape a sh:NodeShape ;
    sh:targetClass ex:Person ;
    sh:property ex:name , ex:age , ex:email , ex:parent , ex:knows , ex:status , ex:tag , ex:nick , ex:friends ,
        ex:off , ex:score , ex:childOf , ex:address , ex:rank ;
    sh:or ( [ sh:path ex:email ; sh:minCount 1 ] [ sh:path ex:phone ; sh:minCount 1 ] ) ;
    sh:sparql [ sh:select "SELECT $this ?value WHERE { $this <http://example.org/age> ?value . FILTER (?value > 150) }" ;
                sh:message "too old: {?value}" ] .
ex:name a sh:PropertyShape ; sh:path ex:name ; sh:minCount 2 ; sh:maxCount 3 ; sh:minLength 2 ; sh:maxLength 10 ;
    sh:languageIn ( "en" "de" ) ; sh:uniqueLang true .
ex:age a sh:PropertyShape ; sh:path ex:age ; sh:datatype xsd:integer ; sh:minInclusive 0 ; sh:maxExclusive 200 ;
    sh:severity sh:Info .
ex:email a sh:PropertyShape ; sh:path ex:email ; sh:pattern "^[a-z.]+@example\\\\.org$" ; sh:flags "i" ;
    sh:nodeKind sh:Literal .
ex:parent a sh:PropertyShape ; sh:path ex:parent ; sh:class ex:Person ; sh:maxCount 2 ;
    sh:node ex:Named .
ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
ex:knows a sh:PropertyShape ; sh:path ex:knows ; sh:not [ sh:class ex:Robot ] ; sh:nodeKind sh:BlankNodeOrIRI .
ex:status a sh:PropertyShape ; sh:path ex:status ; sh:in ( ex:active ex:retired "unknown" ) ;
    sh:hasValue ex:active .
ex:tag a sh:PropertyShape ; sh:path ex:tag ;
    sh:xone ( [ sh:datatype xsd:string ] [ sh:datatype xsd:boolean ] [ sh:nodeKind sh:Literal ; sh:minLength 5 ] ) ;
    sh:and ( [ sh:nodeKind sh:Literal ] [ sh:maxLength 8 ] ) .
ex:nick a sh:PropertyShape ; sh:path ex:nick ;
    sh:qualifiedValueShape [ sh:datatype xsd:string ] ; sh:qualifiedMaxCount 1 ; sh:qualifiedMinCount 1 .
ex:friends a sh:PropertyShape ; sh:path ex:friend ; sh:minCount 2 ;
    sh:property ex:friendName ;
    sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value . FILTER NOT EXISTS { ?value a <http://example.org/Person> } }" ;
                sh:message "friend {?value} is no person" ] .
ex:friendName a sh:PropertyShape ; sh:path ex:name ; sh:minCount 1 .
ex:off a sh:PropertyShape ; sh:path ex:name ; sh:maxCount 0 ; sh:deactivated true .
ex:score a sh:PropertyShape ; sh:path ex:score ; sh:datatype xsd:decimal ; sh:maxInclusive 10 ; sh:minExclusive 0 .
ex:childOf a sh:PropertyShape ; sh:path [ sh:inversePath ex:parent ] ; sh:maxCount 1 ; sh:class ex:Person .
ex:address a sh:PropertyShape ; sh:path ex:address ; sh:datatype xsd:dateTime .
ex:rank a sh:PropertyShape ; sh:path ex:rank ; sh:datatype xsd:integer ; sh:minInclusive 0 .

ex:StatusShape a sh:NodeShape ; sh:targetObjectsOf ex:status ; sh:nodeKind sh:IRI .
ex:TaggedShape a sh:NodeShape ; sh:targetSubjectsOf ex:tag ; sh:class ex:Person .
ex:BobShape a sh:NodeShape ; sh:targetNode ex:bob ; sh:hasValue ex:alice .
ex:Robot a rdfs:Class , sh:NodeShape ; sh:property [ sh:path ex:built ; sh:minCount 1 ; sh:datatype xsd:date ] .
"""

OTHER_DATA = PREFIXES + """
ex:Employee rdfs:subClassOf ex:Person .
ex:alice a ex:Person ; ex:name "Alice"@en , "Alicia"@de ; ex:age 30 ; ex:email "Alice@EXAMPLE.org" ; ex:status ex:active ;
    ex:nick "ally" ; ex:friend ex:bob , ex:carol ; ex:score 9.5 ; ex:address "2010-05-27T18:00:00"^^xsd:dateTime .
ex:bob a ex:Employee ; ex:name "Bob"@en , "Robert"@EN , "B"@fr , "Roberto Bobbington"@de ; ex:age 40 ; ex:rank "abc"^^xsd:integer ;
    ex:email <mailto:bob@example.org> ; ex:parent ex:alice , ex:carol , ex:dave ; ex:knows ex:r2d2 , "Carol" ;
    ex:status ex:retired , "gone" ; ex:tag "x" , true , "longer tag value" ; ex:nick "b" , "bobby" ; ex:friend ex:r2d2 ;
    ex:score 0 , "11"^^xsd:decimal .
ex:carol a ex:Person ; ex:phone "123" ; ex:name "Carol"@en-GB , "Caro"@it ; ex:age 151 ; ex:parent ex:alice ; ex:status ex:active ;
    ex:tag "fine" ; ex:address "2010-05-27"^^xsd:date ; ex:friend ex:alice , ex:bob .
ex:dave ex:name "Dave"@en .
ex:r2d2 a ex:Robot ; ex:built "1977-02-29"^^xsd:date .
ex:c3po a ex:Robot .
"""


def store_from_turtle(text: str) -> KGStore:
    """Parsed by Oxigraph, as a build on the store does: rdflib would rewrite ill-typed literals ("yes"^^xsd:boolean
    becomes "false") on their way to the store."""
    store = KGStore.in_memory()
    store.store.load(text.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("http://example.org/graph"))
    return store


def test_other_shacl_gives_pyshacl_results():
    shapes = Graph().parse(data=OTHER_SHAPES, format="turtle")
    data = Graph().parse(data=OTHER_DATA, format="turtle")
    mine, reference = both(store_from_turtle(OTHER_DATA), data, shapes, compile_shapes(shapes))
    # The shapes have no sh:message: pyshacl's own messages are not copied. No files, lines or labels here.
    assert_same_results(mine, reference, ("focus", "path", "value", "component", "severity", "shape"))
    fired = {r.component for r in mine}
    assert len(fired) >= 20, sorted(fired)


def test_a_datetime_without_seconds_is_ill_typed():
    """XSD requires the seconds; pyshacl (Python's parser) accepts "2010-05-27T18:00". We follow XSD, as SPARQL
    stores do: the one place where these results knowingly differ from pyshacl's on a date-time."""
    shapes = Graph().parse(data=OTHER_SHAPES, format="turtle")
    store = store_from_turtle(PREFIXES + 'ex:eve a ex:Person ; ex:address "2010-05-27T18:00"^^xsd:dateTime .')
    results = validate_store(store, compile_shapes(shapes))
    assert any(r.component == "DatatypeConstraintComponent" and r.path.endswith("/address") for r in results)


#################################################################
# What the compiler refuses
#################################################################

UNSUPPORTED = {
    "closed": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true .", ["ex:S", "sh:closed"]),
    "equals": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P . ex:P sh:path ex:a ; sh:equals ex:b .", ["ex:P", "sh:equals"]),
    "sequence path": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P . ex:P sh:path ( ex:a ex:b ) ; sh:minCount 1 .",
                      ["ex:P", "sh:path", "sequence"]),
    "alternative path": ("ex:S sh:targetClass ex:C ; sh:property ex:P . ex:P sh:path [ sh:alternativePath ( ex:a ex:b ) ] .",
                         ["ex:P", "sh:alternativePath"]),
    "zero or more": ("ex:S sh:targetClass ex:C ; sh:property ex:P . ex:P sh:path [ sh:zeroOrMorePath ex:a ] .", ["ex:P", "sh:zeroOrMorePath"]),
    "custom component": ("ex:Comp a sh:ConstraintComponent ; sh:parameter [ sh:path ex:maxWords ] . "
                         "ex:S sh:targetClass ex:C ; sh:property ex:P . ex:P sh:path ex:a ; ex:maxWords 3 .", ["ex:P", "ex:Comp"]),
    "sparql target": ("ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select \"SELECT ?this WHERE { ?this ?p ?o }\" ] .",
                      ["ex:S", "sh:target"]),
    "minus": ("ex:S sh:targetClass ex:C ; sh:sparql ex:Q . ex:Q sh:select \"SELECT $this WHERE { $this ?p ?o MINUS { $this a ?t } }\" .",
              ["ex:S", "ex:Q", "MINUS"]),
    "subquery without $this": ("ex:S sh:targetClass ex:C ; sh:sparql ex:Q . "
                               "ex:Q sh:select \"SELECT $this WHERE { $this ?p ?o { SELECT ?o WHERE { ?o ?q ?r } } }\" .",
                               ["ex:Q", "subquery", "$this"]),
    "shapes graph": ("ex:S sh:targetClass ex:C ; sh:sparql ex:Q . "
                     "ex:Q sh:select \"SELECT $this WHERE { GRAPH $shapesGraph { $this ?p ?o } }\" .", ["ex:Q", "$shapesGraph"]),
    "nested count": ("ex:S sh:targetClass ex:C ; sh:or ( [ sh:path ex:a ; sh:minCount 2 ] [ sh:class ex:D ] ) .",
                     ["ex:S sh:or", "sh:minCount"]),
    "recursion": ("ex:S sh:targetClass ex:C ; sh:node ex:S .", ["ex:S", "itself"]),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_shacl_is_refused_by_name(name):
    text, words = UNSUPPORTED[name]
    shapes = Graph().parse(data=PREFIXES + text, format="turtle")
    with pytest.raises(UnsupportedShape) as raised:
        compile_shapes(shapes)
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))


#################################################################
# On SPARQL servers
#################################################################


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_on_a_sparql_server_the_broken_data_gives_pyshacl_results(generated, context, shapes, plan, tmp_path, kind):
    """`kg validate --engine store` through a server: the queries, in its dialect (kg.store.dialect), find result by
    result what pyshacl finds in the data the server holds (read back from it: Virtuoso keeps literals by value,
    drops ill-typed ones and rewrites numbers, so what it holds is the data both sides must judge)."""
    from kg.store.remote import RemoteStore

    from .servers import oxigraph_server, virtuoso_server

    _, _, nquads, _ = context
    broken, expected = break_data(generated)
    local = store_of(nquads, (broken, URIRef(f"{ID}graph/generated")))
    with (oxigraph_server if kind == "oxigraph" else virtuoso_server)(tmp_path) as server:
        remote = RemoteStore(server.url, kind=kind, user=server.user, password=server.password)
        for g in local.named_graphs():
            remote.load_graph(g, local.store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        held = Graph()
        for g in local.named_graphs():  # the server's own graphs (Virtuoso keeps several) stay out
            for s, p, o in remote.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"):
                held.add(tuple(rdflib_term(t) for t in (s, p, o)))
        remote.info = None
        mine = validate_store(_Graphs(remote, local.named_graphs()), plan)
    reference = read_report(validate(held, shapes), held, lambda node: ("", 0)).results
    assert_same_results(mine, reference, FIELDS[:-1])
    assert len(mine) >= 20 and expected - {"DatatypeConstraintComponent", "OrConstraintComponent"} <= {r.component for r in mine}


class _Graphs:
    """A RemoteStore whose queries see these graphs alone (as a build's would), for a server loaded without a build
    record."""

    def __init__(self, remote, graphs):
        self.remote, self.graphs = remote, [ox.NamedNode(g) for g in graphs]

    def select(self, text: str):
        return self.remote.query(text, default_graph=self.graphs, named_graphs=self.graphs)

    def __getattr__(self, name):
        return getattr(self.remote, name)
