"""The build pipeline: load -> reason -> validate -> store. A failing validation writes nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph

from . import __version__, dumps
from .config import Paths
from .errors import ValidationFailed
from .load import LoadedFile, discover, load_files, parse_graph, union
from .namespaces import INFERRED_GRAPH
from .network import files as network_files
from .network.materialise import materialise
from .reason import Inference, closure
from .store import BuildInfo, KGStore, write_build
from .validate import Origin, Report, read_report, validate


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
    sources: Sources
    inferred: Graph
    report: Report
    timings: dict[str, float] = field(default_factory=dict)
    info: BuildInfo | None = None
    store: KGStore | None = None


def load_sources(paths: Paths, data: list[Path] | None = None, context: bool = True) -> Sources:
    """Load the ontology and data files. With `data` given, the KG's own data is loaded beside it as
    context (unless `context` is False), so links to existing entities resolve."""
    dataset = Dataset()
    ontology_files = load_files(dataset, [paths.ontology])
    targets = data if data is not None else [paths.data]
    data_files = load_files(dataset, targets)
    if data is not None and context:
        given = {f.path.resolve() for f in data_files}
        extra = [p for p in _data_files(paths) if p.resolve() not in given]
        data_files += load_files(dataset, extra)
    return Sources(dataset, ontology_files, data_files)


def _data_files(paths: Paths) -> list[Path]:
    return discover([paths.data]) if paths.data.exists() else []


def check(sources: Sources, shapes: Graph, inference: Inference) -> tuple[Graph, Report, dict[str, float]]:
    """Reason and validate loaded sources; the data graph validated is asserted plus inferred triples.
    The checks SHACL cannot express (kg.checks) run on the asserted triples and join the same report."""
    from . import checks

    timings = {}
    t = time.perf_counter()
    data = sources.union()
    inferred = closure(data, inference)
    timings["reason"] = time.perf_counter() - t

    t = time.perf_counter()
    findings = checks.find(data)  # before the closure joins: an inferred type must not describe a dangling IRI
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


def build(paths: Paths, inference: Inference = Inference.OWLRL, in_memory: bool = False) -> Outcome:
    """Load, reason, validate and store. Raises ValidationFailed (writing nothing) when data does not conform."""
    t = time.perf_counter()
    sources = load_sources(paths)
    shapes = parse_graph([paths.shapes])
    load_time = time.perf_counter() - t

    inferred, report, timings = check(sources, shapes, inference)
    timings = {"load": load_time, **timings}
    if not report.conforms:
        raise ValidationFailed(report)

    def fill(kg_store: KGStore, build_id: str | None = None) -> None:
        kg_store.add_dataset(sources.dataset)
        if len(inferred):
            kg_store.add_graph(inferred, str(INFERRED_GRAPH))
        t = time.perf_counter()
        materialise(kg_store)  # derived data, in its own graph: the co-participation networks (kg/network)
        timings["network"] = time.perf_counter() - t
        if kg_store.path is not None:  # on disk: the dumps belong to the build, renamed into place with it
            dumps.write(kg_store, kg_store.path / dumps.DUMPS_DIR)
            network_files.write(kg_store, kg_store.path / network_files.NETWORK_DIR, build_id)

    t = time.perf_counter()
    outcome = Outcome(sources, inferred, report, timings)
    if in_memory:
        outcome.store = KGStore.in_memory()
        fill(outcome.store)
    else:
        link = paths.store
        outcome.info = write_build(
            link.parent / "stores", link, fill, {"inference": inference.value, "kg_version": __version__}
        )
    timings["store"] = time.perf_counter() - t
    return outcome
