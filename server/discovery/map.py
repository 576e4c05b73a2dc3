"""The map at /map: cities placed at their coordinates, organisations at their city, and lines between cities whose
organisations took part in the same projects; filtered by the parameters /projects takes, or cut to one project.

GET /map?programme=&country=&from=&to=&project=&lines=   the page (Leaflet, country shapes from world-atlas; no tile
                                                          server unless MAP_TILES names one); with Accept:
                                                          application/geo+json (or application/json), the data
GET /map.geojson?...                                      the same selection as an RFC 7946 FeatureCollection: a Point
                                                          per city (with its counts), a LineString per pair of
                                                          co-partner cities (with its weight), the strongest `lines`
GET /map/place.json?iri=&...                              a city's (or organisation's) organisations and projects
                                                          under the same selection: what its popup lists

  programme  a funding level (key such as urbact-ii, prefixed name or IRI) or one below it; repeat for either
  country    a participant's country (ISO 3166-1 alpha-2 code or IRI); repeat for either
  city, theme, sdg, role   the facets of /projects (a key or an IRI); repeat for either
  from, to   projects whose period overlaps these years
  project    one project (key such as conet, prefixed name or IRI): its partners' cities and the lines among them
  lines      the most lines drawn, strongest first (default 1000, 0-50000); how many were left out is said

Where things come from, each read once per build and kept in the app's cache:
  coordinates and labels  the discovery index (kg.discovery.records: wgs84 lat/long; an organisation without its own
                          sits at its city, ckg:basedIn);
  who took part where     one look-up of participations (project, organisation, city) on the store;
  what the filters test   the per-project attributes the build materialised for the network filters
                          (kg.network.lookup.PROJECTS_QUERY), tested by kg.network.filters, so a filter selects the
                          same projects here as on /network;
  the lines               kg.network.materialise.co_participations, the rule the build's city network is made by,
                          over the selected projects and the cities that have coordinates.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, render_template, request, url_for

from kg.discovery import facets
from kg.errors import InputError
from kg.namespaces import ID
from kg.network import lookup
from kg.network import filters as network_filters
from kg.network.filters import OptionError, iri_option
from kg.network.materialise import Sources, co_participations

from ..http import etag, negotiation
from ..http.cache import app_cache
from ..http.negotiation import HTML, Form
from ..pages import i18n
from ..pages.errors import common, error_response
from ..pages.iris import href
from ..sparql.backend import BackendError
from . import NoIndex, bp, facet_index, search_index

GEOJSON = "application/geo+json"
FORMS = [Form("html", HTML), Form("geojson", GEOJSON), Form("geojson", "application/json")]
# The project facets of /projects that the network's filters do not test, read from the facet tables.
FACET_FILTERS = ("city", "theme", "sdg", "role")
PARAMETERS = ("programme", "country", *FACET_FILTERS, "from", "to", "project", "lines")
REPEATABLE = ("programme", "country", *FACET_FILTERS)
DEFAULT_LINES, MOST_LINES = 1000, 50_000
MOST_LISTED = 100  # organisations or projects one popup lists; the rest are counted
# Under /vendor: country shapes (TopoJSON), coarse for a continent, fine (small countries too) once zoomed in.
WORLD, WORLD_FINE = "world-atlas/countries-110m.json", "world-atlas/countries-50m.json"
BYTES_PER_ITEM = 200  # what the cache is told one place, participation or project weighs

PARTICIPATIONS_QUERY = """SELECT DISTINCT ?project ?organisation ?city WHERE {
  ?participation ckg:inProject ?project ; ckg:participant ?organisation .
  OPTIONAL { ?organisation ckg:basedIn ?city }
}"""


class MapError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Selection:
    """What one request shows, checked; its repr keys the cache and the ETag."""

    programmes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    start: int | None = None
    end: int | None = None
    project: str | None = None
    lines: int = DEFAULT_LINES
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, its keys or IRIs), as kg.discovery.facets.Query holds them

    def filtered(self) -> bool:
        return bool(self.programmes or self.countries or self.facets or self.start is not None or self.end is not None)

    def args(self, lines: bool = True) -> list[tuple[str, str]]:
        """The query string that asks for this selection again, in a stable order."""
        pairs = [("programme", p) for p in self.programmes] + [("country", c) for c in self.countries]
        pairs += [(name, str(value)) for name, value in (("from", self.start), ("to", self.end), ("project", self.project))
                  if value is not None]
        if lines and self.lines != DEFAULT_LINES:
            pairs.append(("lines", str(self.lines)))
        return pairs

    def as_json(self) -> dict:
        return {"programme": list(self.programmes), "country": list(self.countries), "from": self.start,
                "to": self.end, "project": self.project, "lines": self.lines}


@dataclass
class Place:
    label: str
    lat: float | None = None
    long: float | None = None
    country: str | None = None  # the country's label
    cities: tuple[str, ...] = ()  # an organisation's (ckg:basedIn)

    @property
    def placed(self) -> bool:
        return self.lat is not None and self.long is not None


@dataclass
class Places:
    """What the discovery index says of cities, organisations and projects."""

    cities: dict[str, Place] = field(default_factory=dict)
    organisations: dict[str, Place] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)  # IRI -> label


@dataclass
class Participations:
    members: dict[str, set[str]]  # project -> organisations that took part
    cities: dict[str, set[str]]  # organisation -> cities it is based in


# -- the routes


@bp.get("/map")
def map_page():
    try:
        form = negotiation.from_accept(FORMS, without_header="html", otherwise="html")
        selection = _selection()
        if form == "geojson":
            return _geojson(selection, vary=True)
        vocabulary = _vocabulary()
        project_label = _places().projects.get(selection.project) if selection.project else None
    except MapError as e:
        return _vary(error_response(e.status, e.message))
    cfg = current_app.config
    page = render_template(
        "map.html", selection=selection, most_lines=MOST_LINES, **vocabulary.choosers(),
        project_label=project_label, project_page=href(selection.project) if selection.project else None,
        whole_url=url_for("discovery.map_page") + _query(replace(selection, project=None).args()),
        geojson_url=url_for("discovery.map_geojson") + _query(selection.args()),
        place_url=url_for("discovery.map_place"), selection_query=urlencode(selection.args(lines=False)),
        world_url=url_for("sparql.vendor", path=WORLD), world_fine_url=url_for("sparql.vendor", path=WORLD_FINE),
        tiles=cfg.get("MAP_TILES") or "", tiles_attribution=cfg.get("MAP_TILES_ATTRIBUTION") or "",
        **common(i18n.reader_language()))
    return _vary(Response(page, content_type="text/html; charset=utf-8"))


@bp.get("/map.geojson")
def map_geojson():
    try:
        return _geojson(_selection(), vary=False)
    except MapError as e:
        return _json_error(e)


@bp.get("/map/place.json")
def map_place():
    try:
        _check_names(PARAMETERS + ("iri",))
        iri = (request.args.get("iri") or "").strip()
        if not iri:
            raise MapError(400, "parameter 'iri': give the IRI of a city or an organisation")
        selection = _selection(extra=("iri",))
        tag = etag.tag("map-place", iri, selection)
        if etag.unchanged(tag):
            return etag.not_modified(tag)
        body = _place_details(iri, selection)
    except MapError as e:
        return _json_error(e)
    return etag.cacheable(jsonify(body), tag)


def _geojson(selection: Selection, vary: bool) -> Response:
    tag = etag.tag("map", selection)
    if etag.unchanged(tag):
        response = etag.not_modified(tag)
    else:
        build = current_app.config["KG_BACKEND"].build_id
        body = app_cache().get_or_make(("map", build, "geojson", selection), lambda: _encode(_collection(selection)), len)
        response = etag.cacheable(Response(body, content_type=GEOJSON), tag)
    return _vary(response) if vary else response


def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def _json_error(e: MapError) -> Response:
    response = jsonify(error=e.message)
    response.status_code = e.status
    return response


def _query(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs) if pairs else ""


# -- the request's parameters


def _check_names(known: tuple[str, ...]) -> None:
    """Every parameter is one the route takes, and given once unless it may be repeated."""
    for given in request.args:
        if given not in known:
            raise MapError(400, f"parameter {given!r} is not known; the map takes: {', '.join(known)}")
        if len(request.args.getlist(given)) > 1 and given not in REPEATABLE:
            raise MapError(400, f"parameter {given!r} is given more than once")


def _selection(extra: tuple[str, ...] = ()) -> Selection:
    """The request's selection; a MapError (400) names the first parameter that is not right."""
    _check_names(PARAMETERS + extra)
    vocabulary = _vocabulary()
    programmes = _checked("programme", lambda v: _iri(v, "programme"), vocabulary)
    countries = _checked("country", lambda v: _iri(v, "country") if not re.fullmatch(r"[A-Za-z]{2}", v) else v, vocabulary)
    try:
        period = network_filters.parse({"from": request.args.get("from"), "to": request.args.get("to")}, vocabulary)
    except network_filters.OptionError as e:
        raise MapError(400, f"parameter {e.option!r}: {e.message}") from None
    project = (request.args.get("project") or "").strip() or None
    if project is not None:
        project = _iri(project, "project")
        if project not in _places().projects:
            raise MapError(400, f"parameter 'project': {request.args['project']!r} is not a project of the KG")
    lines_text = (request.args.get("lines") or "").strip()
    lines = DEFAULT_LINES
    if lines_text:
        if not re.fullmatch(r"[0-9]{1,6}", lines_text) or int(lines_text) > MOST_LINES:
            raise MapError(400, f"parameter 'lines': expected a whole number from 0 to {MOST_LINES}, not {lines_text!r}")
        lines = int(lines_text)
    try:
        chosen = facets.parse("project", [(name, value) for name in FACET_FILTERS for value in request.args.getlist(name)])
    except InputError as e:
        raise MapError(400, e.message) from None
    return Selection(programmes, countries, period.start, period.end, project, lines, chosen.filters)


