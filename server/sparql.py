"""The SPARQL 1.1 Protocol endpoint at /sparql (queries only: the KG is read-only between builds)."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from kg import query as q
from kg.errors import QueryError

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


class ProtocolError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ProtocolError)
def _protocol_error(e: ProtocolError):
    return _text(e.message, e.status)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    text, params = _read_request()
    store = current_app.config["KG_STORE"]
    options = _dataset_options(params)
    try:
        result = q.run(store, text, **options)
    except QueryError as e:
        raise ProtocolError(400, f"{e.where}: {e.message}" if e.where else e.message) from None
    kind = q.kind_of(result)
    fmt = _negotiate(kind, params.get("format"))
    response = Response(q.serialize(result, fmt), content_type=_content_type(fmt))
    response.vary.add("Accept")
    return response


def _read_request() -> tuple[str, dict]:
    """Return the query text and the other protocol parameters, refusing what the protocol does not allow."""
    if request.method == "GET":
        params = request.args
    else:
        mimetype = request.mimetype
        if mimetype == FORM:
            params = request.form
        elif mimetype == DIRECT:
            params = request.args
        elif mimetype == UPDATE:
            raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
        else:
            raise ProtocolError(
                415, f"unsupported content type {mimetype or '(none)'!r}: send {FORM} or {DIRECT}"
            )
    if "update" in params:
        raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
    for name in ("query", "format"):
        if len(params.getlist(name)) > 1:
            raise ProtocolError(400, f"parameter {name!r} given more than once")
    if request.method == "POST" and request.mimetype == DIRECT:
        if "query" in params:
            raise ProtocolError(400, "the query is both in the body and in the 'query' parameter")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(400, f"the query body is not valid UTF-8 (byte {e.start})") from None
    else:
        text = params.get("query")
    if text is None or not text.strip():
        raise ProtocolError(400, "missing 'query' parameter")
    return text, params


def _dataset_options(params) -> dict:
    options = {}
    default = params.getlist("default-graph-uri")
    named = params.getlist("named-graph-uri")
    if default:
        options["default_graph"] = [ox.NamedNode(iri) for iri in default]
        options["use_default_graph_as_union"] = False
    if named:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in named]
    return options


def _negotiate(kind: str, format_param: str | None) -> q.Format:
    formats = {name: f for name, f in q.formats_for(kind).items() if name != "table"}
    if format_param:
        by_name = formats.get(format_param)
        by_type = next((f for f in formats.values() if f.media_type == format_param), None)
        chosen = by_name or by_type
        if chosen is None:
            raise ProtocolError(406, f"format {format_param!r} is not available here; use one of: {', '.join(formats)}")
        return chosen
    default = q.DEFAULT_GRAPH_FORMAT if kind == "graph" else q.DEFAULT_RESULT_FORMAT
    offered = [formats[default].media_type] + [f.media_type for f in formats.values() if f.name != default]
    if not request.accept_mimetypes:
        return formats[default]
    best = request.accept_mimetypes.best_match(offered)
    if best is None:
        raise ProtocolError(406, "none of the accepted media types fits; available: " + ", ".join(offered))
    return next(f for f in formats.values() if f.media_type == best)


def _content_type(fmt: q.Format) -> str:
    if fmt.media_type.startswith("text/") or fmt.media_type.endswith(("json", "xml")):
        return f"{fmt.media_type}; charset=utf-8"
    return fmt.media_type


def _text(message: str, status: int) -> Response:
    return Response(message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8")
