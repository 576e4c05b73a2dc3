"""The embedded store: pyoxigraph, in memory or on disk (a build folder's database, opened read-only)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph

from kg.config import build_workers
from kg.namespaces import PREFIXES
from kg.store.builds import DB_DIR, BuildInfo, current_build


class KGStore:
    """A pyoxigraph store holding the KG's named graphs, queried with the union of them as default graph."""

    def __init__(self, store: ox.Store, info: BuildInfo | None = None, path: Path | None = None):
        self.store = store
        self.info = info
        self.path = path

    @classmethod
    def in_memory(cls) -> KGStore:
        return cls(ox.Store())

    @classmethod
    def open(cls, link: Path) -> KGStore:
        """Open the current build behind `link` read-only, as server workers do."""
        target, info = current_build(link)
        return cls.open_build(target, info)

    @classmethod
    def open_build(cls, target: Path, info: BuildInfo) -> KGStore:
        return cls(ox.Store.read_only(str(target / DB_DIR)), info, target)

    def add_dataset(self, dataset: Dataset) -> None:
        data = dataset.serialize(format="nquads", encoding="utf-8")
        self.store.bulk_load(data, format=ox.RdfFormat.N_QUADS)

    def add_graph(self, graph: Graph, name: str) -> None:
        data = graph.serialize(format="nt", encoding="utf-8")
        self.store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))

    def __len__(self) -> int:
        return len(self.store)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs())

    def graph_sizes(self) -> dict[str, int]:
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        return {s["g"].value: int(s["n"].value) for s in self.store.query(query)}

    def query(self, text: str, **options):
        """Run a SPARQL query with the KG's prefixes and the union of its graphs as the default graph."""
        options.setdefault("use_default_graph_as_union", True)
        return self.store.query(text, prefixes=PREFIXES, **options)

    # The two operations the store-side build steps (SPARQL reasoning and validation, the network) need, so that
    # they run the same on this store and on a remote SPARQL server's.

    def select(self, text: str):
        """Solutions of a SELECT over the union of the graphs: each maps a variable name to a pyoxigraph term,
        or None when it is unbound."""
        return self.query(text)

    def add_quads(self, quads) -> None:
        """Add pyoxigraph Quads (their graph names say where)."""
        self.store.extend(quads)

    def add_constructed(self, queries: list[str], graph: str) -> list[int]:
        """Add to named graph `graph` the triples of each CONSTRUCT query, all evaluated on the store as it was
        before any is added; how many triples each gave. The queries run side by side in threads (one per CPU
        of KG_BUILD_WORKERS: pyoxigraph evaluates and serialises without holding the GIL), their triples kept as
        N-Triples bytes and loaded by Oxigraph's parser: no Python object per triple. At 1M triples the
        reasoner's property queries took 1.3 s so, where reading their solutions into Quads took 3.7 s."""
        def evaluate(text: str) -> bytes:
            return self.query(text).serialize(format=ox.RdfFormat.N_TRIPLES) or b""

        with ThreadPoolExecutor(min(build_workers(), max(1, len(queries)))) as pool:
            found = list(pool.map(evaluate, queries))
        target = ox.NamedNode(graph)
        for data in found:
            if data:
                self.store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
        return [data.count(b"\n") for data in found]
