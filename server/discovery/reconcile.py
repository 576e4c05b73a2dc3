"""The W3C Entity Reconciliation Service API at /reconcile, so that a researcher matches a spreadsheet of partner
names to the KG's IRIs in OpenRefine (docs/discovery.md, "Reconciliation (OpenRefine)").

Two versions of the protocol, one endpoint. 0.2 is what OpenRefine 3 speaks and is the default: queries and
data extension as `queries`/`extend` form fields or query parameters holding JSON, JSONP through `callback`,
results keyed q0, q1, ... The 1.0 draft moves matching and extension to POST /match and POST /extend with JSON
bodies and `results` arrays. A client asks for the draft with `Accept: application/reconciliation.v1+json` (the
draft's version negotiation, reconciliation-api/specs#78); the manifest lists both in `versions`. Routes that
exist in one version only answer in it.

Matching is kg.discovery.reconcile's, over the discovery index of the build being served. Extension reads
country, city and coordinates from the same index and projects, roles and programmes with one SELECT through the
app's Backend for the whole batch (bench/results/reconcile-service.md measures both).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import Response, current_app, redirect, render_template_string, request, url_for

from kg.discovery import KINDS
from kg.discovery.reconcile import DEFAULT_LIMIT, MAX_LIMIT, TYPES, Candidate, Query, Reconciler, kind_of_type, type_of
from kg.errors import InputError
from kg.namespaces import BASE

from ..http import negotiation
from ..http.cache import per_build
from ..http.negotiation import Form
from ..http.parameters import BadParameter, whole_number
from ..http.responses import plain_text
from ..pages.describe import NotAnIRI, fill
from ..pages.iris import local_path
from ..sparql.backend import BackendError
from . import NoIndex, bp, search_index

V02, V10 = "0.2", "1.0-draft"
V10_MEDIA = "application/reconciliation.v1+json"
VERSIONS = [Form(V02, "application/json"), Form(V10, V10_MEDIA)]  # ties (*/*) go to 0.2, OpenRefine 3's
BATCH_SIZE = 100  # queries in one batch; more is a 413, as the 1.0 draft allows
MAX_EXTEND_IDS = 500
PREVIEW = {"width": 420, "height": 200}
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")

CKG = BASE + "ontology/"
TYPE_NAMES = {"project": "Project", "organisation": "Organisation", "city": "City", "programme": "Funding programme"}


@dataclass(frozen=True)
class Property:
    """A property of the service: constrains queries (country, city) or extends rows (all), for some kinds."""

    key: str
    id: str
    name: str
    description: str
    kinds: tuple[str, ...]
    constrains: bool = False
    value_kind: str | None = None  # the kind of entity its values are, when they are entities of ours


PROPERTIES = [
    Property("country", CKG + "country", "Country",
             "The country of an organisation or city; of a project, its participants' countries. In a query: an ISO "
             "code (IT), a country IRI or a name (Italy, Italia).", ("organisation", "city", "project"), True),
    Property("city", CKG + "basedIn", "City",
             "The city an organisation is based in; of a project, its participants' cities. In a query: a city IRI "
             "or name.", ("organisation", "project"), True, "city"),
    Property("projects", CKG + "partnerIn", "Projects",
             "The projects an organisation took part in; of a city, those of organisations based there; of a "
             "programme, those it funded.", ("organisation", "city", "programme"), value_kind="project"),
    Property("roles", CKG + "role", "Roles", "The roles an organisation held in projects (coordinator, partner, ...).",
             ("organisation",)),
    Property("programme", CKG + "fundedBy", "Programme",
             "The funding programmes of a project; of an organisation or city, those of its projects.",
             ("organisation", "city", "project"), value_kind="programme"),
    Property("coordinates", "http://www.w3.org/2003/01/geo/wgs84_pos#lat_long", "Coordinates",
             "Latitude,longitude (WGS84) of a city, or of the city an organisation is based in.",
             ("organisation", "city")),
]
BY_ID = {p.id: p for p in PROPERTIES} | {p.key: p for p in PROPERTIES}
LIMIT_SETTING = "limit"


class Refused(Exception):
    """A request the service answers with an error: status and a message naming what and where."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# --- Routes ---------------------------------------------------------------------------------------------------

