"""The catalogue of named queries (queries/*.rq): each query's answer on our data, the binding of parameters,
and the same queries through `kg query --named` and /queries.

Expected answers are read from data/*.ttl and the facts sheet (sources/facts.md), not from the queries.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from html.parser import HTMLParser

import pytest

from kg.queries import catalogue as named_queries
from kg.queries.catalogue import CatalogueError, ParameterError, UnknownQuery
from kg.sparql_text import tokens

from .conftest import kg_here, select

ID = "https://w3id.org/cohesion-kg/id/"

# Every query of the catalogue, each with its test below.
CATALOGUE = {
    "project-partners", "city-projects", "organisation-projects", "cities-in-several-projects",
    "organisations-in-several-projects", "co-partner-pairs", "co-partners-of-organisation", "partners-by-country",
    "partners-by-programme", "projects-by-funding", "projects-by-sdg", "projects-by-theme",
    "project-outputs-and-events", "project-summary", "coordinators", "fact-provenance", "contradictions",
    "events-in-period", "organisation-search", "funding-levels",
}


def run(store, name: str, **params) -> list[dict]:
    text = named_queries.get(name).bind({k: str(v) for k, v in params.items()})
    return select(store, text)


def short(iri: str | None) -> str | None:
    """`organisation/city-of-berlin` for the KG's own IRIs."""
    return iri[len(ID):] if iri and iri.startswith(ID) else iri


def column(rows, name) -> list:
    return [short(r[name]) for r in rows]


# --- the catalogue ---------------------------------------------------------------------------------------


def test_the_catalogue_holds_the_queries_tested_here():
    queries = named_queries.catalogue()
    assert set(queries) == CATALOGUE
    assert len(queries) >= 15
    for q in queries.values():
        assert q.title and q.description, q.name


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_runs_with_its_defaults_and_in_italian(store, name):
    assert isinstance(run(store, name), list)
    assert isinstance(run(store, name, lang="it"), list)


# --- each query's answer on our data ----------------------------------------------------------------------


def test_project_partners_of_conet_with_roles_and_countries(store):
    rows = {short(r["organisation"]): r for r in run(store, "project-partners")}
    # The seeds' 12 partners (11 cities and CESIE) and the lead expert, Weeber+Partner (P_weeber).
    assert len(rows) == 13
    berlin = rows["organisation/city-of-berlin"]
    assert (berlin["organisationLabel"], berlin["roles"], berlin["countryLabel"], berlin["cityLabel"]) == (
        "City of Berlin", "Coordinator", "Germany", "Berlin")
    assert rows["organisation/cesie"]["roles"] == "Partner" and rows["organisation/cesie"]["cityLabel"] == "Palermo"
    weeber = rows["organisation/weeber-partner"]
    assert weeber["roles"] == "Lead expert" and weeber["city"] is None and weeber["countryLabel"] == "Germany"


def test_project_partners_of_crisco_are_ten(store):
    rows = run(store, "project-partners", project="project:crisco")
    assert len(rows) == 10
    roles = {short(r["organisation"]): r["roles"] for r in rows}
    assert roles["organisation/city-of-etterbeek"] == "Coordinator"
    assert Counter(roles.values()) == {"Partner": 9, "Coordinator": 1}


def test_project_partners_in_italian_list_every_role(store):
    rows = {short(r["organisation"]): r for r in run(store, "project-partners", project=ID + "project/connection", lang="it")}
    assert len(rows) == 24
    turin = rows["organisation/city-of-turin"]
    assert set(turin["roles"].split(", ")) == {"Partner", "Città mentore"}
    assert (turin["organisationLabel"], turin["countryLabel"]) == ("Città di Torino", "Italia")
    assert rows["organisation/eurocities"]["roles"] == "Coordinatore"


def test_city_projects_of_turin_through_its_municipality_and_others(store):
    rows = run(store, "city-projects")
    got = {(short(r["project"]), short(r["organisation"]), r["municipality"]) for r in rows}
    assert got == {
        ("project/connection", "organisation/city-of-turin", "true"),
        ("project/connection", "organisation/anci-piemonte", "false"),
        ("project/cocity", "organisation/city-of-turin", "true"),
        ("project/cocity", "organisation/university-of-turin", "false"),
        ("project/cocity", "organisation/cascina-roccafranca-foundation", "false"),
        ("project/cocity", "organisation/neighbourhood-houses-network", "false"),
        ("project/cocity", "organisation/socialfare", "false"),
    }


