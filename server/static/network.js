// The partner network page: loads the network as graphology JSON from /network, draws it with sigma (WebGL).
// Positions: nodes that arrive with x and y are drawn where they are; otherwise they start from seeded places
// (an ego network in rings by distance from its centre) and ForceAtlas2 (graphology-library) refines them in its
// web worker for a bounded number of iterations, so the page answers while it runs.
// window.kgNetwork exposes the graph and the renderer (browser tests and bench/network_bench.py read them there).
(function () {
  "use strict";

  const container = document.getElementById("graph");
  const status = document.getElementById("status");
  const details = document.getElementById("details");
  const legend = document.getElementById("legend");
  const form = document.getElementById("filters");
  const colourBy = document.getElementById("colour-by");
  const sizeBy = document.getElementById("size-by");
  const search = document.getElementById("search");
  const names = document.getElementById("node-names");
  const moreLinks = document.getElementById("more-links");
  const base = container.dataset.base;

  // Distinct colours for the biggest groups; the rest share a grey, so 10,000 nodes stay readable.
  const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#808000", "#000075", "#fabed4", "#ffd8b1", "#dcbeff"];
  const OTHER = "#b0b0b0";
  const EDGE = "#c9c9c9";
  const FADED = "#ececec";
  const LINK = "#555";
  const LABEL_CHARS = 28; // drawn labels are cut here; pointing at a node shows its whole name
  // Above this many links, links are thin WebGL lines (sigma's EdgeLineProgram: one line per link instead of two
  // triangles, their width ignored) and are hidden while the camera moves: a frame with every link costs several
  // times less (bench/results/network-page.md).
  const MANY_LINKS = 20000;
  // ForceAtlas2 iterations: enough for a small network to settle, fewer for a big one, whose iterations cost
  // more (Barnes-Hut keeps one near n log n). Bounded, so the worker always stops.
  const layoutIterations = (n) => (n <= 500 ? 600 : n <= 2000 ? 300 : n <= 5000 ? 150 : 100);

  const state = {
    graph: null, renderer: null, layout: null, ready: false, laidOut: false, iterations: 0,
    hovered: null, selected: null, found: null, neighbours: null, ego: null, error: null,
    timings: {},
  };
  window.kgNetwork = state;
  state.select = (node) => select(node); // for tests and the bench: what a click on `node` does

  // The page's own link for a KG IRI, as server/pages/iris.py maps them: the KG's IRIs are served under the same path.
  function pageFor(iri) {
    return iri.startsWith(base) ? "/" + iri.slice(base.length) : iri;
  }

  function localName(iri) {
    return iri ? iri.slice(iri.lastIndexOf("/") + 1) : "";
  }

  function seededRandom(seed) {
    // mulberry32: the same start positions on every load, so the layout looks the same each time.
    return function () {
      seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function currentParams() {
    return new URLSearchParams(location.search);
  }

  function dataUrl() {
    const params = currentParams();
    params.set("format", "json");
    return location.pathname + "?" + params.toString();
  }

  // The address of the network around `node`: the same kind and filters, depth 1 unless the page has one.
  function egoUrl(node) {
    const params = currentParams(); // the address holds the kind and filters the form last applied
    if (!params.get("kind")) params.set("kind", container.dataset.kind);
    params.set("ego", node);
    if (!params.get("depth")) params.set("depth", "1");
    return location.pathname + "?" + params.toString();
  }

  async function load() {
    stop();
    status.textContent = "Loading the network…";
    moreLinks.hidden = true;
    state.ready = false;
    state.laidOut = false;
    const started = performance.now();
    let response;
    try {
      response = await fetch(dataUrl(), { headers: { Accept: "application/json" } });
    } catch (e) {
      return fail("The network could not be loaded: " + e);
    }
    if (!response.ok) {
      return fail("The network could not be loaded: " + (await response.text()));
    }
    const data = await response.json();
    state.timings.fetched = performance.now() - started;
    draw(data, started);
  }

  function fail(message) {
    state.error = message;
    status.textContent = message;
  }

  function placed(graph) {
    let all = graph.order > 0;
    graph.forEachNode((node, a) => { if (!(Number.isFinite(a.x) && Number.isFinite(a.y))) all = false; });
    return all;
  }

  // Start positions: an ego network in rings around its centre (by hops), any other network at seeded random.
  function seedPositions(graph) {
    const random = seededRandom(42);
    const rings = new Map();
    graph.forEachNode((node, a) => {
      if (state.ego !== null && Number.isInteger(a.hops)) {
        if (!rings.has(a.hops)) rings.set(a.hops, []);
        rings.get(a.hops).push(node);
      } else {
        graph.mergeNodeAttributes(node, { x: random() * 100, y: random() * 100 });
      }
    });
    for (const [hops, nodes] of rings) {
      nodes.forEach((node, i) => {
        const angle = (2 * Math.PI * i) / nodes.length + random() * 0.1;
        const radius = hops * 50 + random() * 10;
        graph.mergeNodeAttributes(node, { x: radius * Math.cos(angle), y: radius * Math.sin(angle) });
      });
    }
  }

  function draw(data, started) {
    const graph = graphology.Graph.from(data);
    const a = data.attributes || {};
    state.ego = a.ego || null;
    const hadPositions = placed(graph);
    if (!hadPositions) seedPositions(graph);
    graph.forEachEdge((edge, attributes) => {
      graph.mergeEdgeAttributes(edge, { size: Math.min(6, 1 + Math.log2(attributes.weight)), color: EDGE });
    });
    state.graph = graph;
    state.selected = state.found = state.hovered = null;
    state.neighbours = null;
    restyle(false);
    fillNames();

    if (state.renderer) state.renderer.kill();
    const renderer = new Sigma(graph, container, {
      // Labels: only where there is room (one per grid cell, the biggest node's) and only for nodes drawn big
      // enough; so zooming in labels more of them. The focused node and its partners are always labelled.
      labelDensity: 0.5,
      labelGridCellSize: 120,
      labelRenderedSizeThreshold: 7,
      defaultDrawNodeLabel: drawShortLabel,
      hideEdgesOnMove: graph.size > MANY_LINKS,
      edgeProgramClasses: graph.size > MANY_LINKS ? { line: Sigma.rendering.EdgeLineProgram } : {},
      zIndex: true,
      nodeReducer: reduceNode,
      edgeReducer: reduceEdge,
    });
    renderer.on("clickNode", ({ node }) => select(node));
    renderer.on("clickStage", () => select(null));
    renderer.on("enterNode", ({ node }) => { state.hovered = node; focusChanged(); container.style.cursor = "pointer"; });
    renderer.on("leaveNode", () => { state.hovered = null; focusChanged(); container.style.cursor = ""; });
    state.renderer = renderer;
    state.ready = true;
    state.timings.drawn = performance.now() - started;
    // Since the page began to load (performance.now()'s origin): when the first frame with the graph is shown.
    requestAnimationFrame(() => { state.timings.firstFrame = performance.now(); });
    // An ego network's centre is named and described from the start, without dimming the rest: the point of
    // the view is everyone around it.
    if (state.ego !== null && graph.hasNode(state.ego)) describe(state.ego);

    status.textContent = counts(graph, a) +
      (graph.order === 0 ? " · no project passes these filters" : hadPositions ? " · laid out by the server" : " · laying out…");
    if (hadPositions) state.laidOut = true;
    else if (graph.order > 1) runLayout();
    else state.laidOut = true;
  }

  // A filtered or ego network comes with its strongest links only (/network's `limit`): the counts say which
  // slice is drawn, and a link offers them all.
  function counts(graph, a) {
    const total = Number.isInteger(a.links) ? a.links : graph.size;
    const first = (a.offset || 0) + 1;
    const slice = total <= graph.size ? "" : first === 1 ? ` · the strongest of ${total.toLocaleString("en")}` :
      ` · links ${first.toLocaleString("en")}–${(first + graph.size - 1).toLocaleString("en")} of ${total.toLocaleString("en")}, strongest first`;
    moreLinks.hidden = total <= graph.size;
    document.getElementById("link-count").textContent = total.toLocaleString("en");
    return `${graph.order.toLocaleString("en")} nodes, ${graph.size.toLocaleString("en")} links` + slice +
      (a.betweenness_pivots && a.betweenness_pivots < graph.order && !a.ego ? ` · betweenness estimated from ${a.betweenness_pivots} sources` : "");
  }

  // Sigma's own label drawing, with long names cut: the hover box (sigma's default) shows the whole name.
  function drawShortLabel(context, data, settings) {
    if (!data.label) return;
    const text = data.label.length > LABEL_CHARS ? data.label.slice(0, LABEL_CHARS - 1) + "…" : data.label;
    context.fillStyle = settings.labelColor.color || "#000";
    context.font = `${settings.labelWeight} ${settings.labelSize}px ${settings.labelFont}`;
    context.fillText(text, data.x + data.size + 3, data.y + settings.labelSize / 3);
  }

  // The focus: the node pointed at, else the one clicked (or found). It and its partners stand out.
  function focus() {
    return state.hovered !== null ? state.hovered : state.selected;
  }

  function focusChanged() {
    const node = focus();
    state.neighbours = node === null ? null : new Set(state.graph.neighbors(node));
    if (node !== null) describe(node);
    state.renderer.refresh({ skipIndexation: true });
  }

  function reduceNode(node, attributes) {
    const shown = { ...attributes };
    const centre = focus();
    if (node === state.ego) shown.forceLabel = true;
    if (centre === null) return shown;
    if (node === centre) {
      shown.highlighted = true;
      shown.forceLabel = true;
      shown.zIndex = 2;
    } else if (state.neighbours.has(node)) {
      shown.zIndex = 1;
      if (state.neighbours.size <= 30) shown.forceLabel = true;
    } else {
      shown.color = FADED;
      shown.label = null;
      shown.zIndex = 0;
    }
    return shown;
  }

  function reduceEdge(edge, attributes) {
    // While a big network is being laid out, frames without its links keep the page and the layout quick.
    if (state.layout !== null && state.graph.size > MANY_LINKS) return { ...attributes, hidden: true };
    const centre = focus();
    if (centre === null) return attributes;
    const [source, target] = state.graph.extremities(edge);
    if (source === centre || target === centre) return { ...attributes, color: LINK, zIndex: 1 };
    return { ...attributes, hidden: true };
  }

  function select(node) {
    state.selected = node;
    focusChanged();
    if (node === null) details.innerHTML = "<p>Point at a node to see its partners; click it for its figures, its page and the network around it.</p>";
  }

  function runLayout() {
    stop();
    const graph = state.graph;
    const FA2 = graphologyLibrary.FA2Layout;
    const settings = graphologyLibrary.layoutForceAtlas2.inferSettings(graph);
    settings.edgeWeightInfluence = 1;
    const layout = new FA2(graph, { settings, getEdgeWeight: "weight" });
    const limit = layoutIterations(graph.order);
    const started = performance.now();
    state.iterations = 0;
    state.laidOut = false;
    // The supervisor asks its worker for one iteration at a time: counting the asks bounds the iterations.
    const ask = layout.askForIterations;
    layout.askForIterations = function (withEdges) {
      if (state.iterations >= limit) {
        setTimeout(() => finished(layout, started), 0);
        return this;
      }
      state.iterations += 1;
      return ask.call(this, withEdges);
    };
    state.layout = layout;
    layout.start();
  }

  function finished(layout, started) {
    if (state.layout !== layout) return;
    stop();
    state.renderer.refresh(); // the links again
    state.laidOut = true;
    state.timings.layout = performance.now() - started;
    status.textContent = status.textContent.replace(" · laying out…", "") +
      ` · laid out (${state.iterations} iterations) in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  }

  function stop() {
    if (state.layout) { state.layout.kill(); state.layout = null; }
  }

  // Colour and size from the chosen attributes; the legend lists the coloured groups.
  function restyle(refresh = true) {
    const graph = state.graph;
    if (!graph) return;
    const by = colourBy.value;
    const measure = sizeBy.value;
    const counts = new Map();
    graph.forEachNode((node, a) => counts.set(a[by], (counts.get(a[by]) || 0) + 1));
    const ranked = [...counts.entries()].sort((x, y) => by === "hops" ? x[0] - y[0] : y[1] - x[1] || String(x[0]).localeCompare(String(y[0]), undefined, { numeric: true }));
    const colours = new Map(ranked.slice(0, PALETTE.length).map(([value], i) => [value, PALETTE[i]]));
    let max = 0;
    graph.forEachNode((node, a) => { max = Math.max(max, a[measure] || 0); });
    graph.forEachNode((node, a) => {
      // A measure that is 0 everywhere (betweenness in a clique) sizes nothing: every node gets the middle size.
      const size = max > 0 ? 3 + 13 * Math.sqrt((a[measure] || 0) / max) : 8;
      graph.mergeNodeAttributes(node, { color: colours.get(a[by]) || OTHER, size });
    });
    const shown = ranked.slice(0, PALETTE.length).map(([value, n]) =>
      `<li><span class="swatch" style="background:${colours.get(value)}"></span>${escape(groupName(by, value))} (${n})</li>`);
    if (ranked.length > PALETTE.length) shown.push(`<li><span class="swatch" style="background:${OTHER}"></span>others (${ranked.length - PALETTE.length} groups)</li>`);
    legend.innerHTML = `<h3>${escape(by)}</h3><ul>${shown.join("")}</ul>`;
    if (refresh && state.renderer) state.renderer.refresh();
  }

  function groupName(by, value) {
    if (value === undefined || value === null) return "unknown";
    if (by === "country") return localName(value).toUpperCase();
    if (by === "community" || by === "component") return by + " " + value;
    if (by === "hops") return value === 0 ? "the centre" : value === 1 ? "co-partners" : "their co-partners";
    return String(value);
  }

  function describe(node) {
    const a = state.graph.getNodeAttributes(node);
    const row = (name, value) => `<dt>${name}</dt><dd>${value}</dd>`;
    const around = node === state.ego ? "" :
      `<li><a class="ego-link" href="${escape(egoUrl(node))}">Show the network around it</a></li>`;
    details.innerHTML = `<h3><a href="${escape(pageFor(node))}">${escape(a.label)}</a></h3>` +
      `<ul class="actions"><li><a class="page-link" href="${escape(pageFor(node))}">Open its page</a></li>${around}</ul><dl>` +
      row("kind", escape(a.kind || "")) +
      row("country", escape(localName(a.country).toUpperCase())) +
      (a.city ? row("city", escape(localName(a.city))) : "") +
      row("partners", state.graph.degree(node)) +
      row("degree", a.degree) + row("weighted degree", a.weighted_degree) +
      row("betweenness", Number(a.betweenness || 0).toFixed(4)) +
      row("community", a.community) + row("component", a.component) +
      (Number.isInteger(a.hops) ? row("hops", a.hops) : "") + "</dl>";
  }

  function fillNames() {
    // A datalist of every label would be slow on 10,000 nodes: the biggest 500 are offered.
    const nodes = [];
    state.graph.forEachNode((node, a) => nodes.push([a.weighted_degree || 0, a.label]));
    nodes.sort((x, y) => y[0] - x[0]);
    names.innerHTML = nodes.slice(0, 500).map(([, label]) => `<option value="${escape(label)}">`).join("");
  }

  function find(text) {
    const wanted = text.trim().toLowerCase();
    if (!wanted || !state.graph) return;
    let hit = null;
    state.graph.forEachNode((node, a) => {
      if (hit === null && String(a.label).toLowerCase() === wanted) hit = node;
    });
    if (hit === null) {
      state.graph.forEachNode((node, a) => {
        if (hit === null && String(a.label).toLowerCase().includes(wanted)) hit = node;
      });
    }
    state.found = hit;
    if (hit === null) { status.textContent = `No node is called “${text}”.`; return; }
    select(hit);
    const shown = state.renderer.getNodeDisplayData(hit);
    state.renderer.getCamera().animate({ x: shown.x, y: shown.y, ratio: 0.25 }, { duration: 500 });
  }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  form.addEventListener("submit", (event) => {
    // Filters reload the data without leaving the page; the address keeps them, so it can be shared.
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
    history.pushState(null, "", location.pathname + "?" + params.toString());
    updateDownloads(params);
    load();
  });
  document.getElementById("every-link").addEventListener("click", (event) => {
    event.preventDefault();
    const params = currentParams();
    params.set("limit", "all");
    params.delete("offset");
    history.pushState(null, "", location.pathname + "?" + params.toString());
    updateDownloads(params);
    load();
  });
  window.addEventListener("popstate", load);
  colourBy.addEventListener("change", () => restyle());
  sizeBy.addEventListener("change", () => restyle());
  search.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); find(search.value); } });
  search.addEventListener("change", () => find(search.value));
  document.getElementById("relayout").addEventListener("click", () => { if (state.graph && state.graph.order > 1) runLayout(); });

  function updateDownloads(params) {
    document.querySelectorAll("ul.downloads a").forEach((link) => {
      const format = new URL(link.href).searchParams.get("format");
      const next = new URLSearchParams(params);
      next.set("format", format);
      link.href = location.pathname + "?" + next.toString();
    });
  }

  load();
})();
