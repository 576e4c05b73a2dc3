"""`kg serve`: the app under gunicorn, bound where the caller says (127.0.0.1 by default)."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import BaseApplication

from kg.errors import InputError
from kg.store import current_build


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, store_path: Path, query_timeout: float, settings: dict):
        self.options = options
        self.settings = settings
        self.store_path = store_path
        self.query_timeout = query_timeout
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        # Each worker opens the store read-only itself after the fork.
        return create_app({"KG_STORE_PATH": str(self.store_path), "QUERY_TIMEOUT": self.query_timeout, **self.settings})


def serve(store: Path, host: str, port: int, workers: int, timeout: float, settings: dict | None = None, access_log: str | None = None) -> int:
    current_build(store)  # fail early, in the foreground, if there is no build to serve
    if workers < 1:
        raise InputError("must be at least 1", "--workers")
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gunicorn's own timeout is the backstop that recycles a worker stuck past the query timeout.
        "timeout": int(timeout) + 30,
        # Off unless asked for: writing it costs about a fifth of the throughput of cached answers (bench/).
        "accesslog": access_log,
        "control_socket_disable": True,
    }
    print(f"serving {store.resolve()} on http://{host}:{port}/sparql with {workers} workers")
    _Gunicorn(options, store, timeout, settings or {}).run()
    return 0