def test_city_projects_of_rezekne_through_a_municipality_that_does_not_govern_it(store):
    # The partner was the novads municipality, based in the city but not its government (facts sheet, CRISCO #8).
    rows = run(store, "city-projects", city="city:rezekne")
    assert [(short(r["project"]), short(r["organisation"]), r["municipality"]) for r in rows] == [
        ("project/crisco", "organisation/rezekne-municipality", "false")]


def test_organisation_projects_of_sofia(store):
    rows = run(store, "organisation-projects")
    assert [(short(r["project"]), r["roles"]) for r in rows] == [("project/conet", "Partner"), ("project/connection", "Partner")]
    assert column(rows, "fundedBy") == ["programme/urbact-ii-thematic-networks", "programme/amif"]


def test_organisation_projects_of_turin_in_italian(store):
    rows = {short(r["project"]): r for r in run(store, "organisation-projects", organisation="organisation:city-of-turin", lang="it")}
    assert set(rows) == {"project/cocity", "project/connection"}
    assert rows["project/cocity"]["roles"] == "Coordinatore"
    assert rows["project/cocity"]["fundedByLabel"] == "Primo bando UIA"
    assert set(rows["project/connection"]["roles"].split(", ")) == {"Partner", "Città mentore"}


def test_cities_in_more_than_one_project_are_sofia_and_turin(store):
    rows = run(store, "cities-in-several-projects")
    assert {(short(r["city"]), int(r["projects"])) for r in rows} == {("city/sofia", 2), ("city/turin", 2)}
    palermo = [r for r in run(store, "cities-in-several-projects", min=1) if short(r["city"]) == "city/palermo"]
    assert [(int(r["projects"]), r["acronyms"]) for r in palermo] == [(1, "CoNet")]
    assert run(store, "cities-in-several-projects", min=3) == []


def test_organisations_in_more_than_one_project_are_the_cities_of_sofia_and_turin(store):
    rows = run(store, "organisations-in-several-projects")
    assert {(short(r["organisation"]), int(r["projects"])) for r in rows} == {
        ("organisation/city-of-sofia", 2), ("organisation/city-of-turin", 2)}
    assert set(rows[0]["acronyms"].split(", ")) in ({"CoNet", "CONNECTION"}, {"CONNECTION", "Co-City"})
    assert run(store, "organisations-in-several-projects", min=3) == []


def test_co_partner_pairs_are_every_pair_within_each_project(store):
    rows = run(store, "co-partner-pairs")
    # No two organisations share two projects, so the pairs are those within each project:
    # CoNet 13, CRISCO 10, CONNECTION 24 and Co-City 6 organisations.
    assert len(rows) == 13 * 12 // 2 + 10 * 9 // 2 + 24 * 23 // 2 + 6 * 5 // 2
    assert {r["shared"] for r in rows} == {"1"}
    pairs = {(short(r["a"]), short(r["b"])): r["projects"] for r in rows}
    assert pairs[("organisation/city-of-berlin", "organisation/city-of-sofia")] == "CoNet"
    assert ("organisation/city-of-sofia", "organisation/city-of-berlin") not in pairs
    assert run(store, "co-partner-pairs", min=2) == []


def test_co_partners_of_sofia_and_of_turin(store):
    sofia = {short(r["partner"]): r["projects"] for r in run(store, "co-partners-of-organisation")}
    assert len(sofia) == 12 + 23  # the others of CoNet and of CONNECTION
    assert sofia["organisation/city-of-berlin"] == "CoNet" and sofia["organisation/city-of-turin"] == "CONNECTION"
    assert "organisation/city-of-sofia" not in sofia
    turin = {short(r["partner"]): r for r in run(store, "co-partners-of-organisation", organisation="organisation:city-of-turin")}
    assert len(turin) == 23 + 5  # the others of CONNECTION and of Co-City
    assert turin["organisation/university-of-turin"]["projects"] == "Co-City"


def test_partners_by_country_across_projects(store):
    rows = {short(r["country"]): (int(r["organisations"]), int(r["projects"])) for r in run(store, "partners-by-country")}
    assert len(rows) == 22
    # Italy: Palermo and CESIE (CoNet), Bassano del Grappa (CRISCO), Turin, Asti, Cuneo, Settimo Torinese and
    # ANCI Piemonte (CONNECTION), and five more in Co-City.
    assert rows["country/it"] == (13, 4)
    assert rows["country/be"] == (5, 3)  # Brussels; Etterbeek; Antwerp, EUROCITIES, MigrationWork
    assert rows["country/bg"] == (1, 2)  # the City of Sofia, in two projects


