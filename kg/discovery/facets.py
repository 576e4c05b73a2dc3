"""Facet browsing of the projects, organisations and cities: what each one is filed under (programme at every
level, country, city, active years, theme, SDG, role), written by the build into the discovery index, and the
look-up that answers a facet page from it: the entities its filters leave, one page of them, and beside every
value of every facet how many there would be under the *other* facets' filters (disjunctive faceting, as on
keep.eu and Kohesio: picking a second country widens the list, it does not empty it).

One definition serves twice: each facet is a SPARQL pattern binding ?v from ?e, which the build runs to fill the
tables and `sparql()` joins to the selected values to give the query that returns the same entities from the
store. The facets are the entity's, not one participation's: an organisation filed under URBACT II and 2016 may
have taken part in an URBACT II project in 2010 and another project in 2016 (docs/discovery.md, "Facets").

Tables (next to `entities`, kg.discovery.records):
  facet_values(kind, facet, value, entity)      one row per entity and value it is filed under; value is the key
  facet_terms(facet, value, iri, label, parent, depth)   what a key stands for; parent: the programme above
  facet_entities(entity, kind, start, end, projects, countries, organisations, programmes)   facts for the lists:
      its first and last active year, its projects, its partners' countries (a project), the organisations taking
      part (a project) or based in it (a city), the programme levels that fund it (a project)
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from kg.errors import InputError
from kg.namespaces import ID, PREFIXES

KINDS = ("project", "organisation", "city")
CLASSES = {"project": "ckg:Project", "organisation": "ckg:Organisation", "city": "ckg:City"}
PATHS = {"project": "projects", "organisation": "organisations", "city": "cities"}  # the lists on the web

# The projects an entity took part in (?p), in the patterns below: a project itself, an organisation through its
# participations, a city through the organisations based in it (as in the city network, docs/network.md).
PROJECTS_OF = {
    "project": "",
    "organisation": "?part ckg:participant ?e ; ckg:inProject ?p . ",
    "city": "?org ckg:basedIn ?e . ?part ckg:participant ?org ; ckg:inProject ?p . ",
}
PARTICIPATIONS_OF = {
    "project": "?part ckg:inProject ?e . ",
    "organisation": "?part ckg:participant ?e . ",
    "city": "?org ckg:basedIn ?e . ?part ckg:participant ?org . ",
}
PROGRAMME_PATH = "ckg:fundedBy/ckg:partOfProgramme*"  # the level that funds a project and every level above it


def _through_projects(kind: str, tail: str) -> str:
    """`tail`, said of ?p, as a pattern of ?e: the facet of a project, read through the projects of ?e."""
    return tail.replace("?p ", "?e ", 1) if kind == "project" else PROJECTS_OF[kind] + tail


@dataclass(frozen=True)
class Facet:
    name: str  # the URL parameter
    label: str
    patterns: dict[str, str]  # kind -> SPARQL group binding ?v (an IRI) from ?e; other variables are its own
    prefix: str | None = None  # values are IRIs <ID><prefix>/<key>; their key is the rest


FACETS = {
    "programme": Facet("programme", "Programme", {k: _through_projects(k, f"?p {PROGRAMME_PATH} ?v .") for k in KINDS}, "programme"),
    "country": Facet("country", "Country", {
        "project": PARTICIPATIONS_OF["project"] + "?part ckg:participant/ckg:country ?v .",
        "organisation": "?e ckg:country ?v .",
        "city": "?e ckg:country ?v .",
    }, "country"),
    "city": Facet("city", "City", {
        "project": PARTICIPATIONS_OF["project"] + "?part ckg:participant/ckg:basedIn ?v .",
        "organisation": "?e ckg:basedIn ?v .",
    }, "city"),
    "theme": Facet("theme", "Theme", {k: _through_projects(k, "?p ckg:theme ?v .") for k in KINDS}, "theme"),
    "sdg": Facet("sdg", "Sustainable Development Goal", {k: _through_projects(k, "?p ckg:sdg ?v .") for k in KINDS}),
    "role": Facet("role", "Role", {k: PARTICIPATIONS_OF[k] + "?part ckg:role ?v ." for k in KINDS}, "role"),
}
YEAR = "year"  # the years an entity was active in: those of its projects' periods; filtered by `from` and `to`
YEAR_LABEL = "Year"
SDG_IRI = "http://metadata.un.org/sdg/"
# What a list is sorted by; a leading '-' reverses. relevance: the text filter's ranking (with `q` only).
SORTS = ("label", "weight", "start", "end", "relevance")
PER_PAGE, MAX_PER_PAGE = 50, 10_000
MAX_VALUES = 200  # per facet in a page's answer: the rest are counted in `more`
PARAMETERS = ("q", "from", "to", "sort", "page", "per_page", *FACETS)

SCHEMA = """
CREATE TABLE facet_values (kind TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL, entity INTEGER NOT NULL,
                           PRIMARY KEY (kind, facet, value, entity)) WITHOUT ROWID;
