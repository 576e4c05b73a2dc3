"""Home page and dereferenceable IRIs: HTML for people, RDF for machines (issue 4).

Every KG IRI (https://w3id.org/cohesion-kg/id/..., .../ontology/...) is answered at the same path here (see
server/iris.py). The IRI itself answers 200 with the representation content negotiation picks, and names that
representation's own URL in Content-Location: /id/project/conet.ttl, .jsonld, .nt, .rdf, .html. Those URLs (and
?format=) give one form without negotiation. docs/linked-data.md says why 200 rather than a 303 redirect.
"""

from __future__ import annotations

import hashlib
import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from kg.queries import run as q
from kg.namespaces import BASE

from . import describe, i18n, jsonld, views
from .backend import BackendError
from .iris import iri_for

bp = Blueprint("pages", __name__)

HTML = "text/html"
# The forms of a resource: name (as the store's writers call them) -> media type, extension, label for people.
FORMATS = {"html": (HTML, "html", "HTML")}
FORMATS.update({
    name: (q.GRAPH_FORMATS[name].media_type, q.GRAPH_FORMATS[name].extension, label)
    for name, label in (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"), ("rdfxml", "RDF/XML"))
})
# What content negotiation offers, best first: browsers name text/html, and */* gets the page too. JSON-LD is
# also offered with the compacted profile, which clients may name and which is the form we write.
OFFERED = [FORMATS[name][0] for name in ("html", "turtle", "jsonld", "ntriples", "rdfxml")]
JSONLD_COMPACTED = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"'
NEGOTIATED = OFFERED + [JSONLD_COMPACTED]
NO_ACCEPT_HEADER = "turtle"  # a client that states nothing is a program more often than a person
ONTOLOGY = BASE + "ontology"


class PageError(Exception):
    """An answer other than the resource: a status and a message for the reader."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- Routes --------------------------------------------------------------------------------------------------

@bp.get("/")
def home():
    lang = i18n.reader_language()
    backend = current_app.config["KG_BACKEND"]
    tag = _etag("home", "html", lang)
    if tag in request.if_none_match:
        return _cacheable(Response(status=304), tag)
    page = views.home_page(backend, lang, i18n.chosen_explicitly())
    response = Response(render_template("home.html", page=page, **_common(lang)))
    response.vary.add("Accept-Language")
    return _cacheable(response, tag)


@bp.get(jsonld.CONTEXT_PATH)
def context():
    body = json.dumps(jsonld.context_document(), indent=2, ensure_ascii=False) + "\n"
    response = Response(body, content_type="application/ld+json; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"  # JSON-LD processors in browsers fetch it cross-origin
    return _cacheable(response, _etag("context", "jsonld", ""))


@bp.get("/id/<path:rest>")
@bp.get("/ontology")
@bp.get("/ontology/")
@bp.get("/ontology.<ext>")
@bp.get("/ontology/<path:rest>")
def resource(rest: str = "", ext: str = ""):
    return _dereference(request.path)


@bp.get("/graph/<path:rest>")
def named_graph(rest: str):
    """A named graph's IRI (one per source file, the closure, the network; VoID lists them as subsets) gives the
    graph itself in RDF, and a short page about it for people."""
    path, format_name = _explicit_format(request.path)
    negotiated = format_name is None
    if negotiated:
        format_name = _negotiate()
    iri = iri_for(path)
    backend = current_app.config["KG_BACKEND"]
    if iri not in backend.graph_sizes:
        raise _unknown(iri)
    lang = i18n.reader_language()
    tag = _etag(iri, format_name, lang if format_name == "html" else "")
    if tag in request.if_none_match:
        return _decorate(Response(status=304), path, format_name, negotiated, tag)
    if format_name == "html":
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT 100"
        body = render_template("graph.html", iri=iri, triples=backend.graph_sizes[iri], query=query, forms=_forms(path), **_common(lang))
    else:
        construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{describe.checked(iri)}> {{ ?s ?p ?o }} }}"
        if format_name == "jsonld":
            body = jsonld.compacted(backend.graph(construct, "ntriples"))
        else:
            body = backend.graph(construct, format_name)
    response = Response(body, content_type=q.content_type(FORMATS[format_name][0]))
    return _decorate(response, path, format_name, negotiated, tag)


# --- Dereferencing -------------------------------------------------------------------------------------------

def _dereference(path: str) -> Response:
    path, format_name = _explicit_format(path)
    negotiated = format_name is None
    if negotiated:
        format_name = _negotiate()
    # The namespace IRI (…/ontology/) and the ontology IRI name the same document.
    iri = ONTOLOGY if path in ("/ontology", "/ontology/") else iri_for(path)
    try:
        describe.checked(iri)
        ox.NamedNode(iri)  # stricter than the check: e.g. U+FFFD, which an undecodable %FF in the path becomes
    except describe.NotAnIRI as e:
        raise PageError(400, str(e)) from None
    except ValueError as e:
        raise PageError(400, f"{iri!r} is not a valid IRI: {e}") from None
    lang = i18n.reader_language()
    tag = _etag(iri, format_name, lang if format_name == "html" else "")
    if tag in request.if_none_match:
        return _decorate(Response(status=304), path, format_name, negotiated, tag)
    backend = current_app.config["KG_BACKEND"]
    if format_name == "html":
        page = views.resource_page(backend, iri, lang, i18n.chosen_explicitly())
        if page is None:
            raise _unknown(iri)
        body = render_template(_template(page["kind"]), page=page, forms=_forms(path), **_common(lang))
    else:
        if not describe.known(backend, iri):
            raise _unknown(iri)
        if format_name == "jsonld":
            body = jsonld.compacted(describe.description(backend, iri, "ntriples", whole_ontology=iri == ONTOLOGY))
        else:
            body = describe.description(backend, iri, format_name, whole_ontology=iri == ONTOLOGY)
    response = Response(body, content_type=q.content_type(FORMATS[format_name][0]))
    return _decorate(response, path, format_name, negotiated, tag)


def _explicit_format(path: str) -> tuple[str, str | None]:
    """The path without a form's extension, and the form an extension or ?format= names (None: negotiate).
    KG slugs never contain a dot, so a known extension at the end is always a form's."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext:
        for name, (_, extension, _) in FORMATS.items():
            if ext == extension:
                return stem, name
    wanted = request.args.get("format", "").strip().lower()
    if not wanted:
        return path, None
    for name, (media_type, extension, _) in FORMATS.items():
        if wanted in (name, extension, media_type):
            return path, name
    choices = ", ".join(extension for _, extension, _ in FORMATS.values())
    raise PageError(400, f"unknown format {wanted!r}; use one of: {choices}")


def _negotiate() -> str:
    accept = request.accept_mimetypes
    if not accept:
        return NO_ACCEPT_HEADER
    best = accept.best_match(NEGOTIATED)
    if best is None:
        raise PageError(406, "none of the accepted media types is available; available: " + ", ".join(OFFERED))
    return "jsonld" if best == JSONLD_COMPACTED else next(n for n, f in FORMATS.items() if f[0] == best)


def _decorate(response: Response, path: str, format_name: str, negotiated: bool, tag: str) -> Response:
    # Content-Location names the document this representation is, as distinct from the thing the IRI names.
    response.headers["Content-Location"] = f"{_stem(path)}.{FORMATS[format_name][1]}"
    if negotiated:
        response.vary.add("Accept")
    if format_name == "html":
        response.vary.add("Accept-Language")
    links = [f'<{href}>; rel="alternate"; type="{media_type}"' for _, media_type, href in _forms(path)]
    if format_name == "jsonld":
        links.append(f'<{jsonld.CONTEXT_PATH}>; rel="{jsonld.CONTEXT_REL}"; type="application/ld+json"')
    response.headers["Link"] = ", ".join(links)
    return _cacheable(response, tag)


def _stem(path: str) -> str:
    return "/ontology" if path == "/ontology/" else path


def _forms(path: str) -> list[tuple[str, str, str]]:
    """(label, media type, URL) of each RDF form of the resource at `path`."""
    return [(label, media_type, f"{_stem(path)}.{extension}")
            for name, (media_type, extension, label) in FORMATS.items() if name != "html"]


def _template(kind: str) -> str:
    return {"ontology": "ontology.html", "term": "term.html"}.get(kind, "resource.html")


def _unknown(iri: str) -> PageError:
    return PageError(404, f"The knowledge graph has nothing about <{iri}>.")


# --- Shared by every page ------------------------------------------------------------------------------------

def _common(lang: str) -> dict:
    """What base.html and every page template use besides the page itself."""
    return {
        "lang": lang,
        "t": lambda text: i18n.translate(text, lang),
        "languages": i18n.LANGUAGES,
        "path": request.path,
    }


def _etag(key: str, format_name: str, lang: str) -> str:
    backend = current_app.config["KG_BACKEND"]
    seed = repr((backend.build_id, key, format_name, lang, i18n.chosen_explicitly()))
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _cacheable(response: Response, tag: str) -> Response:
    """The KG changes only with a build, whose identity is in the tag."""
    response.set_etag(tag)
    response.last_modified = current_app.config["KG_BACKEND"].created
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    return response


# --- Errors: a page for people, a line of text for programs, never a traceback -----------------------------------

TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 406: "Not acceptable", 500: "Server error",
          503: "Service unavailable"}


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """A page for browsers (who name text/html), one line of text for everyone else."""
    if request.accept_mimetypes.best_match([HTML, "text/plain"]) == HTML:
        lang = i18n.reader_language()
        title = TITLES.get(status, "Error")
        body = render_template("error.html", status=status, title=title, message=message, **_common(lang))
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
    else:
        response = Response(message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8")
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


@bp.errorhandler(PageError)
def _page_error(e: PageError):
    return error_response(e.status, e.message)


@bp.app_errorhandler(404)
def _not_found(e: HTTPException):
    if e.response is not None:  # a route that answered 404 with its own message (abort(response)) keeps it
        return e
    return error_response(404, f"Nothing is published at {request.path}.")


@bp.app_errorhandler(405)
def _method_not_allowed(e: HTTPException):
    allowed = e.get_headers()  # werkzeug's Allow header, naming the methods the route takes
    allow = dict(allowed).get("Allow", "")
    return error_response(405, f"{request.method} is not allowed at {request.path}; use {allow or 'GET'}.", headers={"Allow": allow} if allow else None)


@bp.app_errorhandler(BackendError)
def _backend_error(e: BackendError):
    # A query of the app's own failed: 503 when the store was too slow or too busy (worth retrying), else 500.
    if e.status == 503:
        return error_response(503, "The knowledge graph did not answer in time: " + e.message, headers={"Retry-After": "5"})
    current_app.logger.error("a page query failed: %s", e)
    return error_response(500, "The knowledge graph could not answer this page's query: " + e.message)


@bp.app_errorhandler(500)
def _server_error(e: HTTPException):
    return error_response(500, "Something went wrong on the server while answering this request.")