def test_partners_by_country_of_crisco_are_the_seeds_ten_countries(store):
    rows = run(store, "partners-by-country", project="project:crisco", lang="it")
    # seed002, "Paesi coinvolti": Albania, Belgium, Denmark, Estonia, France, Italy, Latvia, Lithuania, Netherlands, Slovenia.
    assert {short(r["country"])[-2:] for r in rows} == {"al", "be", "dk", "ee", "fr", "it", "lv", "lt", "nl", "si"}
    assert {r["organisations"] for r in rows} == {"1"}
    assert "Paesi Bassi" in {r["countryLabel"] for r in rows}


def test_partners_by_programme_follow_the_hierarchy_down(store):
    erdf = run(store, "partners-by-programme")
    assert Counter(column(erdf, "project")) == {"project/conet": 13, "project/cocity": 6}
    assert set(column(erdf, "fundedBy")) == {"programme/urbact-ii-thematic-networks", "programme/uia-call-1"}
    efc = run(store, "partners-by-programme", programme="programme:europe-for-citizens")
    assert set(column(efc, "project")) == {"project/crisco"} and len(efc) == 10
    assert len(run(store, "partners-by-programme", programme="programme:amif")) == 24
    assert len(run(store, "partners-by-programme", programme="programme:urbact-ii-thematic-networks")) == 13


def test_projects_by_funding_with_programme_and_fund_above_each(store):
    rows = {short(r["project"]): (short(r["fundedBy"]), short(r["withinProgramme"]), short(r["withinFund"]))
            for r in run(store, "projects-by-funding")}
    assert rows == {
        "project/conet": ("programme/urbact-ii-thematic-networks", "programme/urbact-ii", "programme/erdf"),
        "project/cocity": ("programme/uia-call-1", "programme/uia", "programme/erdf"),
        "project/crisco": ("programme/efc-networks-of-towns", "programme/europe-for-citizens", None),
        "project/connection": ("programme/amif", None, "programme/amif"),
    }


@pytest.mark.parametrize("params, projects", [
    ({"fund": "programme:erdf"}, {"conet", "cocity"}),
    ({"fund": "programme:amif"}, {"connection"}),
    ({"programme": "programme:urbact-ii"}, {"conet"}),
    ({"programme": "programme:efc-strand-2"}, {"crisco"}),
    ({"from": "2017", "to": "2019"}, {"cocity", "crisco"}),
    ({"from": "2020"}, {"cocity", "connection"}),  # Co-City ended in February 2020
    ({"to": "2009"}, {"conet"}),
    ({"fund": "programme:erdf", "from": "2012"}, {"cocity"}),
    ({"fund": "programme:amif", "to": "2019"}, set()),
])
def test_projects_by_funding_narrowed(store, params, projects):
    rows = run(store, "projects-by-funding", **params)
    assert {short(r["project"])[len("project/"):] for r in rows} == projects


def test_projects_by_sdg(store):
    # Only CRISCO's seed (seed002) states goals: SDG 10 and 11.
    assert [(r["sdg"], short(r["project"])) for r in run(store, "projects-by-sdg")] == [
        ("http://metadata.un.org/sdg/10", "project/crisco"), ("http://metadata.un.org/sdg/11", "project/crisco")]
    assert [(r["sdgLabel"], short(r["project"])) for r in run(store, "projects-by-sdg", goal=11)] == [("SDG 11", "project/crisco")]
    assert run(store, "projects-by-sdg", goal=5) == []


def test_projects_by_theme(store):
    assert column(run(store, "projects-by-theme"), "project") == ["project/conet", "project/crisco"]
    migrants = run(store, "projects-by-theme", theme="theme:migrant-integration", lang="it")
    assert column(migrants, "project") == ["project/crisco", "project/connection"]
    assert "Coesione sociale" in migrants[0]["otherThemes"]
    assert column(run(store, "projects-by-theme", theme="theme:urban-commons"), "project") == ["project/cocity"]


