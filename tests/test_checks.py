"""The checks SHACL cannot express well (kg.validation.checks), on small graphs made here: what each reports and what not.
Their fixtures, run through `kg validate` in every format, are in test_validate_formats.py."""

from __future__ import annotations

import time
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from kg.validation import checks
from kg.namespaces import CKG, ID, SCHEMA
from kg.validation.placement import Origin
from kg.validation.results import Report

CITY, ORG, PROJECT = ID["city/"], ID["organisation/"], ID["project/"]
WD = "http://www.wikidata.org/entity/"


def graph(*triples) -> Graph:
    g = Graph()
    for t in triples:
        g.add(t)
    return g


def city(slug: str) -> URIRef:
    return URIRef(f"{CITY}{slug}")


def org(slug: str) -> URIRef:
    return URIRef(f"{ORG}{slug}")


def en(text: str) -> Literal:
    return Literal(text, lang="en")


# dangling-iri


def test_dangling_iri_is_an_object_of_ours_that_no_triple_describes():
    g = graph(
        (org("a"), CKG.basedIn, city("nowhere")),  # dangling
        (org("a"), CKG.governs, city("berlin")),  # described below
        (city("berlin"), RDFS.label, en("Berlin")),
        (org("a"), SCHEMA.url, URIRef("https://example.org/")),  # not ours
        (org("a"), RDF.type, CKG.Municipality),  # an ontology term, not an id/ IRI
        (org("a"), RDFS.comment, Literal(f"{CITY}nowhere")),  # a literal
    )
    (f,) = checks.dangling_iris(g)
    assert (f.check, f.focus, f.path, f.value) == (checks.DANGLING_IRI, org("a"), CKG.basedIn, city("nowhere"))
    assert f.message.startswith("links to city:nowhere, which nothing in the KG describes")
    assert "did you mean" not in f.message


def test_dangling_iri_reports_each_link_and_suggests_the_described_iri_of_the_same_kind():
    g = graph(
        (org("a"), CKG.basedIn, city("berln")),
        (org("b"), CKG.basedIn, city("berln")),
        (city("berlin"), RDFS.label, en("Berlin")),
        (org("berlin"), RDFS.label, en("City of Berlin")),  # closer in spelling, but another kind
    )
    found = checks.dangling_iris(g)
    assert [f.focus for f in found] == [org("a"), org("b")]
    assert all(f.message.endswith("; did you mean city:berlin?") for f in found)


# duplicate-entity


def test_duplicate_entity_same_english_label_and_class_ignoring_case_and_spacing():
    g = graph(
        (org("a"), RDF.type, CKG.Municipality), (org("a"), RDFS.label, en("City of Turin")),
        (org("b"), RDF.type, CKG.Municipality), (org("b"), RDFS.label, Literal("city  of TURIN", lang="en-GB")),
        (org("c"), RDF.type, CKG.Municipality), (org("c"), RDFS.label, en("City of Turin\u00a0")),
    )
    found = {f.focus: f for f in checks.duplicate_entities(g)}
    assert set(found) == {org("a"), org("b"), org("c")}
    assert all(f.check.severity == "Warning" and f.path == RDFS.label for f in found.values())
    assert found[org("a")].value == en("City of Turin")
    assert "as organisation:b, organisation:c" in found[org("a")].message
    assert "class (ckg:Municipality)" in found[org("a")].message


def test_no_duplicate_across_classes_languages_or_outside_our_ontology():
    g = graph(
        (org("a"), RDF.type, CKG.Municipality), (org("a"), RDFS.label, en("Turin")),
        (city("turin"), RDF.type, CKG.City), (city("turin"), RDFS.label, en("Turin")),  # another class
        (org("b"), RDF.type, CKG.Municipality), (org("b"), RDFS.label, Literal("Turin", lang="it")),  # not English
        (org("c"), RDF.type, URIRef("http://www.w3.org/ns/org#Organization")), (org("c"), RDFS.label, en("Turin")),
        (org("d"), RDFS.label, en("Turin")),  # no class at all
    )
    assert checks.duplicate_entities(g) == []


# shared-wikidata-link