CREATE TABLE facet_terms (facet TEXT NOT NULL, value TEXT NOT NULL, iri TEXT NOT NULL, label TEXT NOT NULL,
                          parent TEXT, depth INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (facet, value)) WITHOUT ROWID;
CREATE INDEX facet_terms_iri ON facet_terms (iri);
CREATE TABLE facet_entities (entity INTEGER PRIMARY KEY, kind TEXT NOT NULL, start INTEGER, "end" INTEGER,
                             projects INTEGER NOT NULL, countries INTEGER NOT NULL, organisations INTEGER NOT NULL,
                             programmes TEXT);
"""
LABEL_PROPERTIES = ("rdfs:label", "skos:prefLabel")
LANGUAGES = ("en", "", "it")


# -- what the build writes


def year_of(text: str) -> int | None:
    """The year of a date literal's lexical form (xsd:date, gYearMonth, gYear): its first four characters, as the
    SPARQL of `sparql()` reads it."""
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def write(conn: sqlite3.Connection, select, ids: dict[str, int]) -> None:
    """Fill the facet tables for the entities of `ids` (entities.iri -> entities.id) of the three kinds."""
    conn.executescript(SCHEMA)
    kinds = {iri: kind for iri, kind in conn.execute("SELECT iri, kind FROM entities WHERE kind IN ('project', 'organisation', 'city')")}
    values: dict[str, set[str]] = defaultdict(set)  # facet -> IRIs used
    rows = []
    for facet in FACETS.values():
        for kind, pattern in facet.patterns.items():
            query = f"SELECT DISTINCT ?e ?v WHERE {{ ?e a {CLASSES[kind]} . {pattern} FILTER (isIRI(?e) && isIRI(?v)) }}"
            for row in select(query):
                iri = row["e"].value
                if kinds.get(iri) == kind:
                    values[facet.name].add(row["v"].value)
                    rows.append((kind, facet.name, row["v"].value, ids[iri]))
    terms = _terms(conn, select, values)
    conn.executemany("INSERT OR IGNORE INTO facet_values VALUES (?,?,?,?)",
                     ((kind, facet, terms[facet][iri][0], entity) for kind, facet, iri, entity in rows))
    conn.executemany("INSERT INTO facet_terms VALUES (?,?,?,?,?,?)",
                     ((facet, key, iri, label, parent, depth) for facet, found in terms.items()
                      for iri, (key, label, parent, depth) in found.items()))
    periods = _periods(select)
    projects_of: dict[str, set[str]] = defaultdict(set)
    for kind in KINDS:
        pattern = PROJECTS_OF[kind] or "BIND (?e AS ?p)"
        for row in select(f"SELECT DISTINCT ?e ?p WHERE {{ ?e a {CLASSES[kind]} . {pattern} FILTER isIRI(?e) }}"):
            if kinds.get(row["e"].value) == kind:
                projects_of[row["e"].value].add(row["p"].value)
    organisations = defaultdict(set)  # a city's organisations (based in it), a project's (taking part)
    for row in select("SELECT DISTINCT ?c ?o WHERE { ?o a ckg:Organisation ; ckg:basedIn ?c }"):
        organisations[row["c"].value].add(row["o"].value)
    for row in select("SELECT DISTINCT ?p ?o WHERE { ?p a ckg:Project . ?part ckg:inProject ?p ; ckg:participant ?o }"):
        organisations[row["p"].value].add(row["o"].value)
    funders = defaultdict(set)
    for row in select("SELECT DISTINCT ?p ?f WHERE { ?p a ckg:Project ; ckg:fundedBy ?f }"):
        funders[row["p"].value].add(terms["programme"].get(row["f"].value, (None, row["f"].value))[1])
    countries = dict(conn.execute("SELECT entity, COUNT(*) FROM facet_values WHERE facet = 'country' GROUP BY entity"))
    facts = []
    for iri, kind in kinds.items():
        years = set()
        for project in projects_of.get(iri, ()):
            years.update(periods.get(project, ()))
        conn.executemany("INSERT OR IGNORE INTO facet_values VALUES (?,?,?,?)",
                         ((kind, YEAR, f"{y:04d}", ids[iri]) for y in years))
        facts.append((ids[iri], kind, min(years, default=None), max(years, default=None),
                      len(projects_of.get(iri, ())), countries.get(ids[iri], 0), len(organisations.get(iri, ())),
                      " · ".join(sorted(funders.get(iri, ()))) or None))
    conn.executemany("INSERT INTO facet_entities VALUES (?,?,?,?,?,?,?,?)", facts)


def _periods(select) -> dict[str, range]:
    """Project -> the years it was active: from its earliest start to its latest end (its latest start when it
    gives no end). Sources that disagree give two dates; the period covers both."""
    starts, ends = defaultdict(set), defaultdict(set)
    for row in select("SELECT DISTINCT ?p ?s ?e WHERE { ?p a ckg:Project . { ?p ckg:startDate ?s } UNION { ?p ckg:endDate ?e } }"):
        if row["s"] is not None and (y := year_of(row["s"].value)) is not None:
            starts[row["p"].value].add(y)
        if row["e"] is not None and (y := year_of(row["e"].value)) is not None:
            ends[row["p"].value].add(y)
    periods = {}
    for project, years in starts.items():
        first = min(years)
        last = max(ends.get(project) or years)
        periods[project] = range(first, max(first, last) + 1)
    return periods


def _terms(conn, select, values: dict[str, set[str]]) -> dict[str, dict[str, tuple[str, str, str | None, int]]]:
    """facet -> IRI -> (key, label, parent key, depth)."""
    labels = {iri: label for iri, label in conn.execute("SELECT iri, label FROM entities")}
    wanted = {iri for found in values.values() for iri in found if iri not in labels}
    found_labels: dict[str, list[tuple[int, str]]] = defaultdict(list)
    todo = sorted(wanted)
    for start in range(0, len(todo), 500):
        chunk = " ".join(f"<{iri}>" for iri in todo[start:start + 500])
        for row in select(f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {chunk} }} VALUES ?p {{ {' '.join(LABEL_PROPERTIES)} }} ?s ?p ?l FILTER isLiteral(?l) }}"):
            lang = row["l"].language or ""
            found_labels[row["s"].value].append((LANGUAGES.index(lang) if lang in LANGUAGES else len(LANGUAGES), row["l"].value))
    for iri, options in found_labels.items():
        labels[iri] = min(options)[1]
    parents = {}
    for row in select("SELECT ?s ?o WHERE { ?s ckg:partOfProgramme ?o FILTER (isIRI(?s) && isIRI(?o)) }"):
        parents[row["s"].value] = min(parents.get(row["s"].value, row["o"].value), row["o"].value)
    terms = {}
    for name, iris in values.items():
        keys = {iri: _key(FACETS[name], iri) for iri in iris}
        taken = defaultdict(int)
        for key in keys.values():
            taken[key] += 1
        keys = {iri: key if taken[key] == 1 else iri for iri, key in keys.items()}
        terms[name] = {iri: (keys[iri], labels.get(iri) or _fallback_label(name, keys[iri]),
                             keys.get(parents.get(iri)) if name == "programme" else None,
                             _depth(iri, parents) if name == "programme" else 0) for iri in iris}
    for name in FACETS:
        terms.setdefault(name, {})
    return terms


def _depth(iri: str, parents: dict[str, str]) -> int:
    depth, seen = 0, {iri}
    while iri in parents and parents[iri] not in seen:
        iri = parents[iri]
        seen.add(iri)
        depth += 1
    return depth


def _key(facet: Facet, iri: str) -> str:
    """The short name of a value in URLs: the slug of the KG's own IRIs (programme=urbact-ii, country=it), the
    goal's number of a UN SDG IRI (sdg=11); the IRI itself otherwise."""
    if facet.prefix and iri.startswith(f"{ID}{facet.prefix}/") and len(iri) > len(f"{ID}{facet.prefix}/"):
        return iri[len(f"{ID}{facet.prefix}/"):]
    if facet.name == "sdg" and iri.startswith(SDG_IRI) and iri[len(SDG_IRI):].isdigit():
        return iri[len(SDG_IRI):]
    return iri