def test_outputs_and_events_of_every_project_and_of_one(store):
    rows = run(store, "project-outputs-and-events")
    assert Counter((short(r["project"]), r["kind"]) for r in rows) == {
        ("project/conet", "output"): 4, ("project/conet", "event"): 2,
        ("project/crisco", "output"): 2, ("project/crisco", "event"): 7,
        ("project/connection", "output"): 6, ("project/connection", "event"): 8,
        ("project/cocity", "output"): 2, ("project/cocity", "event"): 4,
    }
    conet = {short(r["item"]): r for r in run(store, "project-outputs-and-events", project="project:conet")}
    assert len(conet) == 6
    alba = conet["event/conet-alba-iulia-meeting-2010"]
    assert (alba["start"], alba["end"], short(alba["place"])) == ("2010-05-27", "2010-05-28", "city/alba-iulia")
    assert conet["output/conet-guide-to-social-cohesion"]["kind"] == "output"


def test_project_summary(store):
    rows = {short(r["project"]): tuple(r[k] for k in ("organisations", "outputs", "events", "themes", "statedPartners"))
            for r in run(store, "project-summary")}
    assert rows == {
        "project/conet": ("13", "4", "2", "7", "12"),
        "project/crisco": ("10", "2", "7", "7", "10"),
        "project/connection": ("24", "6", "8", "6", "14"),
        "project/cocity": ("6", "2", "4", "7", None),
    }


def test_coordinators(store):
    rows = {short(r["project"]): (short(r["coordinator"]), short(r["city"]), short(r["country"])) for r in run(store, "coordinators")}
    assert rows == {
        "project/conet": ("organisation/city-of-berlin", "city/berlin", "country/de"),
        "project/crisco": ("organisation/city-of-etterbeek", "city/etterbeek", "country/be"),
        "project/connection": ("organisation/eurocities", None, "country/be"),
        "project/cocity": ("organisation/city-of-turin", "city/turin", "country/it"),
    }


def test_coordinator_labels_fall_back_to_english_for_a_language_without_labels(store):
    rows = run(store, "coordinators", lang="de")
    assert "City of Berlin" in column(rows, "coordinatorLabel")


def test_provenance_of_conet_start_date_keeps_every_claim_with_its_sources(store):
    rows = run(store, "fact-provenance")
    by_value = {}
    for r in rows:
        by_value.setdefault((r["value"], r["asserted"]), set()).add(short(r["source"]))
    # Seeds: 21/04/2008 (asserted); CESIE's Palermo page: October 2008; Weeber+Partner: 2008.
    assert by_value == {
        ("2008-04-21", "true"): {"source/seed000", "source/seed001"},
        ("2008-10", "false"): {"source/p-cesie-conet-palermo"},
        ("2008", "false"): {"source/p-weeber"},
    }
    assert {r["cited"] for r in rows} == {"claim"}
    assert {short(r["file"]) for r in rows} == {"https://w3id.org/cohesion-kg/graph/data/projects/conet"}


def test_provenance_of_connection_partner_count(store):
    rows = run(store, "fact-provenance", subject="project:connection", predicate="ckg:statedPartnerCount")
    values = {}
    for r in rows:
        values.setdefault(r["value"], set()).add((r["asserted"], short(r["source"])))
    assert ("true", "source/seed003") in values["14"]  # "14 partner europei" (seed003), asserted
    assert values["17"] == {("false", "source/p-torinoeu-conn-en"), ("false", "source/p-torinoeu-conn-it")}
    assert values["22"] == {("false", "source/p-sofiada")}


def test_provenance_of_a_fact_no_source_disputes_falls_back_to_the_resource_sources(store):
    rows = run(store, "fact-provenance", subject=ID + "project/crisco", predicate=f"<{named_queries.PREFIXES['ckg']}projectNumber>")
    assert {(r["value"], r["asserted"], r["cited"], r["claim"]) for r in rows} == {("588195", "true", "resource", None)}
    assert {"source/p-crisco", "source/seed002"} <= set(column(rows, "source"))


def test_contradictions_about_conet(store):
    rows = run(store, "contradictions", about="project:conet")
    got = {(short(r["contradiction"]), r["value"], r["asserted"], r["sources"].replace(" ", "")) for r in rows}
    assert {(c, v, a) for c, v, a, _ in got} == {
        ("contradiction/conet-dates", "2008-04-21", "true"), ("contradiction/conet-dates", "2008-10", "false"),
        ("contradiction/conet-dates", "2008", "false"), ("contradiction/conet-dates", "2011-05-20", "true"),
        ("contradiction/conet-dates", "2011-04", "false"),
        ("contradiction/conet-partnership-count", "12", "true"), ("contradiction/conet-partnership-count", "11", "false"),
    }
    seeds = [s for c, v, a, s in got if v == "2008-04-21"][0]
    assert set(seeds.split(",")) == {"seed000", "seed001"}
    assert [s for c, v, a, s in got if v == "11"] == ["P_urbact_conet"]


