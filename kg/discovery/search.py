"""Full-text search over the names and descriptions of the findable entities, ranked: a name equal to the query
first, then names starting with it, then entities whose names (or, last, descriptions) hold all its words. Within
a rank a thing's own label beats an alternative name, and the thing with more participations comes first.

The engine is SQLite's FTS5 (in Python's standard library: no extra wheel, one file beside the store, read by as
many workers as there are); bench/discovery_bench.py measures it against tantivy (bench/results/discovery.md).
Names are stored folded (kg.importing.places.fold, as the import reconciles them) and the tokenizer removes diacritics too, so the query "Malmo"
finds Malmö and "torino" finds Turin by its Italian name."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from kg.errors import InputError
from kg.importing.places import fold

from . import KINDS

# Ranks of a match, best first.
EXACT, PREFIX, WORDS, DESCRIPTION = 0, 1, 2, 3
MATCHES = {EXACT: "exact", PREFIX: "prefix", WORDS: "words", DESCRIPTION: "description"}
MAX_LIMIT = 100
PREFIX_LETTERS = 3
COUNTED = 1000  # a search says how many things match up to this many ("1000+")
MAX_QUERY = 200  # characters: a name is shorter; a longer query is refused, not truncated


def write(conn: sqlite3.Connection) -> None:
    """Fill the full-text tables from `entities` and `names` (kg.discovery.records)."""
    # `kind` is a column of its own, so that a search of some kinds filters inside the full-text index.
    conn.executescript("""
CREATE VIRTUAL TABLE name_text USING fts5 (folded, kind, content='', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE description_text USING fts5 (description, kind, content='', tokenize='unicode61 remove_diacritics 2');
""")
    conn.execute("INSERT INTO name_text (rowid, folded, kind) SELECT entity, group_concat(folded, ' | '), kind FROM names GROUP BY entity")
    conn.execute("INSERT INTO description_text (rowid, description, kind) SELECT id, description, kind FROM entities WHERE description IS NOT NULL")


@dataclass
class Hit:
    iri: str
    kind: str
    label: str
    matched: str  # the name that matched
    match: str  # exact, prefix, words or description
    score: float  # 0-100, higher is better
    description: str | None = None
    country: str | None = None
    country_label: str | None = None
    city: str | None = None
    city_label: str | None = None
    lat: float | None = None
    long: float | None = None
    weight: int = 0

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class SearchIndex:
    """A build's discovery index, opened read-only. Safe to share between threads: each gets its own connection."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no discovery index at {self.path}: the build predates search; run `kg build`")
        self._uri = f"file:{self.path}?mode=ro&immutable=1"
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
        return conn

    def search(self, q: str, kinds: list[str] | tuple[str, ...] | None = None, limit: int = 20, offset: int = 0,
               descriptions: bool = True) -> tuple[list[Hit], int]:
        """The hits for `q` of the given kinds (all if None), best first, from `offset`; and how many there are
        (counted up to COUNTED)."""
        folded = _checked(q, kinds, limit, offset)
        if not folded:
            return [], 0
        ranked = self._ranked(folded, kinds, offset + limit, descriptions)
        return self._hits(ranked[offset:offset + limit], folded), self._count(folded, kinds, descriptions)

    def suggest(self, prefix: str, kinds=None, limit: int = 10) -> list[Hit]:
        """Autocomplete: names starting with `prefix`, then names with words starting with its words."""
        folded = _checked(prefix, kinds, limit, 0)
        if not folded:
            return []
        return self._hits(self._ranked(folded, kinds, limit, descriptions=False)[:limit], folded)

    def matching(self, q: str, kinds=None, limit: int = 1000) -> list[int]:
        """The entity ids (entities.id) of the best `limit` matches of `q`, best first: for another list (the facet
        pages, kg.discovery.facets) to keep only what the text names, in the order search ranks it."""
        folded = _checked(q, kinds, 1, 0)
        return [entity for entity, *_ in self._ranked(folded, kinds, limit, True)] if folded else []

    def entity(self, iri: str) -> Hit | None:
        row = self.conn.execute("SELECT *, label AS matched FROM entities WHERE iri = ?", (iri,)).fetchone()
        return self._hit(row, EXACT, 100.0) if row is not None else None

    def names(self, iri: str) -> list[tuple[str, str]]:
        """Every (name, language) of an entity."""
        return [(r["name"], r["lang"]) for r in self.conn.execute(
            "SELECT name, lang FROM names JOIN entities ON entities.id = names.entity WHERE iri = ? ORDER BY main DESC, name", (iri,))]

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT kind, COUNT(*) FROM entities GROUP BY kind")}

    def _count(self, folded: str, kinds, descriptions: bool) -> int:
        """How many things match at all, up to COUNTED: the ranking reads only as far as the page asked."""
        kind_test, kind_args = _kind_filter(kinds)
        parts = [f"SELECT entity FROM names WHERE folded >= ? AND folded < ? {kind_test}",
                 "SELECT rowid FROM name_text WHERE name_text MATCH ?"]
        args: list = [folded, folded + "\uffff", *kind_args, _match_expression(folded, "folded", kinds)]
        if descriptions:
            parts.append("SELECT rowid FROM description_text WHERE description_text MATCH ?")
            args.append(_match_expression(folded, "description", kinds))
        union = " UNION ".join(parts)
        return self.conn.execute(f"SELECT COUNT(*) FROM (SELECT * FROM ({union}) LIMIT {COUNTED})", args).fetchone()[0]

    # -- ranking

    def _ranked(self, folded: str, kinds, limit: int, descriptions: bool) -> list[tuple[int, int, int, float]]:
        """(entity id, rank, main, fts score) of the best `limit` matches, best first."""
        kind_test, kind_args = _kind_filter(kinds)
        best: dict[int, tuple[int, int, float]] = {}

        def offer(entity: int, rank: int, main: int, score: float = 0.0) -> None:
            known = best.get(entity)
            if known is None or (rank, -main) < (known[0], -known[1]):
                best[entity] = (rank, main, score)

        conn = self.conn
        for row in conn.execute(f"SELECT entity, main FROM names WHERE folded = ? {kind_test}", (folded, *kind_args)):
            offer(row[0], EXACT, row[1])
        # Prefixes through the index on names.folded: a range, not LIKE, which SQLite will not index here.
        for row in conn.execute(f"SELECT entity, main FROM names WHERE folded > ? AND folded < ? {kind_test} "
                                f"ORDER BY weight DESC LIMIT ?", (folded, folded + "\uffff", *kind_args, limit * 4)):
            offer(row[0], PREFIX, row[1])
        for row in conn.execute("SELECT rowid, bm25(name_text) FROM name_text WHERE name_text MATCH ? "
                                "ORDER BY bm25(name_text) LIMIT ?", (_match_expression(folded, "folded", kinds), limit * 4)):
            offer(row[0], WORDS, 0, row[1])
        if descriptions and len(best) < limit:
            for row in conn.execute("SELECT rowid, bm25(description_text) FROM description_text WHERE description_text MATCH ? "
                                    "ORDER BY bm25(description_text) LIMIT ?", (_match_expression(folded, "description", kinds), limit)):
                offer(row[0], DESCRIPTION, 0, row[1])
        if not best:
            return []
        weights = self._weights(list(best))
        order = sorted(best.items(), key=lambda item: (item[1][0], -item[1][1], item[1][2], -weights.get(item[0], 0), item[0]))
        return [(entity, rank, main, score) for entity, (rank, main, score) in order[:limit]]

    def _weights(self, ids: list[int]) -> dict[int, int]:
        return dict(self.conn.execute("SELECT id, weight FROM entities WHERE id IN (SELECT value FROM json_each(?))",
                                      (json.dumps(ids),)).fetchall())

    def _hits(self, ranked, folded: str) -> list[Hit]:
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in self.conn.execute(f"SELECT * FROM entities WHERE id IN ({marks})", ids)}
        matched = {}
        for r in self.conn.execute(f"SELECT entity, name, folded, main FROM names WHERE entity IN ({marks}) ORDER BY main DESC", ids):
            matched.setdefault(r[0], []).append((r[1], r[2]))
        hits = []
        for entity, rank, main, _ in ranked:
            row = rows[entity]
            hit = self._hit(row, rank, _score(rank, main))
            hit.matched = _matched_name(matched.get(entity, []), folded, row["label"])
            hits.append(hit)
        return hits

    @staticmethod
    def _hit(row, rank: int, score: float) -> Hit:
        return Hit(row["iri"], row["kind"], row["label"], row["label"], MATCHES[rank], score, row["description"],
                   row["country"], row["country_label"], row["city"], row["city_label"], row["lat"], row["long"], row["weight"])


