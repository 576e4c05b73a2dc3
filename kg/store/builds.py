"""What a build is on disk: a folder under `var/stores/<build id>/` with the database and its `build.json`,
and a symbolic link (`var/store`) to the current one. kg.store.switch writes them; this module reads them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError

DB_DIR = "oxigraph"
META_FILE = "build.json"


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


def current_build(link: Path) -> tuple[Path, BuildInfo]:
    """The build folder `link` points to and its metadata, without opening the database."""
    target = link.resolve()
    meta = target / META_FILE
    if not meta.is_file():
        raise InputError("no built store here: run `kg build` first", str(link))
    return target, BuildInfo(**json.loads(meta.read_text()))
