"""The findable entities of a built KG, read off its store's quads: each one's kind, label, names in every language,
description, country, city, coordinates and weight (how many participations it has, which breaks ties in
search), written into the discovery index's `entities` and `names` tables."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from kg.importing.places import fold

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
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"

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


def read(store) -> list[Record]:
    """The records of every findable entity of a pyoxigraph Store (every graph: asserted, inferred and network).
    Read off its quads, not with SELECTs: at 2M triples the SELECTs with DISTINCT and GROUP BY took 18 s, this
    pass a few."""
    import pyoxigraph as ox

    def quads(predicate: str):
        return store.quads_for_pattern(None, ox.NamedNode(_expand(predicate)), None, None)

    records: dict[str, Record] = {}
    for kind, cls in KIND_CLASSES.items():
        members = sorted({q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(_expand("rdf:type")), ox.NamedNode(_expand(cls)), None)
                          if isinstance(q.subject, ox.NamedNode)})
        for iri in members:
            records.setdefault(iri, Record(iri, kind))  # an entity of two kinds is found under the first
    for rank, prop in enumerate(NAME_PROPERTIES):
        seen = set()
        for q in quads(prop):
            found = records.get(q.subject.value)
            if found is not None and isinstance(q.object, ox.Literal) and (q.subject.value, q.object) not in seen:
                seen.add((q.subject.value, q.object))
                found.names.append((q.object.value, q.object.language or "", rank))
    described = {}  # iri -> (property rank, language rank, text): the first property a thing has, in English if it can
    for rank, prop in enumerate(DESCRIPTION_PROPERTIES):
        for q in quads(prop):
            if q.subject.value in records and isinstance(q.object, ox.Literal):
                choice = (rank, _language_rank(q.object.language or ""), q.object.value)
                described[q.subject.value] = min(choice, described.get(q.subject.value, choice))
    for iri, (_, _, text) in described.items():
        records[iri].description = text
    for attribute, prop in (("country", "ckg:country"), ("city", "ckg:basedIn")):
        for q in quads(prop):
            found = records.get(q.subject.value)
            if found is not None and isinstance(q.object, ox.NamedNode):
                known = getattr(found, attribute)
                if known is None or q.object.value < known:  # the same choice whatever order the quads come in
                    setattr(found, attribute, q.object.value)
    for attribute, prop in (("lat", "geo:lat"), ("long", "geo:long")):
        for q in quads(prop):
            found = records.get(q.subject.value)
            if found is not None and getattr(found, attribute) is None:
                setattr(found, attribute, _float(q.object))
    countries = {}
    for q in quads("rdfs:label"):
        if isinstance(q.object, ox.Literal) and q.object.language in ("en", None) and "/id/country/" in q.subject.value:
            countries.setdefault(q.subject.value, q.object.value)
    # How many participations each thing has: its own (an organisation), its partners' (a project), its
    # organisations' (a city), its projects' (a programme).
    participant = {q.subject.value: q.object.value for q in quads("ckg:participant")}
    project_of = {q.subject.value: q.object.value for q in quads("ckg:inProject")}
    based_in, funded_by = defaultdict(set), defaultdict(set)
    for q in quads("ckg:basedIn"):
        based_in[q.subject.value].add(q.object.value)
    for q in quads("ckg:fundedBy"):
        funded_by[q.subject.value].add(q.object.value)
    weights = defaultdict(int)
    for part, who in participant.items():
        weights[who] += 1
        for city in based_in.get(who, ()):
            weights[city] += 1
    for part, project in project_of.items():
        weights[project] += 1
        for programme in funded_by.get(project, ()):
            weights[programme] += 1
    for record in records.values():
        record.weight = weights.get(record.iri, 0)
        record.country_label = countries.get(record.country)
        if record.kind == "organisation" and record.lat is None and record.city in records:
            city = records[record.city]
            record.lat, record.long = city.lat, city.long
    return list(records.values())


def _expand(name: str) -> str:
    from kg.namespaces import PREFIXES

    prefix, _, local = name.partition(":")
    return GEO + local if prefix == "geo" else PREFIXES[prefix] + local


def _float(term) -> float | None:
    try:
        return float(term.value)
    except (ValueError, AttributeError):
        return None


def write(conn: sqlite3.Connection, records: list[Record]) -> dict[str, int]:
    """Fill the `entities` and `names` tables; returns {iri: row id}."""
    conn.executescript(SCHEMA)
    labels = {r.iri: r.label() for r in records}
    ids = {}
    for number, record in enumerate(sorted(records, key=lambda r: r.iri), start=1):
        ids[record.iri] = number
        label = labels[record.iri]
        description = record.description[:1000] if record.description else None
        conn.execute("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (number, record.iri, record.kind, label, description, record.country, record.country_label,
                      record.city, labels.get(record.city), record.lat, record.long, record.weight))
        seen = set()
        for name, lang, _ in record.names or [(label, "", 0)]:
            folded = fold(name)
            if not folded or (folded, lang) in seen:
                continue
            seen.add((folded, lang))
            conn.execute("INSERT INTO names VALUES (?,?,?,?,?,?,?)",
                         (number, name, folded, lang, int(name == label), record.kind, record.weight))
    return ids