@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile_root():
    """The manifest (no parameters), 0.2 query batches (`queries`) and 0.2 data extension (`extend`)."""
    def answer():
        values = request.values
        if request.method == "POST" and request.is_json:
            raise Refused("POST a 1.0 batch ({\"queries\": [...]}) to /reconcile/match and a 1.0 extension to "
                          "/reconcile/extend; 0.2 sends `queries` or `extend` as form fields")
        if "queries" in values:
            return _json(_batch_02(_parsed(values["queries"], "queries")), V02)
        if "extend" in values:
            return _json(_extend(_parsed(values["extend"], "extend"), V02), V02)
        if "query" in values:
            raise Refused("send queries as `queries`, a JSON object of named queries ({\"q0\": {\"query\": ...}}), "
                          "or POST a 1.0 batch to /reconcile/match")
        version = _version()
        return _json(_manifest(version), version)
    return _answered(answer)


@bp.post("/reconcile/match")
def reconcile_match():
    return _answered(lambda: _json(_batch_10(_body("queries")), V10, negotiated=False))


@bp.get("/reconcile/suggest/entity")
def suggest_entity():
    def answer():
        prefix, limit, offset = _suggest_args()
        kinds = _kinds(request.args.getlist("type"), "type")
        index = search_index()
        if prefix.strip().startswith(BASE):
            hit = index.entity(prefix.strip())
            hits = [hit] if hit is not None and (not kinds or hit.kind in kinds) else []
        elif prefix.strip():
            hits, _ = index.search(prefix, kinds or None, limit, offset, descriptions=False)
        else:
            hits = []  # the 1.0 draft lets a service send everything for an empty prefix; thousands help no one
        version = _version()
        return _json({"result": [_suggested(h) for h in hits]}, version)
    return _answered(answer)


@bp.get("/reconcile/suggest/type")
def suggest_type():
    def answer():
        prefix, limit, offset = _suggest_args()
        found = [t for t in _types() if _begins(prefix, t["name"], t["id"])]
        return _json({"result": found[offset:offset + limit]}, _version())
    return _answered(answer)


@bp.get("/reconcile/suggest/property")
def suggest_property():
    def answer():
        prefix, limit, offset = _suggest_args()
        kinds = _kinds(request.args.getlist("type"), "type")
        found = [{"id": p.id, "name": p.name, "description": p.description} for p in PROPERTIES
                 if _begins(prefix, p.name, p.id, p.key) and (not kinds or set(kinds) & set(p.kinds))]
        return _json({"result": found[offset:offset + limit]}, _version())
    return _answered(answer)


@bp.get("/reconcile/preview")
def preview():
    def answer():
        hit = _entity(request.args.get("id", ""))
        return Response(_preview_html(hit), content_type="text/html; charset=utf-8")
    return _answered(answer)


@bp.get("/reconcile/flyout/entity")
def flyout():
    """0.2's suggest flyout: the preview of a suggested entity as {"id", "html"} (JSONP allowed)."""
    def answer():
        hit = _entity(request.args.get("id", ""))
        return _json({"id": hit.iri, "html": _preview_html(hit, fragment=True)}, V02, negotiated=False)
    return _answered(answer)


@bp.get("/reconcile/view")
def view():
    """The manifest's view template: an entity's page on this server (its IRI's path here, server.pages)."""
    def answer():
        iri = request.args.get("id", "")
        path = local_path(iri)
        if path is None or search_index().entity(iri) is None:
            raise Refused(f"id: {iri!r} is not the IRI of an entity of this KG", 404)
        return redirect(path, 303)
    return _answered(answer)


