"""The map's data and page (/map, /map.geojson, /map/place.json): cities at the coordinates the KG states, lines
that are the city network's edges, the filters /projects takes, the line cap, and 400s that name the parameter.

The curated KG places its cities (data/places/coordinates.ttl: GeoNames' coordinates for all but Delta, which
GeoNames lists as a municipality, not a city), so the tests read the session's build of it on disk
(conftest.disk_store), shared with tests/test_browser_map.py as `mapped_store`. Expected values come from SPARQL
on the same build."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from kg.namespaces import ID

CONET = f"{ID}project/conet"
CONNECTION = f"{ID}project/connection"
GEO = "PREFIX geo: <http://www.opengis.net/ont/geosparql#> PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#> "


@pytest.fixture(scope="session")
def mapped_store(disk_store) -> Path:
    """The curated KG, with its cities' coordinates, built on disk once per session (read it, never build into it)."""
    return disk_store


@pytest.fixture(scope="module")
def mapped_app(mapped_store):
    from server import create_app

    return create_app({"KG_STORE_PATH": str(mapped_store), "FOLLOW_INTERVAL": 0, "TESTING": True})


@pytest.fixture()
def mapped(mapped_app):
    return mapped_app.test_client()


def sparql(app, query: str) -> list[dict[str, str]]:
    rows = app.config["KG_BACKEND"].select(query)
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def points(collection: dict) -> dict[str, dict]:
    return {f["properties"]["iri"]: f for f in collection["features"] if f["geometry"]["type"] == "Point"}


def lines(collection: dict) -> dict[tuple[str, str], int]:
    return {tuple(f["properties"]["between"]): f["properties"]["weight"]
            for f in collection["features"] if f["geometry"]["type"] == "LineString"}


def partner_cities(app, where: str) -> set[str]:
    """Cities of the organisations that took part in the projects `where` (a pattern on ?project) selects."""
    rows = sparql(app, f"SELECT DISTINCT ?city WHERE {{ {where} ?part ckg:inProject ?project ; ckg:participant ?o . ?o ckg:basedIn ?city }}")
    return {r["city"] for r in rows}


def placed_cities(app) -> dict[str, tuple[float, float]]:
    rows = sparql(app, GEO + "SELECT ?city ?lat ?long WHERE { ?city a ckg:City ; wgs:lat ?lat ; wgs:long ?long }")
    return {r["city"]: (float(r["long"]), float(r["lat"])) for r in rows}


def check_geojson(collection: dict) -> None:
    """RFC 7946: a FeatureCollection of Features, each with a geometry of positions [longitude, latitude]."""
    assert collection["type"] == "FeatureCollection"
    assert isinstance(collection["features"], list)
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        assert "id" not in feature or isinstance(feature["id"], (str, int))
        geometry = feature["geometry"]
        positions = {"Point": [geometry["coordinates"]], "LineString": geometry["coordinates"]}[geometry["type"]]
        if geometry["type"] == "LineString":
            assert len(positions) >= 2
        for position in positions:
            assert len(position) == 2 and all(isinstance(v, (int, float)) for v in position)
            assert -180 <= position[0] <= 180 and -90 <= position[1] <= 90


# -- where things are


def test_the_conet_cities_are_at_the_coordinates_the_kg_states(mapped, mapped_app):
    response = mapped.get("/map.geojson", query_string={"project": CONET})
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = response.get_json()
    check_geojson(collection)
    rows = sparql(mapped_app, GEO + f"""SELECT DISTINCT ?city ?lat ?long ?wkt WHERE {{
      ?part ckg:inProject <{CONET}> ; ckg:participant ?o . ?o ckg:basedIn ?city .
      ?city wgs:lat ?lat ; wgs:long ?long ; geo:hasGeometry/geo:asWKT ?wkt }}""")
    expected = {r["city"]: (float(r["long"]), float(r["lat"])) for r in rows}
    assert len(expected) == 11  # every CoNet partner city has coordinates in this build
    for r in rows:  # GeoSPARQL's WKT says (long lat), as GeoJSON does: both must agree with wgs84
        assert tuple(map(float, re.fullmatch(r"POINT\((\S+) (\S+)\)", r["wkt"]).groups())) == expected[r["city"]]
    found = points(collection)
    assert set(found) == set(expected)
    for city, feature in found.items():
        assert tuple(feature["geometry"]["coordinates"]) == expected[city]
        assert feature["properties"]["kind"] == "city"
        assert feature["properties"]["projects"] == 1
        assert feature["properties"]["page"] == "/" + city.split("cohesion-kg/", 1)[1]
    palermo = found[f"{ID}city/palermo"]["properties"]
    assert palermo["label"] == "Palermo" and palermo["organisations"] == 2  # the municipality and CESIE


