"""The map in headless Chromium, with every request that does not go to 127.0.0.1 refused: it draws the country
shapes and a marker for each CoNet city from this server alone, a click on a marker opens its popup whose link
reaches the city's page, the filters redraw it, a configured tile server's tiles lie under the shapes, and 3,000
cities with 1,000 lines stay usable."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from kg.namespaces import ID

from .browser import screenshot
from .live import serving
from .test_map import mapped_store  # noqa: F401  (the session's build with coordinates)

TILE = "/vendor/leaflet/dist/images/layers.png?z={z}&x={x}&y={y}"  # any image of this server will do as a tile
# The colour of the canvas pixel at a latitude and longitude (RGBA), read from the canvas Leaflet draws on.
PIXEL_AT = """([lat, lng]) => {
  const { map, canvas } = window.kgMap;
  const at = map.latLngToContainerPoint([lat, lng]);
  const box = canvas.getBoundingClientRect(), mapBox = map.getContainer().getBoundingClientRect();
  const x = (mapBox.left + at.x - box.left) * canvas.width / box.width;
  const y = (mapBox.top + at.y - box.top) * canvas.height / box.height;
  return Array.from(canvas.getContext("2d").getImageData(Math.round(x), Math.round(y), 1, 1).data);
}"""
LAND = (243, 239, 230)  # server/static/map.js: the land's fill


@pytest.fixture(scope="module")
def map_server(mapped_store):  # noqa: F811
    with serving(mapped_store, "--workers", "1") as base:
        yield base


@pytest.fixture()
def offline(page):
    """The page with every request to anywhere but 127.0.0.1 aborted; the list of those refused."""
    refused = []

    def handle(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return refused


def wait_until_drawn(page) -> None:
    page.wait_for_function("window.kgMap && (window.kgMap.ready || window.kgMap.error)", timeout=60000)
    assert page.evaluate("window.kgMap.error") is None


def painted(page) -> None:
    """Wait until Leaflet's canvas has been repainted (it paints in the next animation frame)."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def markers(page) -> set[str]:
    return set(page.evaluate("Object.keys(window.kgMap.markers)"))


def test_the_map_draws_the_conet_cities_and_the_countries_offline(map_server, page, offline):
    expected = page.request.get(map_server + "/map.geojson?project=conet").json()
    cities = {f["properties"]["iri"] for f in expected["features"] if f["geometry"]["type"] == "Point"}
    assert len(cities) == 11
    page.goto(map_server + "/map?project=conet")
    wait_until_drawn(page)
    assert markers(page) == cities
    assert page.evaluate("window.kgMap.lineCount") == 55  # every two of the 11 cities
    assert page.evaluate("window.kgMap.shapes") == "110m" and page.evaluate("window.kgMap.countryCount") > 150
    # Land where there is no marker nor line (central Spain), and the sea (the Bay of Biscay) left to the background.
    for spot, land in (([39.0, -3.9], True), ([46.3, -6.5], False)):
        assert page.evaluate("([lat, lng]) => window.kgMap.map.getBounds().contains([lat, lng])", spot)
        r, g, b, a = page.evaluate(PIXEL_AT, spot)
        if land:
            assert a == 255 and max(abs(r - LAND[0]), abs(g - LAND[1]), abs(b - LAND[2])) <= 2, (spot, (r, g, b, a))
        else:
            assert a == 0, (spot, (r, g, b, a))
    status = page.inner_text("#map-status")
    assert "11 cities" in status and "55 lines" in status
    screenshot(page, "map-conet")
    # Zoomed in, the finer shapes (small countries too) replace the coarse ones, from this server as well.
    page.evaluate("() => { window.kgMap.map.setView([50.85, 4.35], 7, { animate: false }); }")
    page.wait_for_function("window.kgMap.shapes === '50m'", timeout=30000)
    painted(page)
    assert page.evaluate("window.kgMap.countryCount") > 200
    r, g, b, a = page.evaluate(PIXEL_AT, [50.0, 5.0])  # the Ardennes: land, away from Brussels' marker and lines
    assert a == 255 and max(abs(r - LAND[0]), abs(g - LAND[1]), abs(b - LAND[2])) <= 2
    assert offline == [] and page.console_errors == []


def test_clicking_a_marker_opens_its_popup_whose_link_reaches_its_page(map_server, page, offline):
    palermo = f"{ID}city/palermo"
    page.goto(map_server + "/map?project=conet")
    wait_until_drawn(page)
    at = page.evaluate("(iri) => window.kgMap.pointOf(iri)", palermo)
    page.mouse.click(at["x"], at["y"])
    popup = page.locator(".leaflet-popup-content")
    popup.locator(".map-popup-projects li").first.wait_for(timeout=15000)
    assert popup.locator("a.map-popup-name").inner_text() == "Palermo"
    organisations = popup.locator(".map-popup-organisations a").all_inner_texts()
    assert "City of Palermo" in organisations and any(o.startswith("CESIE") for o in organisations)
    assert popup.locator(".map-popup-projects a").first.inner_text().startswith("CoNet")
    with page.expect_navigation():
        popup.locator("a.map-popup-name").click()
    assert urlsplit(page.url).path == "/id/city/palermo"
    assert "Palermo" in page.locator("h1").first.inner_text()
    assert offline == [] and page.console_errors == []


