"""Short, shareable URLs for result views: /v/<id> reproduces a view (a query, or a named query with its
parameters, shown as a table, chart, map or network with its options).

The id is a content hash of the view's canonical state, so the same view always gets the same URL and the URL
says nothing a reader must trust. A hash cannot be reversed, so the state is kept in a content-addressed folder
(one small JSON file per id, default `views/` beside the store link, i.e. var/views): a file is written once,
atomically (a temporary file renamed over its final name), never changed, and read by every worker and after a
restart. The folder is bounded (MAX_VIEWS files, MAX_FOLDER_BYTES bytes); when it is full, or cannot be written,
a new view gets 507 and the page offers its long URL instead, which holds the whole state in the link itself.
An encoding of the state in the URL alone was the other choice: a named query's is short, but an edited query
of a few hundred characters stays a few hundred characters long after deflate and base64.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for

from kg.config import Paths
from kg.namespaces import BASE
from kg.queries.catalogue import ParameterError

from .http.responses import plain_text
from .queries import named_query

bp = Blueprint("shared_views", __name__)

VIEWS = ("table", "chart", "map", "network")
ID_LENGTH = 12  # base32 characters of the SHA-256: 60 bits, no collision expected among MAX_VIEWS states
ID = re.compile(f"[a-z2-7]{{{ID_LENGTH}}}")
MAX_VIEWS = 20_000
MAX_FOLDER_BYTES = 64 * 1024 * 1024
MAX_OPTIONS = 16  # view options are a few short words (chart kind, weight column): more is not a view
MAX_OPTION_CHARS = 200


@bp.app_context_processor
def _views_env() -> dict:
    """What server/static/views.js needs on a page that shows results (data-* attributes of its element)."""
    return {"views_env": {
        "vendor": url_for("sparql.vendor", path=""), "endpoint": url_for("sparql.sparql"),
        "share": url_for("shared_views.share"), "base": BASE,
    }}


class StateError(ValueError):
    """A state that is not a view: the message names the field and what is wrong with it."""


def folder() -> Path:
    """Where the views are kept: SHARED_VIEWS if set, else `views/` beside the store link (var/views)."""
    cfg = current_app.config
    if cfg.get("SHARED_VIEWS"):
        return Path(cfg["SHARED_VIEWS"])
    return Path(cfg.get("KG_STORE_PATH") or Paths().store).parent / "views"


def canonical(state: object, max_query_bytes: int) -> dict:
    """The state reduced to what reproduces the view, in one form: either {query} or {named, params}, with
    {view, options}. Empty parameters are dropped (a form sends every field; empty means "not given")."""
    if not isinstance(state, dict):
        raise StateError("the body must be a JSON object with 'query' or 'named', and 'view'")
    unknown = sorted(set(state) - {"query", "named", "params", "view", "options"})
    if unknown:
        raise StateError(f"unknown field {unknown[0]!r}; a view has query or named (with params), view and options")
    view = state.get("view", "table")
    if view not in VIEWS:
        raise StateError(f"field 'view': {view!r} is not a view; use one of: {', '.join(VIEWS)}")
    out: dict = {"view": view, "options": _options(state.get("options") or {})}
    if ("query" in state) == ("named" in state):
        raise StateError("give exactly one of 'query' (SPARQL text) and 'named' (a query of /queries)")
    if "query" in state:
        text = state["query"]
        if not isinstance(text, str) or not text.strip():
            raise StateError("field 'query': must be the SPARQL text of the query")
        text = text.replace("\r\n", "\n")
        if len(text.encode("utf-8")) > max_query_bytes:
            raise StateError(f"field 'query': longer than the endpoint accepts ({max_query_bytes} bytes)")
        if "params" in state:
            raise StateError("field 'params': only a named query has parameters")
        out["query"] = text
        return out
    name = state["named"]
    query = named_query(name) if isinstance(name, str) else None
    if query is None:
        raise StateError(f"field 'named': no query named {name!r} in the catalogue; /queries lists them")
    params = state.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise StateError("field 'params': must be an object of parameter names to text values")
    params = {k: v for k, v in params.items() if v.strip()}
    try:
        query.bind(params)
    except ParameterError as e:
        raise StateError(f"field 'params': {e}") from None
    out["named"], out["params"] = name, params
    return out


def _options(options: object) -> dict[str, str]:
    if not isinstance(options, dict):
        raise StateError("field 'options': must be an object of option names to text values")
    if len(options) > MAX_OPTIONS:
        raise StateError(f"field 'options': {len(options)} options; a view has at most {MAX_OPTIONS}")
    for key, value in options.items():
        if not isinstance(value, str) or len(key) + len(value) > MAX_OPTION_CHARS:
            raise StateError(f"field 'options', {key!r}: must be a text value under {MAX_OPTION_CHARS} characters")
    return {k: v for k, v in options.items() if v != ""}


def encode(state: dict) -> bytes:
    """The canonical bytes of a canonical state: what is hashed and what is stored."""
    return json.dumps(state, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def state_id(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:ID_LENGTH]


def target(state: dict) -> str:
    """The page that shows the view, everything in its URL: the view and its options in the fragment, which
    the page's script reads (the server never sees them, so the named query's parameters stay its only ones)."""
    fragment = {"view": state["view"], **{"view." + k: v for k, v in sorted(state["options"].items())}}
    if "query" in state:
        return url_for("sparql.sparql") + "#" + urlencode({"query": state["query"], **fragment}, quote_via=quote)
    search = ("?" + urlencode(sorted(state["params"].items()))) if state["params"] else ""
    return url_for("queries.page", name=state["named"]) + search + "#" + urlencode(fragment, quote_via=quote)


class Full(Exception):
    """The folder holds as many views as it may."""


def store(where: Path, data: bytes) -> tuple[str, bool]:
    """Keep `data` under its id; returns (id, created). Writing an id twice writes the same bytes, so the
    rename may race with another worker's and either wins."""
    ident = state_id(data)
    path = where / f"{ident}.json"
    if path.exists():
        if path.read_bytes() != data:  # 60 bits: practically never; refused rather than overwritten
            raise FileExistsError(f"view id {ident} already names another view")
        return ident, False
    where.mkdir(parents=True, exist_ok=True)
    count, size = 0, 0
    with os.scandir(where) as entries:
        for entry in entries:
            if entry.name.endswith(".json"):
                count += 1
                size += entry.stat().st_size
    # Two workers may each pass this check at once: the bound holds to within one view per concurrent request.
    if count >= MAX_VIEWS or size + len(data) > MAX_FOLDER_BYTES:
        raise Full(f"{count} views, {size} bytes")
    fd, temporary = tempfile.mkstemp(dir=where, prefix=".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return ident, True


def load(where: Path, ident: str) -> dict | None:
    if not ID.fullmatch(ident):
        return None
    try:
        return json.loads((where / f"{ident}.json").read_bytes())
    except FileNotFoundError:
        return None


@bp.post("/v")
def share():
    """Keep a view's state; answers its short URL (201, or 200 when the same view was kept before)."""
    state = request.get_json(silent=True)
    if state is None:
        return plain_text("the body must be a JSON object (Content-Type: application/json) describing the view", 400)
    try:
        data = encode(canonical(state, current_app.config["MAX_QUERY_BYTES"]))
    except StateError as e:
        return plain_text(str(e), 400)
    try:
        ident, created = store(folder(), data)
    except Full:
        return plain_text("the shared views folder is full: share the page's own (long) URL instead", 507)
    except OSError as e:
        current_app.logger.warning("shared views: cannot write %s: %s", folder(), e)
        return plain_text("the view could not be kept on the server: share the page's own (long) URL instead", 507)
    short = url_for("shared_views.open_view", ident=ident)
    body = {"id": ident, "path": short, "url": request.host_url.rstrip("/") + short}
    return jsonify(body), (201 if created else 200)


@bp.get("/v/<ident>")
def open_view(ident: str):
    state = load(folder(), ident)
    if state is None:
        return plain_text(f"no shared view {ident!r} on this server", 404)
    return redirect(target(state), 303)


@bp.get("/v/<ident>.json")
def view_json(ident: str):
    state = load(folder(), ident)
    if state is None:
        return plain_text(f"no shared view {ident!r} on this server", 404)
    return Response(encode(state) + b"\n", content_type="application/json; charset=utf-8")
