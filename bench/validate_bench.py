"""How long `kg validate` takes, and how much memory, as the KG grows: 10k, 100k and 1M triples.

    .venv/bin/python bench/validate_bench.py                   # 10k, 100k, 1M; writes bench/results/validation.md
    .venv/bin/python bench/validate_bench.py --sizes 10k,100k  # fewer sizes
    .venv/bin/python bench/validate_bench.py --timeout 360     # a size still running after 360 s is stopped

Data: synthetic projects from `kg synth` (kg/synth.py), which conform to shapes/ (each with a coordinator and 3
to 15 partners, their organisations and cities, outputs, events and the source documents they cite), written as
N-Triples under bench/results/tmp/ (git ignores it), with the real ontology and the real reference data
(countries, roles, themes, programmes, sources) beside them as context, as a contributor's project would be
validated.

Each size runs in a fresh process doing what `kg validate --format json` does (the same functions: load, parse
the shapes, reason (none), the extra checks, pyshacl, render):
  start-up excluded  seconds from the command's start to its report, interpreter and imports already done
  start-up included  wall-clock seconds of the whole process, from exec to exit
  peak MB            the process's maximum resident set size (os.wait4's rusage; ru_maxrss is in KiB on Linux)
The real KG (ontology + data/, the four projects) is timed the same way, and with the real `kg validate` command.
Not part of `make test`: it takes minutes at 1M triples.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "tmp"
REFERENCE = ["places/countries.ttl", "vocabularies/roles.ttl", "vocabularies/themes.ttl", "funding/programmes.ttl", "sources.ttl"]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


#################################################################
# Synthetic data that conforms to the shapes
#################################################################


def generate(folder: Path, target: int, seed: int = 7) -> int:
    """Write about `target` triples of `kg synth` projects to folder/data/generated/synth.nt, with the reference
    data beside them; the number of triples written."""
    sys.path.insert(0, str(ROOT))
    from kg import synth

    if folder.exists():
        shutil.rmtree(folder)
    data = folder / "data"
    for rel in REFERENCE:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "data" / rel, data / rel)
    # N-Triples: like a contributor's Turtle file, its triples go straight into the file's own graph.
    return synth.write(data / "generated" / "synth.nt", synth.projects_for(target), seed, fmt="ntriples").triples


#################################################################
# One measured run, in its own process
#################################################################


def worker(data: Path, out: Path) -> None:
    """Run what `kg validate --format json` runs, timing each step; write the figures to `out` as JSON."""
    t0 = time.perf_counter()
    os.environ["KG_DATA"] = str(data)
    sys.path.insert(0, str(ROOT))
    import kg.build as build
    import kg.load as load
    from kg import cli

    imports = time.perf_counter() - t0
    phases: dict[str, float] = {}
    figures: dict = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            value = fn(*args, **kwargs)
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
            return value
        return wrapper

    real_check, real_load = build.check, build.load_sources

    def check(sources, shapes, inference):
        figures["triples_loaded"] = sum(f.triples for f in sources.files)
        figures["files"] = len(sources.data_files)
        inferred, report, timings = real_check(sources, shapes, inference)
        phases.update(timings)
        figures["results"] = len(report.results)
        return inferred, report, timings

    build.load_sources = timed("load", real_load)
    build.check = check
    load.parse_graph = timed("shapes", load.parse_graph)
    report_file = out.with_suffix(".report.json")
    t = time.perf_counter()
    with open(report_file, "w", encoding="utf-8") as stdout:
        saved, sys.stdout = sys.stdout, stdout
        try:
            code = cli.main(["validate", "--format", "json"])
        finally:
            sys.stdout = saved
    command = time.perf_counter() - t
    phases["render"] = command - sum(phases.get(k, 0.0) for k in ("load", "shapes", "reason", "checks", "validate"))
    figures.update(exit_code=code, imports=imports, command=command, phases=phases)
    out.write_text(json.dumps(figures, indent=2))


def measure(argv: list[str], env: dict, timeout: float) -> tuple[float, float, int] | None:
    """Wall seconds, peak RSS (MB) and exit code of one process; None when it ran out of time."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return time.perf_counter() - t, usage.ru_maxrss / 1024, proc.returncode
        if time.perf_counter() > deadline:
            proc.kill()
            proc.wait()
            return None
        time.sleep(0.05)


def run_size(name: str, data: Path, timeout: float) -> dict:
    figures_file = WORK / f"{name}.figures.json"
    figures_file.unlink(missing_ok=True)
    measured = measure([sys.executable, __file__, "--worker", str(data), str(figures_file)], {}, timeout)
    if measured is None:
        return {"name": name, "timed_out": True, "timeout": timeout}
    wall, peak, code = measured
    if code != 0 or not figures_file.exists():
        raise SystemExit(f"{name}: the worker failed (exit {code})")
    figures = json.loads(figures_file.read_text())
    return {"name": name, "wall": wall, "peak_mb": peak, **figures}


#################################################################
# The results file
#################################################################


