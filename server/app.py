"""Application factory: one blueprint per concern, the store opened once per process."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify

from kg.config import Paths
from kg.store import KGStore


def create_app(config: dict | None = None) -> Flask:
    """Create the app. `config` may hold KG_STORE (a KGStore, e.g. built in memory by tests) or
    KG_STORE_PATH (the store link of an on-disk build, opened read-only)."""
    app = Flask(__name__)
    app.config.update(KG_STORE=None, KG_STORE_PATH=str(Paths().store), QUERY_TIMEOUT=30.0)
    app.config.update(config or {})
    if app.config["KG_STORE"] is None:
        app.config["KG_STORE"] = KGStore.open(Path(app.config["KG_STORE_PATH"]))

    from .sparql import bp as sparql_bp

    app.register_blueprint(sparql_bp)

    @app.get("/health")
    def health():
        store = app.config["KG_STORE"]
        return jsonify(status="ok", build=store.info.id if store.info else None, triples=len(store))

    return app