def _fallback_label(facet: str, key: str) -> str:
    return f"SDG {key}" if facet == "sdg" and key.isdigit() else key.rsplit("/", 1)[-1]


# -- what a page asks


@dataclass(frozen=True)
class Query:
    """A facet page's request, checked: every part has a stable repr, so it keys caches and ETags."""

    kind: str
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, its selected keys), in FACETS order
    start: int | None = None  # `from`: active in or after this year
    end: int | None = None  # `to`: active in or before this year
    q: str = ""
    sort: str = "label"
    page: int = 1
    per_page: int = PER_PAGE

    def selected(self, facet: str) -> tuple[str, ...]:
        return dict(self.filters).get(facet, ())

    def args(self, **changes) -> list[tuple[str, str]]:
        """The query string of this request with `changes` (facet=tuple of keys, or a parameter=value; None drops
        it): what the page's links are made of, in a stable order."""
        filters = dict(self.filters)
        plain = {"q": self.q or None, "from": self.start, "to": self.end, "sort": None if self.sort == default_sort(self.q) else self.sort,
                 "page": None if self.page == 1 else self.page, "per_page": None if self.per_page == PER_PAGE else self.per_page}
        for name, value in changes.items():
            name = {"start": "from", "end": "to"}.get(name, name)
            if name in FACETS:
                filters[name] = tuple(value or ())
            else:
                plain[name] = value
        pairs = [(name, key) for name in FACETS for key in filters.get(name, ())]
        pairs += [(name, str(value)) for name, value in plain.items() if value not in (None, "")]
        return pairs


