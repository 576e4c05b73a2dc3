"""A running server follows the store link: a new build is served as soon as `kg build` switches to it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from threading import Lock

from flask import Flask

from kg.errors import InputError

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
            if new.build_id == old.build_id:
                return
            # Everything cached for the old build goes before any request can see the new one.
            self.cache.clear()
            config["KG_BACKEND"] = new  # queries still running on the old build finish on it


def read_link(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:  # not a link (a build folder given directly): nothing to follow
        return None
