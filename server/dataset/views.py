"""The dataset described for harvesters and people: VoID + DCAT-AP, dumps, sitemap.xml, robots.txt.

A harvester needs no documentation: /robots.txt names /sitemap.xml; /.well-known/void (the place RFC 8615 and
the VoID recommendation give it) describes the dataset, its statistics, its dumps and its SPARQL endpoint, and is
the DCAT-AP catalogue too; /catalog and /dataset, the IRIs of those two things, send there with 303.

Everything here is read from what `kg build` published beside the store (kg.publish: the dumps, the figures of
the description, the sitemap's pages); the server writes nothing and opens no store. What depends on the host a
client asked (the absolute URLs of the description and the sitemap) is rendered here and kept in the app's cache.
A SPARQL server fronted has no build folder: its figures and pages are read through the endpoint's own queries,
once per build, and it offers no dumps.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, redirect, render_template, request, send_file
from werkzeug.urls import iri_to_uri

from kg.publish import description as dd
from kg.publish import dumps as dump_files
from kg.publish import site
from kg.publish.site import VOID_PATH
from kg.queries.run import GRAPH_FORMATS

from ..http.responses import plain_text
from ..http import etag, negotiation
from ..http.cache import app_cache, per_build
from ..http.negotiation import HTML, Form, UnknownFormat
from ..sparql.backend import BackendError
from . import bp

# rdflib's names for the graph formats the endpoint offers too (kg.queries.run.GRAPH_FORMATS), Turtle first: the default.
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}
FORMS = [Form(name, GRAPH_FORMATS[name].media_type, (GRAPH_FORMATS[name].extension,)) for name in RDFLIB_FORMATS]
FORMS.append(Form("html", HTML))
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000  # the sitemaps.org limit per file; more and /sitemap.xml becomes an index


@dataclass
class Published:
    """What the build served publishes, as read by this worker (once per build: the build's files do not change)."""

    statistics: dd.Statistics
    dumps_folder: Path | None
    dumps: list[dump_files.Dump]
    pages: list[str]


def published() -> Published:
    return per_build("published", _read)


def _read(backend) -> Published:
    folder = backend.folder if backend.folder is not None and backend.folder.is_dir() else None
    dumps_folder = folder / dump_files.DUMPS_DIR if folder is not None else None
    dumps = (dump_files.read(dumps_folder) if dumps_folder is not None else None) or []
    statistics = site.read_statistics(folder)
    if statistics is None:  # a SPARQL server fronted, or a build made before builds wrote the figures
        statistics = site.statistics(backend.select)
    pages = site.read_pages(folder)
    if pages is None:
        pages = site.page_paths(backend.select, dumps)
    return Published(statistics, dumps_folder if dumps else None, dumps, pages)


@bp.errorhandler(BackendError)
def _backend_error(e: BackendError):
    # A figure could not be read through the store (its query timed out or was refused): say so, without internals.
    return plain_text(f"the dataset description could not be computed now ({e.status}); try again later", 503)


# --- VoID and DCAT ---------------------------------------------------------------------------------------------


@bp.get(VOID_PATH)
def void():
    fmt = _choose_format()
    tag = etag.tag(request.host_url, "description", fmt)
    if etag.unchanged(tag):
        response = etag.not_modified(tag)
    elif fmt == "html":
        response = etag.cacheable(Response(_page(), content_type="text/html; charset=utf-8"), tag)
    else:
        body = _kept(("description", request.host_url, fmt), lambda: _description(fmt))
        response = etag.cacheable(Response(body, content_type=GRAPH_FORMATS[fmt].media_type + "; charset=utf-8"), tag)
    response.vary.add("Accept")
    return response


@bp.get("/catalog")
@bp.get("/dataset")
def described_elsewhere():
    # The catalogue and the dataset are not documents; the document that describes both is the VoID one.
    return redirect(VOID_PATH, 303)


def _choose_format() -> str:
    """A name of FORMS: the `format` parameter for links, else the Accept header."""
    try:
        name = negotiation.choose(FORMS, without_header="turtle", parameter=request.args.get("format"))
    except UnknownFormat as e:
        raise _Refused(plain_text(f"unknown format {e.word!r}; use one of: html, " + ", ".join(RDFLIB_FORMATS), 400)) from None
    if name is None:
        raise _Refused(plain_text("the dataset description is available as: " + ", ".join(f.media_type for f in FORMS), 406))
    return name


class _Refused(Exception):
    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(_Refused)
def _refused(e: _Refused):
    return e.response


def _description(fmt: str) -> bytes:
    """The description for the host asked, from the figures and dumps the build published."""
    backend = current_app.config["KG_BACKEND"]
    found = published()
    graph = dd.describe(found.statistics, found.dumps, request.host_url, backend.build_id, backend.created)
    options = {"auto_compact": True} if fmt == "jsonld" else {}
    return graph.serialize(format=RDFLIB_FORMATS[fmt], encoding="utf-8", **options)


def _kept(key: tuple, make) -> bytes:
    """A rendered document, kept in the app's cache for this build (the Host header is the client's: a key per host)."""
    return app_cache().get_or_make(("dataset", current_app.config["KG_BACKEND"].build_id, *key), make)


# --- Dumps -----------------------------------------------------------------------------------------------------


@bp.get("/dumps/")
def dumps_listing():
    return etag.cacheable(Response(_page(), content_type="text/html; charset=utf-8"), etag.tag("dumps"))


@bp.get("/dumps/<name>")
def dump(name: str):
    found = published()
    dump_file = next((d for d in found.dumps if d.name == name), None)
    if dump_file is None and current_app.config["KG_BACKEND"].remote is not None:
        return plain_text("this endpoint fronts a SPARQL server and offers no dump files; every triple is available through "
                     f"{request.host_url}sparql (CONSTRUCT), or from the server's own export", 404)
    if dump_file is None:
        return plain_text(f"no dump named {name!r}; see {request.host_url}dumps/", 404)
    response = send_file(found.dumps_folder / dump_file.name, mimetype="application/gzip", as_attachment=True,
                         download_name=dump_file.name, conditional=False, etag=False)
    # Tagged by content: the same file keeps its tag whatever build or worker serves it. Ranges resume downloads.
    return etag.cacheable(response, dump_file.sha256, ranges=True)


@bp.get("/dumps/SHA256SUMS")
def checksums():
    """The checksums in the form `sha256sum --check` reads."""
    lines = "".join(f"{d.sha256}  {d.name}\n" for d in published().dumps)
    return etag.cacheable(Response(lines, content_type="text/plain; charset=utf-8"), etag.tag("sums"))


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

    return _sitemap_response(_kept(("sitemap", request.host_url, SITEMAP_MAX_URLS, 0), make), 0)


@bp.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    pages = _sitemap_pages()
    if len(pages) == 1 or not 1 <= number <= len(pages):
        return plain_text(f"no such sitemap; start from {request.host_url}sitemap.xml", 404)
    body = _kept(("sitemap", request.host_url, SITEMAP_MAX_URLS, number), lambda: _xml(_urlset(pages[number - 1])))
    return _sitemap_response(body, number)


@bp.get("/robots.txt")
def robots():
    # Query results are endless variations of one resource: crawlers get the pages, the dumps and the sitemap.
    lines = (
        "User-agent: *\n"
        "Disallow: /sparql?\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {request.host_url}sitemap.xml\n"
    )
    return etag.cacheable(plain_text(lines), etag.tag("robots", request.host_url))


def _sitemap_pages() -> list[list[str]]:
    """Every path the build listed, in pages of at most SITEMAP_MAX_URLS."""
    paths = published().pages
    size = SITEMAP_MAX_URLS
    return [paths[i:i + size] for i in range(0, len(paths), size)] or [[]]


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
    return current_app.config["KG_BACKEND"].created.isoformat(timespec="seconds")


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=SITEMAP_NS)


def _sitemap_response(body: bytes, number: int) -> Response:
    response = Response(body, content_type="application/xml; charset=utf-8")
    return etag.cacheable(response, etag.tag("sitemap", request.host_url, SITEMAP_MAX_URLS, number))


# --- The page for people ---------------------------------------------------------------------------------------


def _page() -> str:
    backend = current_app.config["KG_BACKEND"]
    found = published()
    return render_template(
        "dumps.html",
        stats=found.statistics,
        dumps=found.dumps,
        build_id=backend.build_id,
        created=backend.created,
        title=dd.TITLE["en"],
        description=dd.DESCRIPTION["en"],
        formats=[(name, GRAPH_FORMATS[name]) for name in RDFLIB_FORMATS],
        targets={t.key: t for t in dd.TARGETS},
        void_path=VOID_PATH,
    )