def test_contradictions_all_and_about_utrecht(store):
    rows = run(store, "contradictions")
    # 80 claims in 31 contradictions; one claim (Co-City's call timing) belongs to two of them.
    assert len({r["contradiction"] for r in rows}) == 31
    assert len(rows) == 81
    utrecht = run(store, "contradictions", about="organisation:city-of-utrecht")
    assert {(short(r["value"]), r["asserted"]) for r in utrecht} == {("country/nl", "true"), ("country/fi", "false")}


@pytest.mark.parametrize("start, end, events", [
    ("2022-01-01", "2022-12-31", {"connection-cop1-zagreb-visit-2022", "connection-final-meeting-utrecht-2022",
                                  "connection-integrating-cities-conference-2022", "connection-charter-signing-2022",
                                  "connection-anci-piemonte-workshop-2022"}),
    # Dates given as a month count when the month overlaps: December 2017, October 2021.
    ("2017-12-01", "2017-12-31", {"crisco-rezekne-newsletter-editors-training"}),
    ("2021-10-31", "2021-11-30", {"connection-cop1-turin-meeting-2021"}),
    ("2021-11-01", "2021-11-30", set()),
    ("2010-05-28", "2010-05-28", {"conet-alba-iulia-meeting-2010"}),  # the second day of a two-day meeting
])
def test_events_in_period(store, start, end, events):
    rows = run(store, "events-in-period", **{"from": start, "to": end})
    assert {short(r["event"])[len("event/"):] for r in rows} == events


def test_organisation_search(store):
    assert column(run(store, "organisation-search"), "organisation") == [
        "organisation/city-of-turin", "organisation/university-of-turin"]
    # "torino" is only in the Italian labels and the native name (Comune di Torino).
    torino = run(store, "organisation-search", text="TORINO", lang="it")
    assert set(column(torino, "organisation")) == {"organisation/city-of-turin", "organisation/university-of-turin"}
    assert {"organisation/anci", "organisation/anci-piemonte"} <= set(column(run(store, "organisation-search", text="anci"), "organisation"))


def test_funding_levels_count_projects_and_partners_below_each(store):
    rows = {short(r["level"]): (short(r["partOf"]), int(r["projects"]), int(r["organisations"])) for r in run(store, "funding-levels")}
    assert len(rows) == 9
    assert rows["programme/erdf"] == (None, 2, 19)
    assert rows["programme/urbact-ii"] == ("programme/erdf", 1, 13)
    assert rows["programme/amif"] == (None, 1, 24)
    assert rows["programme/efc-networks-of-towns"] == ("programme/efc-strand-2", 1, 10)


# --- binding parameters safely ---------------------------------------------------------------------------


def test_text_is_bound_as_one_escaped_literal_never_as_query_syntax(store):
    hostile = '"} } DROP ALL ; SELECT * WHERE { ?s ?p ?o } #\n\\'
    q = named_queries.get("organisation-search")
    # The same tokens as with a harmless value: the hostile text is one string token, whatever it holds.
    shape = lambda text: [(t.kind, "" if t.kind == "string" else t.text) for t in tokens(text)]
    assert shape(q.bind({"text": hostile})) == shape(q.bind({"text": "turin"}))
    assert run(store, "organisation-search", text=hostile) == []
    assert run(store, "organisation-search", text='"') == []


@pytest.mark.parametrize("name, params, where, message", [
    ("project-partners", {"project": "not an iri"}, "project", "is not an IRI"),
    ("project-partners", {"project": "https://example.org/a>b"}, "project", "is not an IRI"),
    ("project-partners", {"project": "https://w3id.org/x {"}, "project", "is not an IRI"),
    ("project-partners", {"colour": "red"}, "colour", "unknown parameter"),
    ("project-partners", {"lang": "en; DROP"}, "lang", "not a language tag"),
    ("cities-in-several-projects", {"min": "two"}, "min", "not an integer"),
    ("cities-in-several-projects", {"min": "0"}, "min", "outside"),
    ("projects-by-sdg", {"goal": "18"}, "goal", "outside 1..17"),
    ("projects-by-funding", {"from": "20017"}, "from", "not a year"),
    ("events-in-period", {"from": "2022-02-30"}, "from", "not a date"),
    ("events-in-period", {"to": "15/11/2022"}, "to", "not a date"),
])
def test_an_ill_typed_or_unknown_parameter_is_refused_by_name(name, params, where, message):
    with pytest.raises(ParameterError) as e:
        named_queries.get(name).bind(params)
    assert e.value.name == where
    assert str(e.value).startswith(f"parameter {where!r}: ") and message in str(e.value)


