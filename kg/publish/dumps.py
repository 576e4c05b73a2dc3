"""Downloadable dumps of a built KG: the whole dataset, gzipped, with byte sizes and SHA-256 checksums.

Three files, so a harvester can take the form its tools read:
- `cohesion-kg.nq.gz`: N-Quads, every named graph (one per source file, plus the inferred one). The complete
  dataset: which file (and so which review) each statement comes from travels with it.
- `cohesion-kg.nt.gz`: N-Triples of the default graph the SPARQL endpoint answers from, the union of the named
  graphs with each triple once. One line per triple: the form to stream, grep, split or bulk-load.
- `cohesion-kg.ttl.gz`: the same union in Turtle with the KG's prefixes, for people who open the file.
Turtle holds the union rather than one file per graph: a single file loads in any tool and equals what /sparql
queries; whoever needs the graphs takes the N-Quads, which keep them all in one file too.

A folder of dumps is complete when its manifest exists: the manifest is written last. Callers make the folder
appear atomically (inside an on-disk build that is renamed into place, or a temporary folder renamed once full).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import PREFIXES

DUMPS_DIR = "dumps"  # inside an on-disk build folder, beside the database and build.json
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DumpFormat:
    name: str  # the file name, also its URL path under /dumps/
    title: str
    media_type: str  # of the uncompressed content (IANA); the file itself is gzip
    rdf_format: ox.RdfFormat
    file_type: str  # code in the EU file-type authority table (DCAT-AP dct:format)
    graphs: bool  # True: every named graph as quads; False: the union, as triples


FORMATS = (
    DumpFormat("cohesion-kg.nq.gz", "N-Quads", "application/n-quads", ox.RdfFormat.N_QUADS, "RDF_N_QUADS", True),
    DumpFormat("cohesion-kg.nt.gz", "N-Triples", "application/n-triples", ox.RdfFormat.N_TRIPLES, "RDF_N_TRIPLES", False),
    DumpFormat("cohesion-kg.ttl.gz", "Turtle", "text/turtle", ox.RdfFormat.TURTLE, "RDF_TURTLE", False),
)
BY_NAME = {f.name: f for f in FORMATS}


@dataclass(frozen=True)
class Dump:
    """One written file, as the manifest records it."""

    name: str
    bytes: int
    sha256: str
    statements: int  # quads for the N-Quads file, triples for the others

    @property
    def format(self) -> DumpFormat:
        return BY_NAME[self.name]


def write(kg_store, directory: Path, union: ox.Store) -> list[Dump]:
    """Write every dump of `kg_store` (a kg.store.embedded.KGStore) into `directory`, then its manifest; `union`
    is the union of its graphs (made by `union`). Oxigraph serialises every statement itself, straight from the
    store: no Python object per triple (at a million triples, reading the union into Python and writing it again
    took two thirds of the dumps' time)."""
    directory.mkdir(parents=True, exist_ok=True)
    dumps = [_write_one(kg_store.store if fmt.graphs else union, fmt, directory / fmt.name) for fmt in FORMATS]
    manifest = {"files": [asdict(d) for d in dumps]}
    tmp = directory / (MANIFEST + ".partial")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
    return dumps


def read(directory: Path) -> list[Dump] | None:
    """The dumps a folder holds, from its manifest; None when the folder has no complete set."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        dumps = [Dump(**entry) for entry in manifest["files"] if entry["name"] in BY_NAME]
    except (OSError, ValueError, TypeError, KeyError):  # absent, or written by another version: not ours to serve
        return None
    return dumps if all((directory / d.name).is_file() for d in dumps) else None


def _write_one(store: ox.Store, fmt: DumpFormat, path: Path) -> Dump:
    """Write `store` in `fmt`: all its quads, or the triples of its default graph (a union made by `union`)."""
    with open(path, "wb") as raw:
        hashed = _Hashing(raw)  # the checksum of the bytes as they are written: the file is not read again
        # mtime 0: the bytes depend on the content alone, not on when the file was written.
        # Level 6, gzip's own default: level 9 took twice as long for files a few per cent smaller.
        with gzip.GzipFile(filename=path.name.removesuffix(".gz"), mode="wb", fileobj=hashed, mtime=0, compresslevel=6) as out:
            if fmt.graphs:
                store.dump(out, fmt.rdf_format)
            else:
                prefixes = dict(PREFIXES) if fmt.rdf_format == ox.RdfFormat.TURTLE else None
                store.dump(out, fmt.rdf_format, from_graph=ox.DefaultGraph(), prefixes=prefixes)
    return Dump(fmt.name, path.stat().st_size, hashed.digest.hexdigest(), len(store))


def union(store: ox.Store) -> ox.Store:
    """The union of `store`'s named graphs, each triple once although two source files may state it, as the
    default graph of a store in memory, which both triple formats dump in its own order (the same for the same
    content, each subject's triples together for the Turtle writer). Filled by Oxigraph from the graphs' N-Triples
    read as one document, so that a blank node stated in two graphs stays one: no Python object per triple (at a
    million triples a SPARQL CONSTRUCT of the union took 24 s per format, this 20 s in all, then 4-5 s a format).
    The site's figures count the same union (kg.publish.description.compute)."""
    union = ox.Store()
    graphs = (store.dump(None, ox.RdfFormat.N_TRIPLES, from_graph=g) for g in store.named_graphs())
    union.load(io.BufferedReader(_Chained(graphs), 1 << 20), ox.RdfFormat.N_TRIPLES)
    return union


class _Chained(io.RawIOBase):
    """A binary file reading the byte strings of `parts` one after the other."""

    def __init__(self, parts):
        self.parts, self.part, self.at = iter(parts), memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.at == len(self.part):
            part = next(self.parts, None)
            if part is None:
                return 0
            self.part, self.at = memoryview(part), 0
        n = min(len(buffer), len(self.part) - self.at)
        buffer[:n] = self.part[self.at:self.at + n]
        self.at += n
        return n


class _Hashing:
    """A binary file that hashes what is written through it."""

    def __init__(self, raw):
        self.raw, self.digest = raw, hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()
