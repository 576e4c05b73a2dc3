"""Search (issue 15): the discovery index a build writes, its ranking, /search and /search/suggest, and `kg search`.
On the curated KG: its names come in English, Italian and the partners' own languages."""

from __future__ import annotations

import json

import pytest

from kg.discovery import index as discovery_index
from kg.discovery.search import SearchIndex
from kg.importing.places import fold

from .conftest import kg_here, select

ID = "https://w3id.org/cohesion-kg/id/"


@pytest.fixture(scope="module")
def index(built) -> SearchIndex:
    return SearchIndex(discovery_index.path_in(built.published))


def labels(hits) -> list[str]:
    return [h.label for h in hits]


@pytest.mark.parametrize("text, folded", [
    ("Malmö", "malmo"), ("ŁÓDŹ", "lodz"), ("Città di Torino", "citta di torino"), ("København", "kobenhavn"),
    ("Straße", "strasse"), ("  CoNet – Cohesion  Network ", "conet cohesion network"),
    ("ΔΉΜΟΣ Αθηναίων", "δημοσ αθηναιων"), ("Москва", "москва"),  # other scripts keep their letters
])
def test_names_fold_to_plain_lower_case_words(text, folded):
    assert fold(text) == folded


def test_the_index_holds_every_project_organisation_city_and_programme(index, store):
    expected = {}
    for kind, cls in (("project", "Project"), ("organisation", "Organisation"), ("city", "City"), ("programme", "FundingProgramme")):
        expected[kind] = int(select(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ckg:{cls} }}")[0]["n"])
    assert index.counts() == expected
    assert expected["organisation"] > 40 and expected["project"] == 4


@pytest.mark.parametrize("q, iri, matched", [
    ("Malmo", "city/malmo", "Malmö"),          # accents ignored
    ("malmö", "city/malmo", "Malmö"),
    ("torino", "city/turin", "Torino"),        # the Italian name finds the English label
    ("TURIN", "city/turin", "Turin"),          # case ignored
    ("conet", "project/conet", "CoNet"),       # an acronym
])
def test_a_name_in_any_language_finds_its_thing_first(index, q, iri, matched):
    hits, total = index.search(q)
    assert hits[0].iri == ID + iri
    assert hits[0].match == "exact" and hits[0].matched == matched
    assert total >= 1


def test_ranked_exact_then_prefix_then_words_then_descriptions(index):
    hits, _ = index.search("turin", limit=50)
    ranks = [h.match for h in hits]
    assert ranks[0] == "exact"
    order = ["exact", "prefix", "words", "description"]
    assert [order.index(r) for r in ranks] == sorted(order.index(r) for r in ranks)
    assert ID + "organisation/city-of-turin" in [h.iri for h in hits if h.match == "words"]
    assert any(h.match == "description" for h in hits)  # things that only mention Turin come last
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_a_prefix_finds_names_that_start_with_it(index):
    hits, _ = index.search("tor", kinds=["city"])
    assert hits[0].iri == ID + "city/turin" and hits[0].match == "prefix"


def test_kinds_filter_and_pages(index):
    cities, n_cities = index.search("city", kinds=["city"], limit=100)
    assert cities and {h.kind for h in cities} == {"city"}
    everything, n_all = index.search("city", limit=100)
    assert n_all > n_cities
    first, total = index.search("city", limit=5)
    second, _ = index.search("city", limit=5, offset=5)
    assert total == n_all and not {h.iri for h in first} & {h.iri for h in second}
    assert labels(first + second) == labels(everything[:10])


def test_suggestions_complete_a_half_typed_word(index):
    assert labels(index.suggest("malm"))[:1] == ["Malmö"]
    assert ID + "organisation/city-of-malmo" in [h.iri for h in index.suggest("malmo st")]


@pytest.mark.parametrize("call, message", [
    (lambda i: i.search("x", kinds=["person"]), "unknown kind 'person'"),
    (lambda i: i.search("x", limit=0), "limit must be between 1 and 100"),
    (lambda i: i.search("x" * 300), "at most 200"),
])
def test_bad_requests_are_refused_with_the_reason(index, call, message):
    from kg.errors import InputError

    with pytest.raises(InputError, match=message):
        call(index)


def test_queries_of_punctuation_or_fts_syntax_are_just_words(index):
    for q in ['"', "AND", "NEAR(", "*", "-", "city OR", "col:umn"]:
        hits, total = index.search(q)  # never an FTS5 syntax error
        assert total >= 0


