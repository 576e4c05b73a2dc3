"""Application factory: one blueprint per concern; the KG reached through a Backend."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify
from flask_compress import Compress
from flask_cors import CORS

from kg.config import Paths, serve_defaults

from .backend import Backend
from .follow import FollowLink, read_link
from .response_cache import ResponseCache

WEB_MODULES = Path(__file__).parent / "web" / "node_modules"

# Where the KG is; the operators' knobs and their defaults come from kg.config.SERVE_OPTIONS (shown by
# `kg serve --help`, documented in docs/operations.md); create_app's caller may override any of them.
DEFAULTS = {
    "KG_STORE": None,  # a KGStore already open in this process (tests build one in memory)
    "KG_STORE_PATH": None,  # else the store link of an on-disk build (default var/store)
    "KG_STORE_URL": None,  # or a SPARQL server's query endpoint, which the app then fronts (kg.store.remote)
    "KG_STORE_REMOTE": {},  # options for it: kind, graph_store (credentials come from the environment)
    **serve_defaults(),
    "RESPONSE_CACHE_BYTES": 32 * 1024 * 1024,  # whole GET responses served before Flask; 0 turns it off
    "WEB_MODULES": str(WEB_MODULES),
    "COMPRESS_MIMETYPES": [
        "text/html", "text/plain", "text/csv", "text/tab-separated-values", "text/turtle", "application/json",
        "application/sparql-results+json", "application/sparql-results+xml", "application/n-triples",
        "application/rdf+xml", "application/ld+json", "application/javascript", "text/css",
        "application/xml", "application/gexf+xml",
    ],
    "COMPRESS_MIN_SIZE": 1024,
    "FOLLOW_INTERVAL": 1.0,  # seconds between looks at the store link for a new build; 0 serves the first build only
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    follow = False
    if app.config["KG_STORE"] is not None:
        backend = Backend.for_store(app.config["KG_STORE"], app.config["QUERY_TIMEOUT"], app.config["MEMORY_LIMIT"])
    elif app.config["KG_STORE_URL"]:
        # A server has no link to follow: after `kg build --store URL`, restart `kg serve` or send it SIGHUP.
        backend = Backend.for_url(app.config["KG_STORE_URL"], app.config["QUERY_TIMEOUT"], **app.config["KG_STORE_REMOTE"])
    else:
        follow = app.config["FOLLOW_INTERVAL"] > 0
        link = Path(app.config["KG_STORE_PATH"] or Paths().store)
        seen = read_link(link)
        backend = Backend.for_path(link, app.config["QUERY_TIMEOUT"], app.config["MEMORY_LIMIT"])
    app.config["KG_BACKEND"] = backend

    from .sparql import LIMIT_HEADERS
    from .sparql import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    from . import dataset, network, pages, queries

    for module in (pages, dataset, queries, network):
        app.register_blueprint(module.bp)
    # Any web page may query the KG from a browser; the limit headers and ETag are readable there too.
    CORS(app, resources={r"/sparql": {"origins": "*"}}, send_wildcard=True, expose_headers=LIMIT_HEADERS + ["ETag"], max_age=86400)
    Compress(app)
    response_cache = None
    if app.config["RESPONSE_CACHE_BYTES"]:
        app.wsgi_app = response_cache = ResponseCache(app.wsgi_app, "/sparql", app.config["RESPONSE_CACHE_BYTES"])
    if follow:
        app.wsgi_app = FollowLink(app, link, seen, response_cache)

    @app.get("/health")
    def health():
        serving = app.config["KG_BACKEND"]
        return jsonify(status="ok", build=serving.build_id, triples=serving.triples)

    return app
