"""The network page in headless Chromium: sigma draws the real KG's network, the page tells its counts and a legend
for every node, a filter changes both, pointing at a node highlights its partners, a click offers its page and
the network around it, an entity page leads to its ego network, and the page stays usable with 10,000 nodes."""

from __future__ import annotations

import json
import random
import re
import time
from urllib.parse import parse_qs, urlsplit

from kg.namespaces import ID

from .browser import screenshot

# Pixels of the nodes' WebGL canvas that are not transparent, with the whole graph in view, read in the same task
# as a synchronous render (the drawing buffer is only cleared once the frame has been shown).
DRAWN_PIXELS = """() => {
  const renderer = window.kgNetwork.renderer;
  renderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });  // the whole graph in view
  renderer.refresh();
  const canvas = renderer.getCanvases().nodes;
  const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
  const pixels = new Uint8Array(gl.drawingBufferWidth * gl.drawingBufferHeight * 4);
  gl.readPixels(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return painted;
}"""
# Nodes sigma has placed on screen (display data that is not hidden).
DRAWN_NODES = """() => {
  const { graph, renderer } = window.kgNetwork;
  return graph.nodes().filter((n) => { const d = renderer.getNodeDisplayData(n); return d && !d.hidden; }).length;
}"""


def wait_until_drawn(page, timeout: float = 30000) -> None:
    page.wait_for_function("window.kgNetwork && (window.kgNetwork.ready || window.kgNetwork.error)", timeout=timeout)
    assert page.evaluate("window.kgNetwork.error") is None


def wait_until_laid_out(page, timeout: float = 30000) -> None:
    page.wait_for_function("document.getElementById('status').textContent.includes('laid out')", timeout=timeout)


def shown_counts(page) -> tuple[int, int]:
    """The nodes and links the status line tells the reader: "12 nodes, 30 links · ..."."""
    status = page.inner_text("#status")
    found = re.match(r"([\d,]+) nodes, ([\d,]+) links", status)
    assert found, f"the status line shows no counts: {status!r}"
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


PALETTE_SIZE = 16  # server/static/network.js: the biggest groups get a colour each, the rest one grey row


def legend_rows(page) -> list[str]:
    return page.locator("#legend li").all_inner_texts()


