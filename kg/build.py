"""The build pipeline: load -> reason -> validate -> store. A failing validation writes nothing.

Two engines do the load, reason and validate steps:
  rdflib  the reference: the sources parsed into an rdflib Dataset, the owlrl closure, pyshacl and kg.validation.checks,
          then the result written into the store. Full OWL RL, and every SHACL feature pyshacl has; its time
          grows faster than the data (minutes at 100k triples, hours at 1M).
  store   the sources parsed by Oxigraph straight into the new store, the entailments the KG relies on
          materialised with SPARQL (kg.reasoning.rules), the shapes compiled to SPARQL (kg.validation.compiled) and the
          checks as SPARQL (kg.validation.checks_store), all run by the store: seconds at 1M triples. The tests hold both
          to the same results on the fixtures, the real data and generated data. A failing validation removes the
          half-made build, so it too writes nothing.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph

from kg import __version__
from kg.publish import dumps
from kg.config import Paths, build_workers
from kg.errors import KGError, ValidationFailed
from kg.sources.load import LoadedFile, discover, load_files, load_into_store, parse_graph, union
from kg.namespaces import INFERRED_GRAPH
from kg.publish import network_files, site
from kg.discovery import index as discovery_index
from kg.network.materialise import Summary as NetworkSummary, materialise, measure
from kg.reasoning.reference import Inference, closure
from kg.store.builds import BuildInfo
from kg.store.embedded import KGStore
from kg.store.switch import write_build
from kg.validation.placement import Origin, StoreOrigin
from kg.validation.results import Report
from kg.validation.shacl import read_report, validate


class Engine(str, Enum):
    RDFLIB = "rdflib"
    STORE = "store"


@dataclass
class Sources:
    """The KG as loaded: ontology and data files in one Dataset, one named graph per file."""

    dataset: Dataset
    ontology_files: list[LoadedFile]
    data_files: list[LoadedFile]

    @property
    def files(self) -> list[LoadedFile]:
        return self.ontology_files + self.data_files

    def union(self) -> Graph:
        return union(self.dataset)


@dataclass
class Outcome:
    sources: Sources | None  # None for the store engine, which never loads the KG into rdflib
    inferred: Graph | int  # the inferred triples (rdflib engine), or how many the store engine wrote
    report: Report
    timings: dict[str, float] = field(default_factory=dict)
    info: BuildInfo | None = None
    store: KGStore | None = None
    # What the build published (dumps, network files, the site's figures and pages), for the server to read: the
    # build folder on disk; a temporary folder, removed when this process ends, for a build in memory.
    published: Path | None = None

    @property
    def inferred_count(self) -> int:
        return self.inferred if isinstance(self.inferred, int) else len(self.inferred)


def load_sources(paths: Paths, data: list[Path] | None = None, context: bool = True) -> Sources:
    """Load the ontology and data files. With `data` given, the KG's own data is loaded beside it as
    context (unless `context` is False), so links to existing entities resolve."""
    dataset = Dataset()
    ontology_files = load_files(dataset, [paths.ontology])
    data_files = load_files(dataset, data_paths(paths, data, context))
    return Sources(dataset, ontology_files, data_files)


def data_paths(paths: Paths, data: list[Path] | None = None, context: bool = True) -> list[Path]:
    """The data files to load: `data` (files or folders) with the KG's own data files as context, or the KG's data."""
    if data is None:
        return [paths.data, *_imported_files(paths)]
    targets = discover(data)
    if context:
        given = {p.resolve() for p in targets}
        targets += [p for p in _data_files(paths) if p.resolve() not in given]
    return targets


def _data_files(paths: Paths) -> list[Path]:
    return (discover([paths.data]) if paths.data.exists() else []) + _imported_files(paths)


def _imported_files(paths: Paths) -> list[Path]:
    """What `kg import` wrote: one N-Quads file per source, each its own named graph."""
    return sorted(paths.imported.glob("*.nq")) if paths.imported.is_dir() else []


def check(sources: Sources, shapes: Graph, inference: Inference) -> tuple[Graph, Report, dict[str, float]]:
    """Reason and validate loaded sources; the data graph validated is asserted plus inferred triples.
    The checks SHACL cannot express (kg.validation.checks) run on the asserted triples and join the same report."""
    from kg.validation import checks

    timings = {}
    t = time.perf_counter()
    data = sources.union()
    # The bad literals the load found are reported, and kept out of reasoning, which would stop on them.
    literal_findings = checks.literal_findings(sources.files)
    withheld = [(f.focus, f.path, f.value) for f in literal_findings if (f.focus, f.path, f.value) in data]
    for triple in withheld:
        data.remove(triple)
    inferred = closure(data, inference)
    for triple in withheld:
        data.add(triple)
    timings["reason"] = time.perf_counter() - t

    t = time.perf_counter()
    findings = checks.find(data) + literal_findings  # before the closure joins: an inferred type must not describe a dangling IRI
    timings["checks"] = time.perf_counter() - t

    t = time.perf_counter()
    for triple in inferred:
        data.add(triple)
    report_graph = validate(data, shapes)
    graphs = {f.graph: f.path for f in sources.files}
    for f in sources.files:  # the named graphs a TriG or N-Quads file declares are that file's too
        for declared in f.declared:
            graphs.setdefault(declared, f.path)
    origin = Origin(sources.dataset, graphs)
    report = checks.merge(read_report(report_graph, data, origin), findings, data, origin)
    timings["validate"] = time.perf_counter() - t
    return inferred, report, timings


def check_store(kg_store: KGStore, files: list[Path], shapes: Graph, inference: Inference) -> tuple[list[LoadedFile], int, Report, dict[str, float]]:
    """The store engine's load, reason and validate steps, into and on `kg_store`: the files loaded, the number of
    inferred triples, the report (results placed in the files by StoreOrigin) and the time of each step."""
    from kg.validation import checks, checks_store as checks_sparql
    from kg.reasoning.rules import materialise as materialise_entailments
    from kg.validation.compiled import validate_store_report

    timings = {}
    t = time.perf_counter()
    loaded = load_into_store(kg_store, files)
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    literal_findings = checks.literal_findings(loaded)
    withheld = _bad_literal_quads(kg_store, literal_findings)  # kept out of reasoning, as the rdflib engine does
    for quad in withheld:
        kg_store.store.remove(quad)
    inferred = materialise_entailments(kg_store, str(INFERRED_GRAPH), inference).triples if inference is not Inference.NONE else 0
    for quad in withheld:
        kg_store.store.add(quad)
    timings["reason"] = time.perf_counter() - t

    t = time.perf_counter()
    findings = checks_sparql.find(kg_store) + literal_findings  # reads the asserted graphs only, as kg.validation.checks does
    timings["checks"] = time.perf_counter() - t

    t = time.perf_counter()
    graphs = {}
    for f in loaded:  # the named graphs a TriG or N-Quads file declares are that file's too
        for g in (f.graph, *f.declared):
            graphs.setdefault(g, f.path)
    origin = StoreOrigin(kg_store, graphs)
    report = validate_store_report(kg_store, shapes, locate=origin)
    origin.prefetch([(f.focus, f.path, f.value) for f in findings if f.place is None])
    report = checks_sparql.merge(report, findings, kg_store, origin.place)
    timings["validate"] = time.perf_counter() - t
    return loaded, inferred, report, timings


def _bad_literal_quads(kg_store: KGStore, findings) -> list:
    """The store's quads holding the bad literals of `findings`. Matched by value, not by building the literal:
    Oxigraph refuses to build a literal with a malformed language tag."""
    from rdflib import BNode

    quads = []
    for f in findings:
        subject = ox.BlankNode(str(f.focus)) if isinstance(f.focus, BNode) else ox.NamedNode(str(f.focus))
        for quad in kg_store.store.quads_for_pattern(subject, ox.NamedNode(str(f.path)), None, None):
            o = quad.object
            if (isinstance(o, ox.Literal) and o.value == str(f.value) and (o.language or None) == f.value.language
                    and (f.value.language is not None or o.datatype.value == str(f.value.datatype))):
                quads.append(quad)
    return quads


def build(paths: Paths, inference: Inference = Inference.OWLRL, in_memory: bool = False, remote=None,
          engine: Engine = Engine.RDFLIB, publish: bool = True) -> Outcome:
    """Load, reason, validate, store and publish. Raises ValidationFailed (writing nothing) when data does not
    conform.

    With `remote` (a kg.store.remote.RemoteStore) the build is made in memory here, network included, and then
    its graphs replace the KG's graphs on that server: what lands there is exactly what was validated. A build
    in memory publishes into a temporary folder (Outcome.published) unless `publish` is False; one on disk, into
    its build folder; one sent to a server, nowhere (the server's own export is its dump)."""
    if engine is Engine.STORE:
        return _build_on_store(paths, inference, in_memory, remote, publish)
    t = time.perf_counter()
    sources = load_sources(paths)
    shapes = parse_graph([paths.shapes])
    load_time = time.perf_counter() - t

    inferred, report, timings = check(sources, shapes, inference)
    timings = {"load": load_time, **timings}
    if not report.conforms:
        raise ValidationFailed(report)

    outcome = Outcome(sources, inferred, report, timings)

    def fill(kg_store: KGStore, build_id: str | None = None) -> None:
        work = kg_store if kg_store.path is None else KGStore.in_memory()  # as the store engine does: see there
        work.add_dataset(sources.dataset)
        if len(inferred):
            work.add_graph(inferred, str(INFERRED_GRAPH))
        _derive(work, build_id, timings, _publish_folder(outcome, kg_store, publish and remote is None),
                None if work is kg_store else kg_store)

    t, before = time.perf_counter(), set(timings)
    if in_memory or remote is not None:
        outcome.store = KGStore.in_memory()
        fill(outcome.store)
        if remote is not None:
            timings["store"] = time.perf_counter() - t - _steps_time(timings, before)
            t = time.perf_counter()
            outcome.info = remote.replace_build(outcome.store, {"inference": inference.value, "kg_version": __version__})
            timings["upload"] = time.perf_counter() - t
            return outcome
    else:
        link = paths.store
        outcome.info = write_build(
            link.parent / "stores", link, fill, {"inference": inference.value, "kg_version": __version__}
        )
        outcome.published = link.parent / "stores" / outcome.info.id
    timings["store"] = time.perf_counter() - t - _steps_time(timings, before)
    return outcome


def _steps_time(timings: dict[str, float], before: set[str]) -> float:
    """The time of the steps timed since the names in `before` were, one after another: the publishing steps,
    which run side by side, and the copy to disk beside them, count once, as "publish"."""
    return sum(v for k, v in timings.items() if k not in before and k not in ("store", "copy") and k not in PUBLISH_STEPS)


def _publish_folder(outcome: Outcome, kg_store: KGStore, publish: bool) -> Path | None:
    """Where this build publishes: its own folder on disk, else a temporary one (or nowhere)."""
    if kg_store.path is not None:  # the partial folder, renamed into place with what it holds
        return kg_store.path
    if not publish:
        return None
    folder = Path(tempfile.mkdtemp(prefix="kg-published-"))
    outcome.published = folder
    atexit.register(_remove_in, os.getpid(), folder)
    return folder


def _remove_in(pid: int, folder: Path) -> None:
    # Only the process that made it: a forked server worker runs its parent's exit handlers too when it ends.
    if os.getpid() == pid:
        shutil.rmtree(folder, ignore_errors=True)


def _derive(kg_store: KGStore, build_id: str | None, timings: dict[str, float], folder: Path | None,
            disk: KGStore | None = None) -> None:
    """What a build derives from the validated KG (`kg_store`, where it was made): the networks in their own
    graph, and into `folder` everything the site publishes (dumps, network files, the figures of the description
    and the sitemap's pages, the discovery index), so that the server only reads. On disk they belong to the build
    and are renamed into place with it. With `disk`, the store on disk the build goes into: the KG is copied there
    while the publishing steps run."""
    t = time.perf_counter()
    measuring = _measuring_apart if build_workers() > 1 else None
    built = _Built(kg_store, materialise(kg_store, measuring=measuring))  # the co-participation networks (kg/network)
    timings["network"] = time.perf_counter() - t

    def copy() -> None:
        if disk is not None:
            t = time.perf_counter()
            disk.store.bulk_extend(kg_store.store)
            timings["copy"] = time.perf_counter() - t

    if folder is None:
        copy()
        return
    t = time.perf_counter()
    steps = [name for name in PUBLISH_STEPS if build_id is not None or name != "network files"]
    workers = min(len(steps), build_workers())
    if workers < 2:
        for name in steps:
            timings[name] = _timed(PUBLISH_STEPS[name], built, folder, build_id)
        copy()
    else:
        timings.update(_publish_in_parallel(built, steps, workers, folder, build_id, copy))
    timings["publish"] = time.perf_counter() - t


@dataclass(frozen=True)
class _Built:
    """What the publishing steps read: the KG made in memory, and what materialise kept of its networks."""

    store: KGStore
    networks: NetworkSummary


def _dumps_and_site(built: _Built, folder: Path, build_id: str | None) -> None:
    # One union of the graphs for both: the triple dumps write it, the figures count it (20 s to make at 1M).
    union = dumps.union(built.store.store)
    dumps.write(built.store, folder / dumps.DUMPS_DIR, union)
    site.write(built.store, folder / site.SITE_DIR, dumps.FORMATS, union)  # the sitemap names the dumps' files


def _network_files(built: _Built, folder: Path, build_id: str | None) -> None:
    # Only a build on disk: one in memory gets its id when served, and its networks are drawn on request.
    network_files.write(built.store, folder / network_files.NETWORK_DIR, build_id, built.networks.pairs)


def _discovery(built: _Built, folder: Path, build_id: str | None) -> None:
    discovery_index.write(built.store, folder)  # search, facets and reconciliation read it (kg.discovery)


# Longest first (CPU alone at 1M triples: 58, 51 and 21 s), so that the shorter ones fill the other workers.
PUBLISH_STEPS = {"dumps and site": _dumps_and_site, "network files": _network_files, "discovery": _discovery}


def _timed(step, *args) -> float:
    t = time.perf_counter()
    step(*args)
    return time.perf_counter() - t


_PUBLISHING: _Built | None = None  # what the forked publishing workers read, set before they are forked


def _publish_in_parallel(built: _Built, steps: list[str], workers: int, folder: Path, build_id: str | None,
                         beside) -> dict[str, float]:
    """Run the publishing steps in worker processes, and `beside()` in this one meanwhile: the steps are
    Python-bound (the network files' XML, the facet tables, the dumps' gzip), so threads would take turns.
    The workers are forked, each reading the in-memory store it inherits (the pages are shared, not copied): no
    worker opens the store on disk, whose RocksDB instance a fork would copy without its background threads."""
    global _PUBLISHING
    _PUBLISHING = built
    times = {}
    try:
        with _forked(workers) as pool:
            running = {pool.submit(_publish_step, name, folder, build_id): name for name in steps}
            try:
                beside()
                for done in as_completed(running):
                    times[running[done]] = done.result()  # a step's error is raised here, and the build removed
            except BrokenProcessPool:
                raise KGError("a publishing worker process ended abruptly (killed, or out of memory)", str(folder)) from None
            finally:
                for future in running:
                    future.cancel()
    finally:
        _PUBLISHING = None
    return {name: times[name] for name in steps}


_MEASURING: dict | None = None  # the networks' pairs the forked measuring worker reads (kind -> pairs)


def _measuring_apart(made: dict, budget: int):
    """materialise's `measuring`: the networks' measures (igraph's betweenness and Louvain, 10 s at 1M triples) in
    a worker process forked with the pairs, while the build writes the edges; returns the wait for them."""
    global _MEASURING
    _MEASURING = made
    pool = _forked(1)
    future = pool.submit(_measure_networks, budget)

    def wait() -> dict:
        global _MEASURING
        try:
            return future.result()
        except BrokenProcessPool:
            raise KGError("the network measures' worker process ended abruptly (killed, or out of memory)", "network") from None
        finally:
            pool.shutdown()
            _MEASURING = None

    return wait


def _measure_networks(budget: int) -> dict:
    return measure(_MEASURING, budget)


def _forked(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes forked from the build (each sees what the build holds in memory when it is
    forked, sharing its pages), each ending with the build."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_end_with, initargs=(os.getpid(),))


def _end_with(build_pid: int) -> None:
    """A worker ends when the build does, however it ends: killed, the build leaves no worker writing into its
    removed folder, holding its memory and the pipes of whoever ran the build."""
    def watch():
        while os.getppid() == build_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="kg-build-watch", daemon=True).start()


def _publish_step(name: str, folder: Path, build_id: str | None) -> float:
    """One publishing step in a forked worker process, on the store the build forked it with."""
    return _timed(PUBLISH_STEPS[name], _PUBLISHING, folder, build_id)


def _build_on_store(paths: Paths, inference: Inference, in_memory: bool, remote, publish: bool) -> Outcome:
    shapes = parse_graph([paths.shapes])
    timings: dict[str, float] = {}
    outcome = Outcome(None, 0, Report([], Graph()), timings)

    def fill(kg_store: KGStore, build_id: str | None = None) -> None:
        # Made in memory, network and published files included, and copied to disk in one bulk write: on RocksDB
        # the same SELECTs took three times as long (39.5 s against 12.3 s for the closure at 1M triples,
        # bench/results/reasoning.md), and each full read of the built KG 26 s against 3 s.
        work = kg_store if kg_store.path is None else KGStore.in_memory()
        _, outcome.inferred, outcome.report, steps = check_store(work, [paths.ontology, *data_paths(paths)], shapes, inference)
        timings.update(steps)
        if not outcome.report.conforms:
            raise ValidationFailed(outcome.report)  # write_build removes the half-made build
        _derive(work, build_id, timings, _publish_folder(outcome, kg_store, publish and remote is None),
                None if work is kg_store else kg_store)

    t, before = time.perf_counter(), set(timings)
    meta = {"inference": inference.value, "kg_version": __version__, "engine": Engine.STORE.value}
    if in_memory or remote is not None:
        outcome.store = KGStore.in_memory()
        fill(outcome.store)
        if remote is not None:
            timings["store"] = time.perf_counter() - t - _steps_time(timings, before)
            t = time.perf_counter()
            outcome.info = remote.replace_build(outcome.store, meta)
            timings["upload"] = time.perf_counter() - t
            return outcome
    else:
        link = paths.store
        outcome.info = write_build(link.parent / "stores", link, fill, meta)
        outcome.published = link.parent / "stores" / outcome.info.id
    timings["store"] = time.perf_counter() - t - _steps_time(timings, before)
    return outcome