def _iri(text: str, kind: str) -> str:
    """A value as /projects takes it (a key: urbact-ii, conet), or as /network takes it (an IRI or a prefixed name:
    programme:urbact-ii)."""
    if ":" not in text and re.fullmatch(r"[\w.-]+", text):
        return f"{ID}{kind}/{text}"
    try:
        return iri_option(text, kind)
    except OptionError:
        raise MapError(400, f"parameter {kind!r}: expected a key such as {'conet' if kind == 'project' else 'urbact-ii' if kind == 'programme' else 'it'}, "
                            f"a prefixed name or an IRI, not {text!r}") from None


def _checked(name: str, normalise, vocabulary) -> tuple[str, ...]:
    """Every value of a repeatable filter, as the network filters read it (so the same words mean the same)."""
    found = []
    for value in request.args.getlist(name):
        value = value.strip()
        if not value:
            continue
        try:
            parsed = network_filters.parse({name: normalise(value)}, vocabulary)
        except network_filters.OptionError as e:
            raise MapError(400, f"parameter {e.option!r}: {e.message}") from None
        iri = getattr(parsed, name)
        if iri not in found:
            found.append(iri)
    return tuple(sorted(found))


# -- what is read once per build


def _kept(name: str, make, weigh):
    build = current_app.config["KG_BACKEND"].build_id
    return app_cache().get_or_make(("map", build, name), make, weigh)