def extrapolate(measured: list[dict], triples: int) -> str:
    """An estimate for a size that did not finish, from the two largest sizes that did: t = a * n^b."""
    import math

    if len(measured) < 2:
        return "Too few sizes finished to extrapolate."
    (n1, t1), (n2, t2) = sorted((r["triples_loaded"], r["command"]) for r in measured)[-2:]
    b = math.log(t2 / t1) / math.log(n2 / n1)
    estimate = t2 * (triples / n2) ** b
    linear = t2 * triples / n2
    return (f"Extrapolated from {n1:,} and {n2:,} triples, where the time grows as n^{b:.2f}: about {estimate:,.0f} s "
            f"({estimate / 3600:.1f} h) start-up excluded; {linear:,.0f} s if it grew linearly.")


def machine() -> dict:
    with open("/proc/meminfo") as f:
        mem_kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "ram_gb": mem_kb / 1024 / 1024, "cpu": cpu, "python": platform.python_version()}


def write_results(rows: list[dict], cli_real: tuple[float, float, int] | None, m: dict, sizes_asked: list[str]) -> Path:
    import pyshacl
    import rdflib

    today = dt.date.today().isoformat()
    out = [
        "# Validation benchmark",
        "",
        f"Made by `bench/validate_bench.py` on {today}. Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']:.1f} GB RAM, "
        f"Python {m['python']}, rdflib {rdflib.__version__}, pyshacl {pyshacl.__version__}.",
        "",
        "Synthetic projects from `kg synth` that conform to the shapes (3 to 15 participations each, with their "
        "organisations, cities, outputs, events and sources), validated with the real ontology and reference data as context, each size in a fresh process doing "
        "what `kg validate --format json` does. *Start-up excluded*: from the command's start to its report. *Start-up "
        "included*: the whole process, exec to exit. *Triples* counts everything loaded (ontology and context included). "
        "*Peak MB*: the process's maximum resident set size.",
        "",
        "| date | machine | size | triples | results | start-up excluded (s) | start-up included (s) | triples/s (excl.) | peak MB | load | shapes | checks | pyshacl | render |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    machine_cell = f"{m['nproc']} CPU, {m['ram_gb']:.0f} GB"
    generated = [r for r in rows if not r.get("timed_out") and r["name"] != "real KG"]
    notes = []
    for r in rows:
        if r.get("timed_out"):
            guess = extrapolate(generated, parse_size(r["name"]))
            out.append(f"| {today} | {machine_cell} | {r['name']} | — | — | not finished in {r['timeout']:.0f} s: stopped | — | — | — | | | | | |")
            notes.append(f"{r['name']} was stopped after {r['timeout']:.0f} s. {guess}")
            continue
        ph = r["phases"]
        out.append(
            f"| {today} | {machine_cell} | {r['name']} | {r['triples_loaded']:,} | {r['results']} | {r['command']:.2f} | {r['wall']:.2f} | "
            f"{r['triples_loaded'] / r['command']:,.0f} | {r['peak_mb']:.0f} | {ph.get('load', 0):.2f} | {ph.get('shapes', 0):.2f} | "
            f"{ph.get('checks', 0):.2f} | {ph.get('validate', 0):.2f} | {ph.get('render', 0):.2f} |"
        )
    not_run = [s for s in sizes_asked if s not in {r["name"] for r in rows}]
    if notes:
        out += [""] + notes
    out.append("")
    out.append("*load*: parsing the Turtle files; *shapes*: parsing shapes/; *checks*: the extra checks (kg.checks); "
               "*pyshacl*: SHACL validation and reading its report; *render*: the JSON report (seconds, start-up excluded).")
    if cli_real:
        wall, peak, code = cli_real
        out += ["", f"The real KG with the real command: `time .venv/bin/kg validate` took {wall:.2f} s wall-clock, start-up "
                    f"included ({peak:.0f} MB peak, exit {code}); the target is under 5 s."]
    if not_run:
        out += ["", f"Not run: {', '.join(not_run)}."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "validation.md"
    path.write_text("\n".join(out) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k,1M", help="triple counts to generate, e.g. 10k,100k,1M")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a size may run before it is stopped")
    parser.add_argument("--keep", action="store_true", help="keep the generated data under bench/results/tmp/")
    parser.add_argument("--worker", nargs=2, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]))
        return

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    print("real KG (ontology + data/) ...", flush=True)
    real = run_size("real KG", ROOT / "data", args.timeout)
    rows.append(real)
    cli_real = measure([str(ROOT / ".venv" / "bin" / "kg"), "validate"], {}, args.timeout) if (ROOT / ".venv" / "bin" / "kg").exists() else None
    for size in sizes:
        n = parse_size(size)
        folder = WORK / label(n)
        t = time.perf_counter()
        generated = generate(folder, n)
        print(f"{label(n)}: generated {generated:,} triples in {time.perf_counter() - t:.1f} s; validating ...", flush=True)
        row = run_size(label(n), folder / "data", args.timeout)
        rows.append(row)
        if row.get("timed_out"):
            print(f"{label(n)}: stopped after {args.timeout:.0f} s", flush=True)
        else:
            print(f"{label(n)}: {row['triples_loaded']:,} triples, {row['results']} results, {row['command']:.2f} s "
                  f"(start-up included {row['wall']:.2f} s), peak {row['peak_mb']:.0f} MB", flush=True)
            if row["results"]:
                print(f"  the generated data should conform; see {WORK / (label(n) + '.figures.report.json')}", flush=True)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    path = write_results(rows, cli_real, machine(), [label(parse_size(s)) for s in sizes])
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
