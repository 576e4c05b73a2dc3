#!/usr/bin/env python3
"""How fast the facet pages (/projects, /organisations, /cities) answer on the grown KG, and what materialising
the facets at build time costs and buys.

    .venv/bin/python bench/facets_bench.py                          # about 5 minutes; writes bench/results/facets.md
    .venv/bin/python bench/facets_bench.py --store /tmp/grown/store --repeat 20 --output -

What it does, in order:
  1. opens the built store (read-only) and writes its discovery index into a temporary folder with
     kg.discovery.index.write, timing the facet tables (kg.discovery.facets.write) apart from the rest;
  2. makes the app over that store and index (create_app with KG_STORE and KG_PUBLISHED, as the tests do) and,
     through Flask's test client (routing, parsing, counting, rendering, ETag; no network), asks each page of a
     list of facet pages (unfiltered, one filter, several facets with a period, the text filter, a deep page) in
     HTML, JSON and CSV: the first request of each kind (cold: the worker reads that kind's facets once per build)
     and then --repeat more of each (warm), giving p50 and p99;
  3. runs the "show as SPARQL" query of some of those lists on the store, for comparison: what a page would cost
     without the facet tables (and counting every value of every facet would cost that again per value);
  4. writes the report with the machine, versions, data size and figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import endpoint_bench as eb  # noqa: E402  the machine description and the load other processes put on it

from kg.discovery import facets, index  # noqa: E402
from kg.store.embedded import KGStore  # noqa: E402

TARGET_MS = 200
PAGES = [
    ("/projects", "every project"),
    ("/organisations", "every organisation"),
    ("/cities", "every city"),
    ("/projects?programme=erdf&country=it", "programme (a fund: every level under it) and country"),
    ("/organisations?country=de&country=fr&role=coordinator&from=2015&to=2018", "two countries, a role, a period"),
    ("/organisations?programme=urbact-iii&sort=-weight&page=3", "a programme, sorted by participations, page 3"),
    ("/cities?programme=interreg-v&theme=social-cohesion", "programme and theme"),
    ("/projects?q=social&country=es", "the text filter and a country"),
    ("/organisations?q=university&from=2010", "the text filter (hundreds of hits) and a period"),
]
FORMS = ("html", "json", "csv")
SPARQL_SAMPLES = (3, 4, 6)  # indexes into PAGES whose SPARQL is run on the store


def url(page: str, form: str) -> str:
    path, _, query = page.partition("?")
    path = path if form == "html" else f"{path}.{form}"
    return path + ("?" + query if query else "")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/grown/store"), help="the link of a built store")
    parser.add_argument("--repeat", type=int, default=30, help="warm requests per page and form")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "facets.md"), help="the report ('-': print it)")
    args = parser.parse_args()
    if not args.store.exists():
        eb.fail(f"no build at {args.store}: build one (e.g. the grown KG) and pass --store")
    store = KGStore.open(args.store)
    triples = len(store)
    busy = eb.other_load()
    work = Path(tempfile.mkdtemp(prefix="facets-bench-"))

    timed = {}
    write_facets = facets.write

    def timing_facets(conn, select, ids):
        t = time.perf_counter()
        write_facets(conn, select, ids)
        timed["facets"] = time.perf_counter() - t

    facets.write = timing_facets
    t = time.perf_counter()
    path = index.write(store, work)
    timed["index"] = time.perf_counter() - t
    facets.write = write_facets
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute("SELECT kind, COUNT(*) FROM facet_values GROUP BY kind").fetchall())
        entities = dict(conn.execute("SELECT kind, COUNT(*) FROM entities GROUP BY kind").fetchall())
        terms = conn.execute("SELECT COUNT(*) FROM facet_terms").fetchone()[0]
    size = path.stat().st_size

    from server import create_app

    app = create_app({"KG_STORE": store, "KG_PUBLISHED": work, "TESTING": True})
    client = app.test_client()
    results = []
    for page, what in PAGES:
        for form in FORMS:
            target = url(page, form)
            t = time.perf_counter()
            first = client.get(target, headers={"Accept": "text/html"} if form == "html" else {})
            cold = (time.perf_counter() - t) * 1000
            assert first.status_code == 200, (target, first.status_code, first.get_data(as_text=True)[:300])
            warm = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                answer = client.get(target, headers={"Accept": "text/html"} if form == "html" else {})
                warm.append((time.perf_counter() - t) * 1000)
                assert answer.status_code == 200
            total = client.get(url(page, "json")).get_json()["total"]
            results.append((page, what, form, total, len(first.get_data()), cold, statistics.median(warm), percentile(warm, 99)))
    sparql_times = []
    for i in SPARQL_SAMPLES:
        page = PAGES[i][0]
        data = client.get(url(page, "json")).get_json()
        t = time.perf_counter()
        found = list(store.select(data["sparql"]))
        sparql_times.append((page, len(found), data["total"], (time.perf_counter() - t) * 1000))

    worst = max(r[7] for r in results)
    lines = [
        "# Facet pages on the grown KG",
        "",
        f"Run {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `bench/facets_bench.py --store {args.store} --repeat {args.repeat}`.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in eb.machine().items()],
        f"| other load when it started | {busy:.1f} cores busy with processes this benchmark did not start |",
        "",
        f"**Data**: {triples:,} triples; " + ", ".join(f"{n:,} {k}s" for k, n in sorted(entities.items())).replace("citys", "cities") + ".",
        "",
        "## Build",
        "",
        f"`kg.discovery.index.write` took {timed['index']:.1f} s, of which the facet tables {timed['facets']:.1f} s "
        f"(the SELECTs of the facet patterns, the periods and the labels, and the inserts). They hold "
        + ", ".join(f"{n:,} rows for {k}s" for k, n in sorted(rows.items())).replace("citys", "cities") + f" and {terms:,} terms; the whole index file is "
        f"{size / 1e6:.1f} MB.",
        "",
        "## Pages",
        "",
        f"Through Flask's test client (routing, parameters, counting every facet, the list, rendering, ETag; no sockets),"
        f" one request cold (the first for its kind reads that kind's facets into the worker's cache, once per build) "
        f"and {args.repeat} warm. Target: a page with its counts in under {TARGET_MS} ms.",
        "",
        "| page | filters | form | entities | bytes | cold ms | warm p50 ms | warm p99 ms |",
        "|---|---|---|---:|---:|---:|---:|---:|",
        *[f"| `{p}` | {w} | {f} | {n:,} | {b:,} | {c:.1f} | {m:.1f} | {q:.1f} |" for p, w, f, n, b, c, m, q in results],
        "",
        f"The slowest warm p99 is {worst:.1f} ms: {'within' if worst < TARGET_MS else 'over'} the {TARGET_MS} ms target.",
        "",
        "## Without the facet tables",
        "",
        "The \"show as SPARQL\" query of a list, run on the store in this process (pyoxigraph, read-only): the list "
        "alone, without one count. Counting each value of each facet the same way would take one such query per value.",
        "",
        "| page | rows | JSON total | ms |",
        "|---|---:|---:|---:|",
        *[f"| `{p}` | {n:,} | {t:,} | {ms:.0f} |" for p, n, t, ms in sparql_times],
        "",
    ]
    report = "\n".join(lines)
    if args.output == "-":
        print(report)
    else:
        Path(args.output).write_text(report)
        print(f"wrote {args.output}; slowest warm p99 {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
