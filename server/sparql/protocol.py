"""The SPARQL 1.1 Protocol endpoint at /sparql: queries only, the KG being read-only between builds.

GET without a query answers with the service description (RDF) or, for browsers, the query editor.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.datastructures import MIMEAccept

from kg.queries import run as q
from kg.namespaces import PREFIXES
from kg.sparql_text import services, tokens

from .executor import Answer, QueryJob
from .service_description import describe

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
HTML = "text/html"
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
PROTOCOL_PARAMS = ("query", "default-graph-uri", "named-graph-uri", "format", "update", "using-graph-uri", "using-named-graph-uri")
# Headers that announce the endpoint's limits, exposed to browser clients too.
LIMIT_HEADERS = ["KG-Query-Timeout", "KG-Row-Limit", "KG-Results-Truncated", "KG-Store-Row-Limit", "KG-Build"]


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@bp.errorhandler(ProtocolError)
def _protocol_error(e: ProtocolError):
    response = _text(e.message, e.status)
    response.headers.update(e.headers)
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    if request.method == "GET" and not any(p in request.args for p in PROTOCOL_PARAMS):
        return _description()
    text, params = _read_request()
    _refuse_what_is_not_a_query(text)
    job = QueryJob(
        text=text,
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri"),
        result_format=_choose(q.RESULT_FORMATS, params.get("format")),
        graph_format=_choose(q.GRAPH_FORMATS, params.get("format")),
        row_limit=current_app.config["ROW_LIMIT"],
        base_iri=request.base_url,
    )
    if job.result_format is None and job.graph_format is None:
        raise ProtocolError(406, "none of the accepted media types fits a query result; available: " + ", ".join(_offered()))
    backend = current_app.config["KG_BACKEND"]
    etag = hashlib.sha256(repr((backend.build_id, job)).encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        # The KG only changes with a build, which changes the tag: no need to run the query again.
        return _decorate(Response(status=304), etag)
    answer = _cache().get((backend.build_id, job))
    if answer is None:
        answer = backend.run(job)
        if answer.status == 200:
            _cache().put((backend.build_id, job), answer)
    if answer.status != 200:
        response = Response(answer.body, status=answer.status, content_type="text/plain; charset=utf-8")
        if answer.retry_after:
            response.headers["Retry-After"] = str(answer.retry_after)
        return _decorate(response, None)
    response = Response(answer.body, content_type=q.content_type(answer.media_type))
    if answer.limited and answer.rows is not None and answer.rows >= job.row_limit:
        response.headers["KG-Results-Truncated"] = "true"
    if answer.store_limit is not None:  # cut by the remote store's own limit (Virtuoso's ResultSetMaxRows), not ours
        response.headers["KG-Results-Truncated"] = "true"
        response.headers["KG-Store-Row-Limit"] = str(answer.store_limit)
    return _decorate(response, etag)


def _description():
    offered = [HTML, "text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"]
    best = _accept().best_match(offered, default="text/turtle")
    if best is None:
        raise ProtocolError(406, "the service description is available as: " + ", ".join(offered))
    if best == HTML:
        response = Response(render_template("sparql.html", examples_json=_examples_json()))
        response.vary.add("Accept")
        return response
    cfg = current_app.config
    graph = describe(request.base_url, cfg["KG_BACKEND"], cfg["ROW_LIMIT"], cfg["SERVICE_ALLOW"])
    rdflib_format = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/n-triples": "nt", "application/ld+json": "json-ld"}[best]
    response = Response(graph.serialize(format=rdflib_format, encoding="utf-8"), content_type=q.content_type(best))
    return _decorate(response, None)


def _examples_json() -> str:
    """The examples as self-contained queries (PREFIX lines for what they use), JSON safe to embed in <script>."""
    import json
    import re

    out = []
    for title, body in EXAMPLES:
        used = sorted(set(re.findall(r"\b([a-z]+):", body)) & set(PREFIXES))
        prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used)
        out.append({"title": title, "query": prologue + "\n" + body})
    return json.dumps(out).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@bp.get("/vendor/<path:path>")
def vendor(path: str):
    """Front-end libraries installed from the npm registry by `make setup` (server/web/node_modules)."""
    from flask import send_from_directory

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


def _refuse_what_is_not_a_query(text: str) -> None:
    toks = tokens(text)
    most = current_app.config["MAX_NESTING"]
    deep = next((t for t in toks if t.kind == "open" and t.depth >= most), None)
    if deep is not None:
        raise ProtocolError(400, f"query offset {deep.start}: brackets are nested more than {most} levels deep; this endpoint does not parse such queries")
    first = _first_keyword(toks)
    if first in UPDATE_KEYWORDS:
        raise ProtocolError(403, f"this endpoint is read-only: {first} is SPARQL Update and is not accepted")
    allowed = set(current_app.config["SERVICE_ALLOW"])
    for call in services(toks, PREFIXES):
        if call.target is None or call.target not in allowed:
            where = f"query offset {call.position}"
            target = f"<{call.target}>" if call.target else "a variable endpoint"
            raise ProtocolError(403, f"{where}: SERVICE {target} is not allowed here (federated queries are off unless the operator allow-lists an endpoint)")


def _first_keyword(toks) -> str | None:
    skip = 0
    for t in toks:
        if skip:
            skip -= 1
            continue
        if t.kind == "word":
            word = t.text.upper()
            if word == "PREFIX":
                skip = 2
                continue
            if word == "BASE":
                skip = 1
                continue
            return word
    return None


def _accept() -> MIMEAccept:
    return request.accept_mimetypes


def _choose(formats: dict, format_param: str | None) -> str | None:
    """The format name for one kind of result: the `format` parameter if it names one, else the Accept header's pick."""
    usable = {name: f for name, f in formats.items() if name != "table"}
    if format_param:
        wanted = format_param.strip().lower()
        for name, f in usable.items():
            if wanted in (name, f.media_type, f.extension):
                return name
        if not any(wanted in (n, f.media_type, f.extension) for fs in (q.RESULT_FORMATS, q.GRAPH_FORMATS) for n, f in fs.items()):
            raise ProtocolError(400, f"unknown format {format_param!r}; use one of: " + ", ".join(sorted(set(q.RESULT_FORMATS) | set(q.GRAPH_FORMATS) - {"table"})))
        return None
    default = q.DEFAULT_GRAPH_FORMAT if formats is q.GRAPH_FORMATS else q.DEFAULT_RESULT_FORMAT
    accept = _accept()
    if not accept:
        return default
    types = [usable[default].media_type] + [f.media_type for n, f in usable.items() if n != default]
    best = accept.best_match(types)
    return next((n for n, f in usable.items() if f.media_type == best), None)


