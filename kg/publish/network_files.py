"""The whole networks as files, written at build time: /network without filters is then a file read.

Reading a whole network back from the store and serialising it takes seconds at 1M triples (the organisation
network's look-up alone is 476,000 rows; bench/results/network.md), while the KG does not change between builds.
So an on-disk build carries every export of both unfiltered networks in its folder, beside the dumps, written
inside the build's partial folder and so switched into place with it. Filtered networks are computed on request,
from what the look-up queries would read (each network, and the projects' filter attributes), which the build
writes here too as JSON: a worker's first filtered network then reads two files, not a million rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from kg.network import KINDS, lookup, network_graph
from kg.network.export import FORMATS
from kg.network.filters import Filters

NETWORK_DIR = "network"  # inside an on-disk build folder


PROJECTS = "projects.lookup.json"


def write(kg_store, folder: Path, build_id: str, pairs: dict[str, dict[tuple[str, str], set[str]]]) -> None:
    """`pairs`: kind -> the pairs the build materialised in `kg_store` (kg.network.materialise.Summary.pairs)."""
    folder.mkdir()
    for kind in KINDS:
        node_rows = lookup.rows_of(kg_store.query(lookup.nodes_of_network_query(kind)))
        network = lookup.network_of_pairs(kind, pairs[kind], node_rows)
        _write_json(folder / _lookup_name(kind), lookup.network_to_json(network))
        graph = network_graph(network, {}, Filters(), build=build_id)
        for fmt, spec in FORMATS.items():
            (folder / _name(kind, fmt)).write_bytes(spec.write(graph))
    projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY)))
    _write_json(folder / PROJECTS, lookup.projects_to_json(projects))


def read_network(build_folder: Path | None, kind: str) -> lookup.Network | None:
    """The materialised network of `kind` as the build wrote it, or None (no such file: query the store)."""
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


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _read_json(build_folder: Path | None, name: str) -> dict | None:
    if build_folder is None:
        return None
    try:
        return json.loads((build_folder / NETWORK_DIR / name).read_text(encoding="utf-8"))
    except FileNotFoundError:  # a build made before builds wrote it, or pruned from under a reader
        return None