def default_sort(q: str) -> str:
    return "relevance" if q else "label"


def parse(kind: str, pairs: list[tuple[str, str]]) -> Query:
    """A Query from a request's parameters (name, value), in order; a facet may be given more than once (its
    values are ORed). InputError names the parameter that is not known or not well formed."""
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    filters: dict[str, list[str]] = defaultdict(list)
    single: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            raise InputError(f"parameter {name!r} is not known; this list takes: {', '.join(PARAMETERS)}", name)
        if name in FACETS:
            if kind not in FACETS[name].patterns:
                raise InputError(f"parameter {name!r}: the {kind} list has no {name} facet", name)
            value = value.strip()
            if value and value not in filters[name]:
                filters[name].append(value)
        elif name in single:
            raise InputError(f"parameter {name!r} is given more than once", name)
        else:
            single[name] = value.strip()
    start, end = _year(single, "from"), _year(single, "to")
    q = single.get("q", "")
    sort = single.get("sort") or default_sort(q)
    if sort.lstrip("-") not in SORTS:
        raise InputError(f"parameter 'sort': expected one of {', '.join(SORTS)} (a leading '-' reverses), not {sort!r}", "sort")
    if sort.lstrip("-") == "relevance" and not q:
        raise InputError("parameter 'sort': relevance needs a text filter (q)", "sort")
    page = _number(single, "page", 1, 1, None)
    per_page = _number(single, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    ordered = tuple((name, tuple(filters[name])) for name in FACETS if filters.get(name))
    return Query(kind, ordered, start, end, q, sort, page, per_page)


def _year(single: dict[str, str], name: str) -> int | None:
    value = single.get(name)
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value):
        raise InputError(f"parameter {name!r}: expected a year of four digits, not {value!r}", name)
    return int(value)


