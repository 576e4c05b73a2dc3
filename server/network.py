"""The co-participation network at /network: the network files, and the page that draws it.

GET /network?kind=organisation|city&programme=&fund=&country=&from=&to=&ego=&depth=&limit=&offset=&format=
  ego, depth  the ego network of one organisation or city, to depth 1 or 2 (kg.network.ego), out of the
            network the other options choose; without `kind`, the ego's own network (a city's or an
            organisation's). An ego that is no node of that network is a 404 naming 'ego'.
  format    graphml (application/xml), gexf (application/gexf+xml), json (graphology, application/json),
            cytoscape (application/json), csv (edge list, text/csv), nodes-csv (node list, text/csv), html.
            Without `format`, the Accept header chooses among text/html, application/json, application/xml,
            application/graphml+xml (the unregistered name some tools send), application/gexf+xml and
            text/csv (the edge list); a browser gets the page.
  limit, offset  a filtered or ego network lists its links strongest first (weight, then key), `limit` of them
            (DEFAULT_LIMIT unless given; `all` for every one) from the `offset`-th, and every node of the network with
            the measures of the whole network; its graph attributes say how many links it has (`links`) and which
            slice this is (`offset`, `limit`), and a `Link` header (RFC 8288) leads to the next and previous
            slices. The whole network is its whole file unless either is given.
The unfiltered networks are files `kg build` wrote (kg.publish.network_files); a filtered one is computed from the
network the build materialised (the look-ups the build wrote beside those files; for a store without a build
folder, look-up queries through the app's Backend, under the query timeout) and kept in
the app's cache: the look-ups per build, the filtered network with its measures per (build, kind, filters), an
ego network per (build, kind, filters, ego), and the bytes per format and page. An unfiltered ego network is read with
look-ups of its own part of the network only (kg.network.ego.read), not the whole network. The KG only changes with a build, whose id is in every key and in the
ETag.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, send_file

from kg.namespaces import BASE
from kg.network import KINDS, NETWORK_GRAPH, lookup, network_graph
from kg.publish import network_files
from kg.network.export import FORMATS
from kg.network.graph import Graph
from kg.network import ego as ego_option
from kg.network.filters import OPTIONS, Filters, OptionError, parse, selected

from .http import etag, negotiation
from .http.parameters import BadParameter, whole_number
from .http.responses import plain_text
from .pages.iris import local_path
from .http.cache import app_cache
from .http.negotiation import HTML, Form
from .sparql.backend import BackendError

bp = Blueprint("network", __name__)

PARAMETERS = ("kind", "format", *OPTIONS, "ego", "depth", "limit", "offset")
# The links of a filtered or ego answer, strongest first. At 1M triples a filtered organisation network has up to
# 190,000 links (70 MB of JSON, 1.3 s to write, and more for a browser to draw); its nodes (8,000) are listed with
# every page. 10,000 links write in about 0.1 s, hold the strongest ties of the network, and stay under the 20,000
# above which the page draws links as thin lines (server/static/network.js).
DEFAULT_LIMIT = 10_000
MOST = 1_000_000_000  # the bound of `limit` and `offset`, far beyond any network's links
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
    if isinstance(value, Graph):  # a filtered or ego network with its measures
        items = len(value.nodes) + len(value.edges)
    elif isinstance(value, lookup.Network):
        items = len(value.keys) + len(value.names)
    elif isinstance(value, lookup.Vocabulary):
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
    kind_given = request.args.get("kind")
    kind = kind_given or "organisation"
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
        ego = ego_option.parse(request.args.get("ego"), request.args.get("depth"))
    except OptionError as e:
        raise NetworkError(400, f"parameter {e.option!r}: {e.message}") from None
    if ego is not None:
        if not kind_given:  # the ego's own network: a city's when it is a node of the city network
            kind = "city" if ego.iri in _centre(build, "city", ego).nodes else "organisation"
        try:
            if filters:  # cut out of the filtered network, whose measures it keeps
                ego_option.check(_network(build, kind), ego, selected(_projects(build), filters))
            else:  # one node's look-up: the page shows at once, and its data request reads the part around it
                ego_option.check(_centre(build, kind, ego), ego)
        except ego_option.NotInNetwork as e:
            raise NetworkError(404, f"parameter 'ego': {e.message}") from None
    whole = not filters and ego is None and not request.args.get("limit") and not request.args.get("offset")
    offset, limit = _slice(whole)
    if fmt == "html":
        return Response(render_template("network.html", **_page(kind, filters, ego, vocabulary)))

    tag = etag.tag("network", kind, filters, ego, fmt, offset, limit)
    if etag.unchanged(tag):
        return _decorate(etag.not_modified(tag))

    def make_graph():
        return network_graph(_network(build, kind), _projects(build) if filters else {}, filters, build=build)

    def make_view():
        if ego is None:
            return _kept((build, kind, filters), make_graph)
        if filters:
            return _kept((build, kind, filters, ego), lambda: ego_option.cut(_kept((build, kind, filters), make_graph), ego))
        return _kept((build, kind, filters, ego), lambda: ego_option.graph_around(_around(build, kind, ego), ego, build))

    spec = FORMATS[fmt]
    stored = network_files.find(backend.folder, kind, fmt) if whole else None
    if stored is not None:  # written by `kg build`: the heaviest answer is a file read
        response = send_file(stored, mimetype=spec.media_type, etag=False, conditional=False, max_age=None)
    else:
        view = make_view()
        body = _kept((build, kind, filters, ego, offset, limit, fmt),
                     lambda: spec.write(view if whole else view.page(offset, limit)), len)
        response = Response(body, content_type=spec.media_type)
        links = _links(offset, limit, view.attributes["links"])
        if links:
            response.headers["Link"] = links
    if spec.media_type.startswith("text/"):
        response.headers["Content-Type"] = spec.media_type + "; charset=utf-8"
    if fmt in DOWNLOADS:
        response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(kind, ego, fmt)}"'
    return _decorate(etag.cacheable(response, tag))


def _slice(whole: bool) -> tuple[int, int | None]:
    """`offset` and `limit` (None: every link): by default, every link of the whole network and DEFAULT_LIMIT of
    any other."""
    try:
        offset = whole_number("offset", 0, 0, MOST)
        if request.args.get("limit", "").strip().lower() == "all":
            return offset, None
        return offset, whole_number("limit", None if whole else DEFAULT_LIMIT, 1, MOST)
    except BadParameter as e:
        also = " (or 'all' for every link)" if e.name == "limit" else ""
        raise NetworkError(400, f"parameter {e.name!r}: {e.reason}{also}") from None


def _links(offset: int, limit: int | None, links: int) -> str | None:
    """The Link header (RFC 8288) of the slice from `offset`, `limit` long, of `links` links: the next and previous
    slices of the same length, when there are."""
    def address(start: int) -> str:
        args = [(k, v) for k, v in request.args.items() if k != "offset"] + ([("offset", start)] if start else [])
        return request.path + ("?" + urlencode(args) if args else "")

    found = []
    if limit is not None and offset + limit < links:
        found.append(f'<{address(offset + limit)}>; rel="next"')
    if offset > 0:
        found.append(f'<{address(max(0, offset - (limit or offset)))}>; rel="prev"')
    return ", ".join(found) or None


def _network(build: str, kind: str) -> lookup.Network:
    """The materialised network of `kind`, read once per build and worker: from the file the build wrote, else
    (a store without a build folder: a remote one) with the look-up query."""
    def read():
        written = network_files.read_network(current_app.config["KG_BACKEND"].folder, kind)
        return written if written is not None else lookup.read_network(kind, _rows(lookup.network_query(kind), ("what", "s", "p", "o")))
    return _kept((build, kind), read)


def _centre(build: str, kind: str, ego) -> lookup.Network:
    """What the network of `kind` says of the ego alone (nothing when it is not one of its nodes)."""
    return _kept((build, kind, "centre", ego.iri),
                 lambda: lookup.read_network(kind, _rows(lookup.nodes_query(kind, [ego.iri]), ("what", "s", "p", "o"))))


def _around(build: str, kind: str, ego) -> lookup.Network:
    """The part of the network an unfiltered ego network needs, read with look-ups of that part only."""
    return _kept((build, kind, "around", ego), lambda: ego_option.read(kind, ego, lambda text: _rows(text, ("what", "s", "p", "o"))))


def _projects(build: str) -> dict:
    """The filter attributes of every project, read once per build and worker (as _network reads the network)."""
    def read():
        written = network_files.read_projects(current_app.config["KG_BACKEND"].folder)
        return written if written is not None else lookup.read_projects(_rows(lookup.PROJECTS_QUERY, ("s", "p", "o")))
    return _kept((build, "projects"), read)


def _ego_label(build: str, kind: str, filters: Filters, ego) -> str | None:
    if ego is None:
        return None
    network = _network(build, kind) if filters else _centre(build, kind, ego)  # what the request has read already
    return network.nodes[ego.iri]["label"]


def _file_name(kind: str, ego, fmt: str) -> str:
    around = "" if ego is None else f"-around-{re.sub(r'[^A-Za-z0-9-]+', '-', ego.iri.rsplit('/', 1)[-1]).strip('-') or 'node'}-depth-{ego.depth}"
    return f"cohesion-kg-{kind}-network{around}{_suffix(fmt)}"


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


def _page(kind: str, filters: Filters, ego, vocabulary) -> dict:
    """What the page's choosers and links need."""
    choosers = vocabulary.choosers()
    paging = {name: request.args[name] for name in ("limit", "offset") if request.args.get(name)}
    current = {"kind": kind, **filters.as_dict(), **(ego.as_dict() if ego else {}), **paging}
    build = current_app.config["KG_BACKEND"].build_id
    first, last = _kept((build, "years"), lambda: lookup.read_years(_rows(lookup.YEARS_QUERY, ("first", "last"))))
    return {
        "kind": kind,
        "kinds": KINDS,
        "filters": filters.as_dict(),
        "programmes": choosers["programmes"],
        "funds": [p for p in choosers["programmes"] if p["level"] == "Fund"],
        "countries": choosers["countries"],
        "downloads": [(name, {**current, "format": name}) for name in FORMATS],
        "ego": ego,
        "ego_page": (local_path(ego.iri) or ego.iri) if ego else None,
        "whole": {"kind": kind, **filters.as_dict()},
        "ego_label": _ego_label(build, kind, filters, ego),
        "years": {"first": first, "last": last},
        "base": BASE,
    }
