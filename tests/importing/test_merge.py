"""The merge's rules across properties, on invented quads: one coordinator per project when two sources name
different ones, and a project's dates in order when its start and its end come from different sources."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.importing.merge import settle_coordinators, settle_date_order

ID = "https://w3id.org/cohesion-kg/id/"
CKG = "https://w3id.org/cohesion-kg/ontology/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT_SOURCE = NamedNode("http://purl.org/dc/terms/source")


def n(path: str) -> NamedNode:
    return NamedNode(ID + path)


def graph(source: str) -> NamedNode:
    return NamedNode(f"https://w3id.org/cohesion-kg/graph/import/{source}")


def participation(source: str, slug: str, project: str, role: str) -> list[Quad]:
    p, g = n(f"participation/{slug}"), graph(source)
    return [Quad(p, NamedNode(RDF + "type"), NamedNode(CKG + "Participation"), g),
            Quad(p, NamedNode(CKG + "inProject"), n(f"project/{project}"), g),
            Quad(p, NamedNode(CKG + "participant"), n(f"organisation/{slug}"), g),
            Quad(p, NamedNode(CKG + "role"), n(f"role/{role}"), g)]


def objects(quads, subject: NamedNode, predicate: str) -> set:
    return {q.object for q in quads if q.subject == subject and q.predicate == NamedNode(predicate)}


def of_class(quads, cls: str) -> set:
    return {q.subject for q in quads if q.predicate == NamedNode(RDF + "type") and q.object == NamedNode(CKG + cls)}


def test_two_sources_naming_two_coordinators_keep_the_first_sources_and_the_other_is_a_partner_and_a_claim():
    imported = {
        "urbact": participation("urbact", "city-of-budapest", "net", "coordinator")
        + participation("urbact", "city-of-pecs", "net", "partner"),
        "keep": participation("keep", "ujbuda", "net", "coordinator")
        + participation("keep", "only-keep", "solo", "coordinator"),
    }
    result = settle_coordinators([], imported)
    everything = [q for quads in result.values() for q in quads]
    coordinators = {q.subject for q in everything
                    if q.predicate == NamedNode(CKG + "role") and q.object == n("role/coordinator")}
    assert coordinators == {n("participation/city-of-budapest"), n("participation/only-keep")}
    assert objects(result["keep"], n("participation/ujbuda"), CKG + "role") == {n("role/partner")}
    [contradiction] = of_class(everything, "Contradiction")
    assert contradiction == n("contradiction/import-project-net-coordinator")
    assert objects(everything, contradiction, CKG + "about") == {n("project/net")}
    claims = objects(everything, contradiction, CKG + "hasClaim")
    said = {(next(iter(objects(everything, c, RDF + "subject"))), next(iter(objects(everything, c, RDF + "object"))),
             next(iter(objects(everything, c, DCT_SOURCE.value)))) for c in claims}
    assert said == {(n("participation/city-of-budapest"), n("role/coordinator"), n("source/dataset-urbact")),
                    (n("participation/ujbuda"), n("role/coordinator"), n("source/dataset-keep"))}
    # A project only one source names a coordinator for is left alone.
    assert not [q for q in everything if q.object == n("project/solo") and q.predicate == NamedNode(CKG + "about")]


def test_the_curated_kgs_coordinator_stays_asserted_over_every_source():
    curated = participation("kg", "city-of-berlin", "conet", "coordinator") + [
        Quad(n("participation/city-of-berlin"), DCT_SOURCE, n("source/seed000"), graph("kg"))]
    result = settle_coordinators(curated, {"urbact": participation("urbact", "berlin-senate", "conet", "coordinator")})
    assert objects(result["urbact"], n("participation/berlin-senate"), CKG + "role") == {n("role/partner")}
    claims = of_class(result["urbact"], "Claim")
    assert {next(iter(objects(result["urbact"], c, DCT_SOURCE.value))) for c in claims} == {
        n("source/seed000"), n("source/dataset-urbact")}


def test_a_participation_with_another_role_besides_keeps_that_role_and_is_not_made_a_partner():
    imported = {"a": participation("a", "one", "p", "coordinator"),
                "b": participation("b", "two", "p", "coordinator") + [
                    Quad(n("participation/two"), NamedNode(CKG + "role"), n("role/lead-expert"), graph("b"))]}
    result = settle_coordinators([], imported)
    assert objects(result["b"], n("participation/two"), CKG + "role") == {n("role/lead-expert")}


def dates(source: str, project: str, start: tuple | None, end: tuple | None) -> list[Quad]:
    out = []
    for predicate, value in (("startDate", start), ("endDate", end)):
        if value:
            out.append(Quad(n(f"project/{project}"), NamedNode(CKG + predicate),
                            Literal(value[0], datatype=NamedNode(XSD + value[1])), graph(source)))
    return out


def test_an_end_from_one_source_before_the_start_from_another_is_not_asserted_and_both_become_claims():
    # URBACT's table: City-as-a-Startup starts in 2019; keep.eu's phase ends 2018-10-04.
    imported = {"urbact": dates("urbact", "startup", ("2019", "gYear"), None),
                "keep": dates("keep", "startup", None, ("2018-10-04", "date"))
                + dates("keep", "fine", ("2018-01-01", "date"), ("2018-12-31", "date"))}
    result = settle_date_order([], imported)
    everything = [q for quads in result.values() for q in quads]
    assert objects(everything, n("project/startup"), CKG + "endDate") == set()
    assert objects(everything, n("project/startup"), CKG + "startDate") == {
        Literal("2019", datatype=NamedNode(XSD + "gYear"))}
    assert objects(everything, n("project/fine"), CKG + "endDate")
    [contradiction] = of_class(everything, "Contradiction")
    claims = objects(everything, contradiction, CKG + "hasClaim")
    assert {next(iter(objects(everything, c, RDF + "object"))).value for c in claims} == {"2019", "2018-10-04"}
    assert all(objects(everything, c, DCT_SOURCE.value) for c in claims)
