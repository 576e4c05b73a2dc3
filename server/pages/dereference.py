"""Home page and dereferenceable IRIs: HTML for people, RDF for machines (issue 4).

Every KG IRI (https://w3id.org/cohesion-kg/id/..., .../ontology/...) is answered at the same path here (see
server/pages/iris.py). The IRI itself answers 200 with the representation content negotiation picks, and names that
representation's own URL in Content-Location: /id/project/conet.ttl, .jsonld, .nt, .rdf, .html. Those URLs (and
?format=) give one form without negotiation. docs/linked-data.md says why 200 rather than a 303 redirect.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Response, current_app, redirect, render_template, request

from kg.namespaces import BASE
from kg.publish.site import VOID_PATH
from kg.queries import run as q

from ..http import etag, negotiation
from ..http.negotiation import HTML, Form, UnknownFormat
from ..http.pages_headers import describedby, fixed_form
from . import bp, describe, i18n, jsonld, views
from .errors import PageError, common
from .iris import iri_for
# The forms of a resource: name (as the store's writers call them) -> media type, extension, label for people.
FORMATS = {"html": (HTML, "html", "HTML")}
FORMATS.update({
    name: (q.GRAPH_FORMATS[name].media_type, q.GRAPH_FORMATS[name].extension, label)
    for name, label in (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"), ("rdfxml", "RDF/XML"))
})
# What content negotiation offers, best first: browsers name text/html, and */* gets the page too. JSON-LD is
# also offered with the compacted profile, which clients may name and which is the form we write.
ORDER = ("html", "turtle", "jsonld", "ntriples", "rdfxml")
OFFERED = [FORMATS[name][0] for name in ORDER]
JSONLD_COMPACTED = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"'
NEGOTIATED = [Form(name, FORMATS[name][0], (FORMATS[name][1],)) for name in ORDER] + [Form("jsonld", JSONLD_COMPACTED)]
NO_ACCEPT_HEADER = "turtle"  # a client that states nothing is a program more often than a person
ONTOLOGY = BASE + "ontology"


# --- Routes --------------------------------------------------------------------------------------------------

@bp.get("/")
def home():
    # The site's root stands for the dataset: a program asking for RDF is sent to the dataset's description.
    if negotiation.from_accept(NEGOTIATED, without_header="html", otherwise="html") != "html":
        response = redirect(VOID_PATH, 303)
        response.vary.add("Accept")
        return response
    lang = i18n.reader_language()
    backend = current_app.config["KG_BACKEND"]
    tag = _etag("home", "html", lang)
    if etag.unchanged(tag):
        return etag.not_modified(tag)
    page = views.home_page(backend, lang, i18n.chosen_explicitly())
    response = Response(render_template("home.html", page=page, **common(lang)))
    response.vary.add("Accept-Language")
    return etag.cacheable(response, tag)


@bp.get(jsonld.CONTEXT_PATH)
def context():
    body = json.dumps(jsonld.context_document(), indent=2, ensure_ascii=False) + "\n"
    response = Response(body, content_type="application/ld+json; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"  # JSON-LD processors in browsers fetch it cross-origin
    return etag.cacheable(response, _etag("context", "jsonld", ""))


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
    if etag.unchanged(tag):
        return _decorate(Response(status=304), path, format_name, negotiated, tag)
    if format_name == "html":
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT 100"
        body = render_template("graph.html", iri=iri, triples=backend.graph_sizes[iri], query=query, forms=_forms(path), **common(lang))
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
    if etag.unchanged(tag):
        return _decorate(Response(status=304), path, format_name, negotiated, tag)
    backend = current_app.config["KG_BACKEND"]
    if format_name == "html":
        page = views.resource_page(backend, iri, lang, i18n.chosen_explicitly())
        if page is None:
            raise _unknown(iri)
        body = render_template(_template(page["kind"]), page=page, forms=_forms(path), **common(lang))
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
                return stem, fixed_form(name)
    try:
        return path, fixed_form(negotiation.from_parameter(NEGOTIATED[:len(ORDER)], request.args.get("format")))
    except UnknownFormat as e:
        choices = ", ".join(extension for _, extension, _ in FORMATS.values())
        raise PageError(400, f"unknown format {e.word!r}; use one of: {choices}") from None


def _negotiate() -> str:
    name = negotiation.from_accept(NEGOTIATED, without_header=NO_ACCEPT_HEADER)
    if name is None:
        raise PageError(406, "none of the accepted media types is available; available: " + ", ".join(OFFERED))
    return name


def _decorate(response: Response, path: str, format_name: str, negotiated: bool, tag: str) -> Response:
    # Content-Location names the document this representation is, as distinct from the thing the IRI names.
    response.headers["Content-Location"] = f"{_stem(path)}.{FORMATS[format_name][1]}"
    if negotiated:
        response.vary.add("Accept")
    if format_name == "html":
        response.vary.add("Accept-Language")
    forms = _forms(path)
    links = [f'<{href}>; rel="alternate"; type="{media_type}"' for _, media_type, href in forms]
    if format_name == "html":  # the page describes the resource; its RDF is what describes it for programs
        links.append(describedby(forms[0][2], forms[0][1]))
    if format_name == "jsonld":
        links.append(f'<{jsonld.CONTEXT_PATH}>; rel="{jsonld.CONTEXT_REL}"; type="application/ld+json"')
    response.headers["Link"] = ", ".join(links)
    return etag.cacheable(response, tag)


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


def _etag(key: str, format_name: str, lang: str) -> str:
    return etag.tag(key, format_name, lang, i18n.chosen_explicitly())