def _matched_name(names: list[tuple[str, str]], folded: str, label: str) -> str:
    """The name that answered the query: equal to it, else starting with it, else holding its first word."""
    for test in (lambda f: f == folded, lambda f: f.startswith(folded), lambda f: folded.split()[0] in f.split()):
        for name, name_folded in names:
            if test(name_folded):
                return name
    return label


def _score(rank: int, main: int) -> float:
    return {EXACT: 100.0, PREFIX: 80.0, WORDS: 60.0, DESCRIPTION: 30.0}[rank] - (0 if main else 5)


def _match_expression(folded: str, column: str, kinds=None) -> str:
    """FTS5 syntax for: every word of the query in `column`, the last as a prefix (it may be half typed) once it
    has PREFIX_LETTERS (a shorter one would expand to most of the vocabulary, "s" to every word in s, for no
    useful result; names that start with it are still found by the prefix rank); and the kind one of `kinds`."""
    terms = [f'"{t}"' for t in folded.split()]
    if len(terms[-1]) - 2 >= PREFIX_LETTERS:
        terms[-1] += "*"
    expression = f"{column} : ({' AND '.join(terms)})"
    if kinds:
        expression += f" AND kind : ({' OR '.join(kinds)})"
    return expression


def _kind_filter(kinds) -> tuple[str, list[str]]:
    if not kinds:
        return "", []
    return f"AND kind IN ({','.join('?' * len(kinds))})", list(kinds)


def _checked(q: str, kinds, limit: int, offset: int) -> str:
    if len(q) > MAX_QUERY:
        raise InputError(f"the query is {len(q)} characters long; at most {MAX_QUERY} are searched")
    unknown = [k for k in (kinds or []) if k not in KINDS]
    if unknown:
        raise InputError(f"unknown kind {unknown[0]!r}: one of {', '.join(KINDS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise InputError(f"offset must be 0 or more, not {offset}")
    return fold(q)
