"""The network page in headless Chromium: sigma draws the real KG's network, and stays usable with 10,000 nodes."""

from __future__ import annotations

import json
import random
import time

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


def test_the_page_draws_the_real_network(live_server, page):
    expected = page.request.get(live_server + "/network?format=json").json()
    page.goto(live_server + "/network")
    wait_until_drawn(page)
    assert page.evaluate("window.kgNetwork.graph.order") == len(expected["nodes"]) > 0
    assert page.evaluate("window.kgNetwork.graph.size") == len(expected["edges"])
    assert page.evaluate(DRAWN_NODES) == len(expected["nodes"])
    wait_until_laid_out(page)
    assert page.evaluate(DRAWN_PIXELS) > 500, "the WebGL canvas is blank"
    screenshot(page, "network-organisations")
    assert page.console_errors == []


def test_choosing_a_colour_a_size_and_a_filter(live_server, page):
    page.goto(live_server + "/network?kind=city")
    wait_until_drawn(page)
    cities = page.evaluate("window.kgNetwork.graph.order")
    page.select_option("#colour-by", "country")
    page.select_option("#size-by", "betweenness")
    assert "country" in page.inner_text("#legend")
    page.select_option("select[name=country]", "GB")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**country=GB**")
    page.wait_for_function(f"window.kgNetwork.ready && window.kgNetwork.graph.order !== {cities}")
    assert 0 < page.evaluate("window.kgNetwork.graph.order") < cities
    wait_until_laid_out(page)
    screenshot(page, "network-cities-gb")
    assert page.console_errors == []


def test_clicking_a_node_opens_its_page(live_server, page):
    page.goto(live_server + "/network")
    wait_until_drawn(page)
    wait_until_laid_out(page)
    # The node's place on screen, from sigma: a click there must open the node's own page (/id/...).
    node, x, y = page.evaluate("""() => {
      const { graph, renderer } = window.kgNetwork;
      const node = graph.nodes().sort((a, b) => graph.getNodeAttribute(b, "degree") - graph.getNodeAttribute(a, "degree"))[0];
      const shown = renderer.getNodeDisplayData(node);
      const at = renderer.framedGraphToViewport(shown);
      const box = document.getElementById("graph").getBoundingClientRect();
      return [node, box.left + at.x, box.top + at.y];
    }""")
    page.mouse.click(x, y)
    page.wait_for_url("**" + node.replace(str(ID), "/id/"), timeout=10000)


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
    assert page.evaluate(DRAWN_PIXELS) > 500
    assert drawn_after < 30, f"drawing 10,000 nodes took {drawn_after:.1f} s"
    screenshot(page, "network-10000-nodes")
    assert page.console_errors == []