def test_iri_parameters_accept_full_iris_angle_brackets_and_the_kg_prefixes():
    q = named_queries.get("project-partners")
    bound = {q.bind({"project": v}) for v in (ID + "project/crisco", f"<{ID}project/crisco>", "project:crisco")}
    assert len(bound) == 1 and f"<{ID}project/crisco>" in bound.pop()


def test_empty_values_take_the_default_or_leave_an_optional_parameter_unbound():
    q = named_queries.get("projects-by-funding")
    assert 'VALUES (?fund ?programme ?from ?to ?lang) { (UNDEF UNDEF UNDEF UNDEF "en") }' in q.bind({"fund": "", "lang": " "})


def test_a_required_parameter_without_default_must_be_given(tmp_path):
    (tmp_path / "needs-one.rq").write_text(
        '# title: T\n# description: D\n# param: project iri "The project"\nSELECT * WHERE { ?project ?p ?o }\n')
    q = named_queries.get("needs-one", tmp_path)
    assert q.params[0].required
    with pytest.raises(ParameterError, match="parameter 'project': missing"):
        q.bind({})
    assert "VALUES (?project)" in q.bind({"project": "project:conet"})


def test_an_unknown_query_name_is_an_error():
    with pytest.raises(UnknownQuery, match="no query named 'nope'"):
        named_queries.get("nope")


@pytest.mark.parametrize("text, line, message", [
    ("SELECT * WHERE { ?s ?p ?o }\n", None, "needs a '# title:'"),
    ("# title: T\n# description: D\n# colour: red\nSELECT * WHERE { ?s ?p ?o }\n", 3, "unexpected header field 'colour'"),
    ("# title: T\n# description: D\n# param: s thing \"S\"\nSELECT * WHERE { ?s ?p ?o }\n", 3, "unknown type 'thing'"),
    ("# title: T\n# description: D\n# param: x iri \"X\"\nSELECT * WHERE { ?s ?p ?o }\n", None, "never uses"),
    ("# title: T\n# description: D\n# param: s integer \"S\" default=one\nSELECT * WHERE { ?s ?p ?o }\n", None, "default of parameter 's'"),
    ("# title: T\n# description: D\n# param: s integer \"S\" colour=red\nSELECT * WHERE { ?s ?p ?o }\n", 3, "unknown option"),
    ("# title: T\n# description: D\n# param: s iri \"S\"\nSELECT * { ?s ?p ?o }\n", None, "top-level 'WHERE {'"),
])
def test_a_header_that_cannot_be_read_is_an_error_with_its_place(tmp_path, text, line, message):
    (tmp_path / "bad.rq").write_text(text)
    with pytest.raises(CatalogueError) as e:
        named_queries.catalogue(tmp_path)
    assert message in e.value.message
    assert e.value.where.endswith("bad.rq" if line is None else f"bad.rq:{line}")


def test_a_header_field_may_continue_on_indented_lines(tmp_path):
    (tmp_path / "long.rq").write_text("# title: T\n# description: one\n#   two\nSELECT * WHERE { ?s ?p ?o }\n")
    assert named_queries.get("long", tmp_path).description == "one two"


def test_the_bound_text_replaces_the_header_with_the_title():
    text = named_queries.get("coordinators").bind({})
    assert text.startswith("# Coordinators (named query coordinators)\n")
    assert "# param:" not in text


# --- kg query --named ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def disk_store(disk_store):
    """The session's `kg build` (conftest.py)."""
    return disk_store