@bp.get("/reconcile/extend/propose")
def propose():
    def answer():
        type_id = request.args.get("type", "")
        if not type_id:
            raise Refused("type: give the type whose properties to propose, e.g. " + type_of("organisation"))
        kind = _kind(type_id, "type")
        limit = _int_arg("limit", len(PROPERTIES), 1, 100)
        found = [{"id": p.id, "name": p.name, "description": p.description} for p in PROPERTIES if kind in p.kinds]
        return _json({"type": type_id, "limit": limit, "properties": found[:limit]}, _version())
    return _answered(answer)


@bp.post("/reconcile/extend")
def extend_10():
    return _answered(lambda: _json(_extend(_body("ids"), V10), V10, negotiated=False))


# --- Answers ----------------------------------------------------------------------------------------------------

def _answered(make) -> Response:
    """Run a route, turning a refusal or bad input into a clear error, never a traceback."""
    try:
        response = make()
    except Refused as e:
        response = plain_text(e.message, e.status)
    except InputError as e:
        response = plain_text(str(e), 400)
    except NotAnIRI as e:
        response = plain_text(f"id: {e}", 400)
    except NoIndex as e:
        response = plain_text(str(e), 503)
    except BackendError as e:
        response = plain_text(f"the store could not answer: {e.message}", e.status)
    response.vary.add("Accept")
    return response


def _version() -> str:
    """0.2 unless the client asks for the 1.0 draft by its media type; JSONP is 0.2's alone."""
    if request.args.get("callback"):
        return V02
    chosen = negotiation.from_accept(VERSIONS, without_header=V02)
    if chosen is None:
        raise Refused(f"Accept: this service answers in application/json (version {V02}) or {V10_MEDIA} "
                      f"(version {V10})", 406)
    return chosen


def _json(data, version: str, negotiated: bool = True) -> Response:
    body = json.dumps(data, ensure_ascii=False)
    callback = request.args.get("callback")
    if callback:
        if not _CALLBACK.fullmatch(callback):
            raise Refused(f"callback: {callback!r} is not a JavaScript function name")
        return Response(f"{callback}({body});", content_type="application/javascript; charset=utf-8")
    # A 1.0 answer chosen by Accept (_version) names its media type; the 1.0 routes of their own answer plain JSON.
    media = V10_MEDIA if version == V10 and negotiated else "application/json"
    return Response(body, content_type=f"{media}; charset=utf-8")


