"""The one cache of a worker: values the KG gives, kept within one byte budget (CACHE_BYTES), least recently
used out first, emptied when the worker moves to a new build (server.follow).

The KG does not change within a build, so whatever is computed from it can be kept until the next build: whole
answers to repeated GET requests (ResponseCache, below), rendered documents (dataset), the network's look-ups
and filtered graphs (network). One budget for all of them keeps a worker's memory bounded by one setting.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Callable, Hashable

from flask import current_app

EXTENSION = "kg-cache"


class Cache:
    """Values by key within `budget` bytes, as weighed by whoever puts them; a value over a quarter of the
    budget is not kept (it would push out everything else for one answer)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: Hashable):
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value, size: int) -> None:
        if size > self.budget // 4:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, size)
            self.used += size
            while self.used > self.budget:
                _, (_, old) = self.items.popitem(last=False)
                self.used -= old

    def get_or_make(self, key: Hashable, make: Callable[[], object], weigh: Callable[[object], int] = len):
        """The value kept under `key`, else `make()` kept (made outside the lock: it may take long)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value, weigh(value))
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0


_making: dict[str, Lock] = {}


def per_build(name: str, make: Callable[[object], object]):
    """What `make(backend)` gives for the build the app serves now, kept in the app until it serves another: the
    few things every request of a concern reads (what the build published, its discovery index), outside the byte
    budget so that they are never pushed out. One maker per worker and name; the others wait for what it made."""
    backend = current_app.config["KG_BACKEND"]
    key = "kg-per-build-" + name  # in app.extensions: (build id, value)
    found = current_app.extensions.get(key)
    if found is None or found[0] != backend.build_id:
        with _making.setdefault(name, Lock()):
            found = current_app.extensions.get(key)
            if found is None or found[0] != backend.build_id:
                found = current_app.extensions[key] = (backend.build_id, make(backend))
    return found[1]


def app_cache() -> Cache:
    """The cache of the app handling this request (made by create_app)."""
    return current_app.extensions[EXTENSION]


# Request headers that change a cached answer; anything else (User-Agent, cookies) does not. The host and scheme
# are there too: relative IRIs in a query resolve against the endpoint's own URL.
VARYING = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ORIGIN", "HTTP_HOST", "wsgi.url_scheme")
# Headers of the full answer that a 304 does not repeat.
NOT_IN_304 = ("content-length", "content-type", "content-encoding")


class ResponseCache:
    """WSGI layer that answers repeated GETs of `path` from the cache, before Flask is entered.

    Serving those from memory skips routing, negotiation, the query and compression: on this machine
    Flask's request handling alone costs more than Oxigraph takes to answer a look-up. Only complete 200 answers
    that carry an ETag are kept; a matching If-None-Match gets 304 here too. An answer is kept under the build
    served when its request came (`build()`, an id): one still being made when the app moves to a new build, and
    kept after the cache was emptied for it, is never given for the new build.
    """

    def __init__(self, app, path: str, cache: Cache, build: Callable[[], str]):
        self.app, self.path, self.cache, self.build = app, path, cache, build

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != self.path or not environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        key = ("response", self.build(), environ["QUERY_STRING"]) + tuple(environ.get(h, "") for h in VARYING)
        hit = self.cache.get(key)
        if hit is None:
            return self._fill(key, environ, start_response)
        status, headers, body, etag = hit
        if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 NOT MODIFIED", [(k, v) for k, v in headers if k.lower() not in NOT_IN_304])
            return [b""]
        start_response(status, headers)
        return [body]

    def _fill(self, key, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = list(captured.get("headers", ()))
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        if captured.get("status", "").startswith("200") and etag:
            self.cache.put(key, (captured["status"], headers, body, etag), len(body))
        return [body]
