#!/usr/bin/env python3
"""How fast /network answers on a large KG, cold and warm, in every format; and what materialising buys.

    .venv/bin/python bench/network_bench.py                 # about 25 minutes; writes bench/results/network.md
    .venv/bin/python bench/network_bench.py --triples 100000 --repeat 5 --output -   # a quick look

What it does, in order:
  1. generates projects, organisations and participations with `kg synth`'s generator (kg/synth.py) through
     bench/endpoint_bench.py's `generate` (same seed), sized as it sizes a KG of --triples triples *with* its OWL
     RL closure, and builds them beside the real data with `kg build --inference none`: the OWL RL closure at this
     size takes far too long, and the network is derived from asserted triples only, so it does not need it. The build
     validates (SHACL) and materialises the networks, and its own timings are reported;
  2. times, in this process on the built store (pyoxigraph, read-only): the co-occurrence query a researcher
     would write on the raw data (pairs of organisations sharing projects, with the shared projects, grouped),
     the build's way of deriving the same pairs (one query for the asserted triples, pairs counted in Python),
     and the look-up of the materialised network that /network runs;
  3. serves the build with `kg serve --workers 1` (one worker, so "cold" and "warm" mean one cache) and, for
     each network (organisations, cities; unfiltered and filtered) and each format, restarts the server, times
     the first request (cold: look-up, measures for a filtered network, serialisation) and then --repeat more
     (warm), giving p50 and p99;
  4. writes bench/results/network.md with the machine, versions, data size, commands and figures.

The server listens on 127.0.0.1 only and is always stopped.

With --page STORE it measures the network *page* instead, on a build that exists (e.g. /tmp/grown/store), in
headless Chromium (Playwright; software WebGL, as in tests/browser.py), and writes bench/results/network-page.md:

    .venv/bin/python bench/network_bench.py --page /tmp/grown/store            # about 10 minutes

  1. the whole organisation network as the page gets it today: download and parse, first frame, the ForceAtlas2
     web worker's bounded run (iterations, seconds, the frame times while it runs), then the frame times while
     panning and zooming, and the time a click takes to highlight a node's partners;
  2. the same network with its positions given (those the first run ended with, put into the JSON the page
     receives): a precomputed layout, as a build could write it: first frame, pan/zoom frames, highlight;
  3. ego networks (the best-connected organisation at depth 1 and 2, a median one at depth 2): the server's
     answer cold and warm, and the page's first frame and layout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import endpoint_bench as eb  # noqa: E402  the generator, the server handling and the machine description

ROOT = eb.ROOT
RESULTS = ROOT / "bench" / "results" / "network.md"
FORMATS = ["json", "graphml", "gexf", "csv", "cytoscape"]
TARGET_SECONDS = 1.0
QUERY_TIMEOUT = 120

# The researcher's question on the raw data: every pair of organisations that shared projects, with the projects.
CO_OCCURRENCE = """SELECT ?a ?b (COUNT(DISTINCT ?project) AS ?shared) (GROUP_CONCAT(DISTINCT STR(?project); separator=" ") AS ?projects) WHERE {
  ?x ckg:participant ?a ; ckg:inProject ?project .
  ?y ckg:participant ?b ; ckg:inProject ?project .
  FILTER (STR(?a) < STR(?b))
}
GROUP BY ?a ?b"""


def prepare(work: Path, triples: int, seed: int) -> tuple[Path, dict]:
    data = eb.link_real_data(work / "data")
    ref = eb.read_reference(ROOT / "data")
    generated = eb.generate(data / "bench-generated.nq", ref, triples, seed)
    info = {"organisations": len(generated.organisations), "projects": len(generated.projects),
            "participations": len(generated.participations)}
    print(f"generated {info['organisations']} organisations, {info['projects']} projects, {info['participations']} participations", flush=True)
    link = work / "store"
    command = [str(eb.BIN / "kg"), "build", "--no-import", "--inference", "none", "--store", str(link)]
    print("kg build --inference none (SHACL validation takes most of it) ...", flush=True)
    t = time.perf_counter()
    done = subprocess.run(command, env=eb.data_only_env(data), capture_output=True, text=True)
    info["build_seconds"] = time.perf_counter() - t
    if done.returncode != 0:
        eb.fail(f"kg build failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", 1)
    info["build_line"] = done.stdout.strip().splitlines()[0]
    print("  " + info["build_line"], flush=True)
    return link, info


def in_process(link: Path) -> dict:
    """Raw co-occurrence query vs the build's derivation vs the look-up of the materialised network."""
    from kg.network import NETWORK_GRAPH, lookup
    from kg.network.materialise import co_participations, read_sources
    from kg.store.embedded import KGStore

    kg_store = KGStore.open(link)
    figures = {"triples": len(kg_store), "graphs": kg_store.graph_sizes()}
    figures["network_triples"] = figures["graphs"].get(str(NETWORK_GRAPH), 0)

    t = time.perf_counter()
    raw = {(s["a"].value, s["b"].value): int(s["shared"].value) for s in kg_store.query(CO_OCCURRENCE)}
    figures["raw_query_s"] = time.perf_counter() - t

    t = time.perf_counter()
    pairs = co_participations(read_sources(kg_store), "organisation")
    figures["derive_s"] = time.perf_counter() - t

    t = time.perf_counter()
    network = lookup.read_network("organisation", lookup.rows_of(kg_store.query(lookup.network_query("organisation"))))
    figures["lookup_s"] = time.perf_counter() - t
    t = time.perf_counter()
    lookup.read_network("city", lookup.rows_of(kg_store.query(lookup.network_query("city"))))
    figures["lookup_city_s"] = time.perf_counter() - t

    same = raw == {pair: len(p) for pair, p in pairs.items()} == {pair: len(p) for pair, p in network.edges.items()}
    figures.update(edges=len(network.edges), nodes=len(network.nodes), incidences=sum(len(p) for p in network.edges.values()), same=same)
    print(f"  raw co-occurrence query {figures['raw_query_s']:.1f} s, derivation {figures['derive_s']:.1f} s, "
          f"look-up {figures['lookup_s']:.1f} s; {figures['edges']} edges; same pairs and weights: {same}", flush=True)
    del kg_store
    return figures