def test_every_placed_city_of_a_project_is_drawn_and_the_rest_counted(mapped, mapped_app):
    collection = mapped.get("/map.geojson").get_json()
    placed = placed_cities(mapped_app)
    taking_part = partner_cities(mapped_app, "")
    assert set(points(collection)) == taking_part & set(placed)
    assert collection["unplaced"]["cities"] == len(taking_part - set(placed)) > 0
    homeless = sparql(mapped_app, "SELECT DISTINCT ?o WHERE { ?part ckg:participant ?o ; ckg:inProject ?p FILTER NOT EXISTS { ?o ckg:basedIn ?c } }")
    assert collection["unplaced"]["organisations"] == len(homeless) > 0


def test_the_curated_kg_places_only_the_cities_it_has_coordinates_for(client, store):
    collection = client.get("/map.geojson").get_json()
    check_geojson(collection)
    from .conftest import select

    located = {r["c"] for r in select(store, "SELECT ?c WHERE { ?c <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?l }")}
    cities = {r["c"] for r in select(store, "SELECT DISTINCT ?c WHERE { ?part ckg:participant/ckg:basedIn ?c }")}
    assert set(points(collection)) == cities & located
    assert collection["unplaced"]["cities"] == len(cities - located)


# -- lines


def test_lines_are_the_city_network_edges_between_placed_cities(mapped, mapped_app):
    placed = set(placed_cities(mapped_app))
    for query in ({}, {"programme": "programme:erdf"}):
        drawn = lines(mapped.get("/map.geojson", query_string=query).get_json())
        network = mapped.get("/network", query_string={"kind": "city", "format": "json", **query}).get_json()
        expected = {tuple(sorted((e["source"], e["target"]))): e["attributes"]["weight"] for e in network["edges"]
                    if e["source"] in placed and e["target"] in placed}
        assert drawn == expected and len(drawn) > 0


def test_a_project_shows_its_partners_cities_and_the_lines_between_them(mapped, mapped_app):
    collection = mapped.get("/map.geojson", query_string={"project": "conet"}).get_json()
    cities = set(points(collection))
    assert cities == partner_cities(mapped_app, f"VALUES ?project {{ <{CONET}> }}") & set(placed_cities(mapped_app))
    assert lines(collection) == {pair: 1 for pair in itertools.combinations(sorted(cities), 2)}
    assert collection["counts"]["projects"] == 1
    assert collection["selection"]["project"] == CONET


def test_the_strongest_lines_are_drawn_and_the_rest_counted(mapped):
    every = mapped.get("/map.geojson").get_json()
    weights = sorted(lines(every).values(), reverse=True)
    assert every["lines"] == {"total": len(weights), "drawn": len(weights), "left_out": 0, "limit": 1000}
    capped = mapped.get("/map.geojson", query_string={"lines": 5}).get_json()
    drawn = lines(capped)
    assert sorted(drawn.values(), reverse=True) == weights[:5]
    assert set(drawn) <= set(lines(every))
    assert capped["lines"] == {"total": len(weights), "drawn": 5, "left_out": len(weights) - 5, "limit": 5}
    assert points(capped) == points(every)  # the cap is on lines only
    assert lines(mapped.get("/map.geojson?lines=0").get_json()) == {}


# -- filters


