"""The whole networks as files, written at build time: /network without filters is then a file read.

Reading a whole network back from the store and serialising it takes seconds at 1M triples (the organisation
network's look-up alone is 476,000 rows; bench/results/network.md), while the KG does not change between builds.
So an on-disk build carries every export of both unfiltered networks in its folder, beside the dumps, written
inside the build's partial folder and so switched into place with it. Filtered networks are computed on request.
"""

from __future__ import annotations

from pathlib import Path

from kg.network import KINDS, lookup, network_graph
from kg.network.export import FORMATS
from kg.network.filters import Filters

NETWORK_DIR = "network"  # inside an on-disk build folder


def write(kg_store, folder: Path, build_id: str) -> None:
    folder.mkdir()
    for kind in KINDS:
        network = lookup.read_network(kind, lookup.rows_of(kg_store.query(lookup.network_query(kind))))
        graph = network_graph(network, {}, Filters(), build=build_id)
        for fmt, spec in FORMATS.items():
            (folder / _name(kind, fmt)).write_bytes(spec.write(graph))


def find(build_folder: Path | None, kind: str, fmt: str) -> Path | None:
    """The file of the unfiltered `kind` network in `fmt`, when the build has one."""
    if build_folder is None:
        return None
    path = build_folder / NETWORK_DIR / _name(kind, fmt)
    return path if path.is_file() else None


def _name(kind: str, fmt: str) -> str:
    return f"{kind}.{fmt}"
