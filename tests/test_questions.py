"""Questions a researcher asks, answered from the built KG by SPARQL, with answers taken from the seeds."""

from __future__ import annotations

from .conftest import select

ID = "https://w3id.org/cohesion-kg/id/"


def en(var: str) -> str:
    return f'FILTER (lang({var}) = "en")'


def test_who_coordinated_conet(store):
    rows = select(store, f"""
        SELECT ?org ?name WHERE {{
            ?p ckg:inProject project:conet ; ckg:role role:coordinator ; ckg:participant ?org .
            ?org rdfs:label ?name {en('?name')} }}""")
    assert rows == [{"org": ID + "organisation/city-of-berlin", "name": "City of Berlin"}]


def test_coordinators_of_every_project(store):
    rows = select(store, """
        SELECT ?project ?org WHERE { ?p ckg:inProject ?project ; ckg:role role:coordinator ; ckg:participant ?org }
        ORDER BY ?project""")
    assert {(r["project"][len(ID):], r["org"][len(ID):]) for r in rows} == {
        ("project/conet", "organisation/city-of-berlin"),
        ("project/crisco", "organisation/city-of-etterbeek"),
        ("project/connection", "organisation/eurocities"),
        ("project/cocity", "organisation/city-of-turin"),
    }


def test_how_many_partners_crisco_had(store):
    rows = select(store, "SELECT (COUNT(DISTINCT ?org) AS ?n) WHERE { project:crisco ckg:hasPartner ?org }")
    assert rows == [{"n": "10"}]


def test_conet_lists_the_twelve_partners_of_the_seeds_plus_its_lead_expert(store):
    rows = select(store, """
        SELECT ?org WHERE { ?p ckg:inProject project:conet ; ckg:participant ?org ; ckg:role ?role .
                            FILTER (?role != role:lead-expert) }""")
    orgs = {r["org"][len(ID + "organisation/"):] for r in rows}
    assert len(orgs) == 12
    assert {"city-of-berlin", "city-of-palermo", "city-of-gijon", "cesie", "city-of-malmo"} <= orgs


def test_cities_that_took_part_in_more_than_one_project(store):
    rows = select(store, """
        SELECT ?city (COUNT(DISTINCT ?project) AS ?n) WHERE {
            ?p ckg:inProject ?project ; ckg:participant/ckg:basedIn ?city .
        } GROUP BY ?city HAVING (COUNT(DISTINCT ?project) > 1) ORDER BY ?city""")
    assert {r["city"][len(ID + "city/"):]: int(r["n"]) for r in rows} == {"sofia": 2, "turin": 2}


def test_projects_erdf_funded_through_which_programme(store):
    rows = select(store, """
        SELECT ?project ?programme WHERE {
            ?project ckg:fundedBy ?level .
            ?level ckg:partOfProgramme* ?programme .
            ?programme a ckg:Programme ; ckg:partOfProgramme+ programme:erdf .
        } ORDER BY ?project""")
    assert {(r["project"][len(ID):], r["programme"][len(ID):]) for r in rows} == {
        ("project/conet", "programme/urbact-ii"),
        ("project/cocity", "programme/uia"),
    }


def test_projects_by_fund(store):
    rows = select(store, """
        SELECT ?project ?fund WHERE { ?project ckg:fundedBy/ckg:partOfProgramme* ?fund . ?fund a ckg:Fund }""")
    assert {(r["project"][len(ID):], r["fund"][len(ID):]) for r in rows} == {
        ("project/conet", "programme/erdf"),
        ("project/cocity", "programme/erdf"),
        ("project/connection", "programme/amif"),
    }


def test_crisco_dates_and_sdgs_from_the_seed(store):
    rows = select(store, "SELECT ?start ?end WHERE { project:crisco ckg:startDate ?start ; ckg:endDate ?end }")
    assert rows == [{"start": "2017-09-01", "end": "2019-08-31"}]
    sdgs = select(store, "SELECT ?g WHERE { project:crisco ckg:sdg ?g } ORDER BY ?g")
    assert [r["g"] for r in sdgs] == ["http://metadata.un.org/sdg/10", "http://metadata.un.org/sdg/11"]