def _parsed(text: str, name: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise Refused(f"{name}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None


def _body(required: str) -> dict:
    """A 1.0 request's JSON body (or, as OpenRefine posts forms, its JSON in a form field)."""
    if request.is_json:
        text = request.get_data(as_text=True)
        data = _parsed(text, "body")
    elif "extend" in request.form or "queries" in request.form:
        field = "extend" if "extend" in request.form else "queries"
        data = _parsed(request.form[field], field)
        if field == "queries" and isinstance(data, list):
            data = {"queries": data}
    else:
        raise Refused("send a JSON body (Content-Type: application/json)", 415)
    if not isinstance(data, dict) or required not in data:
        raise Refused(f"body: a JSON object with {required!r} is expected")
    return data


# --- Manifest ---------------------------------------------------------------------------------------------------

def _types() -> list[dict]:
    return [{"id": type_of(k), "name": TYPE_NAMES[k]} for k in KINDS]


def _manifest(version: str) -> dict:
    root = url_for("discovery.reconcile_root", _external=True)
    view = url_for("discovery.view", _external=True)
    preview_url = url_for("discovery.preview", _external=True)
    common = {
        "versions": [V02, V10],
        "name": "Cohesion KG",
        "documentation": url_for("pages.home", _external=True),
        "defaultTypes": [t for t in _types() if t["id"] in (type_of("organisation"), type_of("city"))],
        "batchSize": BATCH_SIZE,
    }
    if version == V10:
        return {**common, "view": {"url": view + "?id={id}"}, "preview": PREVIEW,
                "suggest": {"entity": True, "type": True, "property": True},
                "extend": {"proposeProperties": True, "propertySettings": [
                    {"id": LIMIT_SETTING, "name": "Limit", "type": "number", "default": 0,
                     "helpText": "The most values to fetch for one cell (0: all)"}]},
                "standardizedScore": True}
    return {**common,
            "identifierSpace": BASE + "id/", "schemaSpace": CKG,
            "view": {"url": view + "?id={{id}}"},
            "preview": {"url": preview_url + "?id={{id}}", **PREVIEW},
            "suggest": {name: {"service_url": root, "service_path": f"/suggest/{name}",
                               **({"flyout_service_path": "/flyout/entity?id=${id}"} if name == "entity" else {})}
                        for name in ("entity", "type", "property")},
            "extend": {"propose_properties": {"service_url": root, "service_path": "/extend/propose"},
                       "property_settings": [{"name": LIMIT_SETTING, "label": "Limit", "type": "number", "default": 0,
                                              "help_text": "The most values to fetch for one cell (0: all)"}]}}


# --- Matching ---------------------------------------------------------------------------------------------------

def _reconciler() -> Reconciler:
    """The matcher of the index being served, made once per build (it reads the index's vocabulary once)."""
    return per_build("reconciler", lambda backend: Reconciler(search_index()))


def _batch_02(queries) -> dict:
    if not isinstance(queries, dict):
        raise Refused("queries: a JSON object of named queries is expected, e.g. {\"q0\": {\"query\": \"CESIE\"}}")
    _check_size(len(queries))
    reconciler = _reconciler()
    return {key: {"result": [_candidate(c) for c in reconciler.reconcile(_query_02(q, f"queries: {key}"))]}
            for key, q in queries.items()}


def _batch_10(body: dict) -> dict:
    queries = body["queries"]
    if not isinstance(queries, list):
        raise Refused("queries: a JSON array of queries is expected")
    _check_size(len(queries))
    reconciler = _reconciler()
    return {"results": [{"candidates": [_candidate(c) for c in reconciler.reconcile(_query_10(q, f"queries[{i}]"))]}
                        for i, q in enumerate(queries)]}


def _check_size(n: int) -> None:
    if n > BATCH_SIZE:
        raise Refused(f"queries: {n} queries in one batch; at most {BATCH_SIZE} (the manifest's batchSize)", 413)


def _query_02(q, where: str) -> Query:
    if isinstance(q, str):
        return Query(q)
    if not isinstance(q, dict):
        raise Refused(f"{where}: a query must be a JSON object")
    text = q.get("query", "")
    if not isinstance(text, str):
        raise Refused(f"{where}: 'query' must be a string")
    types = q.get("type") or []
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise Refused(f"{where}: 'type' must be a type id or a list of them")
    query = Query(text, _kinds(types, f"{where}: type"), limit=_limit(q.get("limit"), where))
    for n, prop in enumerate(q.get("properties") or []):
        if not isinstance(prop, dict) or "pid" not in prop or "v" not in prop:
            raise Refused(f"{where}: properties[{n}]: {{\"pid\": ..., \"v\": ...}} is expected")
        _constrain(query, prop["pid"], prop["v"], False, f"{where}: properties[{n}]")
    if not text.strip() and not (query.countries or query.cities):
        raise Refused(f"{where}: give 'query' (a name) or properties")
    return query


def _query_10(q, where: str) -> Query:
    if not isinstance(q, dict):
        raise Refused(f"{where}: a query must be a JSON object")
    type_id = q.get("type")
    if type_id is not None and not isinstance(type_id, str):
        raise Refused(f"{where}: 'type' must be one type id")
    query = Query("", _kinds([type_id] if type_id else [], f"{where}: type"), limit=_limit(q.get("limit"), where))
    conditions = q.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise Refused(f"{where}: 'conditions' must be a non-empty array")
    names = []
    for n, c in enumerate(conditions):
        at = f"{where}: conditions[{n}]"
        if not isinstance(c, dict) or "matchType" not in c or "propertyValue" not in c:
            raise Refused(f"{at}: {{\"matchType\": ..., \"propertyValue\": ...}} is expected")
        if c.get("matchQualifier"):
            raise Refused(f"{at}: this service supports no matchQualifier")
        values = c["propertyValue"] if isinstance(c["propertyValue"], list) else [c["propertyValue"]]
        quantifier = c.get("matchQuantifier", "any")
        if quantifier == "none" or (quantifier == "all" and len(values) > 1):
            raise Refused(f"{at}: matchQuantifier {quantifier!r} is not supported here; use 'any'")
        if c["matchType"] in ("name", "id"):
            names.extend(_value_text(v) for v in values)
        elif c["matchType"] == "property":
            _constrain(query, c.get("propertyId", ""), c["propertyValue"], bool(c.get("required")), at)
        else:
            raise Refused(f"{at}: matchType must be name, id or property, not {c['matchType']!r}")
    query.text = next((n for n in names if n), "")
    if not query.text.strip() and not (query.countries or query.cities):
        raise Refused(f"{where}: give a name condition or a property condition")
    return query


def _constrain(query: Query, pid, value, required: bool, where: str) -> None:
    prop = BY_ID.get(pid) if isinstance(pid, str) else None
    if prop is None or not prop.constrains:
        names = ", ".join(f"{p.id} ({p.key})" for p in PROPERTIES if p.constrains)
        raise Refused(f"{where}: property {pid!r} cannot constrain a query; one of {names}")
    values = [_value_text(v) for v in (value if isinstance(value, list) else [value])]
    values = [v for v in values if v.strip()]
    (query.countries if prop.key == "country" else query.cities).extend(values)
    if required:
        query.required = query.required | {prop.key}


def _value_text(v) -> str:
    if isinstance(v, dict):
        return str(v.get("id") or v.get("name") or "")
    if isinstance(v, bool) or v is None:
        return ""
    return str(v)


def _limit(value, where: str) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or not 1 <= value:
        raise Refused(f"{where}: 'limit' must be a positive integer")
    return min(int(value), MAX_LIMIT)


def _kinds(types: list[str], where: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_kind(t, where) for t in types if t))


def _kind(type_id: str, where: str) -> str:
    try:
        return kind_of_type(type_id)
    except InputError:
        raise Refused(f"{where}: unknown type {type_id!r}; one of {', '.join(TYPES)}") from None


def _candidate(c: Candidate) -> dict:
    found = {"id": c.iri, "name": c.name, "score": c.score, "match": c.match,
             "type": [{"id": type_of(c.kind), "name": TYPE_NAMES[c.kind]}],
             "features": [{"id": k, "name": FEATURES[k], "value": v} for k, v in c.features.items()]}
    if c.description:
        found["description"] = _short(c.description)
    return found


FEATURES = {"name": "Name similarity (0-100)", "country": "Same country", "city": "Same city",
            "id": "Identifier given"}


# --- Suggest, preview ---------------------------------------------------------------------------------------------

def _suggest_args() -> tuple[str, int, int]:
    prefix = request.args.get("prefix")
    if prefix is None:
        raise Refused("prefix: the text typed so far is required")
    limit = _int_arg("limit", 10, 1, 100)
    offset = _int_arg("offset", _int_arg("cursor", 0, 0, 10_000), 0, 10_000)
    return prefix, limit, offset


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return whole_number(name, default, low, high)
    except BadParameter as e:
        raise Refused(str(e)) from None


def _begins(prefix: str, *names: str) -> bool:
    wanted = prefix.strip().casefold()
    return not wanted or any(n.casefold().startswith(wanted) or wanted in n.casefold().split() for n in names)


def _suggested(hit) -> dict:
    found = {"id": hit.iri, "name": hit.label, "notable": [{"id": type_of(hit.kind), "name": TYPE_NAMES[hit.kind]}]}
    context = ", ".join(x for x in (hit.city_label, hit.country_label) if x)
    if context or hit.description:
        found["description"] = context or _short(hit.description)
    return found


def _entity(iri: str):
    if not iri:
        raise Refused("id: the IRI of an entity is required")
    hit = search_index().entity(iri)
    if hit is None:
        raise Refused(f"id: {iri!r} is not an entity this service knows", 404)
    return hit


def _short(text: str | None, length: int = 240) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length - 1].rsplit(" ", 1)[0] + "…"


