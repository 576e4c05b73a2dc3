"""The whole networks as files, written at build time: /network without filters is then a file read.

Reading a whole network back from the store and serialising it takes seconds at 1M triples (the organisation
network's look-up alone is 476,000 rows; bench/results/network.md), while the KG does not change between builds.
So an on-disk build carries every export of both unfiltered networks in its folder, beside the dumps, written
inside the build's partial folder and so switched into place with it. Filtered networks are computed on request,
from what the look-up queries would read (each network, and the projects' filter attributes), which the build
writes here too: a worker's first filtered network then reads two files, not a million rows.

A network's look-up is written as its columns (`organisation.lookup.columns`): one line of JSON (the kind, the
nodes' attributes, where each column lies), then the columns' bytes: the IRIs one a line, the positions as 32-bit
integers. At 1M triples a worker reads it in 0.07 s, where the JSON look-up took 1.0 s (pickle 0.5 s, of the same
dictionaries); reading it runs no code from the file, as unpickling would. The projects' filter attributes stay
JSON (7,000 projects at 1M, read in 0.03 s). Builds made before the columns (`organisation.lookup.json`) are read
as they were.
"""

from __future__ import annotations

import json
import sys
from array import array
from pathlib import Path

from kg.network import KINDS, lookup, network_graph
from kg.network.export import FORMATS
from kg.network.filters import Filters

NETWORK_DIR = "network"  # inside an on-disk build folder


PROJECTS = "projects.lookup.json"
COLUMNS = b"cohesion-kg network columns 1\n"  # the first line of a columns file, with its version
LINES = ("names", "keys", "projects")  # the columns of IRIs; the others are of positions


def write(kg_store, folder: Path, build_id: str, pairs: dict[str, dict[tuple[str, str], set[str]]]) -> None:
    """`pairs`: kind -> the pairs the build materialised in `kg_store` (kg.network.materialise.Summary.pairs)."""
    folder.mkdir()
    for kind in KINDS:
        node_rows = lookup.rows_of(kg_store.query(lookup.nodes_of_network_query(kind)))
        network = lookup.network_of_pairs(kind, pairs[kind], node_rows)
        _write_columns(folder / _columns_name(kind), network)
        graph = network_graph(network, {}, Filters(), build=build_id)
        for fmt, spec in FORMATS.items():
            (folder / _name(kind, fmt)).write_bytes(spec.write(graph))
    projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY)))
    _write_json(folder / PROJECTS, lookup.projects_to_json(projects))


def read_network(build_folder: Path | None, kind: str) -> lookup.Network | None:
    """The materialised network of `kind` as the build wrote it, or None (no such file: query the store)."""
    if build_folder is None:
        return None
    try:
        return _read_columns(build_folder / NETWORK_DIR / _columns_name(kind))
    except FileNotFoundError:
        document = _read_json(build_folder, _lookup_name(kind))
        return None if document is None else lookup.network_from_json(document)


def read_projects(build_folder: Path | None) -> dict[str, lookup.Project] | None:
    document = _read_json(build_folder, PROJECTS)
    return None if document is None else lookup.projects_from_json(document)


def find(build_folder: Path | None, kind: str, fmt: str) -> Path | None:
    """The file of the unfiltered `kind` network in `fmt`, when the build has one."""
    if build_folder is None:
        return None
    path = build_folder / NETWORK_DIR / _name(kind, fmt)
    return path if path.is_file() else None


def _name(kind: str, fmt: str) -> str:
    return f"{kind}.{fmt}"


def _lookup_name(kind: str) -> str:
    return f"{kind}.lookup.json"


def _columns_name(kind: str) -> str:
    return f"{kind}.lookup.columns"


def _write_columns(path: Path, network: lookup.Network) -> None:
    columns = {name: "\n".join(getattr(network, name)).encode("utf-8") for name in LINES}
    columns.update((name, getattr(network, name).tobytes()) for name in ("a", "b", "starts", "shared"))
    places, at = {}, 0
    for name, data in columns.items():
        places[name] = [at, len(data)]
        at += len(data)
    head = {"kind": network.kind, "byteorder": sys.byteorder, "nodes": network.nodes, "columns": places}
    with path.open("wb") as out:
        out.write(COLUMNS)
        out.write(json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        for data in columns.values():
            out.write(data)


def _read_columns(path: Path) -> lookup.Network:
    data = path.read_bytes()
    if not data.startswith(COLUMNS):
        raise ValueError(f"{path}: not a network columns file of this version of kg")
    end = data.index(b"\n", len(COLUMNS))
    head = json.loads(data[len(COLUMNS):end])
    body = memoryview(data)[end + 1:]
    columns = {}
    for name, (at, size) in head["columns"].items():
        part = body[at:at + size]
        if name in LINES:
            text = str(part, "utf-8")
            columns[name] = text.split("\n") if text else []
        else:
            column = array(lookup.INT)
            column.frombytes(part)
            if head["byteorder"] != sys.byteorder:  # written on a machine of the other byte order
                column.byteswap()
            columns[name] = column
    return lookup.Network(head["kind"], head["nodes"], **columns)


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _read_json(build_folder: Path | None, name: str) -> dict | None:
    if build_folder is None:
        return None
    try:
        return json.loads((build_folder / NETWORK_DIR / name).read_text(encoding="utf-8"))
    except FileNotFoundError:  # a build made before builds wrote it, or pruned from under a reader
        return None
