"""`kg serve`: the app under granian (its WSGI interface), bound where the caller says (127.0.0.1 by default),
over an on-disk build, a build made in memory, or a SPARQL server.

granian's HTTP front is written in Rust; each worker process runs the Flask app in a pool of request threads
(--threads), and pyoxigraph evaluates queries in those threads (server.sparql.runner). Measured side by side
for the endpoint issue, granian answered look-ups at about twice gunicorn's rate on this machine.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from kg import __version__
from kg.errors import InputError
from kg.store.builds import BuildInfo, current_build
from kg.store.location import Location

def serve(location: Location, settings: dict, store=None, remote: dict | None = None, published=None) -> int:
    """Run the app under granian (registered as the `kg serve` server). `store` is a KG the caller already
    built in memory, `published` where that build published (kg.build.Outcome.published); else the app reads
    the on-disk build at `location.path` or fronts the server at `location.url`. The server never builds: it
    only reads what a build wrote."""
    timeout = settings["QUERY_TIMEOUT"]
    # Fail early, in the foreground, if there is nothing to serve.
    if store is not None:
        if store.info is None:
            store.info = _identity(store)  # one build id for every worker, as ETags and KG-Build need
        store_config = {"KG_STORE": store, "KG_PUBLISHED": published}
        shown = "a build in memory"
    elif location.url is not None:
        from kg.store.remote import RemoteStore

        remote_store = RemoteStore.connect(location.url, timeout=timeout, **(remote or {}))
        if remote_store.info is None:
            raise InputError("this SPARQL server holds no complete build of the KG: run `kg build --store URL` "
                             "(a build cut short leaves none)", location.url)
        store_config = {"KG_STORE_URL": location.url, "KG_STORE_REMOTE": dict(remote or {})}
        shown = f"{location.url} ({remote_store.kind}, build {remote_store.info.id})"
    else:
        current_build(location.path)
        store_config = {"KG_STORE_PATH": str(location.path)}
        shown = str(location.path.resolve())
    host, port, workers = settings["HOST"], settings["PORT"], settings["WORKERS"]
    access_log = settings["ACCESS_LOG"]
    # Workers are forked so that a build made in memory is shared with them rather than copied to each.
    multiprocessing.set_start_method("fork", force=True)
    server = Server(
        "kg-serve",  # granian's name for the app; the app itself comes from _load below
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=settings["THREADS"],
        backlog=2048,
        respawn_failed_workers=True,  # a worker recycled for a stuck query (server.sparql.watchdog) comes back
        respawn_interval=0,
        workers_kill_timeout=5,
        log_level=LogLevels.warning,
        log_access=bool(access_log),
        log_dictconfig=_access_log_config(access_log) if access_log else None,
    )
    print(f"serving {shown} on http://{host}:{port}/sparql with {workers} workers of {settings['THREADS']} threads",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="kg-serve-") as run_dir:
        turns = {"RECYCLE_TURNS": str(Path(run_dir) / "recycle.lock")}
        server.serve(target_loader=partial(_load, {**settings, **store_config, **turns}), wrap_loader=False)
    return 0


def _load(config: dict):
    """In each worker, after the fork: the app, opening the store itself (read-only on disk; its own connections
    to a server), with a stuck query or too much memory recycling the worker."""
    from .app import create_app
    from .sparql import watchdog

    watchdog.born_now(config["RECYCLE_TURNS"])
    return create_app({**config, "ON_TROUBLE": watchdog.recycle_worker, "WORKER_MEMORY": config["MEMORY_LIMIT_MB"] * 2**20})


def _access_log_config(target: str) -> dict:
    handler = ({"class": "logging.StreamHandler", "stream": "ext://sys.stdout"} if target == "-"
               else {"class": "logging.FileHandler", "filename": target})
    return {"handlers": {"console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
                         "access": {"formatter": "access", **handler}}}


def _identity(store) -> BuildInfo:
    now = datetime.now(timezone.utc)
    sizes = store.graph_sizes()
    return BuildInfo(id="memory-" + now.strftime("%Y%m%dT%H%M%S%fZ"), created=now.isoformat(timespec="seconds"),
                     triples=len(store), graphs=len(sizes), inference="owlrl", kg_version=__version__, graph_sizes=sizes)
