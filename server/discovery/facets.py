"""Facet browsing at /projects, /organisations and /cities, with their twins /projects.json and /projects.csv
(the same query string gives the same list): filters by programme (any level), country, city, period (from, to),
theme, SDG and role, each value with how many the other filters leave; a text filter `q` through the search
index; sorted and paginated. Everything is read from the facet tables the build wrote (kg.discovery.facets).

GET /projects?programme=urbact-ii&country=it&country=fr&from=2010&to=2015&q=&sort=-start&page=2&per_page=50
  A facet given twice selects either value; different facets must all hold. Without an extension the Accept
  header (or ?format=html|json|csv) chooses the form. An unknown parameter or a malformed value is a 400 naming
  it; a value the KG does not have selects nothing.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote, urlencode

from flask import Response, render_template, request, url_for

from kg.discovery import facets
from kg.errors import InputError

from ..http import etag, negotiation
from ..http.negotiation import HTML, Form, UnknownFormat
from ..http.pages_headers import fixed_form
from ..http.responses import plain_text
from ..pages.iris import href
from . import NoIndex, bp, facet_index

VIEWS = {path: kind for kind, path in facets.PATHS.items()}  # projects -> project, ...
FORMS = [Form("html", HTML), Form("json", "application/json"), Form("csv", "text/csv")]
VIEW_RULE = "<any(projects, organisations, cities):view>"
TITLES = {"project": "Projects", "organisation": "Organisations", "city": "Cities"}
SORT_LABELS = {"label": "Name (A–Z)", "-label": "Name (Z–A)", "-weight": "Most participations", "weight": "Fewest participations",
               "-start": "Latest start", "start": "Earliest start", "-end": "Latest end", "end": "Earliest end",
               "relevance": "Best match"}
# The columns of the CSV twin, per kind: the item's fields, in this order.
COLUMNS = {
    "project": ("iri", "label", "start", "end", "programmes", "organisations", "countries", "participations"),
    "organisation": ("iri", "label", "country", "country_label", "city", "city_label", "start", "end", "projects", "participations"),
    "city": ("iri", "label", "country", "country_label", "start", "end", "projects", "organisations", "participations"),
}


class FacetError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(FacetError)
def _error(e: FacetError):
    return plain_text(e.message, e.status)


@bp.get("/" + VIEW_RULE)
@bp.get("/" + VIEW_RULE + ".<any(json, csv):ext>")
def facet_list(view: str, ext: str | None = None):
    kind = VIEWS[view]
    form = _form(ext)
    pairs = [(name, value) for name, value in request.args.items(multi=True) if name != "format"]
    try:
        query = facets.parse(kind, pairs)
    except InputError as e:
        raise FacetError(400, e.message) from None
    tag = etag.tag("facets", form, query)
    if etag.unchanged(tag):
        return _vary(etag.not_modified(tag), ext)
    try:
        reader = facet_index()
    except NoIndex as e:
        raise FacetError(503, str(e)) from None
    try:
        page = reader.page(query)
    except InputError as e:
        raise FacetError(400, e.message) from None
    if form == "json":
        response = Response(json.dumps(_json(page), ensure_ascii=False, indent=1), content_type="application/json")
    elif form == "csv":
        response = Response(_csv(page), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'inline; filename="cohesion-kg-{view}.csv"'
    else:
        response = Response(render_template("facets.html", **_html(page, view)))
    return _vary(etag.cacheable(response, tag), ext)


def _form(ext: str | None) -> str:
    if ext is not None:
        if request.args.get("format"):
            raise FacetError(400, f"parameter 'format': the URL's extension .{ext} already names the form")
        return fixed_form(ext)
    if len(request.args.getlist("format")) > 1:
        raise FacetError(400, "parameter 'format' is given more than once")
    try:
        chosen = negotiation.choose(FORMS, "html", request.args.get("format"))
    except UnknownFormat as e:
        raise FacetError(400, f"parameter 'format': expected html, json or csv, not {e.word!r}") from None
    if chosen is None:
        raise FacetError(406, "none of the accepted media types fits; available: text/html, application/json, text/csv (or ?format=)")
    if request.args.get("format"):
        fixed_form(chosen)
    return chosen


def _vary(response: Response, ext: str | None) -> Response:
    if ext is None and not request.args.get("format"):
        response.vary.add("Accept")
    return response


# -- the links of a page


def _url(view: str, query: facets.Query, ext: str | None = None, **changes) -> str:
    path = url_for("discovery.facet_list", view=view, ext=ext) if ext else url_for("discovery.facet_list", view=view)
    pairs = query.args(**changes)
    return path + ("?" + urlencode(pairs) if pairs else "")


def _links(page: facets.Page, view: str) -> dict[str, str]:
    query = page.query
    links = {"html": _url(view, query), "json": _url(view, query, "json"), "csv": _url(view, query, "csv"),
             "sparql": url_for("sparql.sparql") + "#" + urlencode({"query": page.sparql}, quote_via=quote)}
    if query.kind == "project" and not query.q:  # the map takes the project facets by the same names
        pairs = [(name, key) for name, keys in query.filters for key in keys]
        pairs += [(name, str(year)) for name, year in (("from", query.start), ("to", query.end)) if year is not None]
        links["map"] = url_for("discovery.map_page") + ("?" + urlencode(pairs) if pairs else "")
    if query.page > 1:
        links["prev"] = _url(view, query, page=query.page - 1 if query.page > 2 else None)
    if query.page < page.pages:
        links["next"] = _url(view, query, page=query.page + 1)
    return links


def _json(page: facets.Page) -> dict:
    query, view = page.query, facets.PATHS[page.query.kind]
    return {
        "kind": query.kind, "total": page.total, "page": query.page, "per_page": query.per_page, "pages": page.pages,
        "sort": query.sort,
        "filters": {**{name: list(keys) for name, keys in query.filters}, "from": query.start, "to": query.end, "q": query.q or None},
        "items": [{**item, "page": href(item["iri"])} for item in page.items],
        "facets": {name: [{"value": v.key, "label": v.label, "count": v.count, "selected": v.selected,
                           **({"iri": v.iri} if v.iri else {}), **({"parent": v.parent} if v.parent else {})} for v in values]
                   for name, values in page.facets.items()},
        "more": page.more,
        "sparql": page.sparql,
        "links": _links(page, view),
    }


def _csv(page: facets.Page) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = COLUMNS[page.query.kind]
    writer.writerow(columns)
    for item in page.items:
        writer.writerow(["" if item.get(c) is None else item[c] for c in columns])
    return out.getvalue()


def _html(page: facets.Page, view: str) -> dict:
    query = page.query
    groups = []
    for name, values in page.facets.items():
        if name == facets.YEAR:
            continue
        selected = query.selected(name)
        items = []
        for value in _in_tree(values) if name == "programme" else values:
            keys = tuple(k for k in selected if page_key(page, name, k) != value.key) if value.selected else (*selected, value.key)
            items.append({"value": value, "href": _url(view, query, **{name: keys, "page": None})})
        missing = [{"key": k, "label": page.terms.get(name, {}).get(k, k),
                    "href": _url(view, query, **{name: tuple(x for x in selected if x != k), "page": None})}
                   for k in selected if not any(v.selected and page_key(page, name, k) == v.key for v in values)]
        groups.append({"name": name, "label": facets.FACETS[name].label, "entries": items, "missing": missing,
                       "more": page.more.get(name, 0), "selected": bool(selected),
                       "clear": _url(view, query, **{name: (), "page": None})})
    years = page.facets.get(facets.YEAR, [])
    top = max((v.count for v in years), default=0)
    year_links = [{"value": v, "href": _url(view, query, start=int(v.key), end=int(v.key), page=None),
                   "width": round(100 * v.count / top) if top else 0} for v in years]
    hidden = [(n, v) for n, v in query.args(q=None, page=None) if n != "q"]
    period_hidden = [(n, v) for n, v in query.args(start=None, end=None, page=None) if n not in ("from", "to")]
    sorts = [(s, SORT_LABELS[s], _url(view, query, sort=s, page=None)) for s in SORT_LABELS
             if s != "relevance" or query.q]
    return {
        "view": view, "kind": query.kind, "title": TITLES[query.kind], "page": page, "query": query, "groups": groups,
        "years": year_links, "hidden": hidden, "period_hidden": period_hidden, "sorts": sorts,
        "links": _links(page, view), "href": href, "lang": "en",
        "clear_period": _url(view, query, start=None, end=None, page=None),
        "clear_all": url_for("discovery.facet_list", view=view),
        "others": [(path, TITLES[kind], url_for("discovery.facet_list", view=path)) for kind, path in facets.PATHS.items()],
        "pages": _pagination(page, view),
    }


def page_key(page: facets.Page, name: str, given: str) -> str | None:
    """The index key a selected value (as the URL gives it: a key, an IRI, a code) stands for."""
    for value in page.facets.get(name, []):
        if value.selected and (given in (value.key, value.iri) or (name == "country" and value.key == given.lower())):
            return value.key
    return None


def _in_tree(values: list[facets.Value]) -> list[facets.Value]:
    """Programme values under their parents (each level after the level above it), the most used first."""
    by_parent: dict[str | None, list[facets.Value]] = {}
    keys = {v.key for v in values}
    for v in values:
        by_parent.setdefault(v.parent if v.parent in keys else None, []).append(v)
    ordered: list[facets.Value] = []

    def walk(parent, depth):
        for v in by_parent.get(parent, []):
            if v in ordered:
                continue
            ordered.append(v)
            v.depth = depth
            walk(v.key, depth + 1)

    walk(None, 0)
    return ordered


def _pagination(page: facets.Page, view: str) -> list[tuple[str, str | None]]:
    """(text, link or None for the current page or a gap): the first, the last and the pages near this one."""
    current, last = page.query.page, page.pages
    shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    out, previous = [], 0
    for n in shown:
        if n - previous > 1:
            out.append(("…", None))
        out.append((str(n), None if n == current else _url(view, page.query, page=None if n == 1 else n)))
        previous = n
    return out