_PREVIEW = """{% if not fragment %}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ hit.label }}</title>
<style>body{font:0.9rem/1.35 system-ui,sans-serif;margin:0.5rem;color:#222}h1{font-size:1.05rem;margin:0 0 .2rem}
p{margin:.25rem 0}.kind{color:#555}</style></head><body>{% endif %}
<div class="kg-preview">
<h1><a href="{{ page }}" target="_blank" rel="noopener">{{ hit.label }}</a></h1>
<p class="kind">{{ kind }}{% if place %} · {{ place }}{% endif %}{% if hit.weight %} · {{ hit.weight }} participation{{ "s" if hit.weight != 1 }}{% endif %}</p>
{% if others %}<p>Also: {{ others }}</p>{% endif %}
{% if description %}<p>{{ description }}</p>{% endif %}
<p><small>{{ hit.iri }}</small></p>
</div>{% if not fragment %}</body></html>{% endif %}
"""


def _preview_html(hit, fragment: bool = False) -> str:
    names = [n for n, _ in search_index().names(hit.iri) if n != hit.label]
    others = ", ".join(dict.fromkeys(names))
    place = ", ".join(x for x in (hit.city_label if hit.kind != "city" else None, hit.country_label) if x)
    page = url_for("discovery.view", id=hit.iri, _external=True)
    return render_template_string(_PREVIEW, hit=hit, kind=TYPE_NAMES[hit.kind], place=place, page=page,
                                  others=_short(others, 160), description=_short(hit.description, 300),
                                  fragment=fragment)


