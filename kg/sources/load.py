"""Load RDF source files into an rdflib Dataset, one named graph per file.

A file that cannot be read stops the load with a SourceSyntaxError naming file, line and column.
rdflib parses; where rdflib's own error carries no position, the file is re-read by Oxigraph's parser
only to locate the error.
"""

from __future__ import annotations

import hashlib
import json
import xml.sax
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.parsers.notation3 import BadSyntax

from kg.config import ROOT
from kg.errors import InputError, SourceSyntaxError
from kg.namespaces import GRAPH

# suffix -> (rdflib format, Oxigraph format used to locate errors)
FORMATS = {
    ".ttl": ("turtle", ox.RdfFormat.TURTLE),
    ".trig": ("trig", ox.RdfFormat.TRIG),
    ".nt": ("nt", ox.RdfFormat.N_TRIPLES),
    ".nq": ("nquads", ox.RdfFormat.N_QUADS),
    ".jsonld": ("json-ld", ox.RdfFormat.JSON_LD),
    ".rdf": ("xml", ox.RdfFormat.RDF_XML),
    ".owl": ("xml", ox.RdfFormat.RDF_XML),
    ".n3": ("n3", ox.RdfFormat.N3),
}
QUAD_SUFFIXES = {".trig", ".nq"}


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    graph: URIRef  # the file's own graph
    triples: int
    declared: tuple[URIRef, ...] = ()  # the named graphs a TriG or N-Quads file declares besides its own


def display_path(path: Path) -> str:
    """The path as a person should read it in a message: relative to the current folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def graph_iri(path: Path) -> URIRef:
    """The named graph of a source file: graph/<path inside the project, without suffix>."""
    resolved = path.resolve()
    try:
        rel = resolved.relative_to(ROOT)
        return GRAPH[rel.with_suffix("").as_posix()]
    except ValueError:
        digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
        return GRAPH[f"external/{digest}/{resolved.stem}"]


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders into the RDF files below them, sorted; a missing path is an input error."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix in FORMATS)
        elif path.is_file():
            if path.suffix not in FORMATS:
                known = ", ".join(sorted(FORMATS))
                raise InputError(f"unknown RDF file type {path.suffix!r} (known: {known})", display_path(path))
            found.append(path)
        else:
            raise InputError("no such file or folder", display_path(path))
    # The same file named twice (directly and through its folder) is loaded once.
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def load_file(dataset: Dataset, path: Path) -> LoadedFile:
    rdflib_format, _ = FORMATS[path.suffix]
    iri = graph_iri(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(e.strerror or str(e), display_path(path)) from None
    _check_utf8(path, data)
    try:
        if path.suffix in QUAD_SUFFIXES:
            # Parsed apart first: rdflib puts triples outside any GRAPH block in the default graph, and they
            # belong to the file's own graph; the file's named graphs keep their names.
            parsed = Dataset()
            parsed.parse(data=data, format=rdflib_format, publicID=path.resolve().as_uri())
            count, declared = 0, []
            for ctx in parsed.graphs():
                own = ctx.identifier == DATASET_DEFAULT_GRAPH_ID
                if not own and len(ctx):
                    declared.append(ctx.identifier)
                target = dataset.graph(iri if own else ctx.identifier)
                for triple in ctx:
                    target.add(triple)
                    count += 1
            return LoadedFile(path, iri, count, tuple(declared))
        else:
            graph = dataset.graph(iri)
            graph.parse(data=data, format=rdflib_format, publicID=path.resolve().as_uri())
            count = len(graph)
    except Exception as e:  # rdflib's parsers raise many types; each becomes a located syntax error
        raise _located(path, e) from None
    return LoadedFile(path, iri, count)


def load_files(dataset: Dataset, paths: list[Path]) -> list[LoadedFile]:
    return [load_file(dataset, p) for p in discover(paths)]


def load_into_store(kg_store, paths: list[Path]) -> list[LoadedFile]:
    """Parse files straight into a KGStore with Oxigraph's parser, one named graph per file as load_file does.

    The loading step of a build on the store (kg.build, engine "store"): the KG never passes through an rdflib
    graph, whose parser and memory do not scale to millions of triples. Triples outside any GRAPH block of a
    TriG or N-Quads file go to the file's own graph; its named graphs keep their names."""
    loaded = []
    store = kg_store.store
    for path in discover(paths):
        _, ox_format = FORMATS[path.suffix]
        iri = graph_iri(path)
        before = {g.value for g in store.named_graphs()} if path.suffix in QUAD_SUFFIXES else set()
        try:
            store.bulk_load(path=str(path), format=ox_format, base_iri=path.resolve().as_uri(), to_graph=ox.NamedNode(str(iri)))
        except SyntaxError as e:
            message = e.msg.split(": ", 1)[-1] if e.msg.startswith("Parser error") else e.msg
            raise SourceSyntaxError(display_path(path), e.lineno, e.offset, message) from None
        except (OSError, ValueError) as e:
            raise InputError(str(e).strip() or type(e).__name__, display_path(path)) from None
        declared = ()
        if path.suffix in QUAD_SUFFIXES:
            declared = tuple(URIRef(g.value) for g in store.named_graphs() if g.value not in before and g.value != str(iri))
        count = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(str(iri))))
        loaded.append(LoadedFile(path, iri, count, declared))
    return loaded


def union(dataset: Dataset) -> Graph:
    """Every triple of every graph of `dataset`, in one plain graph."""
    graph = Graph()
    for ctx in dataset.graphs():
        for triple in ctx:
            graph.add(triple)
    return graph


def parse_graph(paths: list[Path]) -> Graph:
    """All triples of the given files in one plain graph (for shapes and ontologies)."""
    ds = Dataset()
    load_files(ds, paths)
    graph = union(ds)
    for prefix, ns in ds.namespaces():
        graph.bind(prefix, ns, override=False)
    return graph


def _check_utf8(path: Path, data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SourceSyntaxError(display_path(path), line, column, f"invalid UTF-8 byte 0x{data[e.start]:02x}") from None


def _located(path: Path, error: Exception) -> SourceSyntaxError:
    shown = display_path(path)
    if isinstance(error, BadSyntax):
        text, offset = error._str, error._i
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return SourceSyntaxError(shown, line, column, error._why)
    if isinstance(error, json.JSONDecodeError):
        return SourceSyntaxError(shown, error.lineno, error.colno, error.msg)
    if isinstance(error, xml.sax.SAXParseException):
        return SourceSyntaxError(shown, error.getLineNumber(), error.getColumnNumber() + 1, error.getMessage())
    located = _locate_with_oxigraph(path)
    if located is not None:
        return located
    return SourceSyntaxError(shown, None, None, str(error).strip() or type(error).__name__)


def _locate_with_oxigraph(path: Path) -> SourceSyntaxError | None:
    _, ox_format = FORMATS[path.suffix]
    try:
        for _ in ox.parse(path=str(path), format=ox_format, base_iri=path.resolve().as_uri()):
            pass
    except SyntaxError as e:
        message = e.msg.split(": ", 1)[-1] if e.msg.startswith("Parser error") else e.msg
        return SourceSyntaxError(display_path(path), e.lineno, e.offset, message)
    return None
