"""Application factory: one blueprint per concern (sparql, pages, dataset, queries, network, discovery), the KG reached
through a Backend, HTTP concerns shared from server.http. The app only reads a built store and what the build
published beside it; it never builds, and writes nothing but the states of shared views (server.shared_views)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify
from flask_compress import Compress
from flask_cors import CORS

from kg.config import Paths, serve_defaults
from kg.publish.site import VOID_PATH

from .follow import FollowLink, FollowServer, read_link
from .http import pages_headers
from .http.cache import EXTENSION as CACHE, Cache, ResponseCache
from .sparql.backend import Backend, Limits
from .sparql.watchdog import Watchdog, log_only

WEB_MODULES = Path(__file__).parent / "web" / "node_modules"

# Where the KG is, and how the app is put together. The operators' knobs and their defaults come from
# kg.config.SERVE_OPTIONS (shown by `kg serve --help`, documented in docs/operations.md) and nowhere else;
# create_app's caller may override any of them.
DEFAULTS = {
    "KG_STORE": None,  # a KGStore already open in this process (tests build one in memory)
    "KG_PUBLISHED": None,  # with it, the folder where its build published (kg.build.Outcome.published)
    "KG_STORE_PATH": None,  # else the store link of an on-disk build (default var/store)
    "KG_STORE_URL": None,  # or a SPARQL server's query endpoint, which the app then fronts (kg.store.remote)
    "KG_STORE_REMOTE": {},  # options for it: kind, graph_store, update (credentials come from the environment)
    "SHARED_VIEWS": None,  # the folder of shared result views (server.shared_views); None: views/ beside the store link
    # A stuck query, a worker past its memory: `kg serve` recycles the worker (server.sparql.watchdog). An app
    # embedded elsewhere only logs, and watches no memory: its process is not a worker of ours.
    "ON_TROUBLE": log_only,
    "WORKER_MEMORY": 0,
    **serve_defaults(),
    "WEB_MODULES": str(WEB_MODULES),
    "COMPRESS_MIMETYPES": [
        "text/html", "text/plain", "text/csv", "text/tab-separated-values", "text/turtle", "application/json",
        "application/sparql-results+json", "application/sparql-results+xml", "application/n-triples",
        "application/rdf+xml", "application/ld+json", "application/javascript", "text/css",
        "application/xml", "application/gexf+xml", "application/geo+json",
    ],
    "COMPRESS_MIN_SIZE": 1024,
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    cfg = app.config
    follow = follow_server = False
    # One watchdog per app: a backend of a newer build (server.follow) reports to the same one.
    cfg["KG_WATCHDOG"] = Watchdog(cfg["ON_TROUBLE"], cfg["WORKER_MEMORY"])
    if cfg["KG_STORE"] is not None:
        backend = Backend.for_store(cfg["KG_STORE"], Limits.from_config(cfg), cfg["KG_PUBLISHED"])
    elif cfg["KG_STORE_URL"]:
        follow_server = cfg["FOLLOW_INTERVAL"] > 0
        backend = Backend.for_url(cfg["KG_STORE_URL"], cfg["QUERY_TIMEOUT"], **cfg["KG_STORE_REMOTE"],
                                  follow_interval=cfg["FOLLOW_INTERVAL"])
    else:
        follow = cfg["FOLLOW_INTERVAL"] > 0
        link = Path(cfg["KG_STORE_PATH"] or Paths().store)
        seen = read_link(link)
        backend = Backend.for_path(link, Limits.from_config(cfg))
    cfg["KG_BACKEND"] = backend
    cache = app.extensions[CACHE] = Cache(cfg["CACHE_BYTES"])

    from . import dataset, discovery, network, pages, queries, shared_views, sparql

    for module in (sparql, pages, dataset, queries, network, discovery, shared_views):
        app.register_blueprint(module.bp)
    pages_headers.install(app, VOID_PATH)
    # Any web page may query the KG from a browser; the limit headers and ETag are readable there too. The
    # reconciliation API must allow every origin on every route (W3C reconciliation spec, 0.2 and 1.0 draft).
    CORS(app, resources={r"/sparql": {"origins": "*"}, r"/reconcile(/.*)?": {"origins": "*"}}, send_wildcard=True, expose_headers=sparql.LIMIT_HEADERS + ["ETag"], max_age=86400)
    Compress(app)
    if cfg["CACHE_BYTES"]:
        app.wsgi_app = ResponseCache(app.wsgi_app, "/sparql", cache, lambda: app.config["KG_BACKEND"].build_id)
    if follow:
        app.wsgi_app = FollowLink(app, link, seen, cache)
    if follow_server:
        app.wsgi_app = FollowServer(app, cache)

    @app.get("/health")
    def health():
        serving = app.config["KG_BACKEND"]
        # The worker's process id tells an operator (and the tests) which worker answered, and when one was recycled.
        return jsonify(status="ok", build=serving.build_id, triples=serving.triples, worker=os.getpid())

    return app
