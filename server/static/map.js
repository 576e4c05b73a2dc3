/* The map at /map. Country shapes come from world-atlas (TopoJSON, turned into GeoJSON by topojson-client) and
   are drawn by Leaflet with the lines and the cities of /map.geojson, all on one canvas (L.canvas): thousands of
   markers and lines stay one element to repaint, not thousands of SVG nodes. Nothing is fetched from another
   server unless the operator configured a tile server (MAP_TILES), whose tiles are then drawn under the shapes.
   window.kgMap tells tests (and the curious) what was drawn. */
(function () {
  "use strict";

  const element = document.getElementById("map");
  const status = document.getElementById("map-status");
  const data = element.dataset;
  const state = (window.kgMap = {
    ready: false, error: null, markers: {}, markerCount: 0, lineCount: 0, countryCount: 0, map: null, canvas: null,
  });

  const LAND = { color: "#b3ab9c", weight: 0.6, fillColor: "#f3efe6", fillOpacity: 1 };
  const LAND_OVER_TILES = { color: "#8a8173", weight: 0.8, fillColor: "#f3efe6", fillOpacity: 0.15 };
  const CITY = { color: "#ffffff", weight: 1, fillColor: "#1f6fb2", fillOpacity: 0.7 };
  const ORGANISATION = { color: "#ffffff", weight: 1, fillColor: "#c0562b", fillOpacity: 0.7 };
  const LINE = { color: "#6b3fa0", opacity: 0.35 };
  const FINE_ZOOM = 5;

  const map = L.map(element, { preferCanvas: true, minZoom: 2, maxZoom: 12, zoomSnap: 0.5, worldCopyJump: false });
  state.map = map;
  map.setView([50, 10], 4);
  const renderer = L.canvas({ padding: 0.3, tolerance: 3 });
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
  }
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');

  const number = (n) => n.toLocaleString("en-GB");
  const plural = (n, one, many) => `${number(n)} ${n === 1 ? one : many}`;

  function fail(message) {
    state.error = message;
    status.textContent = "The map could not be drawn: " + message;
    status.classList.add("error");
  }

  async function json(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(`${url}: ${response.status} ${message}`);
    }
    return response.json();
  }

  /* Country shapes at two scales: 1:110m while the map shows a continent, 1:50m (fetched when first needed) once
     zoomed in. Every pan clips and repaints every vertex on the canvas, and the 50m shapes have ten times more. */
  const shapes = { coarse: null, fine: null, shown: null, fetching: false };

  function shapeLayer(world) {
    const countries = topojson.feature(world, world.objects.countries);
    const layer = L.geoJSON(countries, { renderer, interactive: false, style: data.tiles ? LAND_OVER_TILES : LAND });
    layer.count = countries.features.length;
    return layer;
  }

  function showShapes() {
    const fine = map.getZoom() >= FINE_ZOOM;
    if (fine && !shapes.fine && !shapes.fetching) {
      shapes.fetching = true;
      json(data.worldFine).then((world) => { shapes.fine = shapeLayer(world); showShapes(); },
        (e) => { shapes.fetching = false; console.warn("finer country shapes unavailable: " + e.message); });
    }
    const wanted = fine && shapes.fine ? shapes.fine : shapes.coarse;
    if (wanted && wanted !== shapes.shown) {
      if (shapes.shown) map.removeLayer(shapes.shown);
      wanted.addTo(map).bringToBack();
      shapes.shown = wanted;
      state.countryCount = wanted.count;
      state.shapes = wanted === shapes.fine ? "50m" : "110m";
    }
  }

  function radius(projects) {
    return Math.min(3 + 1.6 * Math.sqrt(projects), 16);
  }

  function lineWeight(weight) {
    return Math.min(1 + Math.log2(weight), 7);
  }

  function drawLines(features) {
    for (const f of features) {
      const [a, b] = f.geometry.coordinates;
      L.polyline([[a[1], a[0]], [b[1], b[0]]], { renderer, interactive: false, weight: lineWeight(f.properties.weight), ...LINE })
        .addTo(map);
      state.lineCount++;
    }
  }

  function drawPoints(features) {
    const bounds = [];
    for (const f of features) {
      const [lng, lat] = f.geometry.coordinates;
      const p = f.properties;
      const style = p.kind === "city" ? CITY : ORGANISATION;
      const marker = L.circleMarker([lat, lng], { renderer, radius: radius(p.projects), ...style });
      marker.bindTooltip(p.label, { direction: "top", offset: [0, -radius(p.projects)] });
      marker.bindPopup(() => popup(p), { maxWidth: 360, minWidth: 220 });
      marker.addTo(map);
      state.markers[p.iri] = marker;
      state.markerCount++;
      bounds.push([lat, lng]);
    }
    return bounds;
  }

  function link(text, href, className) {
    const a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    if (className) a.className = className;
    return a;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  /* A popup shows what the marker knows at once, then the lists /map/place.json gives for the same selection. */
  function popup(p) {
    const box = el("div", null, "map-popup");
    const title = el("p", null, "map-popup-title");
    title.append(link(p.label, p.page, "map-popup-name"));
    title.append(el("span", [p.kind, p.country].filter(Boolean).join(" · "), "map-popup-kind"));
    box.append(title);
    box.append(el("p", [plural(p.projects, "project", "projects"),
      p.kind === "city" ? plural(p.organisations, "organisation", "organisations") : null].filter(Boolean).join(", ")));
    const details = el("div", "Loading…", "map-popup-details");
    box.append(details);
    const query = new URLSearchParams(data.selection);
    query.set("iri", p.iri);
    json(`${data.place}?${query}`).then((place) => fillDetails(details, place), (e) => {
      details.textContent = "Its projects could not be read: " + e.message;
    });
    return box;
  }

  function fillDetails(details, place) {
    details.textContent = "";
    if (place.organisations.length) {
      details.append(el("h3", "Organisations"));
      const list = el("ul", null, "map-popup-organisations");
      for (const o of place.organisations) {
        const item = el("li");
        item.append(link(o.label, o.page), ` (${plural(o.projects, "project", "projects")})`);
        list.append(item);
      }
      details.append(list);
      if (place.organisations_total > place.organisations.length) {
        details.append(el("p", `and ${number(place.organisations_total - place.organisations.length)} more`));
      }
    }
    if (place.cities.length) {
      const where = el("p", "Based in ");
      place.cities.forEach((c, i) => { if (i) where.append(", "); where.append(link(c.label, c.page)); });
      details.append(where);
    }
    details.append(el("h3", "Projects"));
    const list = el("ul", null, "map-popup-projects");
    for (const p of place.projects) {
      const item = el("li");
      item.append(link(p.label, p.page), " · ", link("on the map", p.map, "map-popup-only"));
      list.append(item);
    }
    details.append(list);
    if (place.projects_total > place.projects.length) {
      details.append(el("p", `and ${number(place.projects_total - place.projects.length)} more`));
    }
  }

  function describe(collection) {
    const c = collection.counts;
    const parts = [plural(c.cities, "city", "cities"), plural(c.organisations, "organisation", "organisations"),
      plural(c.projects, "project", "projects")];
    const lines = collection.lines;
    if (lines.left_out > 0) {
      parts.push(`${number(lines.drawn)} of ${plural(lines.total, "line", "lines")} drawn (the strongest); ` +
        `${number(lines.left_out)} left out`);
    } else {
      parts.push(plural(lines.drawn, "line", "lines"));
    }
    const unplaced = collection.unplaced;
    const missing = [];
    if (unplaced.cities) missing.push(plural(unplaced.cities, "city", "cities"));
    if (unplaced.organisations) missing.push(plural(unplaced.organisations, "organisation without a city", "organisations without a city"));
    let text = parts.join(" · ");
    if (missing.length) text += ` · not shown, having no coordinates: ${missing.join(" and ")}`;
    return text;
  }

  async function draw() {
    const started = performance.now();
    const [world, collection] = await Promise.all([json(data.world), json(data.geojson)]);
    shapes.coarse = shapeLayer(world);
    const points = collection.features.filter((f) => f.geometry.type === "Point");
    drawLines(collection.features.filter((f) => f.geometry.type === "LineString"));
    const bounds = drawPoints(points);
    if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 7, animate: false });
    showShapes();
    map.on("zoomend", showShapes);
    state.canvas = renderer._container;
    state.renderer = renderer;
    state.collection = collection;
    state.drawMs = Math.round(performance.now() - started);
    status.textContent = describe(collection);
    // Leaflet paints its canvas in the next animation frame: ready once that frame has been drawn.
    requestAnimationFrame(() => requestAnimationFrame(() => { state.ready = true; }));
  }

  /* Where a marker is on the page, for tests that click it. */
  state.pointOf = function (iri) {
    const marker = state.markers[iri];
    if (!marker) return null;
    const at = map.latLngToContainerPoint(marker.getLatLng());
    const box = element.getBoundingClientRect();
    return { x: box.left + at.x, y: box.top + at.y };
  };

  draw().catch((e) => fail(e.message || String(e)));
})();
