"""The SPARQL 1.1 Protocol endpoint at /sparql: queries only, the KG being read-only between builds.

GET without a query answers with the service description (RDF) or, for browsers, the query editor. Repeated
GETs are answered by the app's response cache (server.http.cache) before they reach this module.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Response, current_app, render_template, request, send_from_directory

from kg.queries import run as q
from kg.sparql_text import tokens

from ..http import etag, negotiation
from ..http.responses import plain_text
from ..http.negotiation import Form, UnknownFormat
from . import bp, limits
from .description import describe
from .examples import examples_json
from .executor import QueryJob
from .guards import ProtocolError, refuse_what_is_not_a_query

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
PROTOCOL_PARAMS = ("query", "default-graph-uri", "named-graph-uri", "format", "update", "using-graph-uri", "using-named-graph-uri")
# The service description's forms, the editor first for browsers; rdflib's name for each RDF one.
DESCRIPTION_FORMS = [Form("html", negotiation.HTML), Form("turtle", "text/turtle"), Form("xml", "application/rdf+xml"),
                     Form("nt", "application/n-triples"), Form("json-ld", "application/ld+json")]


@bp.errorhandler(ProtocolError)
def _protocol_error(e: ProtocolError):
    response = plain_text(e.message, e.status)
    response.headers.update(e.headers)
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    if request.method == "GET" and not any(p in request.args for p in PROTOCOL_PARAMS):
        return _description()
    text, params = _read_request()
    cfg = current_app.config
    toks = tokens(text)
    refuse_what_is_not_a_query(toks, cfg["MAX_NESTING"], cfg["SERVICE_ALLOW"])
    job = QueryJob(
        text=text,
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri"),
        result_format=_choose(RESULT_FORMS, params.get("format")),
        graph_format=_choose(GRAPH_FORMS, params.get("format")),
        row_limit=cfg["ROW_LIMIT"],
        base_iri=request.base_url,
        tokens=toks,
    )
    if job.result_format is None and job.graph_format is None:
        raise ProtocolError(406, "none of the accepted media types fits a query result; available: " + ", ".join(_offered()))
    tag = etag.tag("sparql", job)
    if etag.unchanged(tag):
        # The KG only changes with a build, which changes the tag: no need to run the query again.
        return _decorate(etag.not_modified(tag))
    answer = cfg["KG_BACKEND"].run(job)
    if answer.status != 200:
        return _decorate(limits.error_text(answer))
    response = Response(answer.body, content_type=q.content_type(answer.media_type))
    return _decorate(etag.cacheable(limits.flag(response, answer), tag))


def _description():
    name = negotiation.from_accept(DESCRIPTION_FORMS, without_header="turtle", otherwise="turtle")
    if name == "html":
        return Response(render_template("sparql.html", examples_json=examples_json()))
    cfg = current_app.config
    graph = describe(request.base_url, cfg["KG_BACKEND"], cfg["ROW_LIMIT"], cfg["SERVICE_ALLOW"])
    media_type = next(f.media_type for f in DESCRIPTION_FORMS if f.name == name)
    return _decorate(Response(graph.serialize(format=name, encoding="utf-8"), content_type=q.content_type(media_type)))


@bp.get("/vendor/<path:path>")
def vendor(path: str):
    """Front-end libraries installed from the npm registry by `make setup` (server/web/node_modules)."""
    return send_from_directory(current_app.config["WEB_MODULES"], path, max_age=86400)


def _read_request():
    """Return the query text and the protocol parameters, refusing what the protocol does not allow."""
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
            raise ProtocolError(415, f"unsupported content type {mimetype or '(none)'!r}: send {FORM} or {DIRECT}")
    if "update" in params:
        raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
    for name in ("query", "format"):
        if len(params.getlist(name)) > 1:
            raise ProtocolError(400, f"parameter {name!r} is given more than once")
    if request.method == "POST" and request.mimetype == DIRECT:
        if "query" in params:
            raise ProtocolError(400, "the query is both in the request body and in the 'query' parameter")
        raw = request.get_data()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(400, f"the query is not valid UTF-8 (byte {e.start} of the body)") from None
    else:
        text = params.get("query")
    if text is None or not text.strip():
        raise ProtocolError(400, "missing 'query' parameter")
    limit = current_app.config["MAX_QUERY_BYTES"]
    if len(text.encode("utf-8")) > limit:
        raise ProtocolError(413, f"the query is longer than this endpoint accepts ({limit} bytes)")
    return text, params


def _graph_iris(params, name: str) -> tuple[str, ...]:
    """The graphs a dataset parameter names; a graph the KG lacks is empty (SPARQL 1.1 Protocol), a non-IRI is an error."""
    iris = tuple(params.getlist(name))
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as e:
            raise ProtocolError(400, f"parameter {name!r}: {iri!r} is not an absolute IRI ({e})") from None
    return iris


def _forms(formats: dict) -> list[Form]:
    """The formats of one kind of result as negotiable forms, the kind's default first."""
    default = q.DEFAULT_GRAPH_FORMAT if formats is q.GRAPH_FORMATS else q.DEFAULT_RESULT_FORMAT
    usable = [f for name, f in formats.items() if name != "table"]
    usable.sort(key=lambda f: f.name != default)
    return [Form(f.name, f.media_type, (f.extension,)) for f in usable]


RESULT_FORMS, GRAPH_FORMS = _forms(q.RESULT_FORMATS), _forms(q.GRAPH_FORMATS)


def _choose(forms: list[Form], format_param: str | None) -> str | None:
    """The format name for one kind of result (its forms, RESULT_FORMS or GRAPH_FORMS): the `format` parameter if
    it names one, else the Accept header's pick. A parameter naming a format of the other kind gives None here."""
    try:
        return negotiation.choose(forms, without_header=forms[0].name, parameter=format_param)
    except UnknownFormat as e:
        every = [f for fs in (q.RESULT_FORMATS, q.GRAPH_FORMATS) for f in fs.values()]
        if not any(e.word in (f.name, f.media_type, f.extension) for f in every):
            names = sorted(set(q.RESULT_FORMATS) | set(q.GRAPH_FORMATS) - {"table"})
            raise ProtocolError(400, f"unknown format {format_param!r}; use one of: " + ", ".join(names)) from None
        return None


def _offered() -> list[str]:
    return [f.media_type for fs in (q.RESULT_FORMATS, q.GRAPH_FORMATS) for n, f in fs.items() if n != "table"]


def _decorate(response: Response) -> Response:
    response.vary.add("Accept")
    return limits.announce(response)
