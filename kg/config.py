"""Where the KG's sources and store live. Every path can be overridden by the caller or the environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


def _root() -> Path:
    """The checkout this package runs from; installed without one (pre-commit does that), the copy of the
    ontology, shapes and data that the package installs under <prefix>/share/cohesion-kg."""
    checkout = Path(__file__).resolve().parent.parent
    installed = Path(sys.prefix) / "share" / "cohesion-kg"
    if not (checkout / "ontology").is_dir() and (installed / "ontology").is_dir():
        return installed
    return checkout


ROOT = _root()


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