def timed_get(url: str) -> tuple[float, int, int]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return time.perf_counter() - t, status, len(body)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def over_http(link: Path, work: Path, cases: list[tuple[str, dict]], repeat: int) -> list[dict]:
    tools = types.SimpleNamespace(kg=str(eb.BIN / "kg"))  # kg_server needs only the kg command
    server = eb.kg_server(tools, _DataStub(link), 1, work / "serve.log")
    # Reading a large network's look-up can outlast the default 30 s query timeout on a busy machine.
    server.argv += ["--timeout", str(QUERY_TIMEOUT)]
    rows = []
    try:
        for title, params in cases:
            for fmt in FORMATS:
                server.restart()  # an empty cache: the first request is cold
                url = server.base + "/network?" + urllib.parse.urlencode({**params, "format": fmt})
                cold, status, size = timed_get(url)
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
                warm = [timed_get(url)[0] for _ in range(repeat)]
                row = {"case": title, "format": fmt, "cold": cold, "p50": statistics.median(warm),
                       "p99": percentile(warm, 99), "bytes": size}
                rows.append(row)
                print(f"  {title:<40} {fmt:<10} cold {cold:6.2f} s  warm p50 {row['p50'] * 1000:7.1f} ms  "
                      f"p99 {row['p99'] * 1000:7.1f} ms  {size / 1e6:6.1f} MB", flush=True)
    finally:
        server.stop()
    return rows


class _DataStub:
    """What endpoint_bench.kg_server reads of its Data: the store link."""

    def __init__(self, link: Path):
        self.kg_store = link


