"""Reconciliation: which of the KG's entities a name written elsewhere ("Comune di Palermo", "Univ. of Bologna",
"CESIE ETS") stands for, with a score from 0 to 100 and a decision (`match`) only when the best is clearly right.
The W3C reconciliation service (server/discovery/reconcile.py) speaks the protocol; this module only matches.

It reads the discovery index and nothing else, so that a batch of a hundred names answers in well under a second
on the grown KG (bench/reconcile_bench.py):
  candidates  the names equal to the query or to its core ("Comune di Palermo" -> "palermo"), the full-text
              hits of its words (each word also in its other languages' spellings, "university" for
              "Università", and in the index's nearest spelling when the index lacks it, "Universty"), and the
              city of that name together with the municipality based in it ("City of X" <-> the city X);
  score       rapidfuzz over every name of the candidate (and each part of a name such as "CESIE – European
              Centre..."), compared with the query as written, without its legal form and by its municipal core;
              then raised or lowered by the query's constraints on country and city;
  match       the best scores at least MATCH_SCORE and leads the second by MATCH_MARGIN, and contradicts no
              constraint.
The words that say what kind of body a name is (City of, Comune di, GmbH, ...) are kg.importing.reconcile's, the
ones the import reconciles with, so that the service and the import agree on what a name's core is.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from kg.errors import InputError
from kg.importing.normalise import NormaliseError
from kg.importing.normalise import country as country_code
from kg.importing.places import fold
from kg.importing.reconcile import municipal_core, organisation_core
from kg.namespaces import BASE

from . import KINDS
from .search import SearchIndex

MATCH_SCORE = 88.0  # tuned on bench/fixtures/reconcile-names.csv (bench/results/reconcile-service.md)
MATCH_MARGIN = 6.0
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
FTS_CANDIDATES = 30  # per query, from the full-text index
# Scores of what is reached through a place rather than by its own name (Reconciler._through_place).
MUNICIPALITY_FOR_MUNICIPALITY = 96.0  # "Stadt Wien" -> City of Vienna
CITY_FOR_MUNICIPALITY = 93.0  # "Comune di Palermo" asked as any kind -> the city Palermo
MUNICIPALITY_FOR_PLACE = 90.0  # "Palermo" asked as an organisation -> City of Palermo
COUNTRY = BASE + "id/country/"

# The same word in the languages the KG's names are written in: each group is searched and compared as one.
_SYNONYMS = (
    ("university", "universita", "universitat", "universite", "universidad", "universidade", "uniwersytet",
     "univerzita", "universiteit", "universitet", "universitatea", "univerza", "sveuciliste", "yliopisto",
     "egyetem", "universitesi", "universiteti", "univ", "uni"),
    ("municipality", "comune", "gemeente", "municipio", "ayuntamiento", "ajuntament", "gmina", "kommune", "kommun",
     "obcina", "opcina", "municipiul", "dimos", "savivaldybe", "concello", "commune", "mairie", "stadt", "stad"),
    ("region", "regione", "region", "regio", "regiao", "regiunea", "regija"),
    ("province", "provincia", "provincie", "provinz", "provincie", "provincial"),
    ("county", "county", "kreis", "landkreis", "contea", "megye", "zupanija"),
    ("chamber", "camera", "chambre", "kammer", "camara", "kamer", "komora", "izba"),
    ("commerce", "commercio", "commerce", "handelskammer", "comercio", "koophandel"),
    ("agency", "agenzia", "agence", "agentur", "agencia", "agentschap", "agencija", "agentia", "agentura"),
    ("development", "sviluppo", "developpement", "desarrollo", "entwicklung", "desenvolvimento", "dezvoltare",
     "razvoj", "rozwoju", "rozvoj"),
    ("association", "associazione", "association", "asociacion", "associacao", "asociatia", "verein", "vereniging",
     "udruga", "stowarzyszenie", "asociace", "drustvo"),
    ("foundation", "fondazione", "fondation", "fundacion", "fundacao", "fundatia", "stiftung", "stichting",
     "fundacja", "zaklada", "nadace", "stiftelsen", "fondation"),
    ("institute", "istituto", "institut", "instituto", "institutul", "instytut", "institute", "inst"),
    ("technical", "technische", "tecnico", "technique", "tecnica", "politecnico", "polytechnic", "politechnika",
     "technological", "technology", "tech", "politeknik"),
    ("centre", "center", "centro", "centrum", "zentrum", "central"),
    ("european", "europeo", "europea", "europeen", "europeenne", "europaische", "europees", "european", "eu"),
    ("national", "nazionale", "nacional", "nationale", "national", "narodowy"),
    ("research", "ricerca", "recherche", "investigacion", "forschung", "onderzoek", "cercetare"),
    ("energy", "energia", "energie", "energetska"),
    ("city", "citta", "ville", "ciudad", "cidade", "miasto", "mesto", "grad", "kaupunki"),
    ("school", "scuola", "ecole", "escuela", "schule", "school", "skola", "szkola"),
    ("studies", "studi", "studies", "etudes", "estudios", "studien"),
    ("economics", "economia", "economics", "economie", "economy", "wirtschaft", "ekonomski"),
    ("sciences", "scienze", "sciences", "ciencias", "wissenschaften", "science", "scientific"),
    ("applied", "angewandte", "applicate", "aplicadas", "toegepaste"),
    ("saint", "st", "san", "santa", "sankt", "saint", "sainte", "sv", "sveti", "santo"),
)
SYNONYM = {word: group[0] for group in _SYNONYMS for word in group}
SPELLINGS = {group[0]: tuple(sorted(set(group))) for group in _SYNONYMS}
# Words too common to say which body a name is: left out of the full-text look-up and of the comparison.
STOPWORDS = frozenset(
    "of the and for di del della dello delle dei degli da de des du la le les el los las y e et und der die das "
    "von fur van het en do dos das na no a al i z w u pe".split())
# Municipal forms kg.importing.reconcile does not strip (it reads other sources' names), tried after its own.
_MORE_MUNICIPAL = re.compile(
    r"^(?:freie hansestadt|commune d|mairie de|mairie d|primaria municipiului|primaria|bashkia|urzad miasta|"
    r"gmina miasta|ville d|comune di|citta di) (?=\S)|(?<=\S) (?:city government|megyei jogu varos|local council|"
    r"city municipality|linn|kommune|stad)$")
_PARTS = re.compile(r"\s+[–—-]\s+|\s*[(),;/]\s*")
_TOKENS = re.compile(r"[0-9a-z]+")


def type_of(kind: str) -> str:
    """The class IRI that is the reconciliation type of a kind (kg.discovery.records.KIND_CLASSES)."""
    return BASE + "ontology/" + {"project": "Project", "organisation": "Organisation", "city": "City",
                                 "programme": "FundingProgramme"}[kind]


TYPES = {type_of(kind): kind for kind in KINDS}


def kind_of_type(type_id: str) -> str:
    """The kind a type identifier names: a class IRI (TYPES), or the kind's own name."""
    if type_id in TYPES:
        return TYPES[type_id]
    if type_id in KINDS:
        return type_id
    raise InputError(f"unknown type {type_id!r}: one of {', '.join(TYPES)}")


