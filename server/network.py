"""The co-participation network at /network: the network files, and the page that draws it.

GET /network?kind=organisation|city&programme=&fund=&country=&from=&to=&format=
  format    graphml (application/xml), gexf (application/gexf+xml), json (graphology, application/json),
            cytoscape (application/json), csv (edge list, text/csv), nodes-csv (node list, text/csv), html.
            Without `format`, the Accept header chooses among text/html, application/json, application/xml,
            application/graphml+xml (the unregistered name some tools send), application/gexf+xml and
            text/csv (the edge list); a browser gets the page.
The unfiltered networks are files `kg build` wrote (kg.publish.network_files); a filtered one is computed from the
network the build materialised (look-up queries through the app's Backend, under the query timeout) and kept in the app's cache: the look-ups per build, the filtered network with its measures per (build,
kind, filters), and the bytes per format. The KG only changes with a build, whose id is in every key and in the
ETag.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, send_file

from kg.namespaces import BASE
from kg.network import KINDS, NETWORK_GRAPH, lookup, network_graph
from kg.publish import network_files
from kg.network.export import FORMATS
from kg.network.filters import OPTIONS, OptionError, parse

from .http import etag, negotiation
from .http.responses import plain_text
from .http.cache import app_cache
from .http.negotiation import HTML, Form
from .sparql.backend import BackendError

bp = Blueprint("network", __name__)

PARAMETERS = ("kind", "format", *OPTIONS)
# Media type -> format, in the order a client that accepts anything gets them.
NEGOTIATED = [
    Form("html", HTML),
    Form("json", "application/json"),
    Form("graphml", "application/xml"),
    Form("graphml", "application/graphml+xml"),
    Form("gexf", "application/gexf+xml"),
    Form("csv", "text/csv"),
]
DOWNLOADS = {"graphml", "gexf", "csv", "nodes-csv"}  # formats a browser saves rather than shows
# What the cache is told a look-up or a filtered network weighs: roughly, per row or per node and edge.
BYTES_PER_ITEM = 200


def _weigh(value) -> int:
    """An estimate of the memory a look-up or a filtered network holds, from how many things it holds."""
    if hasattr(value, "number_of_nodes"):  # a filtered network: a networkx graph with its measures
        items = value.number_of_nodes() + value.number_of_edges()
    elif hasattr(value, "edges"):  # a lookup.Network
        items = len(value.edges) + len(value.nodes)
    elif hasattr(value, "funding"):  # a lookup.Vocabulary
        items = len(value.funding) + len(value.countries)
    else:  # the projects: {IRI: Project}
        items = len(value)
    return BYTES_PER_ITEM * max(1, items)


def _kept(key: tuple, make, weigh=_weigh):
    return app_cache().get_or_make(("network", *key), make, weigh)


class NetworkError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(NetworkError)
def _error(e: NetworkError):
    return plain_text(e.message, e.status)


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
    vocabulary = _kept((build, "vocabulary"), lambda: lookup.read_vocabulary(_rows(lookup.VOCABULARY_QUERY, ("s", "p", "o"))))
    try:
        filters = parse({name: request.args.get(name) for name in OPTIONS}, vocabulary)
    except OptionError as e:
        raise NetworkError(400, f"parameter {e.option!r}: {e.message}") from None
    if fmt == "html":
        return Response(render_template("network.html", **_page(kind, filters, vocabulary)))

    tag = etag.tag("network", kind, filters, fmt)
    if etag.unchanged(tag):
        return _decorate(etag.not_modified(tag))

    def make_graph():
        network = _kept((build, kind), lambda: lookup.read_network(kind, _rows(lookup.network_query(kind), ("what", "s", "p", "o"))))
        projects = _kept((build, "projects"), lambda: lookup.read_projects(_rows(lookup.PROJECTS_QUERY, ("s", "p", "o")))) if filters else {}
        return network_graph(network, projects, filters, build=build)

    spec = FORMATS[fmt]
    stored = None if filters else network_files.find(backend.folder, kind, fmt)
    if stored is not None:  # written by `kg build`: the heaviest answer is a file read
        response = send_file(stored, mimetype=spec.media_type, etag=False, conditional=False, max_age=None)
    else:
        body = _kept((build, kind, filters, fmt), lambda: spec.write(_kept((build, kind, filters), make_graph)), len)
        response = Response(body, content_type=spec.media_type)
    if spec.media_type.startswith("text/"):
        response.headers["Content-Type"] = spec.media_type + "; charset=utf-8"
    if fmt in DOWNLOADS:
        response.headers["Content-Disposition"] = f'attachment; filename="cohesion-kg-{kind}-network{_suffix(fmt)}"'
    return _decorate(etag.cacheable(response, tag))


def _format() -> str:
    given = request.args.get("format")
    if given:
        if given != "html" and given not in FORMATS:
            raise NetworkError(400, f"parameter 'format': expected one of html, {', '.join(FORMATS)}, not {given!r}")
        return given
    best = negotiation.from_accept(NEGOTIATED, without_header="html")  # no Accept header: anything will do
    if best is None:
        offered = ", ".join(f.media_type for f in NEGOTIATED)
        raise NetworkError(406, f"none of the accepted media types fits; available: {offered} (or ?format=)")
    return best


def _suffix(fmt: str) -> str:
    return "-nodes.csv" if fmt == "nodes-csv" else "-edges.csv" if fmt == "csv" else "." + FORMATS[fmt].extension


def _rows(text: str, names: tuple[str, ...]) -> list[tuple]:
    try:
        bindings = current_app.config["KG_BACKEND"].select(text)
    except BackendError as e:
        raise NetworkError(503 if e.status == 503 else 500, f"the network could not be read: {e.message}") from None
    return lookup.rows_of_bindings(bindings, names)


def _decorate(response: Response) -> Response:
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
