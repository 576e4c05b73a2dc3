"""The dataset described for harvesters and people: VoID + DCAT-AP, dumps, sitemap.xml, robots.txt.

A harvester needs no documentation: /robots.txt names /sitemap.xml; /.well-known/void (the place RFC 8615 and
the VoID recommendation give it) describes the dataset, its statistics, its dumps and its SPARQL endpoint, and is
the DCAT-AP catalogue too; /catalog and /dataset, the IRIs of those two things, send there with 303.

The KG is read-only between builds, so the figures, the dumps and the rendered documents are made once per
build in each worker and kept. Dumps of an on-disk build are written by `kg build` into the build folder; for
a store built in memory (tests, development) they are written here, once, into a temporary folder.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, send_file
from werkzeug.urls import iri_to_uri

from kg.publish import description as dd
from kg.publish import dumps as dump_files
from kg.queries import catalogue as named_queries
from kg.queries.run import GRAPH_FORMATS
from kg.store.builds import current_build
from kg.store.embedded import KGStore

from .backend import BackendError
from .iris import local_path

bp = Blueprint("dataset", __name__)

VOID_PATH = "/.well-known/void"
HTML = "text/html"
# rdflib's names for the graph formats the endpoint offers too (kg.queries.run.GRAPH_FORMATS), Turtle first: the default.
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000  # the sitemaps.org limit per file; more and /sitemap.xml becomes an index
DOCUMENTS_KEPT = 32  # rendered documents per worker: one per host and format, and the Host header is the client's
# A subject is an IRI or a blank node, whose STR no IRI starts: no isIRI test, which costs Virtuoso seconds.
ENTITIES = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER (STRSTARTS(STR(?s), STR(id:))) } ORDER BY ?s"


@dataclass
class _Build:
    """What this worker has made for the build it serves."""

    lock: Lock = field(default_factory=Lock)
    dumps_folder: Path | None = None
    dumps: list[dump_files.Dump] | None = None
    statistics: dd.Statistics | None = None
    entity_paths: list[str] | None = None
    documents: OrderedDict = field(default_factory=OrderedDict)


def _build() -> _Build:
    return current_app.extensions.setdefault("kg-dataset", _Build())


def _backend():
    return current_app.config["KG_BACKEND"]


@bp.errorhandler(BackendError)
def _backend_error(e: BackendError):
    # A figure could not be computed (the query process timed out or died): say so, without internals.
    return _text(f"the dataset description could not be computed now ({e.status}); try again later", 503)


# --- VoID and DCAT ---------------------------------------------------------------------------------------------


@bp.get(VOID_PATH)
def void():
    fmt = _choose_format()
    if fmt == HTML:
        response = Response(_page(), content_type="text/html; charset=utf-8")
    else:
        response = Response(_document(fmt), content_type=GRAPH_FORMATS[fmt].media_type + "; charset=utf-8")
    response.vary.add("Accept")
    return _cacheable(response, f"{request.host_url}|{fmt}")


@bp.get("/catalog")
@bp.get("/dataset")
def described_elsewhere():
    # The catalogue and the dataset are not documents; the document that describes both is the VoID one.
    return redirect(VOID_PATH, 303)


def _choose_format() -> str:
    """A format name of kg.queries.run.GRAPH_FORMATS, or HTML: the `format` parameter for links, else the Accept header."""
    offered = {name: GRAPH_FORMATS[name].media_type for name in RDFLIB_FORMATS}
    wanted = request.args.get("format", "").strip().lower()
    if wanted:
        for name, media_type in offered.items():
            if wanted in (name, media_type, GRAPH_FORMATS[name].extension):
                return name
        if wanted in ("html", HTML):
            return HTML
        abort(_text(f"unknown format {wanted!r}; use one of: html, " + ", ".join(offered), 400))
    if not request.accept_mimetypes:
        return "turtle"
    best = request.accept_mimetypes.best_match(list(offered.values()) + [HTML])
    if best is None:
        abort(_text("the dataset description is available as: " + ", ".join([*offered.values(), HTML]), 406))
    return HTML if best == HTML else next(n for n, m in offered.items() if m == best)


def _document(fmt: str) -> bytes:
    """The description serialised for this host."""

    def make() -> bytes:
        graph = dd.describe(_statistics(), _dumps()[1], request.host_url, _backend().build_id, _backend().created)
        options = {"auto_compact": True} if fmt == "jsonld" else {}
        return graph.serialize(format=RDFLIB_FORMATS[fmt], encoding="utf-8", **options)

    return _kept(("description", request.host_url, fmt), make)


def _kept(key: tuple, make) -> bytes:
    """A rendered document, made on first use and kept, the least recently used dropped past DOCUMENTS_KEPT."""
    build = _build()
    with build.lock:
        body = build.documents.get(key)
        if body is not None:
            build.documents.move_to_end(key)
            return body
    body = make()  # outside the lock: making may need the figures or the dumps, which take the lock themselves
    with build.lock:
        build.documents[key] = body
        while len(build.documents) > DOCUMENTS_KEPT:
            build.documents.popitem(last=False)
    return body


def _statistics() -> dd.Statistics:
    build = _build()
    with build.lock:
        if build.statistics is None:
            build.statistics = dd.compute(_backend().select)
        return build.statistics


# --- Dumps -----------------------------------------------------------------------------------------------------


@bp.get("/dumps/")
def dumps_listing():
    return _cacheable(Response(_page(), content_type="text/html; charset=utf-8"), "dumps")


@bp.get("/dumps/<name>")
def dump(name: str):
    folder, dumps = _dumps()
    found = next((d for d in dumps if d.name == name), None)
    if found is None and _backend().remote is not None:
        return _text("this endpoint fronts a SPARQL server and offers no dump files; every triple is available through "
                     f"{request.host_url}sparql (CONSTRUCT), or from the server's own export", 404)
    if found is None:
        return _text(f"no dump named {name!r}; see {request.host_url}dumps/", 404)
    response = send_file(
        folder / found.name,
        mimetype="application/gzip",
        as_attachment=True,
        download_name=found.name,
        etag=found.sha256,  # content-based: the same file keeps its tag whatever build or worker serves it
        max_age=current_app.config["CACHE_MAX_AGE"],
    )
    response.headers["KG-Build"] = _backend().build_id
    return response


@bp.get("/dumps/SHA256SUMS")
def checksums():
    """The checksums in the form `sha256sum --check` reads."""
    lines = "".join(f"{d.sha256}  {d.name}\n" for d in _dumps()[1])
    return _cacheable(Response(lines, content_type="text/plain; charset=utf-8"), "sums")


def _dumps() -> tuple[Path | None, list[dump_files.Dump]]:
    build = _build()
    with build.lock:  # one writer; the others wait for the finished set rather than write their own
        if build.dumps is None:
            build.dumps_folder, build.dumps = _find_or_write_dumps()
        return build.dumps_folder, build.dumps


def _find_or_write_dumps() -> tuple[Path | None, list[dump_files.Dump]]:
    config = current_app.config
    store: KGStore | None = config["KG_STORE"]
    folder = _backend().folder  # the on-disk build served, or the open store's own folder; None in memory
    if folder is not None and not folder.is_dir():
        folder = None  # pruned from under this worker (the link has since moved on)
    if folder is not None:
        found = dump_files.read(folder / dump_files.DUMPS_DIR)
        if found is not None:
            return folder / dump_files.DUMPS_DIR, found
    if store is None:
        if folder is None:
            return None, []  # the build served was pruned from under this worker: nothing to offer
        # A build made before builds wrote dumps: write them here once, from a read-only opening of it.
        store = KGStore.open_build(*current_build(folder))
    target = Path(tempfile.mkdtemp(prefix="kg-dumps-"))
    atexit.register(shutil.rmtree, target, True)
    return target, dump_files.write(store, target)


# --- Sitemap and robots.txt ------------------------------------------------------------------------------------


@bp.get("/sitemap.xml")
def sitemap():
    def make() -> bytes:
        pages = _sitemap_pages()
        if len(pages) == 1:
            return _xml(_urlset(pages[0]))
        root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
        for number in range(1, len(pages) + 1):
            entry = ET.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
            ET.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = f"{request.host_url}sitemap-{number}.xml"
            ET.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = _lastmod()
        return _xml(root)

    return _sitemap_response(_kept(("sitemap", request.host_url, SITEMAP_MAX_URLS, 0), make))


@bp.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    pages = _sitemap_pages()
    if len(pages) == 1 or not 1 <= number <= len(pages):
        return _text(f"no such sitemap; start from {request.host_url}sitemap.xml", 404)
    body = _kept(("sitemap", request.host_url, SITEMAP_MAX_URLS, number), lambda: _xml(_urlset(pages[number - 1])))
    return _sitemap_response(body)


@bp.get("/robots.txt")
def robots():
    # Query results are endless variations of one resource: crawlers get the pages, the dumps and the sitemap.
    text = (
        "User-agent: *\n"
        "Disallow: /sparql?\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {request.host_url}sitemap.xml\n"
    )
    return _cacheable(Response(text, content_type="text/plain; charset=utf-8"), "robots|" + request.host_url)


def _sitemap_pages() -> list[list[str]]:
    """Every path to list, in pages of at most SITEMAP_MAX_URLS."""
    paths = ["/", "/sparql", "/queries", "/network", VOID_PATH, "/dumps/"]
    paths += [f"/dumps/{d.name}" for d in _dumps()[1]]
    # Named queries that answer without being given anything: a crawler can read their results too.
    paths += [f"/queries/{q.name}" for q in named_queries.catalogue().values() if not any(p.required for p in q.params)]
    paths += _entity_paths()
    size = SITEMAP_MAX_URLS
    return [paths[i:i + size] for i in range(0, len(paths), size)] or [[]]


def _entity_paths() -> list[str]:
    """The page of every KG resource: each IRI under id/ that is the subject of a triple."""
    build = _build()
    with build.lock:
        if build.entity_paths is None:
            iris = [row["s"]["value"] for row in _backend().select(ENTITIES)]
            build.entity_paths = [p for p in map(local_path, iris) if p is not None]
        return build.entity_paths


def _urlset(paths: list[str]) -> ET.Element:
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    lastmod = _lastmod()
    base = request.host_url.rstrip("/")
    for path in paths:
        url = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = iri_to_uri(base + path)
        ET.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    return root


def _lastmod() -> str:
    return _backend().created.isoformat(timespec="seconds")


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=SITEMAP_NS)


def _sitemap_response(body: bytes) -> Response:
    response = Response(body, content_type="application/xml; charset=utf-8")
    return _cacheable(response, hashlib.sha256(body).hexdigest())


# --- The page for people ---------------------------------------------------------------------------------------


def _page() -> str:
    stats = _statistics()
    return render_template(
        "dumps.html",
        stats=stats,
        dumps=_dumps()[1],
        build_id=_backend().build_id,
        created=_backend().created,
        title=dd.TITLE["en"],
        description=dd.DESCRIPTION["en"],
        formats=[(name, GRAPH_FORMATS[name]) for name in RDFLIB_FORMATS],
        targets={t.key: t for t in dd.TARGETS},
        void_path=VOID_PATH,
    )


# --- Shared ----------------------------------------------------------------------------------------------------


def _cacheable(response: Response, key: str) -> Response:
    """Tag a response with its build and `key`, let clients keep it, and answer 304 to a matching request."""
    backend = _backend()
    response.set_etag(hashlib.sha256(f"{backend.build_id}|{key}".encode()).hexdigest()[:32])
    response.last_modified = backend.created
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    response.headers["KG-Build"] = backend.build_id
    return response.make_conditional(request)


def _text(message: str, status: int) -> Response:
    return Response(message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8")
