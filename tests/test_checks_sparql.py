"""The checks on a store (kg.validation.checks_store) give what kg.validation.checks gives on an rdflib graph: the same findings and the
same Results, on the fixtures of tests/fixtures/invalid-checks/ and on the real data (with its closure in the
store, which the checks must not read)."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from kg.validation import checks
from kg.validation import checks_store as checks_sparql
from kg.build import load_sources
from kg.namespaces import CKG, ID, INFERRED_GRAPH, SCHEMA
from kg.reasoning.reference import Inference, closure
from kg.store.embedded import KGStore
from kg.validation.placement import Origin
from kg.validation.results import Report

from .conftest import FIXTURES

CHECK_FIXTURES = sorted((FIXTURES / "invalid-checks").glob("*.ttl"))


def both(paths, data_files=None, inference=Inference.NONE, extra: Graph | None = None):
    """(kg.validation.checks' Results, kg.validation.checks_store's Results, and their findings) on the same sources."""
    sources = load_sources(paths, data=data_files)
    if extra is not None:
        own = sources.dataset.graph(URIRef(f"{ID}graph/extra"))
        for triple in extra:
            own.add(triple)
    data = sources.union()
    graphs = {f.graph: f.path for f in sources.files}
    origin = Origin(sources.dataset, graphs)
    found = checks.find(data)
    reference = checks.merge(Report([], Graph()), found, data, origin)

    store = KGStore.in_memory()
    store.add_dataset(sources.dataset)
    inferred = closure(data, inference)
    if len(inferred):
        store.add_graph(inferred, str(INFERRED_GRAPH))
    dataset_graphs = {ctx.identifier: ctx for ctx in sources.dataset.graphs()}
    mine_found = checks_sparql.find(store)
    mine = checks_sparql.merge(Report([], Graph()), mine_found, store, lambda triple: checks._place(origin, dataset_graphs, triple))
    return reference, mine, found, mine_found


def facts(findings):
    return sorted((f.check.name, str(f.focus), str(f.path), str(f.value), f.message) for f in findings)


@pytest.mark.parametrize("fixture", CHECK_FIXTURES, ids=lambda p: p.stem)
def test_check_fixture_gives_the_same_results(paths, fixture):
    reference, mine, found, mine_found = both(paths, [fixture])
    assert facts(mine_found) == facts(found)
    assert mine.results == reference.results
    assert any(r.component == fixture.stem for r in mine.results), "the fixture's own check fires"
    assert mine.conforms == reference.conforms


def test_real_data_gives_no_findings_with_its_closure_in_the_store(paths):
    reference, mine, found, mine_found = both(paths, inference=Inference.OWLRL)
    assert found == mine_found == []
    assert mine.results == reference.results == []


def test_many_faults_in_generated_data_give_the_same_results(paths):
    from kg.synth import generator as synth

    text = []
    synth.generate(text.append, 30, seed=5, fmt="ntriples")
    g = Graph().parse(data="".join(text), format="nt")
    cities = sorted(s for s in g.subjects(RDF.type, CKG.City) if isinstance(s, URIRef))
    projects = sorted(s for s in g.subjects(RDF.type, CKG.Project))
    for i, city in enumerate(cities[:3]):  # dangling links, two near an existing slug
        g.add((projects[i], CKG.location, URIRef(str(city) + "x")))
    g.add((BNode(), CKG.location, URIRef(f"{ID}city/only-from-a-blank-node")))
    for i in range(4):  # two pairs of duplicates, one by case and spacing
        label = g.value(cities[10 + i], RDFS.label)
        twin = URIRef(f"{ID}city/twin-{i}")
        g.add((twin, RDF.type, CKG.City))
        g.add((twin, RDFS.label, Literal(("  " + str(label).upper()) if i % 2 else str(label), lang="en")))
    for city in cities[20:23]:  # three cities on one Wikidata entity, one through its /wiki/ page
        g.add((city, SCHEMA.sameAs, URIRef("http://www.wikidata.org/entity/Q42")))
    g.add((cities[24], SCHEMA.sameAs, URIRef("https://www.wikidata.org/wiki/Q42")))
    reference, mine, found, mine_found = both(paths, extra=g)
    assert facts(mine_found) == facts(found)
    assert mine.results == reference.results
    assert {f.check.name for f in found} == {"dangling-iri", "duplicate-entity", "shared-wikidata-link"}
    assert any("did you mean" in f.message for f in found)


def test_raw_report_gets_the_findings(paths):
    _, mine, _, _ = both(paths, [FIXTURES / "invalid-checks" / "dangling-iri.ttl"])
    (node,) = mine.graph.subjects(RDF.type, SH.ValidationReport)
    assert str(mine.graph.value(node, SH.conforms)) == "false"
    assert len(list(mine.graph.objects(node, SH.result))) == len(mine.results)
