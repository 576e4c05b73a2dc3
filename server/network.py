"""The co-participation network at /network: the network files, and the page that draws it.

GET /network?kind=organisation|city&programme=&fund=&country=&from=&to=&format=
  format    graphml (application/xml), gexf (application/gexf+xml), json (graphology, application/json),
            cytoscape (application/json), csv (edge list, text/csv), nodes-csv (node list, text/csv), html.
            Without `format`, the Accept header chooses among text/html, application/json, application/xml,
            application/graphml+xml (the unregistered name some tools send), application/gexf+xml and
            text/csv (the edge list); a browser gets the page.
The answer comes from the network `kg build` materialised (look-up queries through the app's Backend, in the
query process, with its timeout), and is kept per worker: the look-ups per build, the filtered network with its
measures per (build, kind, filters), and the bytes per format. The KG only changes with a build, whose id is in
every key and in the ETag.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock

from flask import Blueprint, Response, current_app, render_template, request, send_file

from kg.namespaces import BASE
from kg.network import KINDS, NETWORK_GRAPH, lookup, network_graph
from kg.publish import network_files
from kg.network.export import FORMATS
from kg.network.filters import OPTIONS, OptionError, parse

from .backend import BackendError

bp = Blueprint("network", __name__)

PARAMETERS = ("kind", "format", *OPTIONS)
HTML = "text/html"
# Media type -> format, in the order a client that accepts anything gets them.
NEGOTIATED = {
    HTML: "html",
    "application/json": "json",
    "application/xml": "graphml",
    "application/graphml+xml": "graphml",
    "application/gexf+xml": "gexf",
    "text/csv": "csv",
}
DOWNLOADS = {"graphml", "gexf", "csv", "nodes-csv"}  # formats a browser saves rather than shows


class _LRU:
    """Recent values per worker, within a count and (for answers) a byte budget: a network of 1M triples is big."""

    def __init__(self, size: int, budget: int = 0, weigh=lambda value: 0):
        self.size, self.budget, self.weigh = size, budget, weigh
        self.items, self.used, self.lock = OrderedDict(), 0, Lock()

    def get(self, key, make):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.used += self.weigh(value)
            while len(self.items) > self.size or (self.budget and self.used > self.budget and len(self.items) > 1):
                _, old = self.items.popitem(last=False)
                self.used -= self.weigh(old)
        return value


LOOKUPS = _LRU(6)  # per build: the two networks, the projects and the vocabulary
GRAPHS = _LRU(4)  # filtered networks with their measures
BODIES = _LRU(64, budget=256 * 1024 * 1024, weigh=len)  # serialised answers


class NetworkError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(NetworkError)
def _error(e: NetworkError):
    return Response(e.message.rstrip() + "\n", status=e.status, content_type="text/plain; charset=utf-8")


@bp.get("/network")
def network():
    for name in request.args:
        if name not in PARAMETERS:
            raise NetworkError(400, f"parameter {name!r} is not known; /network takes: {', '.join(PARAMETERS)}")
    for name in PARAMETERS:
        if len(request.args.getlist(name)) > 1:
            raise NetworkError(400, f"parameter {name!r} is given more than once")
    kind = request.args.get("kind") or "organisation"
    if kind not in KINDS:
        raise NetworkError(400, f"parameter 'kind': expected one of {', '.join(KINDS)}, not {kind!r}")
    fmt = _format()
    backend = current_app.config["KG_BACKEND"]
    if str(NETWORK_GRAPH) not in backend.graph_sizes:
        raise NetworkError(503, "this build has no co-participation network: build the KG again with `kg build`")
    build = backend.build_id
    vocabulary = LOOKUPS.get((build, "vocabulary"), lambda: lookup.read_vocabulary(_rows(lookup.VOCABULARY_QUERY, ("s", "p", "o"))))
    try:
        filters = parse({name: request.args.get(name) for name in OPTIONS}, vocabulary)
    except OptionError as e:
        raise NetworkError(400, f"parameter {e.option!r}: {e.message}") from None
    if fmt == "html":
        response = Response(render_template("network.html", **_page(kind, filters, vocabulary)))
        response.vary.add("Accept")
        return response

    etag = hashlib.sha256(repr((build, kind, filters, fmt)).encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        return _decorate(Response(status=304), etag)

    def make_graph():
        network = LOOKUPS.get((build, kind), lambda: lookup.read_network(kind, _rows(lookup.network_query(kind), ("what", "s", "p", "o"))))
        projects = LOOKUPS.get((build, "projects"), lambda: lookup.read_projects(_rows(lookup.PROJECTS_QUERY, ("s", "p", "o")))) if filters else {}
        return network_graph(network, projects, filters, build=build)

    spec = FORMATS[fmt]
    stored = None if filters else network_files.find(backend.folder, kind, fmt)
    if stored is not None:  # written by `kg build`: the heaviest answer is a file read
        response = send_file(stored, mimetype=spec.media_type, etag=False, conditional=False, max_age=None)
    else:
        body = BODIES.get((build, kind, filters, fmt), lambda: spec.write(GRAPHS.get((build, kind, filters), make_graph)))
        response = Response(body, content_type=spec.media_type)
    if spec.media_type.startswith("text/"):
        response.headers["Content-Type"] = spec.media_type + "; charset=utf-8"
    if fmt in DOWNLOADS:
        response.headers["Content-Disposition"] = f'attachment; filename="cohesion-kg-{kind}-network{_suffix(fmt)}"'
    return _decorate(response, etag)


def _format() -> str:
    given = request.args.get("format")
    if given:
        if given != "html" and given not in FORMATS:
            raise NetworkError(400, f"parameter 'format': expected one of html, {', '.join(FORMATS)}, not {given!r}")
        return given
    if not request.accept_mimetypes:  # no Accept header: anything will do
        return "html"
    best = request.accept_mimetypes.best_match(list(NEGOTIATED))
    if best is None:
        raise NetworkError(406, "none of the accepted media types fits; available: " + ", ".join(NEGOTIATED) + " (or ?format=)")
    return NEGOTIATED[best]


def _suffix(fmt: str) -> str:
    return "-nodes.csv" if fmt == "nodes-csv" else "-edges.csv" if fmt == "csv" else "." + FORMATS[fmt].extension


def _rows(text: str, names: tuple[str, ...]) -> list[tuple]:
    try:
        bindings = current_app.config["KG_BACKEND"].select(text)
    except BackendError as e:
        raise NetworkError(503 if e.status == 503 else 500, f"the network could not be read: {e.message}") from None
    return lookup.rows_of_bindings(bindings, names)


def _decorate(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["KG-Build"] = current_app.config["KG_BACKEND"].build_id
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    response.vary.add("Accept")
    return response


def _page(kind: str, filters, vocabulary) -> dict:
    """What the page's choosers and links need."""
    label = lambda iri: vocabulary.labels.get(iri) or iri.rsplit("/", 1)[-1]

    def path(iri: str) -> list[str]:  # labels from the fund down to this level: the chooser's order
        chain, seen = [], set()
        while iri is not None and iri not in seen:
            seen.add(iri)
            chain.insert(0, label(iri))
            iri = vocabulary.above.get(iri)
        return chain

    programmes = sorted(((iri, level, len(path(iri)) - 1) for iri, level in vocabulary.funding.items()), key=lambda item: path(item[0]))
    countries = sorted(vocabulary.countries.items(), key=lambda item: label(item[0]))
    current = {"kind": kind, **filters.as_dict()}
    return {
        "kind": kind,
        "kinds": KINDS,
        "filters": filters.as_dict(),
        "programmes": [{"iri": iri, "label": label(iri), "depth": depth} for iri, level, depth in programmes],
        "funds": [{"iri": iri, "label": label(iri)} for iri, level, depth in programmes if level == "Fund"],
        "countries": [{"iri": iri, "code": code, "label": label(iri)} for iri, code in countries],
        "downloads": [(name, {**current, "format": name}) for name in FORMATS],
        "base": BASE,
    }