def _offered() -> list[str]:
    return [f.media_type for fs in (q.RESULT_FORMATS, q.GRAPH_FORMATS) for n, f in fs.items() if n != "table"]


def _decorate(response: Response, etag: str | None) -> Response:
    cfg = current_app.config
    backend = cfg["KG_BACKEND"]
    response.vary.add("Accept")
    response.headers["KG-Query-Timeout"] = f"{backend.timeout:g}"
    response.headers["KG-Row-Limit"] = str(cfg["ROW_LIMIT"])
    response.headers["KG-Build"] = backend.build_id
    if etag is not None:
        response.set_etag(etag)
        response.last_modified = backend.created
        response.cache_control.public = True
        response.cache_control.max_age = cfg["CACHE_MAX_AGE"]
    return response


def _text(message: str, status: int) -> Response:
    return Response(message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8")


class AnswerCache:
    """Answers of this process, least recently used first out, within a byte budget."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.items: OrderedDict = OrderedDict()
        self.lock = Lock()

    def get(self, key) -> Answer | None:
        with self.lock:
            answer = self.items.get(key)
            if answer is not None:
                self.items.move_to_end(key)
            return answer

    def put(self, key, answer: Answer) -> None:
        size = len(answer.body)
        if size > self.budget // 4:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = answer
            self.used += size
            while self.used > self.budget:
                _, old = self.items.popitem(last=False)
                self.used -= len(old.body)


def _cache() -> AnswerCache:
    cache = current_app.extensions.get("kg-answer-cache")
    if cache is None:
        cache = current_app.extensions["kg-answer-cache"] = AnswerCache(current_app.config["CACHE_BYTES"])
    return cache


EXAMPLES = [
    (
        "Partners of each project, with roles and countries",
        """SELECT ?project ?partner ?role ?country WHERE {
  ?participation ckg:inProject ?p ; ckg:participant ?o ; ckg:role ?r .
  ?p rdfs:label ?project . ?o rdfs:label ?partner ; ckg:country/rdfs:label ?country . ?r rdfs:label ?role .
  FILTER (lang(?project) = "en" && lang(?partner) = "en" && lang(?country) = "en" && lang(?role) = "en")
}
ORDER BY ?project ?partner""",
    ),
    (
        "Who worked with whom: co-partner pairs and shared projects",
        """SELECT ?a ?b (COUNT(DISTINCT ?project) AS ?shared) (GROUP_CONCAT(DISTINCT ?acronym; separator=", ") AS ?projects) WHERE {
  ?project ckg:hasPartner ?x , ?y ; ckg:acronym ?acronym .
  FILTER (STR(?x) < STR(?y))
  ?x rdfs:label ?a . ?y rdfs:label ?b . FILTER (lang(?a) = "en" && lang(?b) = "en")
}
GROUP BY ?a ?b
ORDER BY DESC(?shared) ?a ?b""",
    ),
    (
        "Cities that took part in more than one project",
        """SELECT ?city (COUNT(DISTINCT ?project) AS ?projects) WHERE {
  ?participation ckg:inProject ?project ; ckg:participant/ckg:basedIn ?c .
  ?c rdfs:label ?city . FILTER (lang(?city) = "en")
}
GROUP BY ?city
HAVING (COUNT(DISTINCT ?project) > 1)""",
    ),
    (
        "Projects by fund and programme",
        """SELECT ?project ?level ?fund WHERE {
  ?p ckg:fundedBy ?l ; ckg:acronym ?project .
  ?l rdfs:label ?level .
  ?l ckg:partOfProgramme* ?f . ?f a ckg:Fund ; rdfs:label ?fund .
  FILTER (lang(?level) = "en" && lang(?fund) = "en")
}""",
    ),
    (
        "Where the sources disagree",
        """SELECT ?topic ?value ?source WHERE {
  ?c a ckg:Contradiction ; rdfs:label ?topic ; ckg:hasClaim ?claim .
  ?claim rdf:object ?value ; dct:source/dct:identifier ?source .
  FILTER (lang(?topic) = "en")
}
ORDER BY ?topic""",
    ),
]
