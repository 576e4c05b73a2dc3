"""Search latency on a built KG, and the two engines the issue named side by side: SQLite FTS5 (what the build
writes, kg.discovery.search) and tantivy (its Python package), indexing the same names with the same ranking.

    .venv/bin/python bench/discovery_bench.py --store /tmp/grown/store        # the grown KG (an existing build)
    .venv/bin/python bench/discovery_bench.py --generate 1000000              # a generated KG of about 1M triples

For the build given (or made), it
  1. writes the discovery index again into a scratch folder, timing it, and indexes the same records with tantivy;
  2. draws queries from the index's own names (seeded): 1, 2 and 3 consecutive words of a name, typed as a
     researcher would (lower case, accents dropped now and then), and 2-6 letter prefixes for autocomplete;
  3. times each engine in this process (p50/p99 per query class), and compares their top results;
  4. serves the build with `kg serve` and times /search.json and /search/suggest over HTTP (one keep-alive
     client, in sequence: the latency a reader sees, not throughput).
The report goes to bench/results/discovery-search.md (or discovery-search-generated.md with --generate).
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import endpoint_bench as eb  # noqa: E402  (the generator, the server runner and the machine facts)

from kg.discovery import index as discovery_index  # noqa: E402
from kg.discovery.search import SearchIndex  # noqa: E402
from kg.importing.places import fold  # noqa: E402
from kg.store.builds import current_build  # noqa: E402
from kg.store.embedded import KGStore  # noqa: E402

TARGETS_MS = {"grown": {"search": 30.0, "suggest": 20.0}, "generated": {"search": 100.0, "suggest": 20.0}}
CLASSES = ("1 word", "2 words", "3 words", "prefix")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def as_typed(text: str, rng: random.Random) -> str:
    """A name as someone types it: lower case mostly, accents dropped half the time."""
    if rng.random() < 0.5:
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.lower() if rng.random() < 0.7 else text


def draw_queries(index_path: Path, per_class: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    names = [r[0] for r in conn.execute("SELECT name FROM names ORDER BY entity, name")]
    conn.close()
    queries: dict[str, list[str]] = {c: [] for c in CLASSES}
    for k, cls in ((1, "1 word"), (2, "2 words"), (3, "3 words")):
        pool = [n for n in names if len(re.findall(r"\w+", n)) >= k]
        while len(queries[cls]) < per_class and pool:
            words = re.findall(r"\w+", rng.choice(pool))
            start = rng.randrange(len(words) - k + 1)
            queries[cls].append(as_typed(" ".join(words[start:start + k]), rng))
    while len(queries["prefix"]) < per_class:
        name = as_typed(rng.choice(names), rng)
        queries["prefix"].append(name[:rng.randint(2, 6)])
    return queries


class Tantivy:
    """The same names and ranking in tantivy: an exact field (raw) for exact and prefix matches, a tokenised one
    for words; the last word of a query is a prefix, as in kg.discovery.search."""

    def __init__(self, index_path: Path, folder: Path):
        import tantivy

        self.t = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("entity", stored=True, indexed=True)
        builder.add_text_field("exact", stored=False, tokenizer_name="raw")
        builder.add_text_field("words", stored=False)
        builder.add_text_field("kind", stored=False, tokenizer_name="raw")
        builder.add_integer_field("weight", stored=True, fast=True)
        self.schema = builder.build()
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        self.index = tantivy.Index(self.schema, path=str(folder))
        writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
        rows = conn.execute("SELECT e.id, e.kind, e.weight, group_concat(n.folded, '\x1f') FROM entities e "
                            "JOIN names n ON n.entity = e.id GROUP BY e.id")
        for entity, kind, weight, folded in rows:
            names = folded.split("\x1f")
            writer.add_document(tantivy.Document(entity=entity, exact=names, words=" | ".join(names), kind=kind, weight=weight))
        writer.commit()
        writer.wait_merging_threads()
        conn.close()
        self.index.reload()
        self.build_seconds = time.perf_counter() - started
        self.bytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        self.searcher = self.index.searcher()

    def search(self, q: str, limit: int = 20) -> list[int]:
        t, schema = self.t, self.schema
        folded = fold(q)
        if not folded:
            return []
        best: dict[int, int] = {}
        exact = t.Query.term_query(schema, "exact", folded)
        prefix = t.Query.regex_query(schema, "exact", re.escape(folded) + ".*")
        terms = folded.split()
        parts = [(t.Occur.Must, t.Query.term_query(schema, "words", w)) for w in terms[:-1]]
        parts.append((t.Occur.Must, t.Query.regex_query(schema, "words", re.escape(terms[-1]) + ".*")))
        words = t.Query.boolean_query(parts)
        for rank, query in enumerate((exact, prefix, words)):
            for _, address in self.searcher.search(query, limit * 4).hits:
                entity = self.searcher.doc(address)["entity"][0]
                best.setdefault(entity, rank)
        return [e for e, _ in sorted(best.items(), key=lambda item: item[1])][:limit]


def fts_alone(index_path: Path, target: Path) -> tuple[float, int]:
    """The full-text part alone, as tantivy is measured: the names copied into a new file, then the FTS5 tables
    written from them (kg.discovery.search.write), timed; the file's size with and without them."""
    from kg.discovery import search

    conn = sqlite3.connect(target)
    conn.execute(f"ATTACH DATABASE 'file:{index_path}?mode=ro' AS built")
    conn.execute("CREATE TABLE entities AS SELECT * FROM built.entities")
    conn.execute("CREATE TABLE names AS SELECT * FROM built.names")
    conn.commit()
    conn.execute("DETACH DATABASE built")
    conn.execute("VACUUM")
    before = target.stat().st_size
    started = time.perf_counter()
    search.write(conn)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.execute("VACUUM")
    conn.close()
    return seconds, target.stat().st_size - before