def test_cli_runs_a_named_query_with_parameters_in_any_format(kg_cmd, disk_store):
    done = kg_cmd("query", "--named", "project-partners", "--param", "project=project:crisco", "--format", "csv", "--store", str(disk_store))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 10 and {r["organisationLabel"] for r in rows} >= {"Municipality of Etterbeek"}
    done = kg_cmd("query", "--named", "cities-in-several-projects", "--format", "json", "--store", str(disk_store))
    bindings = json.loads(done.stdout)["results"]["bindings"]
    assert {b["cityLabel"]["value"] for b in bindings} == {"Sofia", "Turin"}
    table = kg_cmd("query", "--named", "coordinators", "--param", "lang=it", "--store", str(disk_store))
    assert table.returncode == 0 and "Città di Berlino" in table.stdout and "(4 rows)" in table.stdout


def test_cli_lists_the_catalogue():
    done = kg_here("query", "--list")
    assert done.returncode == 0
    assert {line.split(":")[0] for line in done.stdout.splitlines() if not line.startswith(" ")} == CATALOGUE
    assert "--param project=<iri>" in done.stdout
    listing = json.loads(kg_here("query", "--list", "--format", "json").stdout)
    assert {q["name"] for q in listing} == CATALOGUE


@pytest.mark.parametrize("args, message", [
    (["--named", "project-partners", "--param", "project=not an iri"], "kg: error: parameter 'project': 'not an iri' is not an IRI"),
    (["--named", "project-partners", "--param", "colour=red"], "kg: error: parameter 'colour': unknown parameter"),
    (["--named", "projects-by-sdg", "--param", "goal=1", "--param", "goal=2"], "kg: error: parameter 'goal': given more than once"),
    (["--named", "projects-by-sdg", "--param", "goal=eleven"], "kg: error: parameter 'goal': 'eleven' is not an integer"),
    (["--named", "nope"], "kg: error: no query named 'nope'"),
    (["--named", "coordinators", "--param", "lang"], "expected KEY=VALUE"),
    (["SELECT * WHERE {}", "--param", "a=b"], "kg: error: --param: parameters go with a --named query"),
    ([], "kg: error: give either a QUERY or --named NAME"),
])
def test_cli_refuses_bad_parameters_with_exit_code_2(args, message):
    # The parameters are checked before the store is opened: no build is needed to see these errors.
    done = kg_here("query", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# --- /queries --------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The parts of a query page the tests look at: result cells (with their links), options, links."""

    def __init__(self):
        super().__init__()
        self.rows, self.headers, self.links, self.options, self.errors = [], [], {}, [], []
        self._in = None
        self._cell = None
        self._href = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._in = "table"
        elif tag == "tr" and self._in == "table":
            self.rows.append([])
        elif tag in ("td", "th") and self._in == "table":
            self._cell = {"text": "", "href": None, "tag": tag}
        elif tag == "a":
            self._href = a.get("href")
            if self._cell is not None:
                self._cell["href"] = self._href
        elif tag == "option":
            self.options.append((a.get("value"), "selected" in a))
        elif tag == "p" and "error" in (a.get("class") or ""):
            self._in = "error"
            self.errors.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            if self._cell["tag"] == "th":
                self.headers.append(self._cell["text"])
            else:
                self.rows[-1].append((self._cell["text"], self._cell["href"]))
            self._cell = None
        elif tag in ("table", "p"):
            self._in = None
        elif tag == "a":
            self._href = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        elif self._href is not None:
            self.links[data.strip()] = self._href
        if self._in == "error":
            self.errors[-1] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.rows = [r for r in page.rows if r]
    return page


def test_the_list_shows_every_query_with_title_and_description(client):
    r = client.get("/queries")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for q in named_queries.catalogue().values():
        assert f'href="/queries/{q.name}"' in html
        assert q.title in html
    assert "Sofia and Turin" not in html  # descriptions come from the files, not from results
    listing = client.get("/queries.json").get_json()
    assert {q["name"] for q in listing} == CATALOGUE
    partners = next(q for q in listing if q["name"] == "project-partners")
    assert partners["formats"]["csv"].endswith("/queries/project-partners.csv")
    assert partners["params"][0] == {"name": "project", "type": "iri", "label": "The project", "default": "project:conet",
                                     "required": False, "class": "https://w3id.org/cohesion-kg/ontology/Project"}


def test_a_query_page_runs_with_its_defaults_and_links_iris_with_their_labels(client):
    r = client.get("/queries/project-partners")
    assert r.status_code == 200
    page = parse(r.get_data(as_text=True))
    assert page.headers == ["organisation", "roles", "country", "city"]  # the label columns become link texts
    assert len(page.rows) == 13
    berlin = next(row for row in page.rows if row[0][0] == "City of Berlin")
    assert berlin == [("City of Berlin", "/id/organisation/city-of-berlin"), ("Coordinator", None),
                      ("Germany", "/id/country/de"), ("Berlin", "/id/city/berlin")]
    # The project parameter is a choice among the KG's projects, the default selected.
    assert (ID + "project/conet", True) in page.options and (ID + "project/crisco", False) in page.options
    html = r.get_data(as_text=True)
    assert "VALUES (?project ?lang)" in html  # the SPARQL text, as bound


def test_a_query_page_with_parameters_and_its_twins(client):
    r = client.get("/queries/project-partners", query_string={"project": ID + "project/crisco", "lang": "it"})
    page = parse(r.get_data(as_text=True))
    assert len(page.rows) == 10
    assert ("Comune di Etterbeek", "/id/organisation/city-of-etterbeek") in [row[0] for row in page.rows]
    assert (ID + "project/crisco", True) in page.options
    csv_link, json_link = page.links["CSV"], page.links["JSON"]
    assert csv_link.startswith("/queries/project-partners.csv?")
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link).get_data(as_text=True))))
    assert len(rows) == 10 and "Comune di Etterbeek" in {r["organisationLabel"] for r in rows}
    twin = client.get(json_link)
    assert twin.content_type.startswith("application/sparql-results+json")
    assert len(twin.get_json()["results"]["bindings"]) == 10
    # The same query at the SPARQL endpoint gives the same rows.
    endpoint = client.get(page.links["SPARQL endpoint (CSV)"])
    assert endpoint.status_code == 200
    assert sorted(csv.DictReader(io.StringIO(endpoint.get_data(as_text=True))), key=str) == sorted(rows, key=str)
    assert page.links["SPARQL editor"].startswith("/sparql#query=")