@pytest.mark.parametrize("query, where", [
    ({"programme": "urbact-ii"}, "?project ckg:fundedBy/ckg:partOfProgramme* <https://w3id.org/cohesion-kg/id/programme/urbact-ii> ."),
    ({"programme": "programme:amif"}, "?project ckg:fundedBy/ckg:partOfProgramme* <https://w3id.org/cohesion-kg/id/programme/amif> ."),
    ({"country": "bg"}, "?x ckg:inProject ?project ; ckg:participant/ckg:country <https://w3id.org/cohesion-kg/id/country/bg> ."),
    ({"country": "BG", "programme": "https://w3id.org/cohesion-kg/id/programme/amif"},
     "?x ckg:inProject ?project ; ckg:participant/ckg:country <https://w3id.org/cohesion-kg/id/country/bg> . ?project ckg:fundedBy/ckg:partOfProgramme* <https://w3id.org/cohesion-kg/id/programme/amif> ."),
    ({"from": "2020"}, "?project ckg:endDate ?end . FILTER (YEAR(?end) >= 2020)"),
    ({"to": "2012"}, "?project ckg:startDate ?start . FILTER (YEAR(?start) <= 2012)"),
    ({"programme": ["urbact-ii", "amif"]}, "?project ckg:fundedBy/ckg:partOfProgramme* ?p . VALUES ?p { <https://w3id.org/cohesion-kg/id/programme/urbact-ii> <https://w3id.org/cohesion-kg/id/programme/amif> }"),
])
def test_filters_choose_the_projects_as_the_project_list_does(mapped, mapped_app, query, where):
    projects = {r["project"] for r in sparql(mapped_app, f"SELECT DISTINCT ?project WHERE {{ ?project a ckg:Project . {where} }}")}
    collection = mapped.get("/map.geojson", query_string=query).get_json()
    taking_part = partner_cities(mapped_app, "VALUES ?project { " + " ".join(f"<{p}>" for p in projects) + " }") if projects else set()
    assert set(points(collection)) == taking_part & set(placed_cities(mapped_app))
    assert collection["counts"]["projects"] == len(projects) > 0


def test_a_period_no_project_overlaps_empties_the_map(mapped):
    collection = mapped.get("/map.geojson", query_string={"from": 2012, "to": 2016}).get_json()
    check_geojson(collection)
    assert collection["features"] == [] and collection["counts"]["projects"] == 0


# -- a marker's popup


def test_a_city_lists_its_organisations_and_projects(mapped):
    body = mapped.get("/map/place.json", query_string={"iri": f"{ID}city/sofia"}).get_json()
    assert body["label"] == "Sofia" and body["page"] == "/id/city/sofia"
    assert [o["iri"] for o in body["organisations"]] == [f"{ID}organisation/city-of-sofia"]
    assert {p["iri"] for p in body["projects"]} == {CONET, CONNECTION}
    conet = next(p for p in body["projects"] if p["iri"] == CONET)
    assert conet["page"] == "/id/project/conet" and "project=" in conet["map"]
    only = mapped.get("/map/place.json", query_string={"iri": f"{ID}city/sofia", "programme": "amif"}).get_json()
    assert [p["iri"] for p in only["projects"]] == [CONNECTION]


def test_the_page_links_work(mapped):
    body = mapped.get("/map/place.json", query_string={"iri": f"{ID}city/palermo"}).get_json()
    for link in [body["page"], *(o["page"] for o in body["organisations"]), *(p["page"] for p in body["projects"])]:
        assert mapped.get(link, headers={"Accept": "text/html"}).status_code == 200, link
    assert mapped.get(body["projects"][0]["map"], headers={"Accept": "text/html"}).status_code == 200


# -- the page


def test_the_page_loads_its_libraries_from_this_server(mapped):
    response = mapped.get("/map", query_string={"programme": "urbact-ii"}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # What the page loads: scripts, style sheets and the two documents map.js fetches (links to read are not loaded).
    sources = re.findall(r'(?:src|data-world|data-world-fine|data-geojson)="([^"]+)"|<link rel="stylesheet" href="([^"]+)"', html)
    sources = [a or b for a, b in sources]
    assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources)
    for needed in ("leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css", "topojson-client/dist/topojson-client.min.js",
                   "world-atlas/countries-110m.json", "world-atlas/countries-50m.json", "/static/map.js", "/static/map.css"):
        url = next(s for s in sources if s.endswith(needed))
        assert mapped.get(url).status_code == 200, url
    geojson = re.search(r'data-geojson="([^"]+)"', html)[1].replace("&amp;", "&")
    assert "programme=" in geojson and mapped.get(geojson).get_json()["counts"]["projects"] == 1
    assert "data-tiles" not in html  # no tile server unless one is configured


