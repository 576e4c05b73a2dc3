"""How well, and how fast, the reconciliation service matches names written elsewhere to the grown KG.

    .venv/bin/python bench/reconcile_bench.py [--store /tmp/grown/store] [--names bench/fixtures/reconcile-names.csv]

The evaluation set (bench/fixtures/reconcile-names.csv) holds names as a researcher writes them from lists the KG
did not import (EUROCITIES members, universities lists, municipalities' own names), each with the IRIs it should
reconcile to, hand-checked in the grown KG ("id/..." after the base; several where the KG holds one body more
than once), or none when the KG does not hold it. Every name goes through the service as OpenRefine sends it
(POST /reconcile with a `queries` form field, batches of 10), through an app over the store's build folder (its
discovery index beside it); then the matched ids are extended. Written: bench/results/reconcile-service.md.

Figures: first candidate right (of the names the KG holds), precision of the `match` flags (a match on a name
the KG does not hold is wrong), recall (names the KG holds that were matched rightly), and the time of one batch
of 100 names (median of 5, after one warm-up), for the matcher alone and over HTTP.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.discovery import index as discovery_index  # noqa: E402
from kg.discovery.reconcile import MATCH_MARGIN, MATCH_SCORE, Query, Reconciler  # noqa: E402
from kg.discovery.search import SearchIndex  # noqa: E402
from kg.namespaces import BASE  # noqa: E402

NAMES = ROOT / "bench" / "fixtures" / "reconcile-names.csv"
RESULTS = ROOT / "bench" / "results" / "reconcile-service.md"
TYPE = BASE + "ontology/"
TYPES = {"organisation": TYPE + "Organisation", "city": TYPE + "City", "project": TYPE + "Project",
         "programme": TYPE + "FundingProgramme"}


@dataclass
class Row:
    name: str
    kind: str
    country: str
    expected: set[str]
    source: str
    set: str  # "tuning": the matcher was tuned on it; "held-out": written after, run once


@dataclass
class Outcome:
    row: Row
    first: str | None
    first_name: str | None
    score: float | None
    match: bool


def read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return [Row(r["name"], r["type"], r["country"], {BASE + "id/" + e for e in r["expected"].split()}, r["source"],
                    r["set"]) for r in csv.DictReader(f)]


def query_of(row: Row) -> dict:
    q = {"query": row.name, "type": TYPES[row.kind], "type_strict": "should"}
    if row.country:
        q["properties"] = [{"pid": TYPE + "country", "v": row.country}]
    return q


def through_http(client, rows: list[Row], batch: int = 10) -> list[Outcome]:
    outcomes = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        queries = {f"q{i}": query_of(row) for i, row in enumerate(chunk)}
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})
        assert response.status_code == 200, response.get_data(as_text=True)
        answers = response.get_json()
        for i, row in enumerate(chunk):
            found = answers[f"q{i}"]["result"]
            top = found[0] if found else None
            outcomes.append(Outcome(row, top and top["id"], top and top["name"], top and top["score"],
                                    bool(top and top["match"])))
    return outcomes


def figures(outcomes: list[Outcome]) -> dict:
    held = [o for o in outcomes if o.row.expected]
    first_right = sum(o.first in o.row.expected for o in held)
    matched = [o for o in outcomes if o.match]
    right_matches = sum(o.first in o.row.expected for o in matched)
    return {
        "names": len(outcomes), "held": len(held), "absent": len(outcomes) - len(held),
        "first_right": first_right, "first_right_share": first_right / len(held),
        "matches": len(matched), "right_matches": right_matches,
        "precision": right_matches / len(matched) if matched else 1.0,
        "recall": right_matches / len(held),
        "absent_matched": sum(1 for o in matched if not o.row.expected),
    }


def timed(run, repeat: int = 5) -> tuple[float, float]:
    """(first run, median of `repeat` runs after it) in seconds."""
    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return first, statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/grown/store"), help="the link to a build (its folder holds discovery/index.sqlite)")
    parser.add_argument("--names", type=Path, default=NAMES)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from server import create_app

    rows = read(args.names)
    app = create_app({"KG_STORE_PATH": str(args.store), "FOLLOW_INTERVAL": 0, "TESTING": True})
    client = app.test_client()
    folder = app.config["KG_BACKEND"].folder
    index_path = discovery_index.path_in(folder)

    # The matcher alone, on a fresh index: the first batch pays for reading the vocabulary.
    reconciler = Reconciler(SearchIndex(index_path))
    hundred = [Query(r.name, (r.kind,), [r.country] if r.country else []) for r in (rows * 2)[:100]]
    direct_first, direct = timed(lambda: [reconciler.reconcile(q) for q in hundred])

    outcomes = through_http(client, rows)
    result = figures(outcomes)
    subsets = {name: figures([o for o in outcomes if o.row.set == name]) for name in ("tuning", "held-out")}
    hundred_rows = (rows * 2)[:100]
    http_first, http = timed(lambda: through_http(client, hundred_rows, batch=100))
    http10_first, http10 = timed(lambda: through_http(client, hundred_rows, batch=10))

    ids = sorted({o.first for o in outcomes if o.match})[:100]
    properties = [{"id": p} for p in ("country", "city", "projects", "roles", "programme", "coordinates")]
    extend = {"ids": ids, "properties": properties}

    def extend_all():
        response = client.post("/reconcile", data={"extend": json.dumps(extend)})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    extended = extend_all()
    extend_first, extend_time = timed(extend_all)
    filled = {p["id"]: sum(1 for i in ids if extended["rows"][i][p["id"]]) for p in properties}

    misses = [o for o in outcomes if (o.row.expected and o.first not in o.row.expected) or (o.match and o.first not in o.row.expected)]
    unmatched_right = [o for o in outcomes if o.row.expected and o.first in o.row.expected and not o.match]
    write(args.out, args, result, subsets, misses, unmatched_right, direct_first, direct, http_first, http, http10, extend_first,
          extend_time, len(ids), filled, app.config["KG_BACKEND"])
    print(args.out.read_text(encoding="utf-8"))
    return 0


def _short(iri: str | None) -> str:
    return "—" if iri is None else iri.replace(BASE + "id/", "")


def write(out: Path, args, r: dict, subsets: dict, misses, unmatched_right, direct_first, direct, http_first, http, http10,
          extend_first, extend_time, extended_ids, filled, backend) -> None:
    lines = [
        "# Reconciliation service: quality and speed on the grown KG",
        "",
        f"`bench/reconcile_bench.py` on the grown KG (build `{backend.build_id}`, {backend.triples:,} triples) with "
        f"`{args.names.relative_to(ROOT) if args.names.is_relative_to(ROOT) else args.names}`: {r['names']} names, "
        f"{r['held']} the KG holds and {r['absent']} it does not. Each name is sent as OpenRefine 3 sends it (POST "
        "/reconcile, `queries` form field, type Organisation or City, the country where the row gives one) to an app "
        f"over the build folder. Match rule: score >= {MATCH_SCORE:g} and >= {MATCH_MARGIN:g} above the second "
        "candidate, no constraint contradicted (kg/discovery/reconcile.py).",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| first candidate right (of the {r['held']} names held) | {r['first_right']} = {r['first_right_share']:.1%} | >= 90% |",
        f"| precision of `match` | {r['right_matches']}/{r['matches']} = {r['precision']:.3f} | >= 0.98 |",
        f"| recall of `match` (of the names held) | {r['right_matches']}/{r['held']} = {r['recall']:.1%} | |",
        f"| names not in the KG matched anyway | {r['absent_matched']} of {r['absent']} | 0 |",
        f"| batch of 100, matcher alone (kg.discovery.reconcile) | {direct * 1000:.0f} ms (first, reading the vocabulary: {direct_first * 1000:.0f} ms) | < 1 s |",
        f"| batch of 100 over HTTP, one request | {http * 1000:.0f} ms (first {http_first * 1000:.0f} ms) | < 1 s |",
        f"| 100 names over HTTP in OpenRefine's batches of 10 | {http10 * 1000:.0f} ms | |",
        f"| extend {extended_ids} matched ids by 6 properties (one request) | {extend_time * 1000:.0f} ms (first {extend_first * 1000:.0f} ms) | |",
        "",
        "The set has two parts: the names the matcher was tuned on (written first; each change to the matcher was "
        "judged by them) and names written after the tuning, from other public lists, and run once without "
        "changing the matcher. The figures above are for both; by part:",
        "",
        "| part | names (held / absent) | first candidate right | precision of `match` | recall |",
        "|---|---|---|---|---|",
        *[f"| {name} | {f['names']} ({f['held']} / {f['absent']}) | {f['first_right']} = {f['first_right_share']:.1%} | "
          f"{f['right_matches']}/{f['matches']} = {f['precision']:.3f} | {f['recall']:.1%} |" for name, f in subsets.items()],
        "",
        "On its first run the held-out part scored 0.913 for precision (21/23): the two wrong matches were the KG's "
        "second copies of \"Province of Flemish Brabant\" and \"Latvijas Universitāte\", which the hand-check had "
        "missed; their rows now list both copies (marked \"found by the held-out run\"). The matcher was not changed.",
        "",
        "Times are medians of 5 runs after a first one, on this machine (2 cores), in-process through Flask's test "
        "client (no network). Extension reads country, city and coordinates from the discovery index and "
        "projects, roles and programmes with one SPARQL SELECT through the app's Backend (VALUES over the ids).",
        "",
        "Properties filled for the extended ids: " + ", ".join(f"{k} {v}/{extended_ids}" for k, v in filled.items()) + ".",
        "",
        "## Misses",
        "",
        "A name the KG holds whose first candidate is wrong, or a match that is wrong.",
        "",
        "| name | part | expected | first candidate | score | match |",
        "|---|---|---|---|---|---|",
    ]
    for o in misses:
        expected = " or ".join(_short(e) for e in sorted(o.row.expected)) or "(not in the KG)"
        lines.append(f"| {o.row.name} | {o.row.set} | {expected} | {_short(o.first)} ({o.first_name or ''}) | "
                     f"{o.score if o.score is not None else '—'} | {'yes' if o.match else 'no'} |")
    lines += ["", "## Right but not matched", "",
              "First candidate right, left for a person to confirm (score or margin too low):", ""]
    lines += [f"- {o.row.name} -> {_short(o.first)} ({o.first_name}), score {o.score}" for o in unmatched_right]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
