"""`kg serve`: the app under gunicorn, bound where the caller says (127.0.0.1 by default), over an on-disk build,
a build made in memory, or a SPARQL server."""

from __future__ import annotations

from datetime import datetime, timezone

from gunicorn.app.base import BaseApplication

from kg import __version__
from kg.config import Paths
from kg.errors import InputError
from kg.store import BuildInfo, Location, current_build


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, store_config: dict, query_timeout: float, settings: dict):
        self.options = options
        self.settings = settings
        self.store_config = store_config
        self.query_timeout = query_timeout
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        # Each worker opens the store itself after the fork (read-only on disk; its own connections to a server).
        return create_app({**self.store_config, "QUERY_TIMEOUT": self.query_timeout, **self.settings})


def serve(location: Location, host: str, port: int, workers: int, timeout: float, settings: dict | None = None,
          access_log: str | None = None, paths: Paths | None = None, remote: dict | None = None) -> int:
    if workers < 1:
        raise InputError("must be at least 1", "--workers")
    # Fail early, in the foreground, if there is nothing to serve.
    if location.url is not None:
        from kg.remote_store import RemoteStore

        store = RemoteStore.connect(location.url, timeout=timeout, **(remote or {}))
        if store.info is None:
            raise InputError("this SPARQL server holds no complete build of the KG: run `kg build --store URL` "
                             "(a build cut short leaves none)", location.url)
        store_config = {"KG_STORE_URL": location.url, "KG_STORE_REMOTE": dict(remote or {})}
        shown = f"{location.url} ({store.kind}, build {store.info.id})"
    elif location.in_memory:
        from kg.build import build
        from kg.reason import Inference

        print("building the KG in memory ...")
        built = build(paths or Paths(), Inference.OWLRL, in_memory=True).store  # before the fork: workers share it
        built.info = _identity(built)  # one build id for every worker, as ETags and KG-Build need
        store_config = {"KG_STORE": built}
        shown = "a build in memory"
    else:
        current_build(location.path)
        store_config = {"KG_STORE_PATH": str(location.path)}
        shown = str(location.path.resolve())
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gunicorn's own timeout is the backstop that recycles a worker stuck past the query timeout.
        "timeout": int(timeout) + 30,
        # Off unless asked for: writing it costs about a fifth of the throughput of cached answers (bench/).
        "accesslog": access_log,
        "control_socket_disable": True,
    }
    print(f"serving {shown} on http://{host}:{port}/sparql with {workers} workers")
    _Gunicorn(options, store_config, timeout, settings or {}).run()
    return 0


def _identity(store) -> BuildInfo:
    now = datetime.now(timezone.utc)
    sizes = store.graph_sizes()
    return BuildInfo(id="memory-" + now.strftime("%Y%m%dT%H%M%S%fZ"), created=now.isoformat(timespec="seconds"),
                     triples=len(store), graphs=len(sizes), inference="owlrl", kg_version=__version__, graph_sizes=sizes)
