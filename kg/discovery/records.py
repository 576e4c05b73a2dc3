"""The findable entities of a built KG, read with a few SELECTs: each one's kind, label, names in every language,
description, country, city, coordinates and weight (how many participations it has, which breaks ties in
search), written into the discovery index's `entities` and `names` tables."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from .text import fold

# kind -> the class whose members are of that kind
KIND_CLASSES = {
    "project": "ckg:Project",
    "organisation": "ckg:Organisation",
    "city": "ckg:City",
    "programme": "ckg:FundingProgramme",
}
# The properties that name a thing; the first is its label.
NAME_PROPERTIES = ("rdfs:label", "skos:prefLabel", "dct:title", "ckg:acronym", "ckg:nativeName", "schema:alternateName",
                   "dct:alternative", "skos:altLabel")
DESCRIPTION_PROPERTIES = ("dct:description", "ckg:objective", "rdfs:comment")
LANGUAGES = ("en", "", "it")  # a label in the first of these a thing has is its label; else any

SCHEMA = """
CREATE TABLE entities (
  id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, label TEXT NOT NULL, description TEXT,
  country TEXT, country_label TEXT, city TEXT, city_label TEXT, lat REAL, long REAL, weight INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX entities_kind ON entities (kind);
-- kind and weight repeat the entity's: search filters and orders names without a join.
CREATE TABLE names (entity INTEGER NOT NULL REFERENCES entities (id), name TEXT NOT NULL, folded TEXT NOT NULL,
                    lang TEXT NOT NULL, main INTEGER NOT NULL, kind TEXT NOT NULL, weight INTEGER NOT NULL);
CREATE INDEX names_folded ON names (folded);
CREATE INDEX names_entity ON names (entity);
"""


@dataclass
class Record:
    iri: str
    kind: str
    names: list[tuple[str, str, int]] = field(default_factory=list)  # (name, language, property rank)
    description: str | None = None
    description_lang: str | None = None
    country: str | None = None
    city: str | None = None
    lat: float | None = None
    long: float | None = None
    weight: int = 0
    country_label: str | None = None

    def label(self) -> str:
        if not self.names:
            return self.iri.rsplit("/", 1)[-1]
        by_rank = sorted(self.names, key=lambda n: (n[2], _language_rank(n[1]), n[0]))
        return by_rank[0][0]


def _language_rank(lang: str) -> int:
    return LANGUAGES.index(lang) if lang in LANGUAGES else len(LANGUAGES)


def _values(props) -> str:
    return " ".join(props)


def read(select) -> list[Record]:
    """The records of every findable entity. `select(text)` runs a SELECT over the KG's union graph and gives
    rows of {variable: pyoxigraph term or None} (KGStore.select)."""
    records: dict[str, Record] = {}
    for kind, cls in KIND_CLASSES.items():
        for row in select(f"SELECT DISTINCT ?s WHERE {{ ?s a {cls} FILTER isIRI(?s) }}"):
            iri = row["s"].value
            records.setdefault(iri, Record(iri, kind))  # an entity of two kinds is found under the first
    rank = {p: i for i, p in enumerate(NAME_PROPERTIES)}
    for row in select(f"""SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?p {{ {_values(NAME_PROPERTIES)} }} ?s ?p ?o FILTER isLiteral(?o) }}"""):
        found = records.get(row["s"].value)
        if found is not None:
            prop = _compact(row["p"].value)
            found.names.append((row["o"].value, row["o"].language or "", rank.get(prop, len(rank))))
    for row in select(f"""SELECT DISTINCT ?s ?o WHERE {{ VALUES ?p {{ {_values(DESCRIPTION_PROPERTIES)} }} ?s ?p ?o FILTER isLiteral(?o) }}"""):
        found = records.get(row["s"].value)
        lang = row["o"].language or ""
        if found is not None and (found.description is None or _language_rank(lang) < _language_rank(found.description_lang or "zz")):
            found.description, found.description_lang = row["o"].value, lang
    for row in select("SELECT DISTINCT ?s ?c WHERE { ?s ckg:country ?c FILTER isIRI(?c) }"):
        found = records.get(row["s"].value)
        if found is not None and found.country is None:
            found.country = row["c"].value
    for row in select("SELECT DISTINCT ?s ?c WHERE { ?s ckg:basedIn ?c FILTER isIRI(?c) }"):
        found = records.get(row["s"].value)
        if found is not None and found.city is None:
            found.city = row["c"].value
    for row in select("SELECT ?s (SAMPLE(?lat) AS ?la) (SAMPLE(?long) AS ?lo) WHERE { ?s <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat ; <http://www.w3.org/2003/01/geo/wgs84_pos#long> ?long } GROUP BY ?s"):
        found = records.get(row["s"].value)
        if found is not None:
            found.lat, found.long = _float(row["la"]), _float(row["lo"])
    countries = {}
    for row in select("SELECT ?c ?l WHERE { ?c a ckg:Country ; rdfs:label ?l FILTER (LANG(?l) IN ('en', '')) }"):
        countries[row["c"].value] = row["l"].value
    for record in records.values():
        record.country_label = countries.get(record.country)
    weights = defaultdict(int)
    # How many participations each thing has: its own (an organisation), its partners' (a project), its
    # organisations' (a city), its projects' (a programme).
    for pattern in ("?part ckg:participant ?x", "?part ckg:inProject ?x", "?part ckg:participant/ckg:basedIn ?x",
                    "?part ckg:inProject/ckg:fundedBy ?x"):
        for row in select(f"SELECT ?x (COUNT(DISTINCT ?part) AS ?n) WHERE {{ ?part a ckg:Participation . {pattern} }} GROUP BY ?x"):
            weights[row["x"].value] += int(row["n"].value)
    for record in records.values():
        record.weight = weights.get(record.iri, 0)
        if record.kind == "organisation" and record.lat is None and record.city in records:
            city = records[record.city]
            record.lat, record.long = city.lat, city.long
    return list(records.values())


def _float(term) -> float | None:
    try:
        return float(term.value) if term is not None else None
    except ValueError:
        return None


def _compact(iri: str) -> str:
    from kg.namespaces import PREFIXES

    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def write(conn: sqlite3.Connection, records: list[Record]) -> dict[str, int]:
    """Fill the `entities` and `names` tables; returns {iri: row id}."""
    conn.executescript(SCHEMA)
    by_iri = {r.iri: r for r in records}
    ids = {}
    for number, record in enumerate(sorted(records, key=lambda r: r.iri), start=1):
        ids[record.iri] = number
        city = by_iri.get(record.city)
        description = record.description[:1000] if record.description else None
        conn.execute("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (number, record.iri, record.kind, record.label(), description, record.country,
                      record.country_label, record.city,
                      city.label() if city is not None else None, record.lat, record.long, record.weight))
        label = record.label()
        seen = set()
        for name, lang, _ in record.names or [(label, "", 0)]:
            folded = fold(name)
            if not folded or (folded, lang) in seen:
                continue
            seen.add((folded, lang))
            conn.execute("INSERT INTO names VALUES (?,?,?,?,?,?,?)",
                         (number, name, folded, lang, int(name == label), record.kind, record.weight))
    return ids

