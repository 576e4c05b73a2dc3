"""Write a build's discovery index: one SQLite file, made under a temporary name and renamed into place, so a
reader never sees half of one. Each table's writer lives in the module of its job (records, search, facets)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import INDEX_DIR, INDEX_FILE, facets, records, search


def path_in(folder: Path) -> Path:
    return folder / INDEX_DIR / INDEX_FILE


def write(kg_store, folder: Path) -> Path:
    """Read the findable entities of a built KG (a kg.store.embedded.KGStore) and index them into
    `folder`/discovery/index.sqlite. Returns the file's path."""
    target = path_in(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        found = records.read(kg_store.store)
        ids = records.write(conn, found)
        search.write(conn)
        facets.write(conn, kg_store.select, ids)
        conn.commit()
        conn.execute("ANALYZE")
    except BaseException:
        conn.close()
        partial.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(partial, target)
    return target
