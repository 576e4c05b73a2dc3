"""A running server follows its store: a new build is served as soon as `kg build` switches to it (on disk, the
store link; on a SPARQL server, the build record)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from threading import Lock

from flask import Flask

from kg.errors import InputError, StoreError

from .http.cache import Cache
from .sparql.backend import Backend, Limits


class FollowLink:
    """Outermost WSGI layer: before a request, moves the app to the build its store link points to now.

    `kg build` switches the link atomically once a build is complete; each worker notices on its next request
    (looking at most once per FOLLOW_INTERVAL: one readlink) and from then on answers from the new build. Requests
    already running finish on the old build, whose store is closed when the last of them lets go of it.
    """

    def __init__(self, app: Flask, link: Path, seen: str | None, cache: Cache):
        self.app, self.link, self.seen, self.cache = app, link, seen, cache
        self.wsgi_app = app.wsgi_app
        self.interval = app.config["FOLLOW_INTERVAL"]
        self.next_look = time.monotonic() + self.interval
        self.lock = Lock()

    def __call__(self, environ, start_response):
        if time.monotonic() >= self.next_look:
            self.look()
        return self.wsgi_app(environ, start_response)

    def look(self) -> None:
        with self.lock:
            now = time.monotonic()
            if now < self.next_look:
                return  # another thread just looked
            self.next_look = now + self.interval
            target = read_link(self.link)
            if target is None or target == self.seen:
                return
            config = self.app.config
            old = config["KG_BACKEND"]
            try:
                new = Backend.for_path(self.link, Limits.from_config(config))
            except (InputError, OSError, ValueError, TypeError) as e:  # keep serving; look again next time
                print(f"kg serve: cannot move to the build at {self.link} now: {e}", file=sys.stderr)
                return
            self.seen = target
            if new.build_id != old.build_id:
                _serve(self.app, self.cache, new)


class FollowServer:
    """Outermost WSGI layer in front of a SPARQL server (kg.store.remote): before a request, moves the app to the
    build the server serves now.

    `kg build --store URL` switches the server from one build to the next in one update request. A worker notices
    on its next request: at once when a query of its own met the new build (the RemoteStore then moved to it, to
    ask again), else when it looks (at most once per FOLLOW_INTERVAL: one small query). A request whose query met
    the switch answers from the new build under the old one's id; the requests after it, under the new id.
    """

    def __init__(self, app: Flask, cache: Cache):
        self.app, self.cache = app, cache
        self.wsgi_app = app.wsgi_app
        self.interval = app.config["FOLLOW_INTERVAL"]
        self.next_look = time.monotonic() + self.interval
        self.lock = Lock()

    def __call__(self, environ, start_response):
        backend = self.app.config["KG_BACKEND"]
        moved = backend.remote.info is not None and backend.remote.info.id != backend.build_id
        if moved or time.monotonic() >= self.next_look:
            self.look()
        return self.wsgi_app(environ, start_response)

    def look(self) -> None:
        with self.lock:
            config = self.app.config
            old = config["KG_BACKEND"]
            store = old.remote
            now = time.monotonic()
            if now >= self.next_look:
                self.next_look = now + self.interval
                try:
                    info = store.read_build()
                except StoreError as e:  # keep serving; look again next time
                    print(f"kg serve: cannot look for a new build now: {e}", file=sys.stderr)
                    return
                if info is not None:  # None: no build, or its record half rewritten by a switch under way
                    store.info = info
            if store.info is not None and store.info.id != old.build_id:
                _serve(self.app, self.cache, Backend.for_remote(store, old.timeout))


def _serve(app: Flask, cache: Cache, new: Backend) -> None:
    """Move the app to the backend of a new build. Everything cached for the old build goes before any request can
    see the new one; queries still running on the old build finish on it."""
    cache.clear()
    app.config["KG_BACKEND"] = new


def read_link(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:  # not a link (a build folder given directly): nothing to follow
        return None