def expected_legend(nodes: list[dict], attribute: str, shown) -> list[str]:
    """The legend's rows for /network's JSON `nodes`: the biggest groups by `attribute` first (ties by value), as
    "NAME (count)", then "others (k groups)" when there are more groups than colours."""
    counts: dict = {}
    for n in nodes:
        value = n["attributes"].get(attribute)
        counts[value] = counts.get(value, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    rows = [f"{shown(value)} ({n})" for value, n in ranked[:PALETTE_SIZE]]
    if len(ranked) > PALETTE_SIZE:
        rows.append(f"others ({len(ranked) - PALETTE_SIZE} groups)")
    return rows


def test_the_page_draws_the_real_network(live_server, page):
    expected = page.request.get(live_server + "/network?format=json").json()
    page.goto(live_server + "/network")
    wait_until_drawn(page)
    nodes, links = len(expected["nodes"]), len(expected["edges"])
    assert page.evaluate("window.kgNetwork.graph.order") == nodes > 0
    assert page.evaluate("window.kgNetwork.graph.size") == links
    assert page.evaluate(DRAWN_NODES) == nodes
    # What the reader sees: the counts on the status line, a legend that accounts for every node.
    assert shown_counts(page) == (nodes, links)
    assert page.inner_text("#legend h3") == "community"
    assert legend_rows(page) == expected_legend(expected["nodes"], "community", lambda c: f"community {c}")
    wait_until_laid_out(page)
    assert shown_counts(page) == (nodes, links)
    assert page.evaluate(DRAWN_PIXELS) > 500, "the WebGL canvas is blank"
    screenshot(page, "network-organisations")
    assert page.console_errors == []


def test_choosing_a_colour_a_size_and_a_filter(live_server, page):
    everything = page.request.get(live_server + "/network?kind=city&format=json").json()
    only_gb = page.request.get(live_server + "/network?kind=city&country=GB&format=json").json()
    page.goto(live_server + "/network?kind=city")
    wait_until_drawn(page)
    cities = page.evaluate("window.kgNetwork.graph.order")
    assert cities == len(everything["nodes"])
    assert shown_counts(page) == (cities, len(everything["edges"]))
    page.select_option("#colour-by", "country")
    page.select_option("#size-by", "betweenness")
    assert page.inner_text("#legend h3") == "country"
    by_country = expected_legend(everything["nodes"], "country", lambda iri: iri.rsplit("/", 1)[-1].upper())
    assert legend_rows(page) == by_country
    page.select_option("select[name=country]", "GB")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**country=GB**")
    page.wait_for_function(f"window.kgNetwork.ready && window.kgNetwork.graph.order !== {cities}")
    # The filter changed what is drawn and said: the GB network's nodes and links, no more.
    gb_nodes, gb_links = len(only_gb["nodes"]), len(only_gb["edges"])
    assert 0 < gb_nodes < cities
    assert page.evaluate("window.kgNetwork.graph.order") == gb_nodes
    assert page.evaluate(DRAWN_NODES) == gb_nodes
    assert shown_counts(page) == (gb_nodes, gb_links)
    assert page.locator("select[name=country]").input_value() == "GB"
    assert page.locator("#colour-by").input_value() == "country"  # the view's choices outlive the filter
    assert legend_rows(page) == expected_legend(only_gb["nodes"], "country", lambda iri: iri.rsplit("/", 1)[-1].upper())
    wait_until_laid_out(page)
    assert page.evaluate(DRAWN_PIXELS) > 500, "the filtered network is not drawn"
    screenshot(page, "network-cities-gb")
    assert page.console_errors == []


def test_a_capped_network_says_so_and_draws_all_its_links_on_request(live_server, page):
    """A network answered with its strongest links only (`limit`): the page draws every node and those links, says
    they are the strongest of how many, and draws them all when asked, with the address and downloads following."""
    everything = page.request.get(live_server + "/network?kind=city&format=json").json()
    links = len(everything["edges"])
    assert links > 3
    page.goto(live_server + "/network?kind=city&limit=3")
    wait_until_drawn(page)
    assert page.evaluate("window.kgNetwork.graph.order") == len(everything["nodes"])
    assert page.evaluate("window.kgNetwork.graph.size") == 3
    assert shown_counts(page) == (len(everything["nodes"]), 3)
    assert f"the strongest of {links:,}" in page.inner_text("#status")
    assert page.is_visible("#more-links") and page.inner_text("#link-count") == f"{links:,}"
    page.click("#every-link")
    page.wait_for_url("**limit=all**")
    page.wait_for_function(f"window.kgNetwork.ready && window.kgNetwork.graph.size === {links}")
    assert shown_counts(page) == (len(everything["nodes"]), links)
    assert not page.is_visible("#more-links")
    assert all("limit=all" in href for href in page.eval_on_selector_all("ul.downloads a", "links => links.map(a => a.href)"))
    assert page.console_errors == []


# Where sigma drew a node, in page coordinates.
NODE_ON_SCREEN = """(node) => {
  const { renderer } = window.kgNetwork;
  const at = renderer.framedGraphToViewport(renderer.getNodeDisplayData(node));
  const box = document.getElementById("graph").getBoundingClientRect();
  return [box.left + at.x, box.top + at.y];
}"""
# What the renderer shows of every node and edge after its reducers: colour, forced label, hidden.
SHOWN = """() => {
  const { graph, renderer } = window.kgNetwork;
  const nodes = {}, edges = {};
  graph.forEachNode((n) => { const d = renderer.getNodeDisplayData(n); nodes[n] = { color: d.color, label: d.label, forceLabel: !!d.forceLabel }; });
  graph.forEachEdge((e, a, s, t) => { const d = renderer.getEdgeDisplayData(e); edges[s + " " + t] = { hidden: !!d.hidden }; });
  return { nodes, edges };
}"""
FADED = "#ececec"  # server/static/network.js: the colour of nodes away from the focus


def neighbours_of(doc: dict, node: str) -> set[str]:
    return {e["target"] if e["source"] == node else e["source"] for e in doc["edges"] if node in (e["source"], e["target"])}


def assert_focus_on(page, doc: dict, node: str) -> None:
    """Only `node` and its partners keep their colours; only its own links are drawn."""
    shown = page.evaluate(SHOWN)
    near = neighbours_of(doc, node) | {node}
    assert {n for n, d in shown["nodes"].items() if d["color"] != FADED} == near
    assert shown["nodes"][node]["forceLabel"]
    assert {k for k, d in shown["edges"].items() if not d["hidden"]} == {
        f"{e['source']} {e['target']}" for e in doc["edges"] if node in (e["source"], e["target"])}


def test_pointing_at_a_node_highlights_its_partners_and_clicking_offers_its_page_and_its_network(live_server, page):
    doc = page.request.get(live_server + "/network?format=json").json()
    page.goto(live_server + "/network")
    wait_until_drawn(page)
    wait_until_laid_out(page)
    hub = max(doc["nodes"], key=lambda n: (n["attributes"]["degree"], n["key"]))
    node, label, degree = hub["key"], hub["attributes"]["label"], hub["attributes"]["degree"]
    assert degree > 0
    x, y = page.evaluate(NODE_ON_SCREEN, node)
    page.mouse.move(x, y)
    page.wait_for_function("window.kgNetwork.hovered !== null")
    assert page.evaluate("window.kgNetwork.hovered") == node
    assert page.inner_text("#details h3") == label
    figures = page.inner_text("#details dl")
    assert re.search(rf"^degree\s+{degree}$", figures, re.M), figures
    assert_focus_on(page, doc, node)
    page.mouse.move(5, 5)  # away: every node gets its colour back
    page.wait_for_function("window.kgNetwork.hovered === null")
    assert all(d["color"] != FADED for d in page.evaluate(SHOWN)["nodes"].values())

    page.mouse.click(x, y)  # a click keeps the focus and offers the node's page and the network around it
    page.wait_for_function(f"window.kgNetwork.selected === {json.dumps(node)}")
    page.mouse.move(5, 5)
    assert_focus_on(page, doc, node)
    assert page.get_attribute("#details a.page-link", "href") == node.replace(str(ID), "/id/")
    page.click("#details a.ego-link")
    page.wait_for_url("**ego=**", timeout=10000)
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"kind": ["organisation"], "ego": [node], "depth": ["1"]}
    wait_until_drawn(page)
    expected = page.request.get(live_server + "/network?format=json&" + urlsplit(page.url).query).json()
    assert page.evaluate("window.kgNetwork.graph.order") == len(expected["nodes"]) == degree + 1
    assert page.inner_text("#network-title") == f"Network around {label}"
    page.click("#details a.page-link")
    page.wait_for_url("**" + node.replace(str(ID), "/id/"), timeout=10000)
    assert label in page.locator("h1").inner_text()
    assert page.console_errors == []


