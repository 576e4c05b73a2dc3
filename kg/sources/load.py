"""Load RDF source files into an rdflib Dataset, one named graph per file.

A file that cannot be read stops the load with a SourceSyntaxError naming file, line and column.
rdflib parses; where rdflib's own error carries no position, the file is re-read by Oxigraph's parser
only to locate the error. A file that parses but holds an ill-typed literal or a malformed language tag loads,
with the bad literals listed in its LoadedFile (kg.sources.literals) for the report to show as violations.
"""

from __future__ import annotations

import hashlib
import json
import re
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
from kg.sources import literals, positions
from kg.sources.literals import BadLiteral

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
    bad_literals: tuple[BadLiteral, ...] = ()  # ill-typed literals and malformed language tags, with their places


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
            parsed_triples = ((s, p, o) for s, p, o, _ in parsed.quads((None, None, None, None)))
        else:
            graph = dataset.graph(iri)
            graph.parse(data=data, format=rdflib_format, publicID=path.resolve().as_uri())
            count, declared, parsed_triples = len(graph), [], graph
    except Exception as e:  # rdflib's parsers raise many types; each becomes a located syntax error
        raise _located(path, e) from None
    bad = literals.check_triples(path, display_path(path), parsed_triples)
    return LoadedFile(path, iri, count, tuple(declared), tuple(bad))


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
        own = ox.NamedNode(str(iri))
        try:
            try:
                store.bulk_load(path=str(path), format=ox_format, base_iri=path.resolve().as_uri(), to_graph=own)
            except SyntaxError as e:
                if not _only_language_tags_wrong(path):
                    raise
                # Loaded as rdflib loads it, so that the malformed tags are reported as violations by both engines.
                store.bulk_load(path=str(path), format=ox_format, base_iri=path.resolve().as_uri(), to_graph=own, lenient=True)
        except SyntaxError as e:
            raise _oxigraph_error(path, e) from None
        except (OSError, ValueError) as e:
            if "utf-8" in str(e).lower() or "utf8" in str(e).lower():
                _check_utf8(path, path.read_bytes())  # Oxigraph names no place for a bad byte: find it, as load_file does
            raise InputError(str(e).strip() or type(e).__name__, display_path(path)) from None
        declared = ()
        if path.suffix in QUAD_SUFFIXES:
            declared = tuple(URIRef(g.value) for g in store.named_graphs() if g.value not in before and g.value != str(iri))
        count = sum(1 for _ in store.quads_for_pattern(None, None, None, own))
        bad = [b for g in (own, *(ox.NamedNode(str(d)) for d in declared))
               for b in literals.check_store_graph(store, g, path, display_path(path))]
        loaded.append(LoadedFile(path, iri, count, declared, tuple(sorted(bad, key=lambda b: (b.line, b.column)))))
    return loaded


_LANGUAGE_TAG = re.compile(r"(?<=[\"'])@[A-Za-z]+(?:-[A-Za-z0-9]+)*")


def _only_language_tags_wrong(path: Path) -> bool:
    """Whether Oxigraph's strict parser refuses a Turtle-family file only for its malformed language tags: with
    each such tag masked (same length, so every other error keeps its place), the file must parse strictly,
    and any other error is raised with its own place."""
    if path.suffix not in positions.TURTLE_LIKE | positions.LINE_BASED:
        return False
    text = path.read_text(encoding="utf-8")
    masked = 0

    def mask(m: re.Match) -> str:
        nonlocal masked
        if literals.language_tag_error(m.group()[1:]) is None:
            return m.group()
        masked += 1
        return "@en".ljust(len(m.group()))

    patched = _LANGUAGE_TAG.sub(mask, text)
    if not masked:
        return False
    _, ox_format = FORMATS[path.suffix]
    try:
        for _ in ox.parse(patched, format=ox_format, base_iri=path.resolve().as_uri()):
            pass
    except SyntaxError as e:
        raise _oxigraph_error(path, e) from None
    return True


def _oxigraph_error(path: Path, e: SyntaxError) -> SourceSyntaxError:
    message = e.msg.split(": ", 1)[-1] if e.msg.startswith("Parser error") else e.msg
    return SourceSyntaxError(display_path(path), e.lineno, e.offset, message)


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
        return _oxigraph_error(path, e)
    return None
