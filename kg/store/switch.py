"""Writing a build and switching to it atomically.

A build writes a new folder under `var/stores/` and switches the link with one atomic rename only when it is
complete, so a failed or killed build leaves the previous store serving and intact. A running server follows
the link (server.follow), so the build it served last is kept beside the new one, and an older one is kept
until PRUNE_GRACE seconds after it was replaced, for a slow query that may still be reading it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from kg.store.builds import DB_DIR, META_FILE, BuildInfo
from kg.store.embedded import KGStore

RETIRED_FILE = "replaced"  # written into a build when the link moves off it; its time starts the grace period
# Seconds a replaced build is kept for queries still reading it: well above the longest query timeout.
PRUNE_GRACE = float(os.environ.get("KG_PRUNE_GRACE", 600))


def write_build(stores_dir: Path, link: Path, fill, info_fields: dict) -> BuildInfo:
    """Create a new on-disk build, fill it with `fill(KGStore, build_id)`, then switch `link` to it atomically."""
    stores_dir.mkdir(parents=True, exist_ok=True)
    # Builds into one stores folder take turns (a lock on the folder itself, released when the process ends
    # however it ends): otherwise one build's clean-up would delete another's folder while it is being written.
    lock = os.open(stores_dir, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _remove_partials(stores_dir)  # left by a build that was killed: nothing else is writing now
        return _write_build(stores_dir, link, fill, info_fields)
    finally:
        os.close(lock)


def _write_build(stores_dir: Path, link: Path, fill, info_fields: dict) -> BuildInfo:
    build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = stores_dir / build_id
    partial = stores_dir / f".{build_id}.partial"
    previous = link.resolve() if link.is_symlink() else None
    try:
        partial.mkdir()
        kg_store = KGStore(ox.Store(str(partial / DB_DIR)), path=partial)
        fill(kg_store, build_id)
        kg_store.store.flush()
        kg_store.store.optimize()
        info = BuildInfo(
            id=build_id,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            triples=len(kg_store),
            graphs=len(kg_store.named_graphs()),
            graph_sizes=kg_store.graph_sizes(),
            **info_fields,
        )
        del kg_store  # close RocksDB before the folder is renamed
        (partial / META_FILE).write_text(json.dumps(asdict(info), indent=2) + "\n")
        os.rename(partial, target)
        _switch_link(link, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if target.exists() and link.resolve() != target:  # renamed but never switched to: not a build anyone serves
            shutil.rmtree(target, ignore_errors=True)
        raise
    if previous is not None and previous != target:
        try:
            (previous / RETIRED_FILE).write_text(datetime.now(timezone.utc).isoformat(timespec="seconds") + "\n")
        except OSError:
            pass  # without the mark it is pruned by the next build at once, as builds were before the grace period
    # Another link beside this one may share the stores folder (`kg build --store other`): its build stays too.
    linked = {p.resolve() for p in link.parent.iterdir() if p.is_symlink()}
    _prune(stores_dir, keep={target, previous, *linked}, grace=PRUNE_GRACE)
    return info


def _switch_link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(link.name + ".switch")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)  # atomic: readers see the old build or the new one, never neither


def _prune(stores_dir: Path, keep: set[Path | None], grace: float) -> None:
    """Delete every build but the new one and the one the link pointed to before it. Servers move to the new
    build within a second of their next request; the previous one stays for the requests still running on it.
    An older build that was served goes only `grace` seconds after it was replaced: when two builds finish within
    one query timeout, a slow query may still be reading it. A build that was renamed into place but never
    linked (killed between the two) was never served and goes at once."""
    now = time.time()
    for old in stores_dir.iterdir():
        if not old.is_dir() or old.name.startswith(".") or old in keep:
            continue
        try:
            replaced = (old / RETIRED_FILE).stat().st_mtime
        except OSError:
            replaced = None  # never served (or served before builds were marked): nobody can be reading it
        if replaced is None or now - replaced >= grace:
            shutil.rmtree(old, ignore_errors=True)


def _remove_partials(stores_dir: Path) -> None:
    for leftover in stores_dir.glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