def test_an_ego_network_opened_from_an_entity_page(live_server, page):
    """From a city's page to the network around it, to depth 2: the page draws exactly the ego network the data
    holds, names its centre, colours by distance, links every node to its page and to the network around it."""
    cities = page.request.get(live_server + "/network?kind=city&format=json").json()
    links = {}
    for e in cities["edges"]:
        links.setdefault(e["source"], set()).add(e["target"])
        links.setdefault(e["target"], set()).add(e["source"])
    # The best-connected city whose partners' partners reach further than its own, else the best-connected.
    ranked = sorted(links, key=lambda c: (-len(links[c]), c))
    city = next((c for c in ranked if set().union(*(links[n] for n in links[c])) - links[c] - {c}), ranked[0])
    label = next(n["attributes"]["label"] for n in cities["nodes"] if n["key"] == city)
    page.goto(live_server + city.replace(str(ID), "/id/"))
    page.click("p.network-link a")
    page.wait_for_url("**/network?**", timeout=10000)
    wait_until_drawn(page)
    page.select_option("select[name=depth]", "2")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**depth=2**")
    page.wait_for_function("window.kgNetwork.ready && window.kgNetwork.graph.getAttribute('depth') === 2")
    query = urlsplit(page.url).query
    assert parse_qs(query) == {"kind": ["city"], "ego": [city], "depth": ["2"]}
    expected = page.request.get(live_server + "/network?format=json&" + query).json()
    assert expected["attributes"]["ego"] == city
    nodes = {n["key"]: n["attributes"] for n in expected["nodes"]}
    assert page.evaluate("window.kgNetwork.graph.nodes().sort()") == sorted(nodes)
    assert page.evaluate(DRAWN_NODES) == len(nodes)
    assert shown_counts(page) == (len(nodes), len(expected["edges"]))
    assert page.inner_text("#network-title") == f"Network around {label}"
    assert page.locator("#colour-by").input_value() == "hops"
    hops = {h: sum(1 for a in nodes.values() if a["hops"] == h) for h in (0, 1, 2)}
    assert legend_rows(page) == [f"{name} ({hops[h]})" for h, name in enumerate(["the centre", "co-partners", "their co-partners"]) if hops[h]]
    # The centre is described and labelled from the start, and nothing is dimmed: the view is about everyone.
    assert page.inner_text("#details h3") == label
    assert page.get_attribute("#details a.page-link", "href") == city.replace(str(ID), "/id/")
    shown = page.evaluate(SHOWN)
    assert shown["nodes"][city]["forceLabel"] and all(d["color"] != FADED for d in shown["nodes"].values())
    assert not any(d["hidden"] for d in shown["edges"].values())
    page.evaluate("(n) => window.kgNetwork.select(n)", city)
    assert_focus_on(page, expected, city)
    wait_until_laid_out(page)
    assert page.evaluate(DRAWN_PIXELS) > 200, "the ego network is not drawn"
    screenshot(page, "network-ego-city")
    # Any other node: its page and the network around it, keeping kind and depth.
    other = max((n for n in nodes if n != city), key=lambda n: (nodes[n]["hops"], n))
    page.evaluate("(n) => window.kgNetwork.select(n)", other)
    assert page.get_attribute("#details a.page-link", "href") == other.replace(str(ID), "/id/")
    around = parse_qs(urlsplit(page.get_attribute("#details a.ego-link", "href")).query)
    assert around == {"kind": ["city"], "ego": [other], "depth": ["2"]}
    whole = page.get_attribute("#whole-network", "href")
    assert parse_qs(urlsplit(whole).query) == {"kind": ["city"]}
    assert page.console_errors == []