def _rows(text: str, names: tuple[str, ...]) -> list[tuple]:
    try:
        bindings = current_app.config["KG_BACKEND"].select(text)
    except BackendError as e:
        raise MapError(503 if e.status == 503 else 500, f"the map's data could not be read: {e.message}") from None
    return lookup.rows_of_bindings(bindings, names)


def _vocabulary() -> lookup.Vocabulary:
    return _kept("vocabulary", lambda: lookup.read_vocabulary(_rows(lookup.VOCABULARY_QUERY, ("s", "p", "o"))),
                 lambda v: BYTES_PER_ITEM * (len(v.funding) + len(v.countries) + 1))


def _attributes() -> dict[str, lookup.Project]:
    return _kept("projects", lambda: lookup.read_projects(_rows(lookup.PROJECTS_QUERY, ("s", "p", "o"))),
                 lambda v: BYTES_PER_ITEM * (len(v) + 1))


def _participations() -> Participations:
    def make():
        members, cities = defaultdict(set), defaultdict(set)
        for project, organisation, city in _rows(PARTICIPATIONS_QUERY, ("project", "organisation", "city")):
            members[project].add(organisation)
            if city is not None:
                cities[organisation].add(city)
        return Participations(dict(members), dict(cities))

    return _kept("participations", make, lambda v: BYTES_PER_ITEM * (sum(map(len, v.members.values())) + len(v.cities) + 1))