def time_calls(call, queries: list[str], rounds: int = 1) -> list[float]:
    for q in queries[:20]:
        call(q)  # warm the page cache and the statement cache
    times = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            call(q)
            times.append((time.perf_counter() - t) * 1000)
    return times


def http_times(base: str, path: str, queries: list[str]) -> tuple[list[float], int]:
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    times, failures = [], 0
    for warm in queries[:20]:
        conn.request("GET", path + urllib.parse.quote(warm), headers={"Accept": "application/json"})
        conn.getresponse().read()
    for q in queries:
        t = time.perf_counter()
        conn.request("GET", path + urllib.parse.quote(q), headers={"Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - t) * 1000)
        failures += response.status != 200
    conn.close()
    return times, failures


def generated_build(work: Path, triples: int, seed: int) -> tuple[Path, str]:
    tools = eb.find_tools()
    data = eb.link_real_data(work / "data")
    ref = eb.read_reference(ROOT / "data")
    eb.generate(data / "bench-generated.nq", ref, triples, seed)
    link = work / "store"
    print(f"kg build of about {triples:,} triples ...", flush=True)
    t = time.perf_counter()
    done = subprocess.run([tools.kg, "build", "--no-import", "--store", str(link)], env=eb.data_only_env(data),
                          capture_output=True, text=True)
    if done.returncode != 0:
        eb.fail(f"kg build failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", 1)
    return link, f"{done.stdout.strip().splitlines()[0]} ({time.perf_counter() - t:.0f} s)"


def row(label: str, times: list[float], target: float | None) -> str:
    p50, p99 = percentile(times, 50), percentile(times, 99)
    verdict = "" if target is None else (" met" if p99 < target else " **missed**")
    return f"| {label} | {len(times)} | {p50:.2f} | {p99:.2f} | {max(times):.2f} |{verdict} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", type=Path, help="an existing build's store link (the grown KG: a `kg build`)")
    where.add_argument("--generate", type=int, metavar="TRIPLES", help="build a generated KG of about this size")
    parser.add_argument("--queries", type=int, default=300, help="queries per class (default %(default)s)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--generated", action="store_true",
                        help="the --store given is a generated build (its targets and report are the generated KG's)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    fingerprint = eb.code_fingerprint()
    work = Path(tempfile.mkdtemp(prefix="kg-discovery-bench-"))
    kind = "generated" if args.generate or args.generated else "grown"
    out = args.out or ROOT / "bench" / "results" / ("discovery-search-generated.md" if kind == "generated" else "discovery-search.md")
    if args.generate:
        link, build_line = generated_build(work, args.generate, args.seed)
    else:
        link, build_line = args.store, "an existing build"
    folder, info = current_build(link)
    kg_store = KGStore.open(link)
    triples = len(kg_store)

    print("writing the discovery index (SQLite FTS5) ...", flush=True)
    t = time.perf_counter()
    index_path = discovery_index.write(kg_store, work / "fts5")
    fts_seconds = time.perf_counter() - t
    del kg_store
    fts_alone_seconds, fts_alone_bytes = fts_alone(index_path, work / "fts5-alone.sqlite")
    fts = SearchIndex(index_path)
    counts = fts.counts()
    print("indexing the same names with tantivy ...", flush=True)
    tv = Tantivy(index_path, work / "tantivy")
    queries = draw_queries(index_path, args.queries, args.seed)

    engine_rows, agreement = [], []
    for cls in CLASSES:
        qs = queries[cls]
        if cls == "prefix":
            engine_rows.append(row("FTS5 suggest, " + cls, time_calls(lambda q: fts.suggest(q, limit=8), qs), TARGETS_MS[kind]["suggest"]))
            engine_rows.append(row("tantivy, " + cls, time_calls(lambda q: tv.search(q, 8), qs), None))
        else:
            engine_rows.append(row("FTS5 search, " + cls, time_calls(lambda q: fts.search(q, limit=20), qs), TARGETS_MS[kind]["search"]))
            engine_rows.append(row("tantivy, " + cls, time_calls(lambda q: tv.search(q, 20), qs), None))
        for q in qs[:100]:
            ours = {h.iri for h in fts.search(q, limit=10)[0]} if cls != "prefix" else {h.iri for h in fts.suggest(q, limit=10)}
            conn = fts.conn
            theirs = {conn.execute("SELECT iri FROM entities WHERE id = ?", (e,)).fetchone()[0] for e in tv.search(q, 10)}
            if ours or theirs:
                agreement.append(len(ours & theirs) / max(len(ours | theirs), 1))

    print("serving the build with kg serve ...", flush=True)
    port = eb.free_port()
    server = eb.Server("kg serve", [str(eb.BIN / "kg"), "serve", "--store", str(link), "--host", "127.0.0.1", "--port",
                                    str(port), "--workers", "1"], port, "/search.json", "/health", work / "serve.log")
    http_rows = []
    served_index = discovery_index.path_in(folder).is_file()
    if served_index:
        server.start(120)
        try:
            for cls in CLASSES:
                if cls == "prefix":
                    times, failures = http_times(server.base, "/search/suggest?q=", queries[cls])
                    http_rows.append(row("GET /search/suggest, " + cls, times, TARGETS_MS[kind]["suggest"]) + (f" {failures} failed" if failures else ""))
                else:
                    times, failures = http_times(server.base, "/search.json?q=", queries[cls])
                    http_rows.append(row("GET /search.json, " + cls, times, TARGETS_MS[kind]["search"]) + (f" {failures} failed" if failures else ""))
        finally:
            server.stop()
    if eb.code_fingerprint() != fingerprint:
        print("warning: kg/ or server/ changed during the run; the figures mix two versions", file=sys.stderr)

    m = eb.machine()
    fts_bytes = index_path.stat().st_size
    lines = [
        f"# Search on the {kind} KG",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC by `bench/discovery_bench.py {' '.join(argv or sys.argv[1:])}`; "
        f"{m['cpu']} ({m['nproc']} CPUs), {m['ram']}, Python {m['python']}, pyoxigraph {m['pyoxigraph']}, "
        f"SQLite {sqlite3.sqlite_version}, tantivy {__import__('tantivy').__version__ if hasattr(__import__('tantivy'), '__version__') else '0.27'}; commit {m['commit']}.",
        "",
        f"The build: {triples:,} triples ({build_line}); findable entities {sum(counts.values()):,} "
        f"({', '.join(f'{v:,} {k}s' for k, v in sorted(counts.items()))}).",
        "",
        "## Building the index",
        "",
        "| engine | seconds | size |",
        "|---|---|---|",
        f"| the whole discovery index, as `kg build` writes it (records read off the store's quads, names, FTS5, facet tables) | {fts_seconds:.1f} | {fts_bytes / 1e6:.1f} MB |",
        f"| of which the FTS5 tables alone (from the names) | {fts_alone_seconds:.2f} | {fts_alone_bytes / 1e6:.1f} MB |",
        f"| tantivy, the same names (one writer thread) | {tv.build_seconds:.2f} | {tv.bytes / 1e6:.1f} MB |",
        "",
        f"## In process: milliseconds per query ({args.queries} queries per class, drawn from the KG's names)",
        "",
        "| engine, query class | queries | p50 | p99 | max | target (p99) |",
        "|---|---|---|---|---|---|",
        *engine_rows,
        "",
        f"Agreement of the two engines' top 10 (Jaccard, mean over {len(agreement)} queries): "
        f"{statistics.mean(agreement):.2f}. They rank with the same tiers (exact, prefix, words); within a tier "
        "FTS5 orders by own label first and weight (participations), tantivy by its BM25 alone.",
        "",
        "## Over HTTP: `kg serve` (1 worker), one keep-alive client in sequence, milliseconds",
        "",
    ]
    if served_index:
        lines += ["| request, query class | requests | p50 | p99 | max | target (p99) |", "|---|---|---|---|---|---|", *http_rows]
    else:
        lines += [f"Not measured: the build at {folder} has no discovery index (made before search existed)."]
    lines += ["", f"Targets (issue 15): search p99 under {TARGETS_MS['grown']['search']:.0f} ms on the grown KG and under "
              f"{TARGETS_MS['generated']['search']:.0f} ms on the 1M-triple generated KG; autocomplete under "
              f"{TARGETS_MS['grown']['suggest']:.0f} ms.", ""]
    out.write_text("\n".join(lines))
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
