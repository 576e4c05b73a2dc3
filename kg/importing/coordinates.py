"""GeoNames coordinates for the imported cities that have none: keep.eu and CORDIS name a town and a country,
URBACT's table gives GeoNames' coordinates itself. After reconciliation and merging, a city that neither the
curated KG (data/places/coordinates.ttl) nor any source places, and whose names mean one GeoNames place in its
country, is stated at that place: skos:exactMatch to GeoNames, wgs84 lat/long and a GeoSPARQL geometry
`geometry/gn-{id}` (the IRI the URBACT mapping and the curated data use), each citing the curated source
document source:geonames. They go into a graph of their own, graph/import/geonames (`geonames.nq`), so that
what GeoNames says is told apart from what the sources say.

A name means one place when exactly one GeoNames city of the country has it as its name or an alternate name,
or, where several small places share it, when exactly one of them has POPULOUS inhabitants or more: a partner
in "Freiburg" (two towns) is left unplaced; one in "Ried" is left unplaced unless one Ried is a town. A place
that another city of the KG already holds (by its GeoNames link, or placed here) is left alone: the two cities
were kept apart by reconciliation, and the review file says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from kg.importing.mapping import graph_iri
from kg.importing.places import AlternateNames, country_key
from kg.namespaces import CKG, ID

GRAPH = "geonames"
SOURCE = f"{ID}source/geonames"
POPULOUS = 15000      # the cut reconciliation's alternate names use: a town rather than a hamlet

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCT_ALTERNATIVE = "http://purl.org/dc/terms/alternative"
DCT_SOURCE = NamedNode("http://purl.org/dc/terms/source")
SKOS_EXACT = NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch")
WGS_LAT = NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#lat")
WGS_LONG = NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#long")
HAS_GEOMETRY = NamedNode("http://www.opengis.net/ont/geosparql#hasGeometry")
AS_WKT = NamedNode("http://www.opengis.net/ont/geosparql#asWKT")
GEOMETRY = NamedNode("http://www.opengis.net/ont/geosparql#Geometry")
WKT = NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
DECIMAL = NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
CITY = NamedNode(str(CKG.City))
COUNTRY = str(CKG.country)
GEONAMES_IRI = "https://sws.geonames.org/"


@dataclass
class Placed:
    """What placing the cities did: the quads of graph/import/geonames and the figures a summary gives."""

    quads: list[Quad] = field(default_factory=list)
    cities: int = 0           # cities of the import
    had: int = 0              # ... already placed by the curated KG or a source
    placed: int = 0           # ... placed here
    unknown: int = 0          # ... whose names GeoNames does not know in their country
    ambiguous: int = 0        # ... whose names mean several places, none of them the one town
    taken: int = 0            # ... whose place another city of the KG holds


def geonames_id(iri: str) -> str | None:
    if iri.startswith(GEONAMES_IRI) or iri.startswith("http://sws.geonames.org/"):
        return iri.rstrip("/").rsplit("/", 1)[-1] or None
    return None


def place_cities(curated: Iterable[Quad], imported: dict[str, list[Quad]], places: AlternateNames) -> Placed:
    """GeoNames coordinates for the imported cities that have none (see the module's docstring)."""
    cities: set[str] = set()
    names: dict[str, list[str]] = defaultdict(list)
    country: dict[str, str] = {}
    located: set[str] = set()
    held: dict[str, set[str]] = defaultdict(set)      # GeoNames id -> the cities linked to it
    for quads in (curated, *imported.values()):
        for q in quads:
            subject, predicate = q.subject.value, q.predicate
            if predicate == RDF_TYPE and q.object == CITY:
                cities.add(subject)
            elif predicate == WGS_LAT:
                located.add(subject)
            elif predicate == SKOS_EXACT and (gid := geonames_id(q.object.value)):
                held[gid].add(subject)
            elif predicate.value in (RDFS_LABEL, DCT_ALTERNATIVE) and isinstance(q.object, Literal):
                names[subject].append(q.object.value)
            elif predicate.value == COUNTRY and isinstance(q.object, NamedNode):
                country.setdefault(subject, q.object.value.rstrip("/").rsplit("/", 1)[-1])
    imported_cities = {q.subject.value for quads in imported.values() for q in quads
                       if q.predicate == RDF_TYPE and q.object == CITY}
    result = Placed(cities=len(imported_cities))
    chosen: dict[str, list[str]] = defaultdict(list)
    for city in sorted(imported_cities):
        if city in located:
            result.had += 1
            continue
        found = _place(places, names.get(city, ()), country.get(city))
        if found is None:
            result.unknown += 1
        elif found == "":
            result.ambiguous += 1
        else:
            chosen[found].append(city)
    graph = NamedNode(graph_iri(GRAPH))
    source = NamedNode(SOURCE)
    for gid, found in sorted(chosen.items()):
        if len(found) > 1 or held.get(gid, set()) - set(found):
            result.taken += len(found)
            continue
        point = places.points[gid]
        city, geometry = NamedNode(found[0]), NamedNode(f"{ID}geometry/gn-{gid}")
        result.quads += [
            Quad(city, SKOS_EXACT, NamedNode(f"{GEONAMES_IRI}{gid}/"), graph),
            Quad(city, WGS_LAT, Literal(point.lat, datatype=DECIMAL), graph),
            Quad(city, WGS_LONG, Literal(point.long, datatype=DECIMAL), graph),
            Quad(city, HAS_GEOMETRY, geometry, graph),
            Quad(city, DCT_SOURCE, source, graph),
            Quad(geometry, RDF_TYPE, GEOMETRY, graph),
            Quad(geometry, AS_WKT, Literal(f"POINT({point.long} {point.lat})", datatype=WKT), graph),
            Quad(geometry, DCT_SOURCE, source, graph),
        ]
        result.placed += 1
    return result


def _place(places: AlternateNames, names: Iterable[str], country: str | None) -> str | None:
    """The GeoNames id the names mean in the country; "" when they mean several places; None when none."""
    country = country_key(country)
    if not country:
        return None
    found = set()
    for name in names:
        found |= places.places(name, country)
    found = {gid for gid in found if gid in places.points}
    if len(found) == 1:
        return next(iter(found))
    towns = {gid for gid in found if places.points[gid].population >= POPULOUS}
    if len(towns) == 1:
        return next(iter(towns))
    return "" if found else None