def test_search_page_json_and_negotiation(client):
    page = client.get("/search?q=torino", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert 'href="/id/city/turin"' in html and "Torino" in html
    assert "Accept" in page.headers["Vary"]
    as_json = client.get("/search?q=torino", headers={"Accept": "application/json"})
    twin = client.get("/search.json?q=torino")
    assert as_json.get_json() == twin.get_json()
    body = twin.get_json()
    assert body["results"][0]["iri"] == ID + "city/turin"
    assert body["results"][0]["href"] == "/id/city/turin"
    assert body["total"] == len(body["results"])


def test_search_json_pages_with_a_next_link(client):
    body = client.get("/search.json?q=city&limit=3").get_json()
    assert len(body["results"]) == 3 and body["total"] > 3
    following = client.get(body["next"].replace("http://localhost", "")).get_json()
    assert following["offset"] == 3
    assert not {r["iri"] for r in body["results"]} & {r["iri"] for r in following["results"]}


@pytest.mark.parametrize("url, message", [
    ("/search.json?q=x&kind=person", "parameter kind: 'person'"),
    ("/search.json?q=x&limit=abc", "parameter limit: 'abc' is not a whole number"),
    ("/search.json?q=x&offset=-1", "parameter offset"),
    ("/search?q=x&format=yaml", "parameter format: 'yaml'"),
    ("/search/suggest?q=x&limit=99", "parameter limit"),
])
def test_bad_parameters_get_a_400_naming_them(client, url, message):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_suggest_answers_json_and_opensearch(client):
    body = client.get("/search/suggest?q=malm").get_json()
    assert body["suggestions"][0] == {"iri": ID + "city/malmo", "label": "Malmö", "kind": "city", "matched": "Malmö",
                                      "detail": "city · Sweden", "href": "/id/city/malmo"}
    opensearch = client.get("/search/suggest?q=malm&format=opensearch")
    assert opensearch.content_type == "application/x-suggestions+json"
    q, completions, details, urls = json.loads(opensearch.get_data(as_text=True))
    assert q == "malm" and completions[0] == "Malmö" and urls[0].endswith("/id/city/malmo")
    description = client.get("/opensearch.xml")
    assert description.content_type == "application/opensearchdescription+xml"
    assert "/search?q={searchTerms}" in description.get_data(as_text=True)


def test_answers_carry_the_build_etag(client):
    first = client.get("/search.json?q=palermo")
    again = client.get("/search.json?q=palermo", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_page_has_the_search_box(client):
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<form class="site-search"' in html and 'action="/search"' in html
    assert 'rel="search" type="application/opensearchdescription+xml"' in html


def test_a_build_without_an_index_answers_503_with_the_reason(built, tmp_path):
    from server import create_app

    app = create_app({"KG_STORE": built.store, "KG_PUBLISHED": str(tmp_path), "TESTING": True})
    response = app.test_client().get("/search.json?q=x")
    assert response.status_code == 503
    assert "no discovery index" in response.get_json()["error"]


def test_the_index_is_written_whole_or_not_at_all(store, tmp_path):
    path = discovery_index.write(store, tmp_path)
    assert path.is_file() and not list(path.parent.glob("*.partial"))
    assert SearchIndex(path).counts() == SearchIndex(path).counts()

    class Broken:
        @property
        def store(self):
            raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        discovery_index.write(Broken(), tmp_path)
    assert SearchIndex(path).counts()["project"] == 4  # the earlier index is intact
    assert not list(path.parent.glob("*.partial"))


def test_kg_search_on_the_disk_build(disk_store):
    found = kg_here("search", "--store", str(disk_store), "torino", "--format", "json")
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert body["results"][0]["iri"] == ID + "city/turin"
    table = kg_here("search", "--store", str(disk_store), "malmo", "--kind", "organisation")
    assert table.returncode == 0 and "City of Malmö" in table.stdout
    bad = kg_here("search", "--store", str(disk_store), "x", "--limit", "500")
    assert bad.returncode == 2 and "limit must be between 1 and 100" in bad.stderr


def test_weights_count_participations(index, store):
    """Ties within a rank go to the thing with more participations: the weights are the KG's counts."""
    import sqlite3

    rows = select(store, "SELECT ?o (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a ckg:Participation ; ckg:participant ?o } GROUP BY ?o")
    expected = {r["o"]: int(r["n"]) for r in rows}
    conn = sqlite3.connect(index.path)
    found = dict(conn.execute("SELECT iri, weight FROM entities WHERE kind = 'organisation'").fetchall())
    assert {iri: found[iri] for iri in expected} == expected
    projects = dict(conn.execute("SELECT iri, weight FROM entities WHERE kind = 'project'").fetchall())
    assert projects[ID + "project/conet"] == 13
