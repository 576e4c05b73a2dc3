"""The ontology: documented in English and Italian, aligned to the W3C and EU vocabularies, consistent."""

from __future__ import annotations


import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg.sources.load import parse_graph
from kg.namespaces import CKG
from kg.reasoning.reference import InconsistentKG, Inference, closure

from .conftest import FIXTURES

TERM_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}
ONTOLOGY_IRI = URIRef("https://w3id.org/cohesion-kg/ontology")


@pytest.fixture(scope="module")
def ontology(paths) -> Graph:
    return parse_graph([paths.ontology])


def terms(g: Graph) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in g.subjects(RDF.type, t) if str(s).startswith(str(CKG))}


def test_the_ontology_declares_the_classes_the_kg_needs(ontology):
    needed = {"Project", "Organisation", "Municipality", "City", "Country", "FundingProgramme", "Fund", "Programme",
              "ProgrammeStrand", "Participation", "Role", "Output", "Event", "Theme", "SourceDocument", "Claim"}
    declared = {str(s)[len(str(CKG)):] for s in ontology.subjects(RDF.type, OWL.Class)}
    assert needed <= declared


@pytest.mark.parametrize("prop", [RDFS.label, RDFS.comment])
@pytest.mark.parametrize("lang", ["en", "it"])
def test_every_term_is_labelled_and_commented_in_english_and_italian(ontology, prop, lang):
    missing = [t for t in terms(ontology) if not any(isinstance(o, Literal) and o.language == lang for o in ontology.objects(t, prop))]
    assert not missing, f"terms without {prop.n3()}@{lang}: {sorted(missing)}"


def test_ontology_metadata(ontology):
    for prop in (OWL.versionIRI, OWL.versionInfo, DCTERMS.license, DCTERMS.creator, DCTERMS.created, DCTERMS.modified, DCTERMS.title):
        assert ontology.value(ONTOLOGY_IRI, prop) is not None, f"ontology lacks {prop}"


def test_every_class_is_placed_under_a_parent(ontology):
    orphans = [c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(str(CKG)) and ontology.value(c, RDFS.subClassOf) is None]
    assert not orphans


def test_terms_are_aligned_to_org_schema_eurio_dcterms_prov_and_skos(ontology):
    parents = {str(o) for p in (RDFS.subClassOf, RDFS.subPropertyOf) for o in ontology.objects(None, p)}
    for namespace in ("http://www.w3.org/ns/org#", "https://schema.org/", "http://data.europa.eu/s66#",
                      "http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#", "http://www.w3.org/2004/02/skos/core#"):
        assert any(p.startswith(namespace) for p in parents), f"nothing aligned to {namespace}"


def test_data_uses_only_declared_terms(ontology, built):
    declared = terms(ontology) | {s for s in ontology.subjects() if str(s).startswith(str(CKG))}
    used = set()
    for s, p, o in built.sources.union():
        if str(p).startswith(str(CKG)):
            used.add(p)
        if p == RDF.type and str(o).startswith(str(CKG)):
            used.add(o)
    assert used - declared == set()


def test_owl_rl_closure_of_ontology_and_data_is_consistent(built):
    # build() reasons with OWL RL and raises InconsistentKG otherwise; the closure added something real.
    assert len(built.inferred) > 0
    project = URIRef("https://w3id.org/cohesion-kg/id/project/conet")
    berlin = URIRef("https://w3id.org/cohesion-kg/id/organisation/city-of-berlin")
    assert (project, CKG.hasPartner, berlin) in built.inferred  # property chain
    assert (berlin, CKG.partnerIn, project) in built.inferred  # inverse


def test_the_consistency_check_fires_on_a_city_typed_as_a_municipality(ontology):
    data = Graph()
    for t in ontology:
        data.add(t)
    data.parse(FIXTURES / "inconsistent" / "city-is-municipality.ttl")
    with pytest.raises(InconsistentKG, match="Disjoint classes"):
        closure(data, Inference.OWLRL)