def test_an_unknown_ego_is_said_on_the_page(live_server, page):
    response = page.goto(live_server + "/network?ego=" + str(ID) + "organisation/nobody-at-all")
    assert response.status == 404
    assert "parameter 'ego'" in page.content()


def synthetic(n: int, seed: int = 7) -> dict:
    """A graphology document of n organisations with about 3n co-participations, attributes as /network gives."""
    rng = random.Random(seed)
    keys = [f"{ID}organisation/synthetic-{i:05d}" for i in range(n)]
    edges = {}
    for i in range(1, n):
        for j in rng.sample(range(i), min(i, 3)):
            edges[(keys[j], keys[i])] = rng.randint(1, 5)
    degree = {k: 0 for k in keys}
    for a, b in edges:
        degree[a] += 1
        degree[b] += 1
    countries = ["it", "de", "fr", "es", "nl", "pl", "se", "be"]
    return {
        "attributes": {"kind": "organisation", "betweenness_pivots": 8},
        "options": {"type": "undirected", "multi": False, "allowSelfLoops": False},
        "nodes": [{"key": k, "attributes": {"label": f"Synthetic {i}", "kind": "Company", "country": f"{ID}country/{countries[i % 8]}",
                                            "degree": degree[k], "weighted_degree": degree[k], "betweenness": 0.0,
                                            "component": 0, "community": i % 20}} for i, k in enumerate(keys)],
        "edges": [{"key": f"e{i}", "source": a, "target": b, "undirected": True, "attributes": {"weight": w, "projects": []}}
                  for i, ((a, b), w) in enumerate(edges.items())],
    }


def test_the_page_stays_usable_with_10000_nodes(live_server, page):
    body = json.dumps(synthetic(10_000))
    # The page asks /network for its data; the answer here is a synthetic network of 10,000 nodes.
    page.route("**/network?*format=json*", lambda route: route.fulfill(status=200, content_type="application/json", body=body))
    started = time.monotonic()
    page.goto(live_server + "/network")
    wait_until_drawn(page, timeout=60000)
    drawn_after = time.monotonic() - started
    assert page.evaluate("window.kgNetwork.graph.order") == 10_000
    assert page.evaluate(DRAWN_NODES) == 10_000
    # The layout runs in a web worker: the page answers while it runs.
    t = time.monotonic()
    page.fill("#search", "Synthetic 1234")
    page.press("#search", "Enter")
    assert time.monotonic() - t < 5
    assert page.evaluate("window.kgNetwork.found") == f"{ID}organisation/synthetic-01234"
    wait_until_laid_out(page, timeout=60000)
    assert page.evaluate("window.kgNetwork.iterations") == 100  # network.js: a bounded number for 10,000 nodes
    assert page.evaluate(DRAWN_PIXELS) > 500
    assert drawn_after < 30, f"drawing 10,000 nodes took {drawn_after:.1f} s"
    screenshot(page, "network-10000-nodes")
    assert page.console_errors == []


def test_positions_that_come_with_the_network_are_drawn_as_they_are(live_server, page):
    doc = synthetic(2_000)
    for i, n in enumerate(doc["nodes"]):
        n["attributes"].update(x=float(i % 50), y=float(i // 50))
    page.route("**/network?*format=json*", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(doc)))
    page.goto(live_server + "/network")
    wait_until_drawn(page)
    assert page.evaluate("window.kgNetwork.laidOut") and page.evaluate("window.kgNetwork.layout") is None
    assert "laid out by the server" in page.inner_text("#status")
    assert page.evaluate("[window.kgNetwork.graph.getNodeAttribute(window.kgNetwork.graph.nodes()[1234], 'x'), "
                         "window.kgNetwork.graph.getNodeAttribute(window.kgNetwork.graph.nodes()[1234], 'y')]") == [34, 24]
    assert page.console_errors == []