# --- Data extension -----------------------------------------------------------------------------------------------

# Projects, roles and programmes: one SELECT for every id and property asked, each branch for the kinds it fits.
_BRANCHES = {
    ("projects", "organisation"): "?part ckg:participant ?x ; ckg:inProject ?v .",
    ("projects", "city"): "?who ckg:basedIn ?x . ?part ckg:participant ?who ; ckg:inProject ?v .",
    ("projects", "programme"): "?v ckg:fundedBy ?x .",
    ("roles", "organisation"): "?part ckg:participant ?x ; ckg:role ?v . OPTIONAL { ?v rdfs:label ?label FILTER (LANG(?label) IN ('en', '')) }",
    ("programme", "organisation"): "?part ckg:participant ?x ; ckg:inProject ?project . ?project ckg:fundedBy ?v .",
    ("programme", "city"): "?who ckg:basedIn ?x . ?part ckg:participant ?who ; ckg:inProject ?project . ?project ckg:fundedBy ?v .",
    ("programme", "project"): "?x ckg:fundedBy ?v .",
    ("country", "project"): "?part ckg:inProject ?x ; ckg:participant ?who . ?who ckg:country ?v . OPTIONAL { ?v rdfs:label ?label FILTER (LANG(?label) IN ('en', '')) }",
    ("city", "project"): "?part ckg:inProject ?x ; ckg:participant ?who . ?who ckg:basedIn ?v .",
}


