// The partner network page: loads the network as graphology JSON from /network, lays it out with ForceAtlas2
// in a web worker (graphology-library), draws it with sigma (WebGL). window.kgNetwork exposes the graph and the
// renderer (browser tests count the drawn nodes there).
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
  const base = container.dataset.base;

  // Distinct colours for the biggest groups; the rest share a grey, so 10,000 nodes stay readable.
  const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#808000", "#000075", "#fabed4", "#ffd8b1", "#dcbeff"];
  const OTHER = "#b0b0b0";
  const EDGE = "#c9c9c9";
  // Layout time grows with the graph but stays bounded: the page must be usable on 10,000 nodes.
  const layoutMillis = (n) => Math.min(8000, 1500 + n * 0.6);

  const state = { graph: null, renderer: null, layout: null, ready: false, hovered: null, found: null, error: null };
  window.kgNetwork = state;

  // The page's own link for a KG IRI, as server/iris.py maps them: the KG's IRIs are served under the same path.
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

  function dataUrl() {
    const params = new URLSearchParams(location.search);
    params.set("format", "json");
    return location.pathname + "?" + params.toString();
  }

  async function load() {
    stop();
    status.textContent = "Loading the network…";
    state.ready = false;
    let response;
    try {
      response = await fetch(dataUrl(), { headers: { Accept: "application/json" } });
    } catch (e) {
      return fail("The network could not be loaded: " + e);
    }
    if (!response.ok) {
      return fail("The network could not be loaded: " + (await response.text()));
    }
    draw(await response.json());
  }

  function fail(message) {
    state.error = message;
    status.textContent = message;
  }

  function draw(data) {
    const graph = graphology.Graph.from(data);
    const random = seededRandom(42);
    graph.forEachNode((node) => {
      graph.mergeNodeAttributes(node, { x: random() * 100, y: random() * 100 });
    });
    graph.forEachEdge((edge, attributes) => {
      graph.mergeEdgeAttributes(edge, { size: Math.min(6, 1 + Math.log2(attributes.weight)), color: EDGE });
    });
    state.graph = graph;
    restyle();
    fillNames();

    if (state.renderer) state.renderer.kill();
    const renderer = new Sigma(graph, container, {
      labelRenderedSizeThreshold: 8,
      hideEdgesOnMove: graph.size > 20000,
      zIndex: true,
      nodeReducer: (node, attributes) => {
        const shown = { ...attributes };
        if (state.found === node) { shown.highlighted = true; shown.forceLabel = true; }
        return shown;
      },
    });
    renderer.on("clickNode", ({ node }) => { window.location.href = pageFor(node); });
    renderer.on("enterNode", ({ node }) => { state.hovered = node; describe(node); container.style.cursor = "pointer"; });
    renderer.on("leaveNode", () => { state.hovered = null; container.style.cursor = ""; });
    state.renderer = renderer;
    state.ready = true;

    const a = data.attributes || {};
    status.textContent = `${graph.order.toLocaleString()} nodes, ${graph.size.toLocaleString()} links` +
      (graph.order ? " · laying out…" : " · no project passes these filters") +
      (a.betweenness_pivots && a.betweenness_pivots < graph.order ? ` · betweenness estimated from ${a.betweenness_pivots} sources` : "");
    if (graph.order > 1) runLayout();
  }

  function runLayout() {
    stop();
    const graph = state.graph;
    const FA2 = graphologyLibrary.FA2Layout;
    const settings = graphologyLibrary.layoutForceAtlas2.inferSettings(graph);
    settings.edgeWeightInfluence = 1;
    state.layout = new FA2(graph, { settings, getEdgeWeight: "weight" });
    state.layout.start();
    const started = performance.now();
    state.layoutTimer = setTimeout(() => {
      stop();
      status.textContent = status.textContent.replace(" · laying out…", "") +
        ` · laid out in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, layoutMillis(graph.order));
  }

  function stop() {
    if (state.layoutTimer) clearTimeout(state.layoutTimer);
    if (state.layout) { state.layout.kill(); state.layout = null; }
  }

  // Colour and size from the chosen attributes; the legend lists the coloured groups.
  function restyle() {
    const graph = state.graph;
    if (!graph) return;
    const by = colourBy.value;
    const measure = sizeBy.value;
    const counts = new Map();
    graph.forEachNode((node, a) => counts.set(a[by], (counts.get(a[by]) || 0) + 1));
    const ranked = [...counts.entries()].sort((x, y) => y[1] - x[1] || String(x[0]).localeCompare(String(y[0]), undefined, { numeric: true }));
    const colours = new Map(ranked.slice(0, PALETTE.length).map(([value], i) => [value, PALETTE[i]]));
    let max = 0;
    graph.forEachNode((node, a) => { max = Math.max(max, a[measure] || 0); });
    graph.forEachNode((node, a) => {
      // A measure that is 0 everywhere (betweenness in a clique) sizes nothing: every node gets the middle size.
      const size = max > 0 ? 4 + 12 * Math.sqrt((a[measure] || 0) / max) : 8;
      graph.mergeNodeAttributes(node, { color: colours.get(a[by]) || OTHER, size });
    });
    const shown = ranked.slice(0, PALETTE.length).map(([value, n]) =>
      `<li><span class="swatch" style="background:${colours.get(value)}"></span>${escape(groupName(by, value))} (${n})</li>`);
    if (ranked.length > PALETTE.length) shown.push(`<li><span class="swatch" style="background:${OTHER}"></span>others (${ranked.length - PALETTE.length} groups)</li>`);
    legend.innerHTML = `<h3>${escape(by)}</h3><ul>${shown.join("")}</ul>`;
    if (state.renderer) state.renderer.refresh();
  }

  function groupName(by, value) {
    if (value === undefined || value === null) return "unknown";
    if (by === "country") return localName(value).toUpperCase();
    if (by === "community" || by === "component") return by + " " + value;
    return String(value);
  }

  function describe(node) {
    const a = state.graph.getNodeAttributes(node);
    const row = (name, value) => `<dt>${name}</dt><dd>${value}</dd>`;
    details.innerHTML = `<h3><a href="${escape(pageFor(node))}">${escape(a.label)}</a></h3><dl>` +
      row("kind", escape(a.kind || "")) +
      row("country", escape(localName(a.country).toUpperCase())) +
      (a.city ? row("city", escape(localName(a.city))) : "") +
      row("degree", a.degree) + row("weighted degree", a.weighted_degree) +
      row("betweenness", Number(a.betweenness || 0).toFixed(4)) +
      row("community", a.community) + row("component", a.component) + "</dl>";
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
      if (hit === null && String(a.label).toLowerCase().includes(wanted)) hit = node;
    });
    state.found = hit;
    if (hit === null) { status.textContent = `No node is called “${text}”.`; return; }
    describe(hit);
    const shown = state.renderer.getNodeDisplayData(hit);
    state.renderer.getCamera().animate({ x: shown.x, y: shown.y, ratio: 0.25 }, { duration: 500 });
    state.renderer.refresh();
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
  window.addEventListener("popstate", load);
  colourBy.addEventListener("change", restyle);
  sizeBy.addEventListener("change", restyle);
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
