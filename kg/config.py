"""Where the KG's sources and store live. Every path can be overridden by the caller or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


@dataclass(frozen=True)
class Paths:
    ontology: Path = field(default_factory=lambda: _env_path("KG_ONTOLOGY", ROOT / "ontology"))
    shapes: Path = field(default_factory=lambda: _env_path("KG_SHAPES", ROOT / "shapes"))
    data: Path = field(default_factory=lambda: _env_path("KG_DATA", ROOT / "data"))
    # The store the server reads: a link to the current build under var/stores/.
    store: Path = field(default_factory=lambda: _env_path("KG_STORE", ROOT / "var" / "store"))
