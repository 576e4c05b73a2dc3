"""Result views in headless Chromium against `kg serve`: a named aggregate query drawn as a chart with the
results' numbers, the switcher between views on a named query page and in the SPARQL editor, a short URL that
opens the same view of the same query in a new page, and a map with a marker per city, drawn offline."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from kg.namespaces import BASE

from .browser import screenshot

CITY = BASE + "id/city/"
READY = "window.kgViews && (window.kgViews.ready || window.kgViews.error)"
# Pixels of the chart's 2D canvas that are not transparent.
CHART_PIXELS = """() => {
  const canvas = window.kgViews.chart.canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
}"""
CHART_DATA = """() => { const c = window.kgViews.chart;
  return { type: c.config.type, labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) }; }"""
CITIES = {"turin": (45.0703, 7.6869), "berlin": (52.52, 13.405), "sofia": (42.6977, 23.3219), "lisbon": (38.7223, -9.1393)}


def wait_for_view(page, view: str, timeout: float = 30000) -> None:
    page.wait_for_function(f"{READY} && window.kgViews.view === {json.dumps(view)}", timeout=timeout)
    assert page.evaluate("window.kgViews.error") is None


def expected_chart(page, base: str, name: str, **params) -> dict:
    results = page.request.get(f"{base}/queries/{name}.json", params=params).json()
    rows = results["results"]["bindings"]
    return {
        "labels": [r["countryLabel"]["value"] for r in rows],
        "datasets": [{"label": c, "data": [int(r[c]["value"]) for r in rows]} for c in ("organisations", "projects")],
    }


def selected_view(page) -> str:
    return page.locator(".kg-view-switcher button[aria-selected=true]").inner_text().lower()


def run_in_editor(page, text: str) -> None:
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("t => document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.setValue(t)", text)
    page.locator(".tabPanel.active .yasqe_queryButton").click()


def cities_query(cities=CITIES) -> str:
    values = " ".join(f"(<{CITY}{c}> {lat} {long})" for c, (lat, long) in cities.items())
    return ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "SELECT ?city ?cityLabel ?lat ?long WHERE {\n"
            f"  VALUES (?city ?lat ?long) {{ {values} }}\n"
            '  OPTIONAL { ?city rdfs:label ?cityLabel FILTER (lang(?cityLabel) = "en") }\n}')


def test_an_aggregate_named_query_is_drawn_as_a_chart_of_its_results(live_server, page):
    page.goto(live_server + "/queries/partners-by-country")
    wait_for_view(page, "chart")
    assert selected_view(page) == "chart"
    assert page.locator("table.results").is_hidden()
    drawn = page.evaluate(CHART_DATA)
    assert drawn == {"type": "bar", **expected_chart(page, live_server, "partners-by-country")}
    assert page.evaluate(CHART_PIXELS) > 2000, "the chart's canvas is blank"
    screenshot(page, "views-chart")
    assert page.console_errors == []


def test_the_switcher_shows_each_view_the_results_fit(live_server, page):
    page.goto(live_server + "/queries/partners-by-country")
    wait_for_view(page, "chart")
    # Countries and counts: no coordinates and no pairs, so no map and no network to switch to.
    assert page.locator(".kg-view-switcher button:disabled").all_inner_texts() == ["Map", "Network"]
    page.get_by_role("tab", name="Table").click()
    wait_for_view(page, "table")
    assert page.locator("table.results").is_visible() and page.locator(".kg-view").is_hidden()
    assert "view=table" in urlsplit(page.url).fragment  # the page's own URL says the view too
    page.get_by_role("tab", name="Chart").click()
    wait_for_view(page, "chart")
    page.select_option(".kg-chart-kind", "line")
    page.wait_for_function(f"{READY} && window.kgViews.chart && window.kgViews.chart.config.type === 'line'")
    assert page.evaluate("window.kgViews.options") == {"kind": "line"}

    # Pairs of organisations with the projects they share: a network, one link per pair.
    pairs = page.request.get(live_server + "/queries/co-partner-pairs.json").json()["results"]["bindings"]
    page.goto(live_server + "/queries/co-partner-pairs")
    wait_for_view(page, "network")
    assert page.evaluate("window.kgViews.graph.size") == len(pairs)
    assert page.evaluate("window.kgViews.graph.order") == len({r[c]["value"] for r in pairs for c in ("a", "b")})
    screenshot(page, "views-network")
    page.get_by_role("tab", name="Table").click()
    wait_for_view(page, "table")
    assert page.locator("table.results tbody tr").count() == len(pairs)
    assert page.console_errors == []


def test_the_editor_chooses_the_view_and_the_reader_switches(live_server, page):
    page.goto(live_server + "/sparql")
    run_in_editor(page, "PREFIX ckg: <https://w3id.org/cohesion-kg/ontology/>\n"
                        "SELECT ?country (COUNT(DISTINCT ?o) AS ?organisations) WHERE { ?o ckg:country ?country }\n"
                        "GROUP BY ?country ORDER BY DESC(?organisations)")
    wait_for_view(page, "chart")
    assert page.locator(".tabPanel.active .yasr_btn.select_chart").get_attribute("class").count("selected") == 1
    assert page.evaluate(CHART_PIXELS) > 1000
    page.locator(".tabPanel.active .yasr_btn.select_table").click()
    page.wait_for_selector(".tabPanel.active .yasr table tbody tr")
    page.locator(".tabPanel.active .yasr_btn.select_chart").click()
    page.wait_for_function("window.kgViews.chart && window.kgViews.chart.canvas.isConnected")
    assert page.console_errors == []


def test_a_shared_url_opens_the_same_view_of_the_same_named_query(live_server, page, browser):
    page.goto(live_server + "/queries/partners-by-country?lang=it")
    wait_for_view(page, "chart")
    page.select_option(".kg-chart-kind", "line")
    page.wait_for_function("window.kgViews.chart && window.kgViews.chart.config.type === 'line'")
    shown = page.evaluate(CHART_DATA)
    page.get_by_role("button", name="Share this view").click()
    short = page.locator(".kg-share-url")
    short.wait_for(state="visible")
    url = short.input_value()
    assert urlsplit(url).path.startswith("/v/") and len(url) < len(live_server) + 20

    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        other.goto(url)
        wait_for_view(other, "chart")
        assert urlsplit(other.url).path == "/queries/partners-by-country"
        assert urlsplit(other.url).query == "lang=it"
        assert other.evaluate(CHART_DATA) == shown
        assert other.evaluate("window.kgViews.options") == {"kind": "line"}
        assert shown["labels"] == expected_chart(page, live_server, "partners-by-country", lang="it")["labels"]
    finally:
        other.context.close()


def test_the_query_is_offered_as_code_for_this_hosts_endpoint(live_server, page):
    page.goto(live_server + "/queries/partners-by-country?lang=it")
    wait_for_view(page, "chart")
    page.get_by_text("Copy the query as code").click()
    bound = page.inner_text("details pre code")  # the bound query the page shows
    for kind, says in [("curl", "curl -X POST"), ("python", "SPARQLWrapper("), ("pandas", "pd.read_csv("), ("r", "library(httr)")]:
        page.select_option(".kg-code-kind", kind)
        snippet = page.inner_text("pre.kg-code")
        assert says in snippet and f"{live_server}/sparql" in snippet, kind
        assert 'VALUES (?project ?lang) { (UNDEF "it") }' in snippet and bound.strip().splitlines()[-1] in snippet


def test_a_shared_url_opens_the_same_view_of_the_same_edited_query(live_server, page, browser):
    text = cities_query()
    page.goto(live_server + "/sparql")
    run_in_editor(page, text)
    wait_for_view(page, "map")
    page.get_by_role("button", name="Share this view").click()
    page.locator(".kg-share-url").wait_for(state="visible")
    url = page.locator(".kg-share-url").input_value()
    assert urlsplit(url).path.startswith("/v/")

    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        other.goto(url)
        wait_for_view(other, "map")
        assert urlsplit(other.url).path == "/sparql"
        assert other.evaluate("document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.getValue()") == text
        assert other.evaluate("window.kgViews.markers.length") == len(CITIES)
    finally:
        other.context.close()


def test_the_map_puts_a_marker_on_each_city_without_leaving_this_host(live_server, page):
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(live_server + "/sparql")
    run_in_editor(page, cities_query())
    wait_for_view(page, "map")
    assert page.locator(".tabPanel.active .yasr_btn.select_map").get_attribute("class").count("selected") == 1
    markers = page.locator("path.kg-marker")
    assert markers.count() == len(CITIES)
    # Each marker where its city is: Leaflet's own projection of the coordinates the query gave.
    placed = page.evaluate("window.kgViews.markers.map((m) => [m.getLatLng().lat, m.getLatLng().lng])")
    assert sorted(map(tuple, placed)) == sorted(CITIES.values())
    assert page.locator(".leaflet-overlay-pane path").count() > 100, "the countries are not drawn"
    assert "4 of 4 rows placed" in page.inner_text(".kg-view-status")
    screenshot(page, "views-map")
    outside = [u for u in asked if urlsplit(u).hostname != "127.0.0.1" and not u.startswith("data:")]
    assert outside == []
    assert page.console_errors == []


def test_cities_named_without_coordinates_are_placed_by_one_lookup(live_server, page):
    """The curated KG's cities carry no coordinates; the lookup's answer is given here, as a KG with geo:lat
    and geo:long would give it, to check what the map does with it."""
    lookups = []

    def answer(route):
        body = route.request.post_data or ""
        if route.request.method == "POST" and "geo%3Alat" in body:
            lookups.append(body)
            bindings = [{"place": {"type": "uri", "value": CITY + c}, "lat": {"type": "literal", "value": str(lat)},
                         "long": {"type": "literal", "value": str(long)}} for c, (lat, long) in CITIES.items()]
            route.fulfill(status=200, content_type="application/sparql-results+json",
                          body=json.dumps({"head": {"vars": ["place", "lat", "long"]}, "results": {"bindings": bindings}}))
        else:
            route.continue_()

    page.route("**/sparql", answer)
    rows = page.request.get(live_server + "/queries/project-partners.json").json()["results"]["bindings"]
    known = [r for r in rows if r.get("city", {}).get("value", "").removeprefix(CITY) in CITIES]
    assert known, "no partner of CoNet is based in one of the test's cities"
    page.goto(live_server + "/queries/project-partners")
    wait_for_view(page, "table")  # cities among other things: the map is offered, not chosen
    page.get_by_role("tab", name="Map").click()
    wait_for_view(page, "map")
    assert len(lookups) == 1
    assert page.evaluate("window.kgViews.markers.length") == len(known)
    assert f"{len(known)} of {len(rows)} rows placed" in page.inner_text(".kg-view-status")