def test_the_filters_redraw_the_map(map_server, page, offline):
    page.goto(map_server + "/map")
    wait_until_drawn(page)
    everything = markers(page)
    page.select_option("select[name=programme]", f"{ID}programme/amif")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    wait_until_drawn(page)
    query = urlsplit(page.url).query
    expected = page.request.get(map_server + "/map.geojson?" + query).json()
    shown = {f["properties"]["iri"] for f in expected["features"] if f["geometry"]["type"] == "Point"}
    assert markers(page) == shown and 0 < len(shown) < len(everything)
    # AMIF funds CONNECTION alone: its partners' cities that have coordinates (all but Delta, which has none)
    query = ("PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#> SELECT DISTINCT ?city WHERE { "
             f"?part ckg:inProject <{ID}project/connection> ; ckg:participant/ckg:basedIn ?city . ?city wgs:lat ?lat }}")
    answer = page.request.get(map_server + "/sparql", params={"query": query},
                              headers={"Accept": "application/sparql-results+json"}).json()
    placed = {b["city"]["value"] for b in answer["results"]["bindings"]}
    assert {f"{ID}city/sofia", f"{ID}city/turin", f"{ID}city/paris", f"{ID}city/thessaloniki"} <= placed
    assert f"{ID}city/delta" not in placed
    assert shown == placed
    assert offline == [] and page.console_errors == []


def test_configured_tiles_are_drawn_under_the_shapes(mapped_store, page, offline):  # noqa: F811
    with serving(mapped_store, "--workers", "1", "--map-tiles", TILE, "--map-tiles-attribution", "test tiles") as base:
        page.goto(base + "/map?project=conet")
        wait_until_drawn(page)
        page.wait_for_function("document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length > 0", timeout=30000)
        order = page.evaluate("""() => ['.leaflet-tile-pane', '.leaflet-overlay-pane'].map(
            (s) => Number(getComputedStyle(document.querySelector(s)).zIndex))""")
        assert order[0] < order[1]  # tiles below the pane the shapes, lines and markers are drawn in
        assert page.evaluate("window.kgMap.countryCount") > 150
        assert "test tiles" in page.inner_text(".leaflet-control-attribution")
    assert offline == [] and page.console_errors == []


def test_three_thousand_cities_and_a_thousand_lines_stay_usable(map_server, page, offline):
    """The grown KG's scale (3,000 cities; the server sends the strongest 1,000 lines by default), drawn from a
    collection this test makes, and a marker still opens its popup."""
    points = [{"type": "Feature", "id": f"{ID}city/t{i}", "geometry": {"type": "Point", "coordinates": [-9 + (i % 60) * 0.6, 36 + (i // 60) * 0.4]},
               "properties": {"kind": "city", "iri": f"{ID}city/t{i}", "label": f"Town {i}", "page": f"/id/city/t{i}",
                              "projects": 1 + i % 7, "organisations": 1}} for i in range(3000)]
    links = [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [points[i]["geometry"]["coordinates"], points[(i * 7 + 13) % 3000]["geometry"]["coordinates"]]},
              "properties": {"kind": "co-participation", "between": [points[i]["id"], points[(i * 7 + 13) % 3000]["id"]], "weight": 1 + i % 5}}
             for i in range(1000)]
    collection = {"type": "FeatureCollection", "features": points + links, "counts": {"cities": 3000, "organisations": 3000, "projects": 2000},
                  "lines": {"total": 40000, "drawn": 1000, "left_out": 39000, "limit": 1000}, "unplaced": {"cities": 0, "organisations": 0}}
    place = {"iri": points[0]["id"], "kind": "city", "label": "Town 0", "page": "/id/city/t0", "country": None, "cities": [],
             "organisations": [], "organisations_total": 0, "projects": [], "projects_total": 0}
    page.route("**/map.geojson*", lambda route: route.fulfill(status=200, content_type="application/geo+json", body=json.dumps(collection)))
    page.route("**/map/place.json*", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(place)))
    page.goto(map_server + "/map")
    wait_until_drawn(page)
    assert page.evaluate("window.kgMap.markerCount") == 3000 and page.evaluate("window.kgMap.lineCount") == 1000
    print(f"3,000 markers and 1,000 lines drawn in {page.evaluate('window.kgMap.drawMs')} ms")
    assert "1,000 of 40,000 lines drawn (the strongest); 39,000 left out" in page.inner_text("#map-status")
    page.evaluate("() => { window.kgMap.map.setView([36, -9], 9, { animate: false }); }")
    at = page.evaluate("(iri) => window.kgMap.pointOf(iri)", points[0]["id"])
    page.mouse.click(at["x"], at["y"])
    page.locator(".leaflet-popup-content a.map-popup-name").wait_for(timeout=15000)
    assert page.locator(".leaflet-popup-content a.map-popup-name").inner_text() == "Town 0"
    assert offline == [] and page.console_errors == []
