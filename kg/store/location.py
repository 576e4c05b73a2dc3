"""What `--store` names: an on-disk build's link, a SPARQL server's URL, or a KG built in memory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from kg.config import Paths
from kg.store.remote import check_url

MEMORY = "memory"  # `--store memory`: the KG built from its sources in this process, kept nowhere


@dataclass(frozen=True)
class Location:
    """What `--store` names: an on-disk build's link (`path`), a SPARQL server's query endpoint (`url`), or,
    with neither, a store built in memory."""

    path: Path | None = None
    url: str | None = None

    @property
    def in_memory(self) -> bool:
        return self.path is None and self.url is None

    def __str__(self) -> str:
        return self.url or (str(self.path) if self.path is not None else MEMORY)


def locate(text: str | None) -> Location:
    """The store `--store TEXT` names; without it, $KG_STORE, else var/store. A folder called "memory" is
    ./memory."""
    if text is None:
        text = os.environ.get("KG_STORE") or None
    if text is None:
        return Location(path=Paths().store)
    if text == MEMORY:
        return Location()
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        return Location(url=check_url(text))
    return Location(path=Path(text))
