"""Whole HTTP answers to repeated GET queries, served before Flask is entered.

The KG does not change within a build, and the app empties this cache when it moves to a new build
(server.follow.FollowLink), so a GET /sparql answer depends only on the request line and the headers that select
it (Accept, Accept-Encoding, Origin). Serving
those from memory skips routing, negotiation, the query process and compression: on this machine Flask's
request handling alone costs more than Oxigraph takes to answer a look-up.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

# Request headers that change the answer; anything else (User-Agent, cookies) does not.
VARYING = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ORIGIN")


class ResponseCache:
    def __init__(self, app, path: str, budget: int):
        self.app = app
        self.path = path
        self.budget = budget
        self.used = 0
        self.items: OrderedDict = OrderedDict()
        self.lock = Lock()

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != self.path or not environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        key = (environ["QUERY_STRING"],) + tuple(environ.get(h, "") for h in VARYING)
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
        if hit is not None:
            status, headers, body, etag = hit
            if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
                start_response("304 NOT MODIFIED", [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-type", "content-encoding")])
                return [b""]
            start_response(status, headers)
            return [body]
        return self._fill(key, environ, start_response)

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
        if captured.get("status", "").startswith("200") and len(body) <= self.budget // 4:
            headers = list(captured["headers"])
            etag = next((v for k, v in headers if k.lower() == "etag"), None)
            with self.lock:
                if key not in self.items:
                    self.items[key] = (captured["status"], headers, body, etag)
                    self.used += len(body)
                    while self.used > self.budget:
                        _, old = self.items.popitem(last=False)
                        self.used -= len(old[2])
        return [body]
