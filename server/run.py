"""`kg serve`: the app under gunicorn, bound where the caller says (127.0.0.1 by default), over an on-disk build,
a build made in memory, or a SPARQL server."""

from __future__ import annotations

from datetime import datetime, timezone

from gunicorn.app.base import BaseApplication

from kg import __version__
from kg.errors import InputError
from kg.store.builds import BuildInfo, current_build
from kg.store.location import Location


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, config: dict):
        self.options = options
        self.app_config = config
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        # Each worker opens the store itself after the fork (read-only on disk; its own connections to a server).
        return create_app(self.app_config)


def serve(location: Location, settings: dict, store=None, remote: dict | None = None, published=None) -> int:
    """Run the app under gunicorn (registered as the `kg serve` server). `store` is a KG the caller already
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
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gunicorn's own timeout is the backstop that recycles a worker stuck past the query timeout.
        "timeout": int(timeout) + 30,
        "accesslog": settings["ACCESS_LOG"],
        "control_socket_disable": True,
    }
    print(f"serving {shown} on http://{host}:{port}/sparql with {workers} workers")
    _Gunicorn(options, {**settings, **store_config}).run()
    return 0


def _identity(store) -> BuildInfo:
    now = datetime.now(timezone.utc)
    sizes = store.graph_sizes()
    return BuildInfo(id="memory-" + now.strftime("%Y%m%dT%H%M%S%fZ"), created=now.isoformat(timespec="seconds"),
                     triples=len(store), graphs=len(sizes), inference="owlrl", kg_version=__version__, graph_sizes=sizes)