def test_a_configured_tile_server_reaches_the_page(mapped_store):
    from server import create_app

    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    app = create_app({"KG_STORE_PATH": str(mapped_store), "FOLLOW_INTERVAL": 0, "MAP_TILES": tiles,
                      "MAP_TILES_ATTRIBUTION": "© Example"})
    html = app.test_client().get("/map", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'data-tiles="{tiles}"' in html and 'data-attribution="© Example"' in html


def test_the_map_negotiates_geojson_and_revalidates(mapped):
    response = mapped.get("/map", headers={"Accept": "application/geo+json"})
    assert response.mimetype == "application/geo+json" and "Accept" in response.headers["Vary"]
    assert response.get_json()["type"] == "FeatureCollection"
    again = mapped.get("/map.geojson", headers={"If-None-Match": mapped.get("/map.geojson").headers["ETag"]})
    assert again.status_code == 304
    assert mapped.get("/map.geojson", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"


# -- bad input


@pytest.mark.parametrize("path", ["/map.geojson", "/map", "/map/place.json"])
@pytest.mark.parametrize("query, parameter", [
    ("from=20x", "from"),
    ("to=1999&from=2005", "from"),
    ("from=2010&from=2011", "from"),
    ("programme=no-such-programme", "programme"),
    ("programme=a%20b", "programme"),
    ("country=xx", "country"),
    ("country=country:atlantis", "country"),
    ("project=no-such-project", "project"),
    ("lines=-1", "lines"),
    ("lines=many", "lines"),
    ("lines=50001", "lines"),
    ("lines=%C2%B2", "lines"),
    ("project=conet&project=crisco", "project"),
    ("colour=red", "colour"),
])
def test_bad_parameters_are_400s_naming_them(mapped, path, query, parameter):
    if path == "/map/place.json":
        query += f"&iri={ID}city/sofia"
    response = mapped.get(f"{path}?{query}")
    assert response.status_code == 400
    text = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
    assert f"parameter '{parameter}'" in text
    assert "Traceback" not in text


def test_a_popup_needs_a_city_or_an_organisation(mapped):
    assert "parameter 'iri'" in mapped.get("/map/place.json").get_json()["error"]
    response = mapped.get("/map/place.json", query_string={"iri": CONET})
    assert response.status_code == 404 and "not a city or an organisation" in response.get_json()["error"]


def test_the_other_facets_of_the_project_list_filter_the_map(mapped, mapped_app):
    """city, theme, SDG and role: the map keeps exactly the projects /projects lists for them, and the list links
    to that map."""
    listing = mapped.get("/projects.json").get_json()
    tried = 0
    for name in ("city", "theme", "sdg", "role"):
        values = [v for v in listing["facets"].get(name, []) if 0 < v["count"] < listing["total"]]
        if not values:
            continue
        key = values[0]["value"]
        chosen = mapped.get("/projects.json", query_string={name: key, "per_page": 100}).get_json()
        projects = {item["iri"] for item in chosen["items"]}
        collection = mapped.get("/map.geojson", query_string={name: key}).get_json()
        check_geojson(collection)
        assert collection["counts"]["projects"] == len(projects) == chosen["total"], name
        taking_part = partner_cities(mapped_app, "VALUES ?project { " + " ".join(f"<{p}>" for p in projects) + " }")
        assert set(points(collection)) == taking_part & set(placed_cities(mapped_app)), name
        page = mapped.get("/projects", query_string={name: key}, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert f'id="show-map" href="/map?{name}={key}"' in page
        tried += 1
    assert tried >= 3
    bad = mapped.get("/map.geojson?theme=a&theme=b&role=")
    assert bad.status_code == 200  # values the KG lacks select nothing, as on /projects
    assert bad.get_json()["counts"]["projects"] == 0