def test_shared_wikidata_link_whatever_the_spelling_of_the_wikidata_iri():
    g = graph(
        (city("a"), SCHEMA.sameAs, URIRef(WD + "Q64")),
        (city("b"), SCHEMA.sameAs, URIRef("https://www.wikidata.org/wiki/Q64")),
        (city("c"), SCHEMA.sameAs, URIRef(WD + "Q2656")),
        (city("c"), SCHEMA.sameAs, URIRef("https://wikidata.org/entity/Q2656")),  # one resource twice: not shared
        (city("d"), SCHEMA.sameAs, URIRef("https://www.geonames.org/2950159")),
    )
    found = checks.shared_wikidata_links(g)
    assert [(f.focus, f.value) for f in found] == [(city("a"), URIRef(WD + "Q64")), (city("b"), URIRef("https://www.wikidata.org/wiki/Q64"))]
    assert found[0].message.startswith("shares its Wikidata entity Q64 with city:b")


# merging into the report


def test_merge_adds_results_at_the_file_that_asserts_the_triple(tmp_path: Path):
    """The node is typed in one file; the bad link is in another, which is where the result points."""
    typed, linking = tmp_path / "orgs.ttl", tmp_path / "links.ttl"
    typed.write_text(f"<{org('a')}> a <{CKG.Municipality}> ;\n    <{RDFS.label}> \"A\"@en .\n")
    linking.write_text(f"# links\n\n<{org('a')}> <{CKG.basedIn}> <{city('x')}> .\n")
    ds = Dataset()
    ga, gb = URIRef("urn:g:typed"), URIRef("urn:g:linking")
    ds.graph(ga).parse(typed)
    ds.graph(gb).parse(linking)
    union = graph(*(t for ctx in ds.graphs() for t in ctx))
    raw = Graph()
    report_node = URIRef("urn:report")
    raw.add((report_node, RDF.type, SH.ValidationReport))
    raw.add((report_node, SH.conforms, Literal(True)))

    merged = checks.merge(Report([], raw), checks.find(union), union, Origin(ds, {ga: typed, gb: linking}))

    (r,) = merged.results
    assert (r.file.endswith("links.ttl"), r.line) == (True, 3)
    assert (r.focus, r.shape, r.component, r.severity, r.label) == (str(org("a")), str(checks.CHECKS["dangling-iri"]), "dangling-iri", "Violation", "A")
    assert not merged.conforms
    assert merged.graph.value(report_node, SH.conforms) == Literal(False)
    (result,) = merged.graph.objects(report_node, SH.result)
    assert merged.graph.value(result, SH.sourceShape) == checks.CHECKS["dangling-iri"]
    assert merged.graph.value(result, SH.resultSeverity) == SH.Violation
    assert merged.graph.value(result, SH.value) == city("x")


def test_warnings_alone_leave_the_report_conforming():
    g = graph(
        (org("a"), RDF.type, CKG.Municipality), (org("a"), RDFS.label, en("Same")),
        (org("b"), RDF.type, CKG.Municipality), (org("b"), RDFS.label, en("Same")),
    )
    raw = Graph()
    raw.add((URIRef("urn:report"), RDF.type, SH.ValidationReport))
    raw.add((URIRef("urn:report"), SH.conforms, Literal(True)))
    merged = checks.merge(Report([], raw), checks.find(g), g, Origin(Dataset(), {}))
    assert [r.severity for r in merged.results] == ["Warning", "Warning"]
    assert merged.conforms and merged.graph.value(URIRef("urn:report"), SH.conforms) == Literal(True)


def test_the_checks_scale_linearly_not_quadratically():
    """100k triples of linked, typed, labelled entities (none at fault) in well under the KG's start-up time."""
    g = Graph()
    for i in range(20_000):
        o = org(f"o{i}")
        g.add((o, RDF.type, CKG.Organisation))
        g.add((o, RDFS.label, en(f"Organisation {i}")))
        g.add((o, CKG.basedIn, city(f"c{i % 1000}")))
        g.add((o, SCHEMA.sameAs, URIRef(f"{WD}Q{i + 1}")))
        g.add((city(f"c{i % 1000}"), RDFS.label, en(f"City {i % 1000}")))
    t = time.perf_counter()
    assert checks.find(g) == []
    assert time.perf_counter() - t < 2.0
