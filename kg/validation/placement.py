"""Where a result points: the file and line of the node it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from kg.sources.load import display_path
from kg.sources.positions import index


@dataclass(frozen=True)
class Origin:
    """Which file a node is described in, so a result can point at it: call it with a node."""

    dataset: object  # rdflib Dataset holding one named graph per source file
    graphs: dict[URIRef, Path]  # named graph -> source file
    _seen: dict = field(default_factory=dict, compare=False, repr=False)
    _lines: Lines = field(default_factory=lambda: Lines(), compare=False, repr=False)

    def __call__(self, node: Node) -> tuple[str, int]:
        if node not in self._seen:
            self._seen[node] = self.place_in(node, None)
        return self._seen[node]

    def place_in(self, node: Node, only: set | None) -> tuple[str, int]:
        """Where `node` is described among the named graphs `only` (all when None)."""
        best: tuple[str, int] | None = None
        for ctx in self.dataset.graphs():
            if only is not None and ctx.identifier not in only:
                continue
            path = self.graphs.get(ctx.identifier)
            if path is None or (node, None, None) not in ctx:
                continue
            typed = (node, RDF.type, None) in ctx
            place = self._lines.place(path, node)
            if typed or best is None:
                best = place
            if typed:
                break
        return best or ("", 0)


class StoreOrigin:
    """Origin for a KG loaded into a store (kg.sources.load.load_into_store): which file a node or a triple is in,
    asked of the store. Call it with a node; `place(triple)` for a check's finding. `prefetch` asks for many nodes
    or triples in a few queries (VALUES blocks), so that placing a hundred thousand results does not cost a
    hundred thousand queries; what was not prefetched is asked for when needed."""

    BATCH = 500

    def __init__(self, store, graphs: dict[URIRef, Path]):
        self.store = store  # anything with select(), as kg.validation.compiled needs
        self.graphs = graphs  # named graph -> source file, in the order the files were loaded
        self._order = {str(g): i for i, g in enumerate(graphs)}
        self._subjects: dict[URIRef, dict[str, bool]] = {}  # subject -> {graph holding it: typed there}
        self._triples: dict[tuple, list[str]] = {}  # (s, p, o) -> graphs asserting it
        self._lines = Lines()

    def __call__(self, node: Node) -> tuple[str, int]:
        return self.place((node, None, None))

    def prefetch(self, items) -> None:
        """Ask at once where each of `items` (nodes, or (s, p, o) triples) is: one query per BATCH of them."""
        subjects, triples = set(), set()
        for item in items:
            if isinstance(item, tuple):
                s, p, o = item
                if _sayable(s) and p is not None and o is not None and not isinstance(o, BNode) and _sayable(p) and _sayable(o):
                    triples.add((s, p, o))
                item = s
            if _sayable(item):
                subjects.add(item)
        self._fetch_subjects([s for s in subjects if s not in self._subjects])
        self._fetch_triples([t for t in triples if t not in self._triples])

    def place(self, triple) -> tuple[str, int]:
        """The file and line of the subject in the file that asserts `triple` (the subject's own file otherwise);
        a typed description wins over a mere mention, as in Origin."""
        s, p, o = triple
        if not _sayable(s):
            return ("", 0)
        if s not in self._subjects:
            self._fetch_subjects([s])
        held = self._subjects[s]
        graphs = []
        if p is not None and o is not None and not isinstance(o, BNode) and _sayable(p) and _sayable(o):
            if (s, p, o) not in self._triples:
                self._fetch_triples([(s, p, o)])
            graphs = self._triples[(s, p, o)]
        return self._best(s, graphs or list(held), held)

    def _fetch_subjects(self, subjects: list) -> None:
        for start in range(0, len(subjects), self.BATCH):
            chunk = subjects[start:start + self.BATCH]
            for s in chunk:
                self._subjects[s] = {}
            values = " ".join(s.n3() for s in chunk)
            for row in self.store.select(f"SELECT DISTINCT ?s ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"):
                if row["g"] is not None and row["g"].value in self._order:
                    self._subjects[URIRef(row["s"].value)].setdefault(row["g"].value, False)
            for row in self.store.select(f"SELECT DISTINCT ?s ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s a ?t }} }}"):
                held = self._subjects[URIRef(row["s"].value)]
                if row["g"] is not None and row["g"].value in held:
                    held[row["g"].value] = True

    def _fetch_triples(self, triples: list) -> None:
        for start in range(0, len(triples), self.BATCH):
            chunk = triples[start:start + self.BATCH]
            keys = {}
            for t in chunk:
                self._triples[t] = []
                keys[tuple(_key(x) for x in t)] = t
            values = " ".join(f"({s.n3()} {p.n3()} {o.n3()})" for s, p, o in chunk)
            rows = self.store.select(f"SELECT DISTINCT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o) {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            for row in rows:
                t = keys.get((row["s"].value, row["p"].value, _key(row["o"])))
                if t is not None and row["g"] is not None and row["g"].value in self._order:
                    self._triples[t].append(row["g"].value)

    def _best(self, s: URIRef, graphs: list[str], held: dict[str, bool]) -> tuple[str, int]:
        if not graphs:
            return ("", 0)
        graph = min(graphs, key=lambda g: (not held.get(g, False), self._order[g]))
        return self._lines.place(self.graphs[URIRef(graph)], s)


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _sayable(term) -> bool:
    """Whether `term` can be written into a query: an IRI without characters a query cannot carry, or a literal."""
    if isinstance(term, URIRef):
        return not _NOT_IN_IRI.search(str(term))
    return isinstance(term, Literal)


def _key(term) -> tuple:
    """A term as both rdflib and pyoxigraph can spell it: kind, value, language or datatype."""
    if isinstance(term, Literal):
        return ("literal", str(term), term.language or "", str(term.datatype or XSD_STRING) if term.language is None else "")
    if hasattr(term, "datatype") and hasattr(term, "language"):  # a pyoxigraph Literal
        return ("literal", term.value, term.language or "", term.datatype.value if not term.language else "")
    if isinstance(term, URIRef):
        return str(term)
    return getattr(term, "value", str(term))


class Lines:
    """The line of a node's statement in a file, from the file's index (kg.sources.positions), looked up once per
    file for the life of an origin: one validation's results ask about the same few files thousands of times."""

    def __init__(self):
        self._indexes: dict[Path, object] = {}
        self._shown: dict[Path, str] = {}

    def place(self, path: Path, node: Node) -> tuple[str, int]:
        """(display path, line of `node`'s statement): 0 for a blank node, a node the file does not describe, or a
        file with no positions (JSON-LD, RDF/XML)."""
        if path not in self._indexes:
            self._indexes[path] = index(path)
            self._shown[path] = display_path(path)
        line = self._indexes[path].line(str(node)) if isinstance(node, URIRef) else 0
        return self._shown[path], line
