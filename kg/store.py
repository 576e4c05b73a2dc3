"""The embedded store: pyoxigraph, in memory or on disk; and `--store`, which chooses among the back ends.

On disk, each build is a folder under `var/stores/<build id>/` and `var/store` is a symbolic link to the
current one. A build writes a new folder and switches the link with one atomic rename only when it is
complete, so a failed or killed build leaves the previous store serving and intact. A running server follows
the link (server.follow), so the build it served last is kept beside the new one, and an older one is kept
until PRUNE_GRACE seconds after it was replaced, for a slow query that may still be reading it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph

from .errors import InputError
from .namespaces import PREFIXES

DB_DIR = "oxigraph"
META_FILE = "build.json"
MEMORY = "memory"  # `--store memory`: the KG built from its sources in this process, kept nowhere


@dataclass(frozen=True)
class Location:
    """What `--store` names: an on-disk build's link (`path`), a SPARQL server's query endpoint (`url`), or,
    with neither, a store built in memory."""

    path: Path | None = None
    url: str | None = None

    @property
    def in_memory(self) -> bool:
        return self.path is None and self.url is None

    def __str__(self) -> str:
        return self.url or (str(self.path) if self.path is not None else MEMORY)


def locate(text: str | None) -> Location:
    """The store `--store TEXT` names; without it, $KG_STORE, else var/store. A folder called "memory" is
    ./memory."""
    from .config import Paths

    if text is None:
        text = os.environ.get("KG_STORE") or None
    if text is None:
        return Location(path=Paths().store)
    if text == MEMORY:
        return Location()
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        from .remote_store import check_url

        return Location(url=check_url(text))
    return Location(path=Path(text))
RETIRED_FILE = "replaced"  # written into a build when the link moves off it; its time starts the grace period
# Seconds a replaced build is kept for queries still reading it: well above the longest query timeout.
PRUNE_GRACE = float(os.environ.get("KG_PRUNE_GRACE", 600))


@dataclass(frozen=True)
class BuildInfo:
    id: str
    created: str  # ISO 8601, UTC
    triples: int
    graphs: int
    inference: str
    kg_version: str
    engine: str = "rdflib"  # kg.build.Engine: which engine reasoned and validated
    graph_sizes: dict = field(default_factory=dict)  # named graph IRI -> triples, for the service description


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


def current_build(link: Path) -> tuple[Path, BuildInfo]:
    """The build folder `link` points to and its metadata, without opening the database."""
    target = link.resolve()
    meta = target / META_FILE
    if not meta.is_file():
        raise InputError("no built store here: run `kg build` first", str(link))
    return target, BuildInfo(**json.loads(meta.read_text()))


def write_build(stores_dir: Path, link: Path, fill, info_fields: dict) -> BuildInfo:
    """Create a new on-disk build, fill it with `fill(KGStore, build_id)`, then switch `link` to it atomically."""
    stores_dir.mkdir(parents=True, exist_ok=True)
    # Builds into one stores folder take turns (a lock on the folder itself, released when the process ends
    # however it ends): otherwise one build's clean-up would delete another's folder while it is being written.
    lock = os.open(stores_dir, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _remove_partials(stores_dir)  # left by a build that was killed: nothing else is writing now
        return _write_build(stores_dir, link, fill, info_fields)
    finally:
        os.close(lock)


def _write_build(stores_dir: Path, link: Path, fill, info_fields: dict) -> BuildInfo:
    build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = stores_dir / build_id
    partial = stores_dir / f".{build_id}.partial"
    previous = link.resolve() if link.is_symlink() else None
    try:
        partial.mkdir()
        kg_store = KGStore(ox.Store(str(partial / DB_DIR)), path=partial)
        fill(kg_store, build_id)
        kg_store.store.flush()
        kg_store.store.optimize()
        info = BuildInfo(
            id=build_id,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            triples=len(kg_store),
            graphs=len(kg_store.named_graphs()),
            graph_sizes=kg_store.graph_sizes(),
            **info_fields,
        )
        del kg_store  # close RocksDB before the folder is renamed
        (partial / META_FILE).write_text(json.dumps(asdict(info), indent=2) + "\n")
        os.rename(partial, target)
        _switch_link(link, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if target.exists() and link.resolve() != target:  # renamed but never switched to: not a build anyone serves
            shutil.rmtree(target, ignore_errors=True)
        raise
    if previous is not None and previous != target:
        try:
            (previous / RETIRED_FILE).write_text(datetime.now(timezone.utc).isoformat(timespec="seconds") + "\n")
        except OSError:
            pass  # without the mark it is pruned by the next build at once, as builds were before the grace period
    # Another link beside this one may share the stores folder (`kg build --store other`): its build stays too.
    linked = {p.resolve() for p in link.parent.iterdir() if p.is_symlink()}
    _prune(stores_dir, keep={target, previous, *linked}, grace=PRUNE_GRACE)
    return info


def _switch_link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(link.name + ".switch")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)  # atomic: readers see the old build or the new one, never neither


def _prune(stores_dir: Path, keep: set[Path | None], grace: float) -> None:
    """Delete every build but the new one and the one the link pointed to before it. Servers move to the new
    build within a second of their next request; the previous one stays for the requests still running on it.
    An older build that was served goes only `grace` seconds after it was replaced: when two builds finish within
    one query timeout, a slow query may still be reading it. A build that was renamed into place but never
    linked (killed between the two) was never served and goes at once."""
    now = time.time()
    for old in stores_dir.iterdir():
        if not old.is_dir() or old.name.startswith(".") or old in keep:
            continue
        try:
            replaced = (old / RETIRED_FILE).stat().st_mtime
        except OSError:
            replaced = None  # never served (or served before builds were marked): nobody can be reading it
        if replaced is None or now - replaced >= grace:
            shutil.rmtree(old, ignore_errors=True)


def _remove_partials(stores_dir: Path) -> None:
    for leftover in stores_dir.glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