def _places() -> Places:
    def make():
        try:
            conn = search_index().conn
        except NoIndex as e:
            raise MapError(503, str(e)) from None
        places = Places()
        for iri, kind, label, country, lat, long in conn.execute(
                "SELECT iri, kind, label, country_label, lat, long FROM entities WHERE kind IN ('city', 'organisation', 'project')"):
            if kind == "project":
                places.projects[iri] = label
            else:
                (places.cities if kind == "city" else places.organisations)[iri] = Place(label, lat, long, country)
        return places

    return _kept("places", make, lambda v: BYTES_PER_ITEM * (len(v.cities) + len(v.organisations) + len(v.projects) + 1))


# -- the selection's data


def _selected_projects(selection: Selection) -> set[str]:
    """The projects the selection keeps: every filter must hold, any value of a repeated one will do."""
    projects = set(_participations().members)
    if selection.project is not None:
        projects &= {selection.project}
    if not selection.filtered():
        return projects
    attributes = _attributes()
    by = network_filters.Filters
    tests = [[by(programme=p) for p in selection.programmes], [by(country=c) for c in selection.countries]]
    if selection.start is not None or selection.end is not None:
        tests.append([by(start=selection.start, end=selection.end)])
    for alternatives in tests:
        if alternatives:
            projects &= set().union(*(network_filters.selected(attributes, f) for f in alternatives))
    if selection.facets:  # the same projects /projects lists for these facets
        projects &= facet_index().matching_iris(facets.Query("project", selection.facets))
    return projects


@dataclass
class Cut:
    """Where the selected projects' participants are."""

    projects: set[str]
    city_projects: dict[str, set[str]]  # city -> selected projects of organisations based in it
    city_organisations: dict[str, set[str]]
    apart: dict[str, set[str]]  # organisation with coordinates of its own (not its city's) -> its selected projects
    homeless: set[str]  # organisations with neither a city nor coordinates


def _cut(selection: Selection) -> Cut:
    places, participations = _places(), _participations()
    projects = _selected_projects(selection)
    city_projects, city_organisations, apart = defaultdict(set), defaultdict(set), defaultdict(set)
    homeless = set()
    for project in projects:
        for organisation in participations.members.get(project, ()):
            cities = participations.cities.get(organisation, ())
            for city in cities:
                city_projects[city].add(project)
                city_organisations[city].add(organisation)
            own = places.organisations.get(organisation)
            if own is not None and own.placed and not any(_same_spot(own, places.cities.get(c)) for c in cities):
                apart[organisation].add(project)
            elif not cities:
                homeless.add(organisation)
    return Cut(projects, dict(city_projects), dict(city_organisations), dict(apart), homeless)


def _same_spot(a: Place, b: Place | None) -> bool:
    return b is not None and b.placed and math.isclose(a.lat, b.lat) and math.isclose(a.long, b.long)