@dataclass
class Query:
    """One name to reconcile: `text` (may be empty when constraints alone are given), the kinds it may be (all
    when empty), the constraints on country and city (codes, IRIs or names; `required` makes them filters),
    and how many candidates to return."""

    text: str
    kinds: tuple[str, ...] = ()
    countries: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    required: frozenset[str] = frozenset()  # "country", "city": a candidate that differs is left out
    limit: int = DEFAULT_LIMIT


@dataclass
class Candidate:
    iri: str
    kind: str
    name: str
    description: str | None
    score: float
    match: bool = False
    features: dict[str, float | bool] = field(default_factory=dict)


@dataclass
class _Entity:
    id: int
    iri: str
    kind: str
    label: str
    description: str | None
    country: str | None
    country_label: str | None
    city: str | None
    city_label: str | None
    weight: int
    names: list[str] = field(default_factory=list)


class Reconciler:
    """The matcher over one build's discovery index. Thread-safe: SQLite connections are per thread
    (SearchIndex.conn); the vocabulary is read once."""

    def __init__(self, index: SearchIndex):
        self.index = index
        self._vocabulary: list[str] | None = None
        self._vocabulary_set: frozenset[str] = frozenset()
        self._letters: dict[str, list[str]] = {}
        self._municipal: dict[str, list[tuple[int, str]]] | None = None
        self._countries: dict[str, str] | None = None
        self._lock = threading.Lock()

    # -- the public face

    def reconcile(self, query: Query) -> list[Candidate]:
        """The candidates for `query`, best first, at most `query.limit`; the first has `match` set when it is
        clearly the one."""
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 1 and {MAX_LIMIT}, not {query.limit}")
        unknown = [k for k in query.kinds if k not in KINDS]
        if unknown:
            raise InputError(f"unknown kind {unknown[0]!r}: one of {', '.join(KINDS)}")
        text = query.text.strip()
        if text.startswith(BASE):  # an identifier given as the name: that entity, if it is one of the kinds
            return self._by_iri(text, query)
        folded = joined_initials(fold(text))
        if not folded:
            return []
        countries = self.countries_named(query.countries)
        cities = self.cities_named(query.cities)
        ids, floors = self._candidate_ids(folded, query.kinds)
        entities = self._load(ids | set(floors))
        scored = []  # (score before it is bounded to 0-100, weight, candidate)
        for entity in entities:
            found = self._score(folded, entity, countries, cities, query, floors.get(entity.id, 0.0))
            if found is not None:
                scored.append((found[0], entity.weight, found[1]))
        scored.sort(key=lambda item: (-item[0], -item[1], item[2].iri))
        if scored:
            best, rest = scored[0], scored[1:]
            margin = best[0] - rest[0][0] if rest else best[0]
            best[2].match = (best[0] >= MATCH_SCORE and margin >= MATCH_MARGIN
                             and best[2].features.get("country", True) is not False
                             and best[2].features.get("city", True) is not False)
        return [c for _, _, c in scored[:query.limit]]

    def cities_named(self, values: list[str]) -> set[str]:
        """The IRIs of the cities that `values` name: a city IRI, or a name the index has for a city ("Torino",
        "Turin"); a name it lacks names none (the candidate's city label is then compared as text)."""
        found = set()
        for value in values:
            if value.startswith(BASE):
                found.add(value)
            elif fold(value):
                found.update(row[0] for row in self.index.conn.execute(
                    "SELECT DISTINCT entities.iri FROM names JOIN entities ON entities.id = names.entity "
                    "WHERE names.folded = ? AND entities.kind = 'city'", (fold(value),)))
        return found

    def countries_named(self, values: list[str]) -> set[str]:
        """The country IRIs that `values` name: an ISO code (IT, ITA, EL), a country IRI, or a name in English
        or another language (Italy, Italia). A value naming none raises InputError."""
        found = set()
        for value in values:
            value = value.strip()
            if not value:
                continue
            if value.startswith(COUNTRY):
                found.add(value)
                continue
            by_label = self._country_labels().get(fold(value))
            if by_label:
                found.add(by_label)
                continue
            try:
                found.add(COUNTRY + country_code(value, scheme="iso").lower())
            except NormaliseError:
                raise InputError(f"unknown country {value!r}: give an ISO 3166 code, a country IRI or its name") from None
        return found

    def entities(self, iris: list[str]) -> dict[str, sqlite3.Row]:
        """What the index holds about each of `iris` (label, kind, country, city, coordinates), by IRI."""
        found = {}
        for start in range(0, len(iris), 500):
            chunk = iris[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.index.conn.execute(f"SELECT * FROM entities WHERE iri IN ({marks})", chunk):
                found[row["iri"]] = row
        return found

    # -- candidates

    def _by_iri(self, iri: str, query: Query) -> list[Candidate]:
        row = self.index.conn.execute("SELECT * FROM entities WHERE iri = ?", (iri,)).fetchone()
        if row is None or (query.kinds and row["kind"] not in query.kinds):
            return []
        return [Candidate(row["iri"], row["kind"], row["label"], row["description"], 100.0, True,
                          {"id": True})]

    def _candidate_ids(self, folded: str, kinds: tuple[str, ...]) -> tuple[set[int], dict[int, float]]:
        """The ids of the entities worth scoring, and for those reached through a place (the city a municipal
        name names, the municipality of a city) the score that says so."""
        conn = self.index.conn
        kind_test, kind_args = _kind_filter(kinds)
        core = core_of(folded)
        plain = organisation_core(folded)
        exact = {folded, plain} | ({core} if core else set())
        marks = ",".join("?" * len(exact))
        ids = {row[0] for row in conn.execute(
            f"SELECT entity FROM names JOIN entities ON entities.id = names.entity WHERE names.folded IN ({marks}) {kind_test}",
            (*exact, *kind_args))}
        kind_match = f" AND kind : ({' OR '.join(kinds)})" if kinds else ""
        for expression in self._fts_expressions(core or plain):
            if expression:
                ids.update(row[0] for row in conn.execute(
                    "SELECT rowid FROM name_text WHERE name_text MATCH ? ORDER BY bm25(name_text) LIMIT ?",
                    (f"folded : ({expression}){kind_match}", FTS_CANDIDATES)))
        return ids, self._through_place(core or folded, core is not None, kinds)

    def _through_place(self, place: str, municipal: bool, kinds: tuple[str, ...]) -> dict[int, float]:
        """A place and its municipality: "Stadt Wien" finds the city whose names include "Wien" (a little below
        an equal name: it is the place, not the body) and the municipality based there, whatever its name's
        language ("City of Vienna"); "Palermo" asked as an organisation finds the City of Palermo, lower still."""
        conn = self.index.conn
        floors: dict[int, float] = {}
        cities = {row[0]: row[1] for row in conn.execute(
            "SELECT DISTINCT entities.id, entities.iri FROM names JOIN entities ON entities.id = names.entity "
            "WHERE names.folded = ? AND entities.kind = 'city'", (place,))}
        if not cities:
            return floors
        if municipal and (not kinds or "city" in kinds):
            floors.update({city: CITY_FOR_MUNICIPALITY for city in cities})
        if kinds and "organisation" not in kinds:
            return floors
        marks = ",".join("?" * len(cities))
        names = {row[0] for row in conn.execute(f"SELECT folded FROM names WHERE entity IN ({marks})", list(cities))}
        municipalities = self._municipalities()
        for city in cities.values():
            for entity, core in municipalities.get(city, ()):
                if core in names:
                    floors[entity] = MUNICIPALITY_FOR_MUNICIPALITY if municipal else MUNICIPALITY_FOR_PLACE
        return floors

    def _fts_expressions(self, folded: str) -> tuple[str | None, str | None]:
        """Two FTS5 queries: every telling word of the name (each in its spellings in other languages, and for a
        word the index lacks, its nearest spellings in the index), which finds the names holding them all; and
        any of its words that say which body it is (not "university", "comune"), for names that lack some."""
        groups, telling = [], []
        for word in folded.split():
            if word in STOPWORDS or len(word) < 2:
                continue
            spellings = {word} | self._near(word)
            if word in SYNONYM:
                spellings.update(SPELLINGS[SYNONYM[word]])
            else:
                telling.extend(sorted(spellings))
            groups.append("(" + " OR ".join(f'"{t}"' for t in sorted(spellings)) + ")")
        every = " AND ".join(groups) or None
        return every, " OR ".join(f'"{t}"' for t in dict.fromkeys(telling)) or None

    def _near(self, word: str) -> set[str]:
        """The index's words nearest a word it lacks ("universty" -> "university"), among those with its first
        letter: a typo seldom hits the first letter, and the look-up stays well under a millisecond."""
        if len(word) < 4 or word in self.vocabulary_set():
            return set()
        bucket = self._by_letter().get(word[0], ())
        return {near for near, _, _ in process.extract(word, bucket, scorer=fuzz.ratio, score_cutoff=80, limit=3)}

    def vocabulary(self) -> list[str]:
        if self._vocabulary is None:
            with self._lock:
                if self._vocabulary is None:
                    words = set()
                    for (folded,) in self.index.conn.execute("SELECT folded FROM names"):
                        words.update(folded.split())
                    by_letter: dict[str, list[str]] = {}
                    for word in sorted(words):
                        by_letter.setdefault(word[0], []).append(word)
                    self._vocabulary_set = frozenset(words)
                    self._letters = by_letter
                    self._vocabulary = sorted(words)
        return self._vocabulary

    def vocabulary_set(self) -> frozenset[str]:
        self.vocabulary()
        return self._vocabulary_set

    def _municipalities(self) -> dict[str, list[tuple[int, str]]]:
        """City IRI -> (id, place named) of each organisation based there under a municipal name: read once, as
        the index has no index on an entity's city."""
        if self._municipal is None:
            found: dict[str, list[tuple[int, str]]] = {}
            for entity, city, folded in self.index.conn.execute(
                    "SELECT entities.id, entities.city, names.folded FROM entities JOIN names ON names.entity = entities.id "
                    "WHERE entities.kind = 'organisation' AND entities.city IS NOT NULL"):
                core = core_of(folded)
                if core:
                    found.setdefault(city, []).append((entity, core))
            self._municipal = found
        return self._municipal

    def _by_letter(self) -> dict[str, list[str]]:
        self.vocabulary()
        return self._letters

    def _country_labels(self) -> dict[str, str]:
        if self._countries is None:
            self._countries = {fold(label): iri for iri, label in self.index.conn.execute(
                "SELECT DISTINCT country, country_label FROM entities WHERE country IS NOT NULL AND country_label IS NOT NULL")}
        return self._countries

    def _load(self, ids: set[int]) -> list[_Entity]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        conn = self.index.conn
        entities = {row["id"]: _Entity(row["id"], row["iri"], row["kind"], row["label"], row["description"],
                                       row["country"], row["country_label"], row["city"], row["city_label"],
                                       row["weight"])
                    for row in conn.execute(f"SELECT * FROM entities WHERE id IN ({marks})", list(ids))}
        for entity, name in conn.execute(f"SELECT entity, name FROM names WHERE entity IN ({marks})", list(ids)):
            entities[entity].names.append(name)
        return list(entities.values())

    # -- scores

    def _score(self, folded: str, entity: _Entity, countries: set[str], cities: set[str], query: Query,
               floor: float) -> tuple[float, Candidate] | None:
        name_score, name = _name_score(folded, entity)
        name_score = max(name_score, floor)
        features: dict[str, float | bool] = {"name": round(name_score, 1)}
        score = name_score
        if countries:
            if entity.country is None:
                score -= 5
            elif entity.country in countries:
                features["country"] = True
            else:
                if "country" in query.required:
                    return None
                features["country"] = False
                score -= 30
        if query.cities:
            agrees = _city_agrees(entity, query.cities, cities)
            if agrees is True:
                features["city"] = True
                score += 4
            elif agrees is False:
                if "city" in query.required:
                    return None
                features["city"] = False
                score -= 20
        return score, Candidate(entity.iri, entity.kind, entity.label, entity.description,
                                round(max(0.0, min(100.0, score)), 1), features=features)


def core_of(folded: str) -> str | None:
    """The place a municipality's folded name names ("comune di palermo", "commune d anderlecht" -> the place's
    name); None for a name that is not a municipality's."""
    core = municipal_core(folded)
    if core is not None:
        return core
    stripped = _MORE_MUNICIPAL.sub("", folded)
    return (municipal_core(stripped) or stripped) if stripped != folded else None


def _city_agrees(entity: _Entity, values: list[str], cities: set[str]) -> bool | None:
    """Whether the entity is in one of the cities asked for (`values` as given, `cities` the IRIs they name): a
    city is itself, an organisation where it is based; None when the index says nothing about its city."""
    where, label = (entity.iri, entity.label) if entity.kind == "city" else (entity.city, entity.city_label)
    if where is None:
        return None
    if where in cities:
        return True
    return label is not None and any(fuzz.ratio(fold(v), fold(label)) >= 90 for v in values)


_INITIALS = re.compile(r"\b(?:[a-z0-9] ){1,}[a-z0-9]\b")


def joined_initials(folded: str) -> str:
    """A folded name with its spelled-out initials joined: "a l d a" (from "A.L.D.A.") -> "alda"."""
    return _INITIALS.sub(lambda m: m.group(0).replace(" ", ""), folded)


def _name_score(folded: str, entity: _Entity) -> tuple[float, str]:
    """The best similarity (0-100) of the query with any name of the entity, and that name."""
    query = _Name(folded)
    best, best_name = 0.0, entity.label
    for name in entity.names or [entity.label]:
        whole = fold(name)
        forms = [(whole, 1.0)]
        parts = [fold(p) for p in _PARTS.split(name) if p.strip()]
        if len(parts) > 1:
            forms += [(p, 0.93) for p in parts if p and p != whole]
        for form, weight in forms:
            score = query.similarity(_Name(form)) * weight
            if score > best:
                best, best_name = score, name
    return best, best_name


class _Name:
    """A folded name in the forms it is compared in: as written, without its legal form, its municipal core,
    and its words in one language with the common words left out."""

    def __init__(self, folded: str):
        self.folded = folded
        self.plain = organisation_core(folded)
        self.core = core_of(folded)
        self.words = [SYNONYM.get(w, w) for w in self.plain.split() if w not in STOPWORDS]
        self.key = " ".join(self.words)
        # The words that say which body it is, not what kind of body: "palermo", "cesie", "bologna".
        self.telling = " ".join(sorted(w for w in self.words if w not in SPELLINGS))

    def similarity(self, other: _Name) -> float:
        if self.folded == other.folded or (self.plain and self.plain == other.plain):
            return 100.0
        scores = [fuzz.ratio(self.plain, other.plain), fuzz.token_sort_ratio(self.key, other.key)]
        if self.core and other.core:
            scores.append(fuzz.ratio(self.core, other.core) - (0 if self.core == other.core else 5))
        elif self.core or other.core:
            # "Palermo" and "City of Palermo": the place named, not the body; below an equal name.
            plain = other.plain if self.core else self.plain
            scores.append(fuzz.ratio(self.core or other.core, plain) * 0.9)
        if self.words and other.words:
            # A name holding all the query's words ("CESIE" in "CESIE ETS", "Bologna University" in "University
            # of Bologna Alma Mater"): good, but less than the same name; the query holding all of a name's
            # words ("Ljubljana" in "University of Ljubljana") says less.
            mine, theirs = set(self.words), set(other.words)
            if mine <= theirs:
                scores.append(96.0 - 4 * min(len(theirs - mine), 5))
            elif theirs <= mine:
                scores.append(88.0 - 8 * min(len(mine - theirs), 5))
            else:
                scores.append(fuzz.token_set_ratio(self.key, other.key) * 0.9)
        best = float(max(scores))
        if self.telling and other.telling:
            # Two names alike in their kind words but not in the telling ones ("Ayuntamiento de Soria", "Sofia
            # Municipality") are two bodies, however alike the whole strings are.
            best = min(best, fuzz.token_set_ratio(self.telling, other.telling))
        return best


def _kind_filter(kinds) -> tuple[str, list[str]]:
    if not kinds:
        return "", []
    return f"AND entities.kind IN ({','.join('?' * len(kinds))})", list(kinds)
