"""A running `kg serve` follows its store link: a new `kg build` is served without a restart or a failed request."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import requests

from kg.config import ROOT

from .conftest import copy_build
from .live import serving

LABEL = "Reload probe"
PROBE = f'ASK {{ ?s rdfs:label "{LABEL}"@en }}'


def _rebuild(link, data) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", "--store", str(link)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "KG_DATA": str(data)},
    )
    assert done.returncode == 0, done.stderr
    return link.resolve().name


def _data_with_probe(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "probe.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'<https://example.org/reload-probe> rdfs:label "{LABEL}"@en .\n'
    )
    return data


def _ask(base: str) -> tuple[bool, str]:
    r = requests.get(base + "/sparql", params={"query": PROBE}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    r.raise_for_status()
    return r.json()["boolean"], r.headers["KG-Build"]


def _wait_for_build(base: str, build: str, workers: int, seconds: float = 20) -> None:
    """Until each of the server's `workers` has answered from `build`. A worker that has moved never moves back, so
    counting the process ids seen on the new build is enough; which worker accepts a connection is up to the
    kernel, so a fixed number of requests may all reach the same one."""
    deadline = time.monotonic() + seconds
    moved = set()
    while time.monotonic() < deadline:
        try:
            health = requests.get(base + "/health", timeout=10).json()
        except requests.ConnectionError:  # while granian replaces the worker of a reload (SIGHUP)
            time.sleep(0.2)
            continue
        if health["build"] == build:
            moved.add(health["worker"])
            if len(moved) >= workers:
                return
        time.sleep(0.05)
    raise AssertionError(f"{len(moved)} of {workers} workers moved to build {build}")


def test_server_follows_a_new_build_without_dropping_requests(tmp_path, disk_store):
    link = copy_build(disk_store, tmp_path / "kg")
    first = link.resolve().name
    failures, answered = [], []
    stop = threading.Event()

    def client(base):
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    r = session.get(base + "/sparql", params={"query": PROBE}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                    else:
                        answered.append((r.headers["KG-Build"], r.json()["boolean"]))
                except requests.RequestException as e:
                    failures.append(repr(e))

    with serving(link, "--workers", "2") as base:
        assert _ask(base) == (False, first)
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            second = _rebuild(link, _data_with_probe(tmp_path))
            assert second != first
            _wait_for_build(base, second, workers=2)
            assert _ask(base) == (True, second)
            time.sleep(1)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        # A cached answer of the old build is never served as the new build's, nor the other way round.
        assert set(answered) <= {(first, False), (second, True)}
        assert (second, True) in answered
        assert not failures, failures[:5]

        # The dataset pages, cached per build, describe the new one too.
        void = requests.get(base + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=30)
        assert void.status_code == 200 and void.headers["KG-Build"] == second

        # And again, back to the original data: the build served before the last one is kept, and so is the first,
        # replaced less than KG_PRUNE_GRACE seconds ago (a slow query may still read it).
        third = _rebuild(link, ROOT / "data")
        _wait_for_build(base, third, workers=2)
        assert _ask(base) == (False, third)
        assert sorted(p.name for p in link.resolve().parent.iterdir() if not p.name.startswith(".")) == sorted([first, second, third])


def test_sighup_replaces_the_workers_on_the_new_build(tmp_path, disk_store):
    """The operator's other way: granian's graceful reload starts workers that open the current build."""
    link = copy_build(disk_store, tmp_path / "kg")
    with serving(link, "--workers", "1", "--follow-interval", "0") as base:
        first = requests.get(base + "/health", timeout=10).json()["build"]
        second = _rebuild(link, _data_with_probe(tmp_path))
        time.sleep(1.5)
        assert requests.get(base + "/health", timeout=10).json()["build"] == first  # not following: told to stay
        os.kill(base.pid, signal.SIGHUP)
        _wait_for_build(base, second, workers=1)
        assert _ask(base) == (True, second)



def test_an_app_that_moves_to_a_new_build_keeps_one_watchdog(tmp_path, disk_store):
    """Each build's backend reports stuck queries and memory to the app's one watchdog: following builds must not
    leave a watchdog thread behind per build."""
    from server import create_app

    link = copy_build(disk_store, tmp_path / "kg")
    app = create_app({"KG_STORE_PATH": str(link), "FOLLOW_INTERVAL": 0.01, "TESTING": True})
    client = app.test_client()
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200  # starts the watchdog
    first = app.config["KG_BACKEND"]
    watchdogs = sum(t.name == "kg-watchdog" for t in threading.enumerate())
    second = _rebuild(link, _data_with_probe(tmp_path))
    time.sleep(0.05)
    assert client.get("/sparql", query_string={"query": PROBE}).status_code == 200
    moved = app.config["KG_BACKEND"]
    assert moved.build_id == second != first.build_id
    assert moved.runner.watchdog is first.runner.watchdog
    assert sum(t.name == "kg-watchdog" for t in threading.enumerate()) == watchdogs
