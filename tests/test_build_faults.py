"""A build that dies at any point leaves the previous store linked, intact and answering; the next build
clears what the dead one left.

Each fault is a real SIGKILL: the build runs in a subprocess whose code is patched (before `kg build` starts)
so that the process kills itself on reaching the named point. Nothing in the build itself knows about it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kg.config import ROOT
from kg.store.builds import DB_DIR, META_FILE
from kg.store.embedded import KGStore
from kg.store.switch import write_build

from .conftest import copy_build

# Where to die in a build of the default engine (store): the attribute to patch (module, name) and when, relative to
# calling the original. That engine makes the build in memory inside the new build's folder's process, and copies it
# into the folder's database while the publishing steps run in forked worker processes. The points inside those
# steps are reached in the build's own process with one worker (KG_BUILD_WORKERS=1); a worker killed is
# test_a_killed_worker_fails_the_build_with_one_line.
POINTS = {
    "after-load": ("kg.reasoning.rules", "materialise", "before"),  # sources loaded, nothing reasoned yet
    "during-validation": ("kg.validation.compiled", "validate_store_report", "before"),
    "during-store-write": ("kg.build", "materialise", "before"),  # the new database made, not yet filled
    "during-dumps": ("kg.publish.dumps", "_write_one", "after"),  # the first dump file written, the others not
    "before-network-files": ("kg.publish.network_files", "write", "before"),  # the second publishing step
    "while-workers-publish": ("kg.build", "as_completed", "before"),  # the workers started, and left running
    "before-rename": ("os", "rename", "before"),  # database and build.json complete (the build's only rename)
    "before-link-switch": ("kg.store.switch", "_switch_link", "before"),  # renamed into place, not linked
}
WORKERS = {"during-dumps": "1", "before-network-files": "1", "while-workers-publish": "2"}

DRIVER = textwrap.dedent("""
    import importlib, os, signal, sys
    module, name, when = sys.argv[1:4]
    target = importlib.import_module(module)
    original = getattr(target, name)

    def die(*args, **kwargs):
        if when == "after":
            original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(target, name, die)
    from kg.cli import main
    sys.exit(main(sys.argv[4:]))
""")


def _killed_build(link, point: str) -> subprocess.CompletedProcess:
    module, name, when = POINTS[point]
    return subprocess.run(
        [sys.executable, "-c", DRIVER, module, name, when, "build", "--store", str(link)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "KG_BUILD_WORKERS": WORKERS.get(point, "2")},
    )


def _answers(link) -> int:
    store = KGStore.open(link)
    try:
        return int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)
    finally:
        del store


def _builds(stores):
    """Folders a reader could take for a build: not hidden, and holding a database."""
    return sorted(p.name for p in stores.iterdir() if not p.name.startswith(".") and (p / DB_DIR).exists())


@pytest.fixture(scope="module")
def live(tmp_path_factory, disk_store):
    """A build of its own, copied from the session's: these tests kill and replace builds."""
    return copy_build(disk_store, tmp_path_factory.mktemp("faults"))


@pytest.mark.parametrize("point", list(POINTS))
def test_a_killed_build_leaves_the_previous_store_serving(live, point):
    before = live.resolve()
    stores = before.parent
    triples = _answers(live)
    done = _killed_build(live, point)
    assert done.returncode == -9, f"{point} was not reached: {done.returncode}\n{done.stderr[-2000:]}"
    assert live.resolve() == before
    assert (before / META_FILE).is_file()
    assert _answers(live) == triples
    # What the dead build left is hidden (.ID.partial), or a complete folder the link never pointed to.
    for leftover in set(_builds(stores)) - {before.name}:
        assert point == "before-link-switch" and (stores / leftover / META_FILE).is_file()


@pytest.mark.parametrize("function, message", [
    ("_measure_networks", "the network measures' worker process ended abruptly"),
    ("_publish_step", "a publishing worker process ended abruptly"),
])
def test_a_killed_worker_fails_the_build_with_one_line(live, function, message):
    """The operating system may kill a worker (out of memory): the build stops with one line, not a traceback,
    removes its folder, and the previous store stays linked. Here the forked worker kills itself as it starts."""
    before = live.resolve()
    triples = _answers(live)
    done = subprocess.run([sys.executable, "-c", DRIVER, "kg.build", function, "before", "build", "--store", str(live)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "KG_BUILD_WORKERS": "2"})
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert live.resolve() == before and _answers(live) == triples
    assert not list(before.parent.glob(".*.partial"))


def test_the_next_build_clears_what_killed_builds_left(live):
    # A killed build's partial folder is already gone when the next build starts writing: kill it last.
    stores = live.resolve().parent
    previous = live.resolve()
    assert _killed_build(live, "before-link-switch").returncode == -9
    assert _killed_build(live, "during-dumps").returncode == -9
    assert list(stores.glob(".*.partial"))
    assert len(_builds(stores)) > len({previous.name})  # the complete folder never linked
    done = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--store", str(live)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    current = live.resolve()
    assert current != previous
    assert not list(stores.glob(".*.partial"))
    # The build served until now stays for requests still running on it; orphans and older builds go.
    assert _builds(stores) == sorted([previous.name, current.name])
    assert _answers(live) > 0


@pytest.mark.parametrize("stage", ["fill", "flush", "meta", "rename", "switch"])
def test_an_exception_at_any_stage_writes_nothing(tmp_path, monkeypatch, stage):
    """The same in-process: a failure (disk full, a bug) removes the new folder and leaves the link alone."""
    import kg.store.switch as store_module

    link, stores = tmp_path / "store", tmp_path / "stores"
    write_build(stores, link, lambda s, i: None, {"inference": "none", "kg_version": "test"})
    before = link.resolve()

    def boom(*args, **kwargs):
        raise OSError(f"injected at {stage}")

    fill = lambda s, i: None
    if stage == "fill":
        fill = boom
    elif stage == "flush":
        monkeypatch.setattr(store_module.KGStore, "graph_sizes", boom)
    elif stage == "meta":
        monkeypatch.setattr(store_module, "asdict", boom)
    elif stage == "rename":
        monkeypatch.setattr(store_module.os, "rename", boom)
    else:
        monkeypatch.setattr(store_module, "_switch_link", boom)
    with pytest.raises(OSError, match="injected"):
        write_build(stores, link, fill, {"inference": "none", "kg_version": "test"})
    assert link.resolve() == before
    assert sorted(p.name for p in stores.iterdir()) == [before.name]
    assert KGStore.open(link).info.id == before.name


def test_a_replaced_build_is_kept_for_the_grace_period(tmp_path, monkeypatch):
    """Two builds within one query timeout: the build before the previous one may still be read by a slow query,
    so it stays until the grace period after its replacement is over, and goes at the first build after that."""
    import kg.store.switch as store_module

    link, stores = tmp_path / "store", tmp_path / "stores"
    empty = lambda s, i: None
    meta = {"inference": "none", "kg_version": "test"}
    first = write_build(stores, link, empty, meta).id
    second = write_build(stores, link, empty, meta).id
    assert (stores / first / store_module.RETIRED_FILE).is_file()
    third = write_build(stores, link, empty, meta).id
    assert sorted(p.name for p in stores.iterdir()) == [first, second, third]

    monkeypatch.setattr(store_module, "PRUNE_GRACE", 0)
    fourth = write_build(stores, link, empty, meta).id
    assert sorted(p.name for p in stores.iterdir()) == [third, fourth]
    assert KGStore.open(link).info.id == fourth