def test_conet_dates_keep_both_claims_with_their_sources(store):
    asserted = select(store, "SELECT ?start ?end WHERE { project:conet ckg:startDate ?start ; ckg:endDate ?end }")
    assert asserted == [{"start": "2008-04-21", "end": "2011-05-20"}]
    claims = select(store, """
        SELECT ?value ?source WHERE {
            ?claim a ckg:Claim ; rdf:subject project:conet ; rdf:predicate ckg:startDate ; rdf:object ?value ;
                   dct:source/dct:identifier ?source .
            ?contradiction ckg:hasClaim ?claim .
        }""")
    by_value = {}
    for r in claims:
        by_value.setdefault(r["value"], set()).add(r["source"])
    assert {"seed000", "seed001"} <= by_value["2008-04-21"]
    assert "P_cesie_conet_palermo" in by_value["2008-10"]


def test_connection_partner_count_contradiction_is_kept(store):
    rows = select(store, """
        SELECT ?count ?source WHERE {
            ?claim rdf:subject project:connection ; rdf:predicate ckg:statedPartnerCount ; rdf:object ?count ;
                   dct:source/dct:identifier ?source }""")
    counts = {(int(r["count"]), r["source"]) for r in rows}
    assert (14, "seed003") in counts
    assert any(n == 17 for n, _ in counts)


def test_which_organisations_work_in_turin_and_in_which_projects(store):
    rows = select(store, """
        SELECT DISTINCT ?org ?project WHERE { ?org ckg:basedIn city:turin ; ckg:partnerIn ?project }""")
    pairs = {(r["org"][len(ID + "organisation/"):], r["project"][len(ID + "project/"):]) for r in rows}
    assert ("city-of-turin", "connection") in pairs and ("city-of-turin", "cocity") in pairs
    assert ("anci-piemonte", "connection") in pairs
    assert ("university-of-turin", "cocity") in pairs


def test_co_partners_of_the_city_of_sofia(store):
    rows = select(store, """
        SELECT ?other (COUNT(DISTINCT ?project) AS ?shared) WHERE {
            ?project ckg:hasPartner organisation:city-of-sofia , ?other .
            FILTER (?other != organisation:city-of-sofia)
        } GROUP BY ?other ORDER BY DESC(?shared)""")
    others = {r["other"][len(ID + "organisation/"):] for r in rows}
    assert {"city-of-berlin", "eurocities", "city-of-turin"} <= others


def test_every_project_is_traced_to_a_seed(store):
    rows = select(store, """
        SELECT ?project (GROUP_CONCAT(?file; separator=" ") AS ?files) WHERE {
            ?project a ckg:Project ; dct:source/ckg:seedFile ?file } GROUP BY ?project""")
    assert {r["project"][len(ID + "project/"):] for r in rows} == {"conet", "crisco", "connection", "cocity"}


def test_labels_in_english_and_italian_and_native_names(store):
    rows = select(store, """
        SELECT ?en ?it ?native WHERE { organisation:city-of-turin rdfs:label ?en , ?it ; ckg:nativeName ?native .
            FILTER (lang(?en) = "en" && lang(?it) = "it") }""")
    assert rows and rows[0]["en"] == "City of Turin" and rows[0]["it"] == "Città di Torino"


def test_wikidata_links_only_where_verified(store):
    rows = select(store, "SELECT ?city ?q WHERE { ?city a ckg:City ; schema:sameAs ?q }")
    links = {r["city"][len(ID + "city/"):]: r["q"] for r in rows}
    assert links["berlin"] == "http://www.wikidata.org/entity/Q64"
    assert links["turin"] == "http://www.wikidata.org/entity/Q495"
    for unverified in ("gijon", "apeldoorn", "zabrze", "delft", "antwerp", "dortmund", "novo-mesto", "vlore", "stockholm"):
        assert unverified not in links, unverified