def report(args, info: dict, inproc: dict, rows: list[dict], started: datetime, load: float) -> str:
    m = eb.machine()
    lines = [
        "# /network benchmark",
        "",
        f"Run {started.strftime('%Y-%m-%d %H:%M UTC')} by `bench/network_bench.py` "
        f"(`.venv/bin/python bench/network_bench.py {' '.join(sys.argv[1:])}`).",
        "",
        "## Machine and software",
        "",
        f"- {m['cpu']}, {m['nproc']} CPUs, {m['ram']} RAM; {m['os']}; Python {m['python']}; pyoxigraph {m['pyoxigraph']}; "
        f"networkx {__import__('networkx').__version__}; code at {m['commit']}",
        f"- other processes kept about {load:.1f} cores busy when the run began (a shared machine makes every figure slower)",
        "",
        "## Data",
        "",
        f"- generated with `kg synth`'s generator (seed {args.seed}) sized for a KG of {args.triples:,} triples "
        f"*with* its OWL RL closure: {info['organisations']:,} organisations, {info['projects']:,} projects, "
        f"{info['participations']:,} participations, beside the real data",
        f"- built with `kg build --inference none` (OWL RL at this size takes too long; the network is derived from "
        f"asserted triples only) in {info['build_seconds']:.0f} s: `{info['build_line']}`",
        f"- the built store: {inproc['triples']:,} triples, of which {inproc['network_triples']:,} in the network graph",
        f"- the organisation network: {inproc['nodes']:,} nodes, {inproc['edges']:,} edges, "
        f"{inproc['incidences']:,} (edge, shared project) pairs",
        "",
        "## Materialised look-up against the query on the raw data (in-process, pyoxigraph)",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| the co-occurrence query on the raw data (all pairs of organisations with their shared projects, grouped) | {inproc['raw_query_s']:.2f} |",
        f"| the build's derivation (one query for the asserted triples, pairs counted in Python) | {inproc['derive_s']:.2f} |",
        f"| the look-up of the materialised organisation network (what /network runs) | {inproc['lookup_s']:.2f} |",
        f"| the look-up of the materialised city network | {inproc['lookup_city_s']:.2f} |",
        "",
        f"The three agree on every pair and weight: **{'yes' if inproc['same'] else 'NO'}**.",
        "",
        f"## /network over HTTP (`kg serve --workers 1 --timeout {QUERY_TIMEOUT}`, {args.repeat} warm requests after each cold one)",
        "",
        "Cold: the first request after a restart (the look-ups, the filtered network's measures, the serialisation). "
        "Warm: the same request again, answered from the worker's cache.",
        "",
        "| network | format | cold s | warm p50 ms | warm p99 ms | size MB | warm < 1 s | cold < 1 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['format']} | {r['cold']:.2f} | {r['p50'] * 1000:.1f} | {r['p99'] * 1000:.1f} | "
                     f"{r['bytes'] / 1e6:.1f} | {'yes' if r['p99'] < TARGET_SECONDS else 'no'} | {'yes' if r['cold'] < TARGET_SECONDS else 'no'} |")
    warm_ok = all(r["p99"] < TARGET_SECONDS for r in rows)
    cold_ok = [r for r in rows if r["cold"] < TARGET_SECONDS]
    lines += [
        "",
        "## Target: /network under 1 s on a KG of this size",
        "",
        f"- warm (cached per worker, per build and filters): **{'met' if warm_ok else 'not met'}** for every network and format.",
        f"- cold: met for {len(cold_ok)} of {len(rows)} cases. The whole networks are files `kg build` wrote: a cold "
        "answer is a file read. A cold *filtered* answer reads the materialised network "
        f"({inproc['incidences']:,} edge-project rows for the organisations) through the query process, computes the "
        "filtered network's measures and serialises it; that, not the KG's size, sets its time (see docs/network.md, "
        "\"Performance\").",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# --page: the network page in headless Chromium
# ---------------------------------------------------------------------------------------------------------------

PAGE_RESULTS = ROOT / "bench" / "results" / "network-page.md"

# rAF intervals for `ms` milliseconds while the code moves the camera every frame, in a circle and in and out: no
# interaction is going on, so every frame draws every node and link, the worst case.
FRAMES = """async ([ms, move]) => {
  const { renderer } = window.kgNetwork;
  const camera = renderer.getCamera();
  const stamps = [];
  const start = performance.now();
  await new Promise((done) => {
    function frame(now) {
      stamps.push(now);
      const t = (now - start) / 1000;
      if (move) camera.setState({ x: 0.5 + 0.25 * Math.cos(t * 2), y: 0.5 + 0.25 * Math.sin(t * 2), ratio: 0.15 + 0.85 * (1 + Math.cos(t * 1.5)) / 2 });
      if (now - start < ms) requestAnimationFrame(frame); else done();
    }
    requestAnimationFrame(frame);
  });
  camera.setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });
  return stamps.slice(1).map((t, i) => t - stamps[i]);
}"""
# rAF intervals between a start and a stop, while the bench drives the mouse.
RECORD_START = """() => {
  window.benchStamps = []; window.benchRecording = true;
  const frame = (now) => { window.benchStamps.push(now); if (window.benchRecording) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}"""
RECORD_STOP = """() => { window.benchRecording = false; const s = window.benchStamps; return s.slice(1).map((t, i) => t - s[i]); }"""


def interact(page, seconds: float) -> list[float]:
    """Frame intervals while a reader drags the graph about and zooms in and out with the wheel, for `seconds`:
    sigma's own interaction, which hides the links while the camera moves when there are over 20,000."""
    box = page.locator("#graph").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(RECORD_START)
    end, turn = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        way = 1 if turn % 2 == 0 else -1
        page.mouse.move(cx, cy)
        page.mouse.down()
        for k in range(1, 16):
            page.mouse.move(cx + way * 12 * k, cy + way * 6 * k)
        page.mouse.up()
        page.mouse.wheel(0, -400 * way)
        turn += 1
    page.wait_for_timeout(500)  # the last zoom's animation
    intervals = page.evaluate(RECORD_STOP)
    page.evaluate("window.kgNetwork.renderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 })")
    return intervals


# Frame intervals until the layout worker has stopped.
FRAMES_UNTIL_LAID_OUT = """async () => {
  const stamps = [];
  await new Promise((done) => {
    function frame(now) { stamps.push(now); if (!window.kgNetwork.laidOut) requestAnimationFrame(frame); else done(); }
    requestAnimationFrame(frame);
  });
  return stamps.slice(1).map((t, i) => t - stamps[i]);
}"""
# A click on `node`: the partners highlighted, the rest dimmed, until the next frame is shown.
HIGHLIGHT = """async (node) => {
  const started = performance.now();
  window.kgNetwork.select(node);
  await new Promise((done) => requestAnimationFrame(() => done()));
  const took = performance.now() - started;
  window.kgNetwork.select(null);
  return took;
}"""


def _frames(intervals: list[float]) -> dict:
    if not intervals:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "fps": float("nan")}
    return {"n": len(intervals), "p50": percentile(intervals, 50), "p95": percentile(intervals, 95),
            "fps": 1000 * len(intervals) / sum(intervals)}