def test_twins_in_every_result_format(client):
    for ext, media_type in (("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("json", "application/sparql-results+json"),
                            ("xml", "application/sparql-results+xml")):
        r = client.get(f"/queries/coordinators.{ext}?lang=it")
        assert r.status_code == 200 and r.content_type.startswith(media_type)
        assert "Città di Berlino" in r.get_data(as_text=True)
    assert client.get("/queries/coordinators.pdf").status_code == 404


@pytest.mark.parametrize("query_string, message", [
    ("project=not+an+iri", "parameter 'project': 'not an iri' is not an IRI"),
    ("colour=red", "parameter 'colour': unknown parameter"),
    ("project=project:conet&project=project:crisco", "parameter 'project': given more than once"),
    ("lang=%3Cscript%3E", "parameter 'lang': '<script>' is not a language tag"),
])
def test_bad_parameters_are_400_with_the_parameter_named(client, query_string, message):
    r = client.get("/queries/project-partners?" + query_string)
    assert r.status_code == 400
    page = parse(r.get_data(as_text=True))
    assert page.errors and message in page.errors[0]
    assert page.rows == []
    assert "<script>" not in r.get_data(as_text=True)  # autoescaped, in the message and in the form
    twin = client.get("/queries/project-partners.csv?" + query_string)
    assert twin.status_code == 400 and twin.content_type.startswith("text/plain")
    assert message in twin.get_data(as_text=True) and "Traceback" not in twin.get_data(as_text=True)


def test_an_unknown_query_is_404(client):
    for url in ("/queries/nope", "/queries/nope.csv"):
        r = client.get(url)
        assert r.status_code == 404 and "no query named 'nope'" in r.get_data(as_text=True)


def test_an_optional_parameter_left_empty_in_the_form_constrains_nothing(client):
    r = client.get("/queries/projects-by-funding?fund=&programme=&from=2017&to=&lang=en")
    page = parse(r.get_data(as_text=True))
    assert r.status_code == 200
    assert {row[0][1] for row in page.rows} == {"/id/project/cocity", "/id/project/crisco", "/id/project/connection"}
    assert ("", False) in page.options  # "(any)" offered for the optional fund and programme


def test_a_timed_out_query_reports_503_without_a_traceback(store):
    from server import create_app

    slow = create_app({"KG_STORE": store, "TESTING": True, "QUERY_TIMEOUT": 0.000001})
    r = slow.test_client().get("/queries/co-partner-pairs.csv")
    assert r.status_code == 503 and "limit" in r.get_data(as_text=True)
    assert r.headers.get("Retry-After")
