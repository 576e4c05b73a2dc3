// Result views shared by the SPARQL editor (as YASR plugins) and the named query pages: a table, a chart
// (chart.js), a map (Leaflet over the world-atlas countries, offline) and a network (sigma + graphology). The
// view is chosen from the shape of the results and the reader may switch; every view has a short URL (/v/<id>,
// server/shared_views.py) and the query can be copied as curl, Python or R code for the endpoint of this host.
//
// The first half is pure (results in, data out) and runs under node too: tests/test_result_views.py calls it.
// window.kgViews holds what was drawn last (the chart, the map's markers, the graph) for the browser tests.
(function (root) {
  "use strict";

  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedLong",
    "unsignedInt", "unsignedShort", "unsignedByte"].map((t) => XSD + t));
  const TEMPORAL = new Set(["date", "dateTime", "gYear", "gYearMonth"].map((t) => XSD + t));
  const WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  const GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#";
  const LABEL_SUFFIX = "Label"; // ?xLabel names the IRI in ?x, as on the named query pages (server/queries.py)
  const VIEWS = ["table", "chart", "map", "network"];
  const LAT = /^(lat|latitude)$/i;
  const LONG = /^(long|lon|lng|longitude)$/i;
  const WKT_POINT = /^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$/i;
  const TIME_NAME = /(year|date|month|day|period)/i;
  // Cities named in a VALUES block up to this many characters; past it (the endpoint takes 64 KB of query), one
  // query for every city with coordinates, whose text never changes, so the endpoint's cache answers it again.
  const MAX_VALUES_CHARS = 24000;
  const PALETTE = ["#4363d8", "#e6194b", "#3cb44b", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#808000"];

  // --- What the results look like --------------------------------------------------------------------------

  function kindOfCell(cell) {
    if (cell.type === "uri") return "iri";
    if (cell.type === "bnode") return "text";
    if (cell.datatype === WKT || WKT_POINT.test(cell.value)) return "wkt";
    if (NUMERIC.has(cell.datatype)) return "number";
    if (TEMPORAL.has(cell.datatype)) return "time";
    return "text";
  }

  // The columns shown (a ?xLabel column is folded into ?x) and the kind of each: the one kind all its bound
  // cells share, "mixed" when they differ, "empty" when none is bound.
  function analyse(results) {
    const vars = (results.head && results.head.vars) || [];
    const rows = (results.results && results.results.bindings) || [];
    const labelOf = {};
    for (const v of vars) if (vars.includes(v + LABEL_SUFFIX)) labelOf[v] = v + LABEL_SUFFIX;
    const labels = new Set(Object.values(labelOf));
    const shown = vars.filter((v) => !labels.has(v));
    const kinds = {};
    for (const v of shown) {
      let kind = "empty";
      for (const row of rows) {
        if (!row[v]) continue;
        const k = kindOfCell(row[v]);
        kind = kind === "empty" || kind === k ? k : "mixed";
        if (kind === "mixed") break;
      }
      kinds[v] = kind;
    }
    return { vars, shown, labelOf, kinds, rows };
  }

  function localName(iri) {
    const cut = Math.max(iri.lastIndexOf("/"), iri.lastIndexOf("#"));
    return cut >= 0 && cut < iri.length - 1 ? iri.slice(cut + 1) : iri;
  }

  // What a reader sees for a cell: its ?xLabel, else an IRI's last segment, else the literal's text.
  function cellText(a, row, column) {
    const label = a.labelOf[column] && row[a.labelOf[column]];
    if (label) return label.value;
    const cell = row[column];
    if (!cell) return "";
    return cell.type === "uri" ? localName(cell.value) : cell.value;
  }

  function columnsOf(a, kind) {
    return a.shown.filter((c) => a.kinds[c] === kind);
  }

  function coordinateColumns(a) {
    const lat = a.shown.find((c) => LAT.test(c) && ["number", "text"].includes(a.kinds[c]));
    const long = a.shown.find((c) => LONG.test(c) && ["number", "text"].includes(a.kinds[c]));
    return lat && long ? { lat, long } : null;
  }

  function isCity(iri, base) {
    return iri.startsWith(base + "id/city/");
  }

  function cityColumn(a, base) {
    return columnsOf(a, "iri").find((c) => a.rows.some((r) => r[c] && isCity(r[c].value, base))) || null;
  }

  function namespace(iri) {
    return iri.slice(0, iri.lastIndexOf("/") + 1);
  }

  // The two columns whose rows are the pairs: the first two IRI columns or, with no IRI column at all, the
  // first two columns when both are texts (labels). `alike` says the rows are pairs of one kind of thing
  // (organisations with organisations; labels with a number to weigh them), which makes the network the view.
  function pairColumns(a) {
    const iris = columnsOf(a, "iri");
    if (iris.length >= 2) {
      const spaces = (c) => new Set(a.rows.filter((r) => r[c]).map((r) => namespace(r[c].value)));
      const [x, y] = [spaces(iris[0]), spaces(iris[1])];
      const alike = iris.length === 2 && x.size === 1 && y.size === 1 && [...x][0] === [...y][0];
      return { source: iris[0], target: iris[1], alike };
    }
    const [x, y] = a.shown;
    if (iris.length === 0 && y && a.kinds[x] === "text" && a.kinds[y] === "text") {
      return { source: x, target: y, alike: a.shown.length === 2 || columnsOf(a, "number").length > 0 };
    }
    return null;
  }

  // The label column and the value columns of a chart: the numbers, against the first other column.
  function chartColumns(a, chosen) {
    const numbers = columnsOf(a, "number");
    const others = a.shown.filter((c) => !numbers.includes(c) && a.kinds[c] !== "empty");
    if (!numbers.length) return null;
    if (chosen && a.shown.includes(chosen)) {
      return { label: chosen, values: numbers.filter((c) => c !== chosen) };
    }
    if (others.length) return { label: others[0], values: numbers, strict: others.length === 1 };
    // Only numbers: a first column that names a time (?year) is the axis.
    if (numbers.length >= 2 && TIME_NAME.test(numbers[0])) {
      return { label: numbers[0], values: numbers.slice(1), strict: true };
    }
    return null;
  }

  function available(results, base) {
    const a = analyse(results);
    const views = ["table"];
    if (!a.rows.length) return views;
    if (chartColumns(a)) views.push("chart");
    if (coordinateColumns(a) || columnsOf(a, "wkt").length || cityColumn(a, base)) views.push("map");
    if (pairColumns(a)) views.push("network");
    return views;
  }

  // The view that fits: coordinates -> map, pairs of like things -> network, an aggregate (one label column
  // and numbers) -> chart, anything else -> table.
  function detect(results, base) {
    const a = analyse(results);
    if (!a.rows.length) return "table";
    if (coordinateColumns(a) || columnsOf(a, "wkt").length) return "map";
    const pairs = pairColumns(a);
    if (pairs && pairs.alike) return "network";
    const chart = chartColumns(a);
    if (chart && chart.strict) return "chart";
    return "table";
  }

  function isTime(a, column) {
    return a.kinds[column] === "time" || TIME_NAME.test(column);
  }

  // chart.js's data for the results: one dataset per number column; a line over time, bars otherwise.
  function chartData(results, options) {
    options = options || {};
    const a = analyse(results);
    const columns = chartColumns(a, options.label);
    if (!columns) return null;
    const kind = options.kind === "bar" || options.kind === "line" ? options.kind : (isTime(a, columns.label) ? "line" : "bar");
    let rows = a.rows.slice();
    if (kind === "line" && isTime(a, columns.label)) {
      rows.sort((x, y) => cellText(a, x, columns.label).localeCompare(cellText(a, y, columns.label), undefined, { numeric: true }));
    }
    return {
      kind,
      labelColumn: columns.label,
      labels: rows.map((r) => cellText(a, r, columns.label)),
      datasets: columns.values.map((c) => ({ label: c, data: rows.map((r) => (r[c] ? Number(r[c].value) : null)) })),
    };
  }

  // The places to draw: from coordinates or WKT points in the rows, and the city IRIs still to be looked up.
  function places(results, base) {
    const a = analyse(results);
    const coords = coordinateColumns(a);
    const wkt = columnsOf(a, "wkt")[0];
    const city = cityColumn(a, base);
    const named = city || columnsOf(a, "iri")[0] || a.shown.find((c) => a.kinds[c] === "text");
    const size = columnsOf(a, "number").find((c) => !coords || (c !== coords.lat && c !== coords.long));
    const found = [];
    const lookup = new Map();
    for (const row of a.rows) {
      let lat = null, long = null;
      if (coords && row[coords.lat] && row[coords.long]) {
        lat = Number(row[coords.lat].value); long = Number(row[coords.long].value);
      } else if (wkt && row[wkt]) {
        const m = WKT_POINT.exec(row[wkt].value);
        if (m) { long = Number(m[1]); lat = Number(m[2]); } // WKT puts the longitude first
      }
      const place = {
        iri: named && row[named] && row[named].type === "uri" ? row[named].value : null,
        label: named ? cellText(a, row, named) : "",
        size: size && row[size] ? Number(row[size].value) : null,
        lat, long,
      };
      if (Number.isFinite(lat) && Number.isFinite(long) && Math.abs(lat) <= 90 && Math.abs(long) <= 180) {
        found.push(place);
      } else if (city && row[city] && isCity(row[city].value, base)) {
        const iri = row[city].value;
        if (!lookup.has(iri)) lookup.set(iri, []);
        lookup.get(iri).push({ ...place, iri, label: cellText(a, row, city) });
      }
    }
    return { found, lookup, sizeColumn: size || null };
  }

  // One query for the coordinates of the cities the rows name without giving them: those cities, or all the
  // KG's cities with coordinates when they are too many to name.
  function lookupQuery(iris, base) {
    const values = iris.map((i) => "<" + i.replace(/[<>"{}|^`\\\s]/g, encodeURIComponent) + ">").join(" ");
    const which = values.length <= MAX_VALUES_CHARS ? `  VALUES ?place { ${values} }\n` : `  ?place a <${base}ontology/City> .\n`;
    return `PREFIX geo: <${GEO}>\nSELECT ?place (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?long) WHERE {\n` +
      which + "  ?place geo:lat ?la ; geo:long ?lo .\n} GROUP BY ?place";
  }

  // Nodes and links of the pairs; rows naming the same pair add up (their weight, or one each).
  function pairs(results, options) {
    options = options || {};
    const a = analyse(results);
    const columns = pairColumns(a);
    if (!columns) return null;
    const numbers = columnsOf(a, "number");
    const weight = numbers.includes(options.weight) ? options.weight : numbers[0] || null;
    const nodes = new Map();
    const links = new Map();
    const node = (row, column, side) => {
      const cell = row[column];
      const key = cell.value;
      if (!nodes.has(key)) nodes.set(key, { key, label: cellText(a, row, column), iri: cell.type === "uri" ? key : null, side, degree: 0 });
      return key;
    };
    for (const row of a.rows) {
      if (!row[columns.source] || !row[columns.target]) continue;
      const s = node(row, columns.source, 0);
      const t = node(row, columns.target, columns.alike ? 0 : 1); // two kinds of thing, two colours
      if (s === t) continue;
      const key = s < t ? s + "\n" + t : t + "\n" + s;
      const w = weight && row[weight] ? Number(row[weight].value) || 0 : 1;
      if (!links.has(key)) { links.set(key, { source: s, target: t, weight: 0 }); nodes.get(s).degree++; nodes.get(t).degree++; }
      links.get(key).weight += w;
    }
    return { nodes: [...nodes.values()], links: [...links.values()], weightColumn: weight, ...columns };
  }

  // --- Copy as code ------------------------------------------------------------------------------------------

  function shellQuote(text) {
    return "'" + text.replace(/'/g, "'\\''") + "'";
  }

  // A Python string literal holding the text: triple-quoted where that is exact, else JSON's (valid Python).
  function pythonString(text) {
    if (!text.includes('"""') && !text.endsWith('"') && !text.endsWith("\\")) {
      return (text.includes("\\") ? 'r"""' : '"""') + text + '"""';
    }
    return JSON.stringify(text);
  }

  // An R string literal: a raw string (R >= 4.0) where its delimiter does not occur, else an escaped one.
  function rString(text) {
    if (!text.includes(")---\"")) return 'r"---(' + text + ')---"';
    return JSON.stringify(text);
  }

  const CODE = {
    curl: {
      label: "curl",
      make: (endpoint, query) =>
        `curl -X POST ${shellQuote(endpoint)} \\\n  -H 'Accept: text/csv' \\\n  --data-urlencode ${shellQuote("query=" + query)}\n`,
    },
    python: {
      label: "Python (SPARQLWrapper)",
      make: (endpoint, query) => [
        "# pip install sparqlwrapper",
        "from SPARQLWrapper import JSON, POST, SPARQLWrapper",
        "",
        `endpoint = SPARQLWrapper(${JSON.stringify(endpoint)})`,
        "endpoint.setMethod(POST)",
        `endpoint.setQuery(${pythonString(query)})`,
        "endpoint.setReturnFormat(JSON)",
        "results = endpoint.queryAndConvert()",
        "# Each row: a dict of column name to value (IRIs and literals as text; unbound columns are absent).",
        'rows = [{name: cell["value"] for name, cell in binding.items()} for binding in results["results"]["bindings"]]',
        "for row in rows:",
        "    print(row)",
        "",
      ].join("\n"),
    },
    pandas: {
      label: "Python (pandas)",
      make: (endpoint, query) => [
        "# pip install pandas requests",
        "import io",
        "",
        "import pandas as pd",
        "import requests",
        "",
        `query = ${pythonString(query)}`,
        `response = requests.post(${JSON.stringify(endpoint)}, data={"query": query}, headers={"Accept": "text/csv"}, timeout=120)`,
        "response.raise_for_status()",
        "df = pd.read_csv(io.StringIO(response.text))",
        "print(df)",
        "",
      ].join("\n"),
    },
    r: {
      label: "R (httr + readr)",
      make: (endpoint, query) => [
        '# install.packages(c("httr", "readr"))',
        "library(httr)",
        "library(readr)",
        "",
        `query <- ${rString(query)}`,
        `response <- POST(${JSON.stringify(endpoint)}, body = list(query = query), encode = "form", accept("text/csv"))`,
        "stop_for_status(response)",
        'results <- read_csv(I(content(response, as = "text", encoding = "UTF-8")), show_col_types = FALSE)',
        "print(results)",
        "",
      ].join("\n"),
    },
  };

  function code(kind, endpoint, query) {
    if (!CODE[kind]) throw new Error("no code for " + kind + "; one of: " + Object.keys(CODE).join(", "));
    return CODE[kind].make(endpoint, query);
  }

  // --- The view's state in a URL fragment: view=chart&view.kind=line (and query=... in the editor) ----------

  function readFragment(hash) {
    const params = new URLSearchParams((hash || "").replace(/^#/, ""));
    const view = VIEWS.includes(params.get("view")) ? params.get("view") : null;
    const options = {};
    for (const [k, v] of params) if (k.startsWith("view.")) options[k.slice(5)] = v;
    return { view, options, query: params.get("query") };
  }

  function writeFragment(view, options, query) {
    const params = new URLSearchParams();
    if (query != null) params.set("query", query);
    params.set("view", view);
    for (const k of Object.keys(options || {}).sort()) if (options[k] !== "" && options[k] != null) params.set("view." + k, options[k]);
    return "#" + params.toString().replace(/\+/g, "%20");
  }

  const pure = { VIEWS, analyse, available, detect, chartData, places, lookupQuery, pairs, code, CODE, readFragment, writeFragment };
  if (typeof module === "object" && module.exports) {
    module.exports = pure;
    return;
  }

  // --- Drawing (browser only) ---------------------------------------------------------------------------------

  const LIBRARIES = {
    chart: ["chart.js/dist/chart.umd.min.js"],
    map: ["leaflet/dist/leaflet.js", "topojson-client/dist/topojson-client.min.js"],
    network: ["graphology/dist/graphology.umd.min.js", "graphology-library/dist/graphology-library.min.js", "sigma/dist/sigma.min.js"],
  };
  const STYLES = { map: ["leaflet/dist/leaflet.css"] };
  const loaded = new Map();
  const state = { view: null, options: {}, ready: false, error: null, chart: null, map: null, markers: [], graph: null, renderer: null };
  root.kgViews = state;

  function load(url, tag) {
    if (!loaded.has(url)) {
      loaded.set(url, new Promise((resolve, reject) => {
        const el = document.createElement(tag);
        if (tag === "script") { el.src = url; } else { el.rel = "stylesheet"; el.href = url; }
        el.onload = resolve;
        el.onerror = () => reject(new Error("could not load " + url));
        document.head.appendChild(el);
      }));
    }
    return loaded.get(url);
  }

  async function libraries(view, env) {
    await Promise.all((STYLES[view] || []).map((p) => load(env.vendor + p, "link")));
    for (const p of LIBRARIES[view] || []) await load(env.vendor + p, "script"); // in order: sigma needs graphology
  }

  function element(tag, attributes, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes || {})) {
      if (k === "text") el.textContent = v; else if (v != null) el.setAttribute(k, v);
    }
    for (const c of children) el.append(c);
    return el;
  }

  // The page for an IRI: the KG's own are served here; other http(s) IRIs as they are; anything else (a
  // javascript: IRI in someone's shared query) is no link.
  function pageFor(iri, env) {
    if (!iri) return null;
    if (iri.startsWith(env.base)) return "/" + iri.slice(env.base.length);
    return /^https?:\/\//i.test(iri) ? iri : null;
  }

  // Draw `view` in `el`; returns something with destroy(). `onOptions` hears of options the reader changes.
  async function draw(el, view, results, options, env, onOptions) {
    state.ready = false; state.error = null; state.view = view; state.options = { ...options };
    state.chart = null; state.map = null; state.markers = []; state.graph = null; state.renderer = null;
    el.replaceChildren();
    try {
      await libraries(view, env);
      const drawn = await { chart: drawChart, map: drawMap, network: drawNetwork }[view](el, results, options, env, onOptions);
      state.ready = true;
      return drawn;
    } catch (e) {
      state.error = String(e);
      el.replaceChildren(element("p", { class: "kg-view-error", role: "alert", text: "This view could not be drawn: " + e.message }));
      return { destroy() {} };
    }
  }

  function drawChart(el, results, options, env, onOptions) {
    const data = chartData(results, options);
    if (!data) throw new Error("the results have no numbers to chart");
    const kind = element("select", { "aria-label": "Chart kind", class: "kg-chart-kind" },
      element("option", { value: "", text: "chart: automatic" }), element("option", { value: "bar", text: "bars" }),
      element("option", { value: "line", text: "line" }));
    kind.value = options.kind || "";
    kind.addEventListener("change", () => onOptions({ ...options, kind: kind.value }));
    const canvas = element("canvas", { role: "img", "aria-label": `${data.kind} chart of ${data.datasets.map((d) => d.label).join(", ")} by ${data.labelColumn}` });
    el.append(element("div", { class: "kg-view-controls" }, kind), element("div", { class: "kg-chart" }, canvas));
    const chart = new Chart(canvas, {
      type: data.kind,
      data: {
        labels: data.labels,
        datasets: data.datasets.map((d, i) => ({ ...d, backgroundColor: PALETTE[i % PALETTE.length], borderColor: PALETTE[i % PALETTE.length] })),
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { title: { display: true, text: data.labelColumn } }, y: { beginAtZero: true } },
      },
    });
    state.chart = chart;
    return { destroy: () => chart.destroy() };
  }

  let countries = null; // the world-atlas countries as GeoJSON, read once per page
  async function countryShapes(env) {
    if (!countries) {
      countries = fetch(env.vendor + "world-atlas/countries-110m.json").then((r) => {
        if (!r.ok) throw new Error("the country shapes could not be loaded (" + r.status + ")");
        return r.json();
      }).then((topo) => {
        const shapes = topojson.feature(topo, topo.objects.countries);
        // Antarctica is no place of these projects, and its ring runs along the antimeridian; the rings of the
        // others that cross it (Russia, Fiji) are made continuous, else Leaflet draws a band across the map.
        shapes.features = shapes.features.filter((f) => f.properties.name !== "Antarctica");
        for (const f of shapes.features) {
          const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
          for (const ring of polygons.flat()) unwrap(ring);
        }
        return shapes;
      });
    }
    return countries;
  }

  function unwrap(ring) {
    for (let i = 1; i < ring.length; i++) {
      const previous = ring[i - 1][0];
      while (ring[i][0] - previous > 180) ring[i][0] -= 360;
      while (ring[i][0] - previous < -180) ring[i][0] += 360;
    }
  }

  async function drawMap(el, results, options, env) {
    const { found, lookup, sizeColumn } = places(results, env.base);
    const status = element("p", { class: "kg-view-status", text: "Placing the results…" });
    const box = element("div", { class: "kg-map" });
    el.append(status, box);
    // No tiles: the map must draw without a request leaving this server.
    const map = L.map(box, { worldCopyJump: true, minZoom: 1, maxZoom: 12, zoomSnap: 0.25, attributionControl: true });
    map.attributionControl.setPrefix(false).addAttribution("Countries: Natural Earth (world-atlas)");
    map.setView([50, 10], 3);
    L.geoJSON(await countryShapes(env), {
      interactive: false,
      style: { color: "#8a8a8a", weight: 0.6, fillColor: "#f1efe9", fillOpacity: 1 },
    }).addTo(map);
    state.map = map;
    let looked = [];
    if (lookup.size) {
      const iris = [...lookup.keys()];
      const response = await fetch(env.endpoint, {
        method: "POST",
        headers: { Accept: "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: lookupQuery(iris, env.base) }),
      });
      if (!response.ok) throw new Error("the cities' coordinates could not be looked up: " + (await response.text()));
      for (const b of (await response.json()).results.bindings) {
        for (const place of lookup.get(b.place.value) || []) looked.push({ ...place, lat: Number(b.lat.value), long: Number(b.long.value) });
      }
    }
    const all = found.concat(looked);
    const max = Math.max(0, ...all.map((p) => p.size || 0));
    const markers = all.map((p) => {
      const radius = max > 0 && p.size ? 4 + 10 * Math.sqrt(p.size / max) : 6;
      const marker = L.circleMarker([p.lat, p.long], { radius, className: "kg-marker", color: "#1f3f9a", weight: 1, fillColor: "#4363d8", fillOpacity: 0.7 });
      const popup = element("div", {});
      const href = pageFor(p.iri, env);
      popup.append(href ? element("a", { href, text: p.label || p.iri }) : element("span", { text: p.label || p.iri || "" }));
      if (sizeColumn && p.size != null) popup.append(element("br"), `${sizeColumn}: ${p.size}`);
      marker.bindPopup(popup);
      return marker.addTo(map);
    });
    state.markers = markers;
    if (markers.length) map.fitBounds(L.featureGroup(markers).getBounds().pad(0.2), { maxZoom: 7 });
    const rows = analyse(results).rows.length;
    const unplaced = rows - all.length;
    status.textContent = `${all.length} of ${rows} rows placed` + (unplaced ? ` (${unplaced} without coordinates)` : "") +
      (sizeColumn ? ` · size: ${sizeColumn}` : "");
    return { destroy: () => map.remove() };
  }

  function seeded(seed) {
    return function () { // mulberry32: the same layout on every load
      seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function drawNetwork(el, results, options, env, onOptions) {
    const data = pairs(results, options);
    if (!data) throw new Error("the results have no pairs to link");
    const status = element("p", { class: "kg-view-status" });
    const box = element("div", { class: "kg-network" });
    el.append(status, box);
    const graph = new graphology.Graph({ type: "undirected" });
    const random = seeded(42);
    const maxDegree = Math.max(1, ...data.nodes.map((n) => n.degree));
    for (const n of data.nodes) {
      graph.addNode(n.key, {
        label: n.label, iri: n.iri, x: random(), y: random(),
        size: 3 + 9 * Math.sqrt(n.degree / maxDegree), color: PALETTE[n.side % PALETTE.length],
      });
    }
    const maxWeight = Math.max(1, ...data.links.map((l) => l.weight));
    for (const l of data.links) {
      graph.addEdge(l.source, l.target, { weight: l.weight, size: 0.5 + 3 * (l.weight / maxWeight), color: "#c4c4c4" });
    }
    if (graph.order > 1) {
      const settings = graphologyLibrary.layoutForceAtlas2.inferSettings(graph);
      graphologyLibrary.layoutForceAtlas2.assign(graph, { iterations: graph.order > 2000 ? 60 : 200, settings, getEdgeWeight: "weight" });
    }
    const renderer = new Sigma(graph, box, { labelRenderedSizeThreshold: 6 });
    renderer.on("clickNode", ({ node }) => { const href = pageFor(graph.getNodeAttribute(node, "iri"), env); if (href) window.location.href = href; });
    state.graph = graph; state.renderer = renderer;
    status.textContent = `${graph.order} nodes, ${graph.size} links (${data.source} – ${data.target})` +
      (data.weightColumn ? ` · weight: ${data.weightColumn}` : " · weight: rows");
    return { destroy: () => renderer.kill() };
  }

  // --- Share and copy-as, for the view on the page --------------------------------------------------------------

  // `current()` gives {state: what /v keeps, long: the page's own URL for it, query: the SPARQL text}.
  function tools(el, env, current) {
    const shareButton = element("button", { type: "button", class: "kg-share" }, "Share this view");
    const link = element("input", { type: "text", class: "kg-share-url", readonly: "", "aria-label": "Short URL of this view", hidden: "" });
    const note = element("span", { class: "kg-share-note", role: "status" });
    shareButton.addEventListener("click", async () => {
      const now = current();
      note.textContent = "";
      let url = null;
      try {
        const response = await fetch(env.share, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(now.state) });
        if (response.ok) url = (await response.json()).url;
        else note.textContent = (await response.text()).trim() + " ";
      } catch (e) {
        note.textContent = "The short URL could not be made (" + e.message + "). ";
      }
      if (!url) { url = new URL(now.long, location.href).href; note.textContent += "This long URL reproduces the view."; }
      link.value = url; link.hidden = false; link.focus(); link.select();
    });

    const kinds = element("select", { "aria-label": "Language of the code", class: "kg-code-kind" },
      ...Object.entries(CODE).map(([k, c]) => element("option", { value: k, text: c.label })));
    const text = element("pre", { class: "kg-code" });
    const copy = element("button", { type: "button", class: "kg-copy" }, "Copy");
    const details = element("details", { class: "kg-code-panel" }, element("summary", { text: "Copy the query as code" }),
      element("div", { class: "kg-view-controls" }, kinds, copy), text);
    const fill = () => { text.textContent = code(kinds.value, new URL(env.endpoint, location.href).href, current().query); };
    kinds.addEventListener("change", fill);
    details.addEventListener("toggle", fill);
    copy.addEventListener("click", async () => {
      fill();
      try { await navigator.clipboard.writeText(text.textContent); copy.textContent = "Copied"; } catch (e) {
        const range = document.createRange(); range.selectNodeContents(text); // no clipboard (plain http): select it
        getSelection().removeAllRanges(); getSelection().addRange(range); copy.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { copy.textContent = "Copy"; }, 2000);
    });
    el.append(element("div", { class: "kg-share-row" }, shareButton, link, note), details);
    return { refresh: () => { if (details.open) fill(); link.hidden = true; note.textContent = ""; } };
  }

  function envOf(el) {
    return { vendor: el.dataset.vendor, endpoint: el.dataset.endpoint, share: el.dataset.share, base: el.dataset.base };
  }

  // --- A named query's page: a switcher over the server's table and the other views --------------------------

  function mountNamed(el, table, data) {
    const env = envOf(el);
    const results = data.results;
    const views = available(results, env.base);
    const asked = readFragment(location.hash);
    let view = asked.view && views.includes(asked.view) ? asked.view : detect(results, env.base);
    let options = asked.view === view ? asked.options : {};
    let drawn = null;
    const switcher = element("div", { class: "kg-view-switcher", role: "tablist", "aria-label": "Show the results as" });
    const buttons = {};
    for (const v of VIEWS) {
      buttons[v] = element("button", { type: "button", role: "tab", "data-view": v, text: v[0].toUpperCase() + v.slice(1) });
      if (!views.includes(v)) { buttons[v].disabled = true; buttons[v].title = "These results have no shape for a " + v; }
      buttons[v].addEventListener("click", () => show(v, {}, true));
      switcher.append(buttons[v]);
    }
    const canvas = element("div", { class: "kg-view" });
    const toolbox = element("div", { class: "kg-view-tools" });
    el.append(switcher, canvas, toolbox);
    el.hidden = false;
    const long = () => location.pathname + location.search + writeFragment(view, options);
    const bar = tools(toolbox, env, () => ({
      state: { named: el.dataset.named, params: Object.fromEntries(new URLSearchParams(location.search)), view, options },
      long: long(), query: data.query,
    }));

    // The page's URL follows the reader's choices (not the first view: the URL asked for stays as it was).
    async function show(v, opts, chosen) {
      view = v; options = opts;
      for (const [name, b] of Object.entries(buttons)) b.setAttribute("aria-selected", String(name === v));
      if (chosen) history.replaceState(null, "", long());
      bar.refresh();
      if (drawn) { drawn.destroy(); drawn = null; }
      table.hidden = v !== "table";
      canvas.hidden = v === "table";
      if (v === "table") {
        Object.assign(state, { view: v, options: {}, ready: true, error: null, chart: null, map: null, markers: [], graph: null, renderer: null });
        return;
      }
      drawn = await draw(canvas, v, results, opts, env, (o) => show(v, o, true));
    }
    show(view, options, false);
    return state;
  }

  // --- The SPARQL editor: YASR plugins, the view chosen for each new result, share and copy for the tab ----------

  function yasrResults(yasr) {
    const r = yasr.results;
    if (!r || r.hasError()) return null;
    const answer = r.getBoolean();
    if (answer === true || answer === false) return null; // ASK: YASR's own boolean view
    const vars = r.getVariables() || [];
    return { head: { vars }, results: { bindings: r.getBindings() || [] } };
  }

  function yasrPlugin(view, label, env) {
    return class {
      constructor(yasr) { this.yasr = yasr; this.label = label; this.priority = 1; this.drawn = null; }
      canHandleResults() { const res = yasrResults(this.yasr); return !!res && available(res, env.base).includes(view); }
      getIcon() { return element("span", { class: "kg-yasr-icon", "aria-hidden": "true", text: { chart: "▮", map: "◍", network: "⋈" }[view] }); }
      async draw() {
        const el = element("div", { class: "kg-view kg-yasr-view" });
        this.yasr.resultsEl.append(el);
        const options = (this.yasr.kgOptions && this.yasr.kgOptions[view]) || {};
        this.drawn = await draw(el, view, yasrResults(this.yasr), options, env, (o) => {
          this.yasr.kgOptions = { ...(this.yasr.kgOptions || {}), [view]: o };
          this.yasr.refresh();
        });
      }
      destroy() { if (this.drawn) this.drawn.destroy(); this.drawn = null; }
    };
  }

  function mountEditor(el, Yasgui, makeYasgui) {
    const env = envOf(el);
    const Yasr = Yasgui.Yasr;
    for (const [view, label] of [["chart", "Chart"], ["map", "Map"], ["network", "Network"]]) Yasr.registerPlugin(view, yasrPlugin(view, label, env));
    // Each new result gets the view that fits it, unless the page was opened for a given view; a reader's
    // choice holds until the next result.
    const draw = Yasr.prototype.draw;
    Yasr.prototype.draw = function () {
      if (this.results && this.results !== this.kgSeen) {
        this.kgSeen = this.results;
        const res = yasrResults(this);
        if (this.kgPinned) { this.selectedPlugin = this.kgPinned; this.kgPinned = null; }
        else if (res) this.selectedPlugin = detect(res, env.base);
      }
      return draw.call(this);
    };
    const asked = readFragment(location.hash); // before YASGUI reads (and clears) the fragment
    const yasgui = makeYasgui();
    const viewOf = (yasr) => {
      const name = yasr.drawnPlugin || yasr.selectedPlugin || "table";
      return VIEWS.includes(name) ? name : "table"; // the raw response is not a view: its share is the table
    };
    const current = () => {
      const tab = yasgui.getTab();
      const yasr = tab.getYasr();
      const view = viewOf(yasr);
      const options = (yasr.kgOptions && yasr.kgOptions[view]) || {};
      const query = tab.getQuery();
      return { state: { query, view, options }, long: location.pathname + writeFragment(view, options, query), query };
    };
    const bar = tools(el, env, current);
    yasgui.on("tabSelect", () => setTimeout(bar.refresh));
    yasgui.on("queryResponse", () => bar.refresh());
    if (asked.query && asked.view) {
      const tab = yasgui.getTab();
      const yasr = tab.getYasr();
      yasr.kgPinned = asked.view;
      yasr.kgOptions = { [asked.view]: asked.options };
      tab.query();
    }
    root.kgEditor = yasgui;
    return yasgui;
  }

  root.KGViews = { ...pure, draw, tools, mountNamed, mountEditor, state };
})(typeof window !== "undefined" ? window : globalThis);
