"""Search at /search (a page, or JSON), autocomplete at /search/suggest, and an OpenSearch description so that a
browser can add the KG as a search engine.

GET /search?q=&kind=&limit=&offset=&format=   kind: project, organisation, city, programme (repeat or comma-separate)
GET /search.json?...                          the JSON twin, at a stable URL
GET /search/suggest?q=&kind=&limit=           autocomplete: {"query", "suggestions": [...]} (the box on every page);
                                              with format=opensearch, the OpenSearch suggestions array
Answers are read from the build's discovery index (kg.discovery.search), tagged with the build like every page.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Response, jsonify, render_template, request, url_for

from kg.discovery import KINDS
from kg.errors import InputError

from ..http import etag, negotiation
from ..http.negotiation import HTML, Form
from ..http.parameters import BadParameter, whole_number
from ..pages import i18n
from ..pages.errors import common, error_response
from ..pages.iris import href
from . import NoIndex, bp, search_index

FORMS = [Form("html", HTML), Form("json", "application/json")]
DEFAULT_LIMIT = 20
SUGGESTIONS = 8


class ParameterError(InputError):
    pass


def _kinds() -> list[str]:
    kinds = [k.strip() for value in request.args.getlist("kind") for k in value.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise ParameterError(f"parameter kind: {k!r} is not one of {', '.join(KINDS)}")
    return kinds


def _integer(name: str, default: int, lowest: int, highest: int) -> int:
    try:
        return whole_number(name, default, lowest, highest)
    except BadParameter as e:
        raise ParameterError(f"parameter {e}") from None


def _problem(status: int, message: str, json_wanted: bool) -> Response:
    if json_wanted:
        response = jsonify(error=message)
        response.status_code = status
        response.vary.add("Accept")
        return response
    return error_response(status, message)


def _hit_json(hit) -> dict:
    return {**hit.as_json(), "href": href(hit.iri)}


@bp.get("/search")
@bp.get("/search.json", endpoint="search_json")
def search():
    json_path = request.path.endswith(".json")
    try:
        form = "json" if json_path else negotiation.choose(FORMS, "html", request.args.get("format"), otherwise="json")
    except negotiation.UnknownFormat as e:
        return _problem(400, f"parameter format: {e.word!r} is not one of html, json", True)
    wants_json = form == "json"
    q = request.args.get("q", "").strip()
    try:
        kinds = _kinds()
        limit = _integer("limit", DEFAULT_LIMIT, 1, 100)
        offset = _integer("offset", 0, 0, 1000)
        tag = etag.tag("search", form, q, tuple(kinds), limit, offset)
        if etag.unchanged(tag):
            return etag.not_modified(tag)
        index = search_index()
        hits, total = index.search(q, kinds or None, limit, offset) if q else ([], 0)
    except InputError as e:
        return _problem(400, str(e), wants_json)
    except NoIndex as e:
        return _problem(503, str(e), wants_json)
    args = {"q": q, **({"kind": ",".join(kinds)} if kinds else {}), **({"limit": limit} if limit != DEFAULT_LIMIT else {})}
    following = offset + limit if offset + limit < total else None
    previous = max(0, offset - limit) if offset > 0 else None
    if wants_json:
        body = {"query": q, "kinds": kinds or list(KINDS), "total": total, "offset": offset, "limit": limit,
                "results": [_hit_json(h) for h in hits]}
        if following is not None:
            body["next"] = url_for("discovery.search_json", _external=True, **args, offset=following)
        response = jsonify(body)
    else:
        lang = i18n.reader_language()
        page = render_template("search.html", q=q, search_q=q, hits=hits, total=total, offset=offset, limit=limit,
                               kinds=kinds, all_kinds=KINDS, href=href, counts=index.counts(),
                               next_url=_url(args, following), previous_url=_url(args, previous),
                               json_url=url_for("discovery.search_json", **args, **({"offset": offset} if offset else {})),
                               **common(lang))
        response = Response(page, content_type="text/html; charset=utf-8")
    if not json_path:
        response.vary.add("Accept")
    return etag.cacheable(response, tag)


def _url(args: dict, offset: int | None) -> str | None:
    if offset is None:
        return None
    return url_for("discovery.search") + "?" + urlencode({**args, **({"offset": offset} if offset else {})})


@bp.get("/search/suggest")
def suggest():
    q = request.args.get("q", "")
    opensearch = request.args.get("format") == "opensearch"
    try:
        kinds = _kinds()
        limit = _integer("limit", SUGGESTIONS, 1, 20)
        tag = etag.tag("suggest", q, tuple(kinds), limit, opensearch)
        if etag.unchanged(tag):
            return etag.not_modified(tag)
        hits = search_index().suggest(q, kinds or None, limit) if q.strip() else []
    except InputError as e:
        return _problem(400, str(e), True)
    except NoIndex as e:
        return _problem(503, str(e), True)
    if opensearch:  # the OpenSearch suggestions extension: [query, [completions], [descriptions], [urls]]
        response = Response(json.dumps([q, [h.label for h in hits], [_kind_line(h) for h in hits],
                                         [request.host_url.rstrip("/") + href(h.iri) for h in hits]], ensure_ascii=False),
                            content_type="application/x-suggestions+json")
    else:
        response = jsonify(query=q, suggestions=[{"iri": h.iri, "label": h.label, "kind": h.kind, "matched": h.matched,
                                                  "detail": _kind_line(h), "href": href(h.iri)} for h in hits])
    return etag.cacheable(response, tag)


def _kind_line(hit) -> str:
    """A short line under a suggestion: its kind and where it is."""
    place = ", ".join(p for p in (hit.city_label if hit.kind != "city" else None, hit.country_label) if p)
    return f"{hit.kind} · {place}" if place else hit.kind


@bp.get("/opensearch.xml")
def opensearch():
    root = request.host_url.rstrip("/")
    body = render_template("opensearch.xml", root=root)
    response = Response(body, content_type="application/opensearchdescription+xml")
    return etag.cacheable(response, etag.tag("opensearch", root))