def _extend(query, version: str) -> dict:
    if not isinstance(query, dict) or not isinstance(query.get("ids"), list) or not isinstance(query.get("properties"), list):
        raise Refused("extend: {\"ids\": [...], \"properties\": [{\"id\": ...}]} is expected")
    ids = [i for i in query["ids"] if isinstance(i, str)]
    if len(ids) != len(query["ids"]):
        raise Refused("extend: ids must be strings (entity IRIs)")
    if len(ids) > MAX_EXTEND_IDS:
        raise Refused(f"extend: {len(ids)} ids; at most {MAX_EXTEND_IDS} in one request", 413)
    asked = []
    for n, p in enumerate(query["properties"]):
        pid = p.get("id") if isinstance(p, dict) else None
        if pid not in BY_ID:
            raise Refused(f"extend: properties[{n}]: unknown property {pid!r}; one of {', '.join(x.id for x in PROPERTIES)}")
        settings = p.get("settings") or {}
        limit = settings.get(LIMIT_SETTING, 0) if isinstance(settings, dict) else 0
        try:
            limit = int(limit or 0)
        except (TypeError, ValueError):
            raise Refused(f"extend: properties[{n}]: setting {LIMIT_SETTING!r} must be a number") from None
        asked.append((pid, BY_ID[pid], max(0, limit)))  # answered under the id the client sent
    values = _values(ids, [p for _, p, _ in asked])
    meta = []
    for pid, prop, _ in asked:
        entry = {"id": pid, "name": prop.name}
        if prop.value_kind:
            entry["type"] = {"id": type_of(prop.value_kind), "name": TYPE_NAMES[prop.value_kind]}
        meta.append(entry)
    cells = {i: {pid: (values[i][prop.key][:limit] if limit else values[i][prop.key]) for pid, prop, limit in asked}
             for i in ids}
    if version == V02:
        return {"meta": meta, "rows": cells}
    return {"meta": meta, "rows": [{"id": i, "properties": [{"id": pid, "values": v} for pid, v in cells[i].items()]}
                                   for i in ids]}


def _values(ids: list[str], props: list[Property]) -> dict[str, dict[str, list[dict]]]:
    """{id: {property key: [values]}}: what the index holds directly, then the rest from the store."""
    reconciler = _reconciler()
    known = reconciler.entities(ids)
    out = {i: {p.key: [] for p in props} for i in ids}
    wanted = {p.key for p in props}
    for iri, row in known.items():
        kind = row["kind"]
        cell = out[iri]
        if "country" in wanted and kind != "project" and row["country_label"]:
            cell["country"].append({"str": row["country_label"]})
        if "city" in wanted and kind == "organisation" and row["city"]:
            cell["city"].append({"id": row["city"], "name": row["city_label"] or row["city"]})
        if "coordinates" in wanted and kind in ("organisation", "city") and row["lat"] is not None:
            cell["coordinates"].append({"str": f"{row['lat']},{row['long']}"})
    branches = [(key, kind, text) for (key, kind), text in _BRANCHES.items() if key in wanted]
    kinds = {row["kind"] for row in known.values()}
    branches = [b for b in branches if b[1] in kinds]
    if not branches or not known:
        return out
    union = "\n  UNION ".join(f"{{ {text} BIND ({json.dumps(key)} AS ?what) }}" for key, _, text in branches)
    text = f"SELECT DISTINCT ?x ?what ?v ?label WHERE {{\n  VALUES ?x {{ <THESE> }}\n  {union}\n}}"
    rows = current_app.config["KG_BACKEND"].select(fill(text, these=sorted(known)))
    kind_of = {iri: row["kind"] for iri, row in known.items()}
    found: dict[tuple[str, str], dict[str, str | None]] = {}
    for row in rows:
        x, what, v = row["x"]["value"], row["what"]["value"], row["v"]["value"]
        if (what, kind_of.get(x)) not in _BRANCHES:
            continue  # an id of another kind that met the branch's pattern
        label = row.get("label", {}).get("value")
        found.setdefault((x, what), {})
        if v not in found[(x, what)] or label:
            found[(x, what)][v] = label
    labels = reconciler.entities(sorted({v for vs in found.values() for v in vs}))
    for (x, what), vs in found.items():
        for v, label in sorted(vs.items(), key=lambda item: (labels[item[0]]["label"] if item[0] in labels else item[1] or item[0])):
            if what in ("roles", "country"):
                out[x][what].append({"str": label or v.rsplit("/", 1)[-1]})
            elif v in labels:
                out[x][what].append({"id": v, "name": labels[v]["label"]})
    return out

