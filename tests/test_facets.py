"""Facet browsing (/projects, /organisations, /cities) on the curated KG: every count beside a value is the number
of entities the store's own SPARQL finds for it, filters combine (values of one facet widen, facets narrow), the
JSON and CSV twins list what the page lists, the "show as SPARQL" query returns exactly the JSON's entities, bad
parameters are 400s naming them, and every entity a list links to has a page."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from kg.discovery import facets as kg_facets
from kg.discovery.index import path_in
from kg.discovery.search import SearchIndex

from .conftest import select

VIEWS = {"projects": "project", "organisations": "organisation", "cities": "city"}
ALL = {"per_page": "10000"}


def listing(client, view: str, pairs=(), ext: str = "json"):
    """The JSON of a list (all of it on one page unless `pairs` says otherwise)."""
    pairs = list(pairs)
    if not any(name == "per_page" for name, _ in pairs):
        pairs.append(("per_page", ALL["per_page"]))
    answer = client.get(f"/{view}.{ext}?{urlencode(pairs)}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json() if ext == "json" else answer.get_data(as_text=True)


def iris(data) -> list[str]:
    return [item["iri"] for item in data["items"]]


def sparql_iris(store, text: str) -> list[str]:
    return [row["e"] for row in select(store, text)]


def varies(response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",")}


def without(pairs, *names):
    return [(n, v) for n, v in pairs if n not in names]


# Filter combinations of the curated KG that leave something (checked below) and cover each facet and the period.
COMBINATIONS = {
    "projects": [[], [("programme", "erdf")], [("country", "it"), ("from", "2015")], [("role", "coordinator"), ("to", "2012")],
                 [("programme", "urbact-ii"), ("programme", "amif")], [("theme", "social-cohesion"), ("country", "DE")]],
    "organisations": [[], [("country", "it")], [("programme", "erdf"), ("role", "partner")], [("from", "2016"), ("to", "2017")],
                      [("city", "turin"), ("city", "palermo")]],
    "cities": [[], [("country", "it"), ("from", "2010")], [("programme", "europe-for-citizens")], [("role", "coordinator")]],
}


def test_an_unfiltered_list_holds_every_entity_of_its_kind(client, store):
    for view, kind in VIEWS.items():
        data = listing(client, view)
        expected = {r["e"] for r in select(store, f"SELECT DISTINCT ?e WHERE {{ ?e a {kg_facets.CLASSES[kind]} FILTER isIRI(?e) }}")}
        assert data["total"] == len(expected) == len(data["items"])
        assert set(iris(data)) == expected


@pytest.mark.parametrize("view", VIEWS)
def test_the_sparql_of_a_list_returns_exactly_its_entities(client, store, view):
    for pairs in COMBINATIONS[view]:
        data = listing(client, view, pairs)
        assert data["total"] > 0, pairs  # each combination leaves something, or it would prove little
        assert sorted(sparql_iris(store, data["sparql"])) == sorted(iris(data)), pairs


@pytest.mark.parametrize("view", VIEWS)
def test_every_count_is_the_sparql_count_of_the_list_with_that_value(client, store, view):
    """Disjunctive counts: a value's count is the size of the list with that value instead of its facet's current
    selection (and the other facets' filters kept), which the store's SPARQL for that list confirms."""
    for pairs in COMBINATIONS[view][:2]:
        data = listing(client, view, pairs)
        for facet, values in data["facets"].items():
            # a facet's own selection changes none of its counts, only which values are marked
            own = ("from", "to") if facet == "year" else (facet,)
            unselected = listing(client, view, without(pairs, *own))["facets"][facet]
            assert [(v["value"], v["count"]) for v in values] == [(v["value"], v["count"]) for v in unselected], (pairs, facet)
            # the most and least common values and the selected ones: each SPARQL query takes a while
            for value in {v["value"]: v for v in values[:4] + values[-2:] + [v for v in values if v["selected"]]}.values():
                if facet == "year":
                    chosen = without(pairs, "from", "to") + [("from", value["value"]), ("to", value["value"])]
                else:
                    chosen = without(pairs, facet) + [(facet, value["value"])]
                narrowed = listing(client, view, chosen)
                assert value["count"] == narrowed["total"], (pairs, facet, value)
                assert len(sparql_iris(store, narrowed["sparql"])) == value["count"], (pairs, facet, value)


def test_a_programme_counts_the_projects_of_every_level_below_it(client, store):
    data = listing(client, "projects")
    counts = {v["value"]: v["count"] for v in data["facets"]["programme"]}
    for row in select(store, "SELECT ?level (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a ckg:Project ; ckg:fundedBy ?f . "
                             "?f ckg:partOfProgramme* ?level } GROUP BY ?level"):
        key = row["level"].rsplit("/", 1)[-1]
        assert counts[key] == int(row["n"])
    parents = {v["value"]: v.get("parent") for v in data["facets"]["programme"]}
    assert parents["urbact-ii"] == "erdf" and parents["urbact-ii-thematic-networks"] == "urbact-ii"
    assert counts["erdf"] >= counts["urbact-ii"] + counts["uia"]


def test_values_of_one_facet_widen_and_facets_narrow(client):
    lists = {key: set(iris(listing(client, "projects", [("programme", key)]))) for key in ("urbact-ii", "amif", "erdf")}
    assert lists["urbact-ii"] and lists["amif"] and not lists["urbact-ii"] & lists["amif"]  # or the union proves little
    either = set(iris(listing(client, "projects", [("programme", "urbact-ii"), ("programme", "amif")])))
    assert either == lists["urbact-ii"] | lists["amif"]
    italy = set(iris(listing(client, "projects", [("country", "it")])))
    both = set(iris(listing(client, "projects", [("country", "it"), ("programme", "erdf")])))
    assert both == italy & lists["erdf"] and both < italy
    # the selected facet's own counts do not shrink to the selection: AMIF still counts its projects
    data = listing(client, "projects", [("programme", "urbact-ii")])
    counts = {v["value"]: v["count"] for v in data["facets"]["programme"]}
    assert counts["amif"] == len(lists["amif"]) and counts["urbact-ii"] == len(lists["urbact-ii"])
    assert [v["value"] for v in data["facets"]["programme"] if v["selected"]] == ["urbact-ii"]


def test_the_period_keeps_what_was_active_in_it(client, store):
    periods = {}
    for row in select(store, "SELECT ?p ?s ?e WHERE { ?p a ckg:Project ; ckg:startDate ?s OPTIONAL { ?p ckg:endDate ?e } }"):
        start, end = int(row["s"][:4]), int((row["e"] or row["s"])[:4])
        first, last = periods.get(row["p"], (start, end))
        periods[row["p"]] = (min(first, start), max(last, end))
    years = sorted({y for first, last in periods.values() for y in (first, last)})
    for low, high in [(years[0], years[0]), (years[1], years[-2]), (years[-1], years[-1]), (years[0] - 5, years[0] - 1)]:
        expected = {p for p, (first, last) in periods.items() if first <= high and last >= low}
        got = set(iris(listing(client, "projects", [("from", str(low)), ("to", str(high))])))
        assert got == expected, (low, high)
    only_from = set(iris(listing(client, "projects", [("from", str(years[-1]))])))
    assert only_from == {p for p, (_, last) in periods.items() if last >= years[-1]}


def test_the_text_filter_keeps_what_search_finds(client, app):
    index = SearchIndex(path_in(app.config["KG_BACKEND"].folder))
    for view, kind, q in [("projects", "project", "cohesion"), ("organisations", "organisation", "city of"), ("cities", "city", "torino")]:
        hits, total = index.search(q, [kind], limit=100)
        data = listing(client, view, [("q", q)])
        assert total > 0 and set(iris(data)) == {h.iri for h in hits}
        assert data["sort"] == "relevance" and iris(data) == [h.iri for h in hits]  # ranked as search ranks them
        narrowed = listing(client, view, [("q", q), ("country", "it")])
        assert set(iris(narrowed)) == set(iris(data)) & set(iris(listing(client, view, [("country", "it")])))


def test_sorting_and_pages(client):
    by_start = listing(client, "organisations", [("sort", "-start")])["items"]
    starts = [i["start"] for i in by_start if i["start"] is not None]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) > 1
    labels = [i["label"].casefold() for i in listing(client, "organisations")["items"]]
    assert labels == sorted(labels)
    whole = iris(listing(client, "organisations", [("sort", "-weight")]))
    paged, page = [], 1
    while True:
        data = listing(client, "organisations", [("sort", "-weight"), ("per_page", "7"), ("page", str(page))])
        paged += iris(data)
        if "next" not in data["links"]:
            break
        page += 1
    assert paged == whole and data["pages"] == page > 1


def test_the_json_and_csv_twins_and_negotiation_give_the_same_list(client):
    pairs = [("country", "it"), ("sort", "-weight"), ("per_page", "5")]
    data = listing(client, "organisations", pairs)
    rows = list(csv.DictReader(io.StringIO(listing(client, "organisations", pairs, "csv"))))
    assert [r["iri"] for r in rows] == iris(data) and [r["label"] for r in rows] == [i["label"] for i in data["items"]]
    query = urlencode(pairs)
    negotiated = client.get(f"/organisations?{query}", headers={"Accept": "application/json"})
    assert negotiated.get_json()["items"] == data["items"] and "Accept" in varies(negotiated)
    as_csv = client.get(f"/organisations?{query}", headers={"Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv" and as_csv.get_data(as_text=True) == listing(client, "organisations", pairs, "csv")
    page = client.get(f"/organisations?{query}", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "Accept" in varies(page)
    html = page.get_data(as_text=True)
    for twin in ("json", "csv"):
        link = re.search(rf'id="twin-{twin}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert urlsplit(link).path == f"/organisations.{twin}" and parse_qs(urlsplit(link).query) == parse_qs(query)
    fixed = client.get(f"/organisations.json?{query}")
    assert "Accept" not in varies(fixed)
    tag = fixed.headers["ETag"]
    assert client.get(f"/organisations.json?{query}", headers={"If-None-Match": tag}).status_code == 304
    assert client.get(f"/organisations.csv?{query}").headers["ETag"] != tag


def test_the_sparql_link_of_a_page_opens_its_query_in_the_editor(client, store):
    pairs = [("programme", "erdf"), ("role", "coordinator")]
    html = client.get(f"/organisations?{urlencode(pairs)}", headers={"Accept": "text/html"}).get_data(as_text=True)
    link = re.search(r'id="show-sparql" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link.startswith("/sparql#")
    text = parse_qs(urlsplit(link).fragment)["query"][0]
    assert sorted(sparql_iris(store, text)) == sorted(iris(listing(client, "organisations", pairs)))


@pytest.mark.parametrize("query, parameter", [
    ("from=abc", "'from'"), ("to=20100", "'to'"), ("colour=red", "'colour'"), ("page=0", "'page'"),
    ("per_page=x", "'per_page'"), ("sort=size", "'sort'"), ("sort=relevance", "'sort'"), ("q=a&q=b", "'q'"),
    ("format=xml", "'format'"), ("q=" + "x" * 201, "'q'"),
])
def test_bad_parameters_are_400s_naming_them(client, query, parameter):
    answer = client.get(f"/projects?{query}")
    assert answer.status_code == 400 and parameter in answer.get_data(as_text=True)


def test_a_facet_a_kind_has_not_is_a_400_and_an_unknown_value_an_empty_list(client):
    answer = client.get("/cities.json?city=turin")
    assert answer.status_code == 400 and "'city'" in answer.get_data(as_text=True)
    empty = listing(client, "projects", [("programme", "no-such-programme")])
    assert empty["total"] == 0 and empty["items"] == []
    assert client.get("/projects?programme=no-such-programme", headers={"Accept": "text/html"}).status_code == 200


def test_every_list_links_to_entity_pages_that_exist(client):
    for view in VIEWS:
        html = client.get(f"/{view}?per_page=10000", headers={"Accept": "text/html"}).get_data(as_text=True)
        links = re.findall(r'<a class="entity" href="([^"]+)"', html)
        assert len(links) == listing(client, view)["total"] > 0
        for link in links:
            assert client.get(link, headers={"Accept": "text/html"}).status_code == 200, link
        # and every facet value, page and sort is a link to a list that answers
        for link in set(re.findall(r'<a href="(/' + view + r'\?[^"]+)"', html)):
            assert client.get(link.replace("&amp;", "&"), headers={"Accept": "text/html"}).status_code == 200, link


def test_the_page_shows_each_value_with_the_count_of_its_json_twin(client):
    pairs = [("programme", "erdf"), ("from", "2010")]
    data = listing(client, "organisations", pairs)
    html = client.get(f"/organisations?{urlencode(pairs)}", headers={"Accept": "text/html"}).get_data(as_text=True)
    shown = {(f, v): int(n) for f, v, n in re.findall(
        r'data-facet="([a-z]+)" data-value="([^"]*)"[^>]*>\s*<span class="box"[^>]*>[^<]*</span>\s*<span class="label">[^<]*</span> <span class="count">(\d+)</span>', html)}
    expected = {(f, v["value"]): v["count"] for f, values in data["facets"].items() if f != "year" for v in values}
    assert shown == expected and len(shown) > 10
    assert f'<span class="total">{data["total"]:,}</span>' in html


def test_a_form_nobody_offers_is_a_406(client):
    answer = client.get("/projects", headers={"Accept": "image/png"})
    assert answer.status_code == 406 and "text/csv" in answer.get_data(as_text=True)
