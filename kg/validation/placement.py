"""Where a result points: the file and line of the node it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import BNode, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from kg.sources.load import display_path

@dataclass(frozen=True)
class Origin:
    """Which file a node is described in, so a result can point at it: call it with a node."""

    dataset: object  # rdflib Dataset holding one named graph per source file
    graphs: dict[URIRef, Path]  # named graph -> source file

    def __call__(self, node: Node) -> tuple[str, int]:
        best: tuple[str, int] | None = None
        for ctx in self.dataset.graphs():
            path = self.graphs.get(ctx.identifier)
            if path is None or (node, None, None) not in ctx:
                continue
            typed = (node, RDF.type, None) in ctx
            place = (display_path(path), _line_of(path, node))
            if typed or best is None:
                best = place
            if typed:
                break
        return best or ("", 0)


class StoreOrigin:
    """Origin for a KG loaded into a store (kg.sources.load.load_into_store): which file a node or a triple is in, asked of
    the store with one query per node. Call it with a node; `place(triple)` for a check's finding."""

    def __init__(self, store, graphs: dict[URIRef, Path]):
        self.store = store  # anything with select(), as kg.validation.compiled needs
        self.graphs = graphs  # named graph -> source file, in the order the files were loaded
        self._order = {str(g): i for i, g in enumerate(graphs)}
        self._seen: dict = {}

    def __call__(self, node: Node) -> tuple[str, int]:
        return self.place((node, None, None))

    def place(self, triple) -> tuple[str, int]:
        """The file and line of the subject in the file that asserts `triple` (the subject's own file otherwise);
        a typed description wins over a mere mention, as in Origin."""
        s, p, o = triple
        if not isinstance(s, URIRef):
            return ("", 0)
        key = (s, p, o) if p is not None and o is not None else s
        if key not in self._seen:
            graphs = self._graphs_holding(s, p, o) if key is not s else []
            self._seen[key] = self._best(s, graphs or self._graphs_holding(s, None, None))
        return self._seen[key]

    def _graphs_holding(self, s: URIRef, p, o) -> list[tuple[str, bool]]:
        pattern = f"{s.n3()} {p.n3()} {o.n3()}" if p is not None and not isinstance(o, BNode) else f"{s.n3()} ?p ?o"
        rows = self.store.select(
            f"SELECT DISTINCT ?g ?typed WHERE {{ GRAPH ?g {{ {pattern} }} BIND (EXISTS {{ GRAPH ?g {{ {s.n3()} a ?t }} }} AS ?typed) }}"
        )
        return [(r["g"].value, r["typed"].value == "true") for r in rows if r["g"] is not None and r["g"].value in self._order]

    def _best(self, s: URIRef, graphs: list[tuple[str, bool]]) -> tuple[str, int]:
        if not graphs:
            return ("", 0)
        graph, _ = min(graphs, key=lambda g: (not g[1], self._order[g[0]]))
        path = self.graphs[URIRef(graph)]
        return (display_path(path), _line_of(path, s))


@lru_cache(maxsize=256)
def _file_lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except OSError:
        return ()


def _line_of(path: Path, node: Node) -> int:
    """The first line where `node` starts a statement in a Turtle-like file; 0 when it cannot be found.

    Written for files people edit: the subject is at the start of a line, either as <full IRI> or as a
    prefixed name declared in the same file.
    """
    if not isinstance(node, URIRef):
        return 0
    lines = _file_lines(path)
    forms = [f"<{node}>"]
    for line in lines:
        m = re.match(r"\s*@prefix\s+([\w-]*):\s*<([^>]*)>", line) or re.match(r"\s*PREFIX\s+([\w-]*):\s*<([^>]*)>", line, re.I)
        if m and str(node).startswith(m.group(2)):
            local = str(node)[len(m.group(2)):]
            forms.append(f"{m.group(1)}:{local}")
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        for form in forms:
            if stripped.startswith(form) and (len(stripped) == len(form) or not _name_char(stripped[len(form)])):
                return number
    return 0


def _name_char(c: str) -> bool:
    return c.isalnum() or c in "-_./%:"