def _collection(selection: Selection) -> dict:
    """The selection as a GeoJSON FeatureCollection (RFC 7946), with what it leaves out said beside it."""
    places, participations = _places(), _participations()
    cut = _cut(selection)
    placed = {c for c in cut.city_projects if c in places.cities and places.cities[c].placed}
    features = []
    for city in sorted(placed, key=lambda c: (-len(cut.city_projects[c]), places.cities[c].label, c)):
        place = places.cities[city]
        features.append(_point(city, place, "city", len(cut.city_projects[city]), len(cut.city_organisations[city])))
    for organisation in sorted(cut.apart, key=lambda o: (-len(cut.apart[o]), places.organisations[o].label, o)):
        features.append(_point(organisation, places.organisations[organisation], "organisation", len(cut.apart[organisation]), 1))
    # The city network's rule, over the selected projects and the cities that can be drawn.
    sources = Sources(members={p: participations.members[p] for p in cut.projects if p in participations.members},
                      cities={o: cities & placed for o, cities in participations.cities.items() if cities & placed},
                      countries={}, years={}, levels={})
    pairs = sorted(((len(shared), a, b) for (a, b), shared in co_participations(sources, "city").items()),
                   key=lambda t: (-t[0], t[1], t[2]))
    drawn = pairs[:selection.lines]
    for weight, a, b in drawn:
        pa, pb = places.cities[a], places.cities[b]
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[pa.long, pa.lat], [pb.long, pb.lat]]},
            "properties": {"kind": "co-participation", "between": [a, b], "weight": weight},
        })
    unplaced_cities = len(cut.city_projects) - len(placed)
    located = set().union(*(cut.city_organisations[c] for c in placed))
    return {
        "type": "FeatureCollection",
        "features": features,
        # Foreign members (RFC 7946, 6.1): what was asked, what is drawn, and what could not be.
        "selection": selection.as_json(),
        "build": current_app.config["KG_BACKEND"].build_id,
        "counts": {"projects": len(cut.projects), "cities": len(placed), "organisations": len(located | set(cut.apart))},
        "lines": {"total": len(pairs), "drawn": len(drawn), "left_out": len(pairs) - len(drawn), "limit": selection.lines},
        "unplaced": {"cities": unplaced_cities, "organisations": len(cut.homeless - set(cut.apart))},
    }


def _point(iri: str, place: Place, kind: str, projects: int, organisations: int) -> dict:
    properties = {"kind": kind, "iri": iri, "label": place.label, "page": href(iri), "projects": projects,
                  "organisations": organisations}
    if place.country:
        properties["country"] = place.country
    return {"type": "Feature", "id": iri, "geometry": {"type": "Point", "coordinates": [place.long, place.lat]},
            "properties": properties}


def _encode(collection: dict) -> bytes:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _place_details(iri: str, selection: Selection) -> dict:
    """A city's organisations and projects under the selection (an organisation's projects): its popup's lists."""
    places, participations = _places(), _participations()
    kind = "city" if iri in places.cities else "organisation" if iri in places.organisations else None
    if kind is None:
        raise MapError(404, f"parameter 'iri': {iri!r} is not a city or an organisation of the KG")
    cut = _cut(selection)
    place = (places.cities if kind == "city" else places.organisations)[iri]
    if kind == "city":
        organisations = cut.city_organisations.get(iri, set())
        projects = cut.city_projects.get(iri, set())
    else:
        organisations = set()
        projects = {p for p in cut.projects if iri in participations.members.get(p, ())}
    project_counts = {o: sum(1 for p in projects if o in participations.members.get(p, ())) for o in organisations}
    listed_organisations = sorted(organisations, key=lambda o: (-project_counts[o], _label(places.organisations, o), o))
    listed_projects = sorted(projects, key=lambda p: (places.projects.get(p, p).casefold(), p))
    base = url_for("discovery.map_page")
    keep = [(k, v) for k, v in selection.args(lines=False) if k != "project"]
    return {
        "iri": iri, "kind": kind, "label": place.label, "page": href(iri), "country": place.country,
        "cities": [{"iri": c, "label": _label(places.cities, c), "page": href(c)} for c in sorted(participations.cities.get(iri, ()))]
        if kind == "organisation" else [],
        "organisations": [{"iri": o, "label": _label(places.organisations, o), "page": href(o), "projects": project_counts[o]}
                          for o in listed_organisations[:MOST_LISTED]],
        "organisations_total": len(organisations),
        "projects": [{"iri": p, "label": places.projects.get(p, p.rsplit("/", 1)[-1]), "page": href(p),
                      "map": base + _query(keep + [("project", p)])} for p in listed_projects[:MOST_LISTED]],
        "projects_total": len(projects),
        "selection": selection.as_json(),
    }


def _label(table: dict[str, Place], iri: str) -> str:
    found = table.get(iri)
    return found.label if found is not None else iri.rsplit("/", 1)[-1]