def page_bench(store: Path, repeat: int, work: Path) -> dict:
    import requests
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS
    from tests.live import serving

    out: dict = {"runs": [], "given": [], "egos": []}
    executable = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    if executable is None:
        eb.fail("--page needs Debian's chromium (apt-get install chromium), as the browser tests do", 2)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        out["chromium"] = browser.version

        def fresh():
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            return context, context.new_page()

        def whole_network(base: str, rows: list, given: bool) -> dict:
            """Open /network `repeat` times; the positions the last run ended with."""
            for run in range(repeat):
                context, page = fresh()
                page.goto(base + "/network", timeout=300_000)
                page.wait_for_function("window.kgNetwork && window.kgNetwork.ready", timeout=300_000)
                during = page.evaluate(FRAMES_UNTIL_LAID_OUT)
                page.wait_for_function("window.kgNetwork.timings.firstFrame !== undefined")
                row = {**page.evaluate("window.kgNetwork.timings"), "iterations": page.evaluate("window.kgNetwork.iterations"),
                       "during": _frames(during), "panzoom": _frames(interact(page, 4)),
                       "redraw": _frames(page.evaluate(FRAMES, [3000, True]))}
                row["highlight"] = statistics.median(page.evaluate(HIGHLIGHT, hub) for _ in range(5))
                rows.append(row)
                print(f"  {'positions given' if given else 'laid out in the browser'}, run {run + 1}: first frame "
                      f"{row['firstFrame'] / 1000:.2f} s, layout {row.get('layout', 0) / 1000:.1f} s ({row['iterations']} iterations), "
                      f"pan/zoom p50 {row['panzoom']['p50']:.0f} ms", flush=True)
                positions = page.evaluate("(() => { const g = window.kgNetwork.graph; const p = {}; "
                                          "g.forEachNode((n, a) => { p[n] = [a.x, a.y]; }); return p; })()")
                context.close()
            return positions

        with serving(store, "--workers", "1", "--timeout", str(QUERY_TIMEOUT)) as base:
            whole = requests.get(base + "/network", params={"format": "json"}, timeout=QUERY_TIMEOUT)
            doc = whole.json()
            out["nodes"], out["edges"], out["json_mb"] = len(doc["nodes"]), len(doc["edges"]), len(whole.content) / 1e6
            ranked = sorted(doc["nodes"], key=lambda n: (-n["attributes"]["degree"], n["key"]))
            hub = ranked[0]["key"]
            positions = whole_network(base, out["runs"], False)
            for node, depth, what in ((ranked[len(ranked) // 2], 1, "median"), (ranked[len(ranked) // 2], 2, "median"),
                                      (ranked[len(ranked) // 10], 1, "top 10 %"), (ranked[len(ranked) // 10], 2, "top 10 %"),
                                      (ranked[0], 1, "best-connected"), (ranked[0], 2, "best-connected")):
                params = {"ego": node["key"], "depth": str(depth)}
                t = time.perf_counter()
                answer = requests.get(base + "/network", params={**params, "format": "json"}, timeout=QUERY_TIMEOUT)
                cold = time.perf_counter() - t
                t = time.perf_counter()
                requests.get(base + "/network", params={**params, "format": "json"}, timeout=QUERY_TIMEOUT)
                warm = time.perf_counter() - t
                ego = answer.json()
                context, page = fresh()
                page.goto(base + "/network?" + urllib.parse.urlencode(params), timeout=300_000)
                page.wait_for_function("window.kgNetwork && window.kgNetwork.ready && window.kgNetwork.laidOut", timeout=300_000)
                page.wait_for_function("window.kgNetwork.timings.firstFrame !== undefined")
                row = {"what": what, "label": node["attributes"]["label"], "degree": node["attributes"]["degree"], "depth": depth,
                       "nodes": len(ego["nodes"]), "edges": len(ego["edges"]), "cold": cold, "warm": warm,
                       **page.evaluate("window.kgNetwork.timings"), "iterations": page.evaluate("window.kgNetwork.iterations"),
                       "panzoom": _frames(interact(page, 2))}
                out["egos"].append(row)
                print(f"  ego {what} depth {depth}: {row['nodes']} nodes, {row['edges']} links, server cold {cold:.2f} s "
                      f"warm {warm * 1000:.0f} ms, first frame {row['firstFrame'] / 1000:.2f} s", flush=True)
                context.close()

        # The same build, its organisation network file carrying the positions the browser's layout ended with: what
        # a build that lays the network out would serve (a file read, as now).
        with serving(_with_positions(store, positions, work), "--workers", "1", "--timeout", str(QUERY_TIMEOUT)) as base:
            requests.get(base + "/network", params={"format": "json"}, timeout=QUERY_TIMEOUT)  # the file into the OS cache
            whole_network(base, out["given"], True)
        browser.close()
    return out


def _with_positions(store: Path, positions: dict, work: Path) -> Path:
    """A build folder beside `store`'s that shares its database and files, but whose organisation.json carries x and
    y on every node; the link to it."""
    source = store.resolve()
    folder = work / "stores" / source.name
    (folder / "network").mkdir(parents=True)
    for item in source.iterdir():
        if item.name != "network":
            (folder / item.name).symlink_to(item)
    for item in (source / "network").iterdir():
        if item.name != "organisation.json":
            (folder / "network" / item.name).symlink_to(item)
    doc = json.loads((source / "network" / "organisation.json").read_bytes())
    for node in doc["nodes"]:
        node["attributes"]["x"], node["attributes"]["y"] = positions[node["key"]]
    (folder / "network" / "organisation.json").write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    link = work / "store"
    link.symlink_to(folder)
    return link


def page_report(store: Path, args, out: dict, started: datetime, load: float) -> str:
    m = eb.machine()
    info = json.loads((store / "build.json").read_text()) if (store / "build.json").is_file() else {}
    mean = lambda rows, key: statistics.mean(r[key] for r in rows)
    frames = lambda rows, key, what: statistics.median(r[key][what] for r in rows)
    runs, given = out["runs"], out["given"]
    lines = [
        "# The network page at scale",
        "",
        f"Run {started.strftime('%Y-%m-%d %H:%M UTC')} by `bench/network_bench.py` "
        f"(`.venv/bin/python bench/network_bench.py {' '.join(sys.argv[1:])}`).",
        "",
        "## Machine and software",
        "",
        f"- {m['cpu']}, {m['nproc']} CPUs, {m['ram']} RAM; {m['os']}; Python {m['python']}; code at {m['commit']}",
        f"- headless Chromium {out['chromium']} with **software WebGL** (SwiftShader: `--use-angle=swiftshader`, as the "
        "browser tests run it): every frame is drawn by the CPU, so frame times are an upper bound of what a GPU gives",
        f"- other processes kept about {load:.1f} cores busy when the run began (a shared machine makes every figure slower)",
        "",
        "## Data",
        "",
        f"- the build at `{store}` ({info.get('id', '?')}): its whole organisation network, {out['nodes']:,} nodes and "
        f"{out['edges']:,} links, {out['json_mb']:.1f} MB of graphology JSON (every link carries its shared projects)",
        f"- {args.repeat} runs per case, each in a fresh browser context; medians of the frame-time percentiles across runs",
        "",
        "## The whole organisation network",
        "",
        "Times from the start of navigation (`performance.now()`): *data* is the download and parse of the JSON, "
        "*first frame* the first animation frame after sigma drew the graph. Frame times are the intervals between "
        "`requestAnimationFrame` callbacks (16.7 ms is 60 fps).",
        "",
        "| positions | data s | first frame s | layout | frame p50 / p95 ms while laying out | drag and wheel: frame p50 / p95 ms (fps) | camera moved by code every frame: p50 / p95 ms | click to highlight partners ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in (("laid out in the browser (ForceAtlas2 web worker, bounded)", runs), ("given with the data (precomputed, a file of the build)", given)):
        layout = f"{rows[0]['iterations']} iterations in {mean(rows, 'layout') / 1000:.1f} s" if rows[0].get("layout") else "none"
        during = f"{frames(rows, 'during', 'p50'):.0f} / {frames(rows, 'during', 'p95'):.0f}" if rows[0].get("layout") else "–"
        lines.append(
            f"| {name} | {mean(rows, 'fetched') / 1000:.2f} | {mean(rows, 'firstFrame') / 1000:.2f} | {layout} | {during} | "
            f"{frames(rows, 'panzoom', 'p50'):.0f} / {frames(rows, 'panzoom', 'p95'):.0f} ({frames(rows, 'panzoom', 'fps'):.0f}) | "
            f"{frames(rows, 'redraw', 'p50'):.0f} / {frames(rows, 'redraw', 'p95'):.0f} | "
            f"{statistics.median(r['highlight'] for r in rows):.0f} |")
    lines += [
        "",
        "## Ego networks (`/network?ego=IRI&depth=1|2`) of organisations ranked by degree",
        "",
        "Server: the first request for that ego network (cold: look-ups of its part of the materialised network only, "
        "kg.network.ego.read) and the same request again (warm: the worker's cache). Page: from navigation to the first "
        "frame, and the ForceAtlas2 worker's bounded run.",
        "",
        "| centre | depth | nodes | links | server cold s | server warm ms | page: first frame s | layout | drag and wheel: frame p50 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in out["egos"]:
        lines.append(f"| {e['label']} ({e['what']}, degree {e['degree']}) | {e['depth']} | {e['nodes']:,} | {e['edges']:,} | "
                     f"{e['cold']:.2f} | {e['warm'] * 1000:.0f} | {e['firstFrame'] / 1000:.2f} | "
                     f"{e['iterations']} iterations in {e.get('layout', 0) / 1000:.1f} s | {e['panzoom']['p50']:.0f} |")
    lines.append("")
    return "\n".join(lines)


def page_main(args) -> int:
    started = datetime.now(timezone.utc)
    load = eb.other_load(2.0)
    store = args.page.resolve()
    print(f"the network page over {store} ...", flush=True)
    work = Path(tempfile.mkdtemp(prefix="network-page-bench-"))
    try:
        out = page_bench(store, args.repeat, work)
    finally:
        subprocess.run(["rm", "-rf", str(work)])
    text = page_report(store, args, out, started, load)
    output = PAGE_RESULTS if args.output == RESULTS else args.output
    if str(output) == "-":
        print(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="size the generator aims at, OWL RL closure included (default 1000000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=20, help="warm requests after each cold one (default 20)")
    parser.add_argument("--store", type=Path, default=None, help="reuse a store built by an earlier run (its link) instead of building")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the report ('-' prints only)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--page", type=Path, default=None, metavar="STORE",
                        help="measure the network page in headless Chromium on this existing build; writes results/network-page.md")
    args = parser.parse_args(argv)
    if args.page is not None:
        if "--repeat" not in (argv if argv is not None else sys.argv):
            args.repeat = 3
        return page_main(args)
    started = datetime.now(timezone.utc)
    load = eb.other_load(2.0)
    work = Path(tempfile.mkdtemp(prefix="network-bench-"))
    done = False
    try:
        if args.store is not None:
            link, info = args.store, {"organisations": 0, "projects": 0, "participations": 0, "build_seconds": 0, "build_line": "(reused)"}
        else:
            link, info = prepare(work, args.triples, args.seed)
        print("in-process timings ...", flush=True)
        inproc = in_process(link)
        programme = "https://w3id.org/cohesion-kg/id/programme/urbact-ii"
        cases = [
            ("organisations", {"kind": "organisation"}),
            ("cities", {"kind": "city"}),
            ("organisations, programme urbact-ii", {"kind": "organisation", "programme": programme}),
            ("organisations, country IT, 2010-2015", {"kind": "organisation", "country": "IT", "from": "2010", "to": "2015"}),
        ]
        print("over HTTP ...", flush=True)
        rows = over_http(link, work, cases, args.repeat)
        text = report(args, info, inproc, rows, started, load)
        if str(args.output) == "-":
            print(text)
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text + "\n", encoding="utf-8")
            print(f"wrote {args.output}")
        done = True
    finally:
        # A failed run keeps its build, so that --store can take it up again without building for minutes.
        if args.keep or not done:
            print(f"kept {work} (its store link: {work / 'store'})")
        else:
            subprocess.run(["rm", "-rf", str(work)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