def _number(single: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    value = single.get(name)
    if not value:
        return default
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise InputError(f"parameter {name!r}: expected a whole number {bounds}, not {value!r}", name)
    return int(value)


# -- the answer


@dataclass
class Value:
    key: str
    label: str
    count: int
    selected: bool
    iri: str | None = None
    parent: str | None = None
    depth: int = 0


@dataclass(frozen=True)
class Term:
    value: str | None  # the key in the index; None: the KG has no such value
    iri: str | None
    label: str


@dataclass
class Page:
    query: Query
    total: int
    items: list[dict]
    facets: dict[str, list[Value]]  # in FACETS order, then "year"
    more: dict[str, int] = field(default_factory=dict)  # facet -> values with a count left out of `facets`
    sparql: str = ""
    terms: dict[str, dict[str, str]] = field(default_factory=dict)  # facet -> selected key -> its label

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


ORDER = {
    "label": "e.label COLLATE NOCASE {d}, e.id",
    "weight": "e.weight {d}, e.label COLLATE NOCASE, e.id",
    "start": "f.start IS NULL, f.start {d}, e.label COLLATE NOCASE, e.id",
    "end": 'f."end" IS NULL, f."end" {d}, e.label COLLATE NOCASE, e.id',
    "relevance": "hit.key {d}, e.id",
}


@dataclass
class Postings:
    """One kind's facets in memory, read once per build: facet -> value key -> the ids of the entities filed under
    it, and what each key stands for. Counting under filters is then set arithmetic, a few milliseconds for the
    7,752 organisations of the grown KG where GROUP BY queries took tens (bench/results/facets.md)."""

    entities: frozenset[int]
    values: dict[str, dict[str, frozenset[int]]]
    terms: dict[str, dict[str, tuple[str, str | None, str | None, int]]]  # facet -> key -> (label, IRI, parent, depth)
    size: int  # rows read: what the cache is told it weighs
    order: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> key -> its place by label

    def weight(self) -> int:
        return 64 * (self.size + len(self.entities)) + 256 * sum(len(t) for t in self.terms.values())


def _keep_here():
    kept = {}

    def keep(key, make, weigh):
        if key not in kept:
            kept[key] = make()
        return kept[key]

    return keep


class FacetIndex:
    """The facet tables of a build's discovery index, read through a SearchIndex's connection (one per thread),
    with its ranking for the text filter. `keep(key, make, weigh)` keeps what is read once per build (the
    server's cache, server.http.cache; by default a dict of this object)."""

    def __init__(self, search_index, keep=None):
        self.search = search_index
        self.keep = keep or _keep_here()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.search.conn

    def postings(self, kind: str) -> Postings:
        return self.keep(("postings", kind), lambda: self._read(kind), Postings.weight)

    def _read(self, kind: str) -> Postings:
        values: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        size = 0
        for facet, value, entity in self.conn.execute("SELECT facet, value, entity FROM facet_values WHERE kind = ?", (kind,)):
            values[facet][value].add(entity)
            size += 1
        terms: dict[str, dict] = defaultdict(dict)
        for facet, value, iri, label, parent, depth in self.conn.execute("SELECT facet, value, iri, label, parent, depth FROM facet_terms"):
            if value in values.get(facet, ()):
                terms[facet][value] = (label, iri, parent, depth)
        entities = frozenset(r[0] for r in self.conn.execute("SELECT id FROM entities WHERE kind = ?", (kind,)))
        order = {f: {v: i for i, v in enumerate(sorted(found, key=lambda v: (found[v][0].casefold(), v)))} for f, found in terms.items()}
        return Postings(entities, {f: {v: frozenset(ids) for v, ids in by.items()} for f, by in values.items()}, dict(terms), size, order)

    def chosen(self, query: Query, terms: dict[str, dict[str, Term]], hits: list[int] | None) -> dict[str, set[int]]:
        """facet (or year, q) -> the entities its filter leaves; their intersection is what the query selects."""
        postings = self.postings(query.kind)
        chosen: dict[str, frozenset[int] | set[int]] = {}
        for name, _ in query.filters:
            found = postings.values.get(name, {})
            chosen[name] = set().union(*(found.get(t.value, ()) for t in terms[name].values() if t.value is not None))
        if query.start is not None or query.end is not None:
            low, high = f"{query.start or 0:04d}", f"{query.end if query.end is not None else 9999:04d}"
            chosen[YEAR] = set().union(*(ids for year, ids in postings.values.get(YEAR, {}).items() if low <= year <= high))
        if hits is not None:
            chosen["q"] = set(hits)
        return chosen

    def matching_iris(self, query: Query) -> set[str]:
        """The IRIs of every entity the query selects (all its pages): what another view (the map) filters by."""
        chosen = self.chosen(query, self.resolve(query), self._hits(query))
        ids = _intersection(chosen.values(), self.postings(query.kind).entities)
        return {r[0] for r in self.conn.execute("SELECT iri FROM entities WHERE id IN (SELECT value FROM json_each(?))",
                                                (json.dumps(sorted(ids)),))}

    def page(self, query: Query, max_values: int = MAX_VALUES) -> Page:
        postings = self.postings(query.kind)
        terms = self.resolve(query)
        hits = self._hits(query)
        chosen = self.chosen(query, terms, hits)
        matching = _intersection(chosen.values(), postings.entities)
        page = Page(query, len(matching), self._items(query, matching, hits, len(chosen) > 0), {})
        hit_iris = None
        if hits is not None:
            hit_iris = [r[0] for r in self.conn.execute("SELECT iri FROM entities WHERE id IN (SELECT value FROM json_each(?)) ORDER BY iri",
                                                        (json.dumps(hits),))]
        page.sparql = sparql(query, terms, hit_iris, {name: len(ids) for name, ids in chosen.items()})
        page.terms = {name: {key: term.label for key, term in found.items()} for name, found in terms.items()}
        for name in [*[f for f in FACETS if query.kind in FACETS[f].patterns], YEAR]:
            under = _intersection([ids for facet, ids in chosen.items() if facet != name], None)
            values, more = self._counts(query, postings, name, terms.get(name, {}), under, max_values)
            page.facets[name] = values
            if more:
                page.more[name] = more
        return page

    def _items(self, query: Query, matching, hits: list[int] | None, filtered: bool) -> list[dict]:
        name, desc = query.sort.lstrip("-"), query.sort.startswith("-")
        order = ORDER[name].format(d="DESC" if desc else "ASC")  # relevance: json_each's key is the rank, 0 the best
        join, params = ("JOIN json_each(?) hit ON hit.value = e.id", [json.dumps(hits)]) if name == "relevance" else ("", [])
        params.append(query.kind)
        where = ""
        if filtered:
            where = "AND e.id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(matching)))
        rows = self.conn.execute(
            f"SELECT e.*, f.start, f.\"end\", f.projects, f.countries, f.organisations, f.programmes FROM entities e "
            f"JOIN facet_entities f ON f.entity = e.id {join} WHERE e.kind = ? {where} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, query.per_page, (query.page - 1) * query.per_page)).fetchall()
        return [_item(query.kind, r) for r in rows]

    def resolve(self, query: Query) -> dict[str, dict[str, Term]]:
        """facet -> each selected key as given -> the value it names: by its key, its IRI, or (countries) its
        ISO code in any case; a value the KG does not have resolves to nothing and selects nothing."""
        found = {}
        for name, keys in query.filters:
            known = {}
            for key in keys:
                row = self.conn.execute("SELECT value, iri, label FROM facet_terms WHERE facet = ? AND (value = ? OR iri = ?) "
                                        "ORDER BY value = ? DESC LIMIT 1", (name, key, key, key)).fetchone()
                if row is None and name == "country":
                    row = self.conn.execute("SELECT value, iri, label FROM facet_terms WHERE facet = ? AND value = ?",
                                            (name, key.lower())).fetchone()
                known[key] = Term(row[0], row[1], row[2]) if row is not None else Term(None, None, key)
            found[name] = known
        return found

    def _hits(self, query: Query) -> list[int] | None:
        if not query.q:
            return None
        try:
            return self.search.matching(query.q, [query.kind])
        except InputError as e:
            raise InputError(f"parameter 'q': {e.message}", "q") from None

    @staticmethod
    def _counts(query: Query, postings: Postings, name: str, terms: dict[str, Term], under, max_values: int) -> tuple[list[Value], int]:
        """The values of facet `name` with how many of the entities `under` (None: all) each holds, most first."""
        found = postings.values.get(name, {})
        counted = {v: (len(ids) if under is None else len(ids & under)) for v, ids in found.items()}
        if name == YEAR:
            period = query.start is not None or query.end is not None
            low, high = query.start if query.start is not None else 0, query.end if query.end is not None else 9999
            return [Value(v, str(int(v)), n, period and low <= int(v) <= high) for v, n in sorted(counted.items()) if n], 0
        chosen = {t.value for t in terms.values()}
        labels = postings.terms.get(name, {})
        order = postings.order.get(name, {})
        ranked = sorted((-n, order[v], v) for v, n in counted.items() if (n or v in chosen) and v in labels)
        kept = [v for i, (_, _, v) in enumerate(ranked) if i < max_values or v in chosen]
        return [Value(v, labels[v][0], counted[v], v in chosen, *labels[v][1:]) for v in kept], len(ranked) - len(kept)


def _intersection(sets, everything):
    """The entities in every one of `sets`; `everything` when there are none."""
    result = None
    for ids in sorted(sets, key=len):
        result = set(ids) if result is None else result & ids
    return everything if result is None else result


def _item(kind: str, row) -> dict:
    item = {"iri": row["iri"], "kind": kind, "label": row["label"]}
    if kind != "project":
        item.update(country=row["country"], country_label=row["country_label"])
    if kind == "organisation":
        item.update(city=row["city"], city_label=row["city_label"])
    item.update(start=row["start"], end=row["end"], participations=row["weight"])
    if kind == "project":
        item.update(programmes=row["programmes"], countries=row["countries"], organisations=row["organisations"])
    else:
        item["projects"] = row["projects"]
    if kind == "city":
        item["organisations"] = row["organisations"]
    return item


# -- the same list as SPARQL


def _year_expression(variable: str) -> str:
    return f"xsd:integer(SUBSTR(STR({variable}), 1, 4))"


def _period(kind: str, start: int | None, end: int | None) -> str:
    """A pattern that holds when one of the entity's projects (?p) was active between `start` and `end`: it
    began by `end` and ended (or, with no end date, began) in or after `start`, as the build's years say."""
    p = "?e" if kind == "project" else "?p"
    parts = [PROJECTS_OF[kind].strip()] if PROJECTS_OF[kind] else []
    if end is not None:
        parts.append(f"{p} ckg:startDate ?begun . FILTER ({_year_expression('?begun')} <= {end})")
    if start is not None:
        parts.append(f"{{ {p} ckg:endDate ?ended }} UNION {{ {p} ckg:startDate ?ended FILTER NOT EXISTS {{ {p} ckg:endDate ?any }} }} "
                     f"FILTER ({_year_expression('?ended')} >= {start})")
    return " ".join(parts)


_LOCAL = re.compile(r"\?(part|p|org|v|begun|ended|any)\b")


def _own(pattern: str, n: int) -> str:
    """`pattern` with its own variables (all but ?e) numbered, so that blocks of one query do not share them."""
    return _LOCAL.sub(lambda m: f"?{m.group(1)}{n}", pattern)


def sparql(query: Query, terms: dict[str, dict[str, Term]], hit_iris: list[str] | None = None,
           sizes: dict[str, int] | None = None) -> str:
    """The SPARQL query whose ?e are the entities of `query` (all pages), ordered by label; `terms` gives the IRI
    each selected key stands for (FacetIndex.resolve); `hit_iris` the entities the text filter matched, which go
    in a VALUES block, as full-text search has no SPARQL equivalent.

    Each filter is a join from its values to ?e (GROUP BY ?e removes the repeats), the filter that leaves the
    fewest entities (`sizes`: facet, "year" or "q" -> how many it leaves) first: Oxigraph joins in the order
    written, starting from the few values given and following the indexes. A FILTER EXISTS per entity took
    minutes on the grown KG; a broad filter first, seconds."""
    blocks = []
    if hit_iris is not None:
        blocks.append(("q", [f"# the text filter q={query.q!r}: the entities the search index matched",
                             "VALUES ?e { " + " ".join(f"<{iri}>" for iri in hit_iris) + " }"]))
    for n, (name, keys) in enumerate(query.filters, start=1):
        iris = sorted({t.iri for t in terms.get(name, {}).values() if t.iri})
        blocks.append((name, [f"# {FACETS[name].label}: {', '.join(keys)}", f"VALUES ?v{n} {{ {' '.join(f'<{iri}>' for iri in iris)} }}",
                              _own(FACETS[name].patterns[query.kind], n)]))
    if query.start is not None or query.end is not None:
        blocks.append((YEAR, [f"# active from {query.start if query.start is not None else '…'} to {query.end if query.end is not None else '…'}",
                              _own(_period(query.kind, query.start, query.end), 0)]))
    blocks.sort(key=lambda block: (sizes or {}).get(block[0], 0))
    lines = [f"PREFIX {p}: <{PREFIXES[p]}>" for p in ("ckg", "rdfs")]
    lines += ["PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>", "",
              f"# The {query.kind} list of /{PATHS[query.kind]}, all pages: the same entities as its JSON twin",
              "SELECT ?e (SAMPLE(?name) AS ?label) WHERE {"]
    lines += ["  " + line for _, block in blocks for line in block]
    lines += [f"  ?e a {CLASSES[query.kind]} .", "  FILTER isIRI(?e)",
              "  OPTIONAL { ?e rdfs:label ?name FILTER (LANG(?name) IN (\"en\", \"\")) }", "}", "GROUP BY ?e", "ORDER BY ?label ?e"]
    return "\n".join(lines) + "\n"
