"""Synthetic data under the KG's ontology, for load tests and benchmarks: `kg synth --projects N --seed S`.

Projects with their partnerships (3 to 15 participations, exactly one coordinator, roles from the real role
scheme), the organisations taking part (municipalities, universities, agencies, associations, cooperatives,
foundations, companies), the cities they are based in (in the real countries), the programmes funding them (the
leaves of the real funding hierarchy), themes, SDGs, dates inside the programme's period, budgets, outputs,
events and one source document per project; labels in English and Italian, native names in the language of
the place. It conforms to shapes/ beside the real data, which it points to (countries, programmes, roles,
themes) rather than copies, so it is validated and built with that data as context.

Streaming: a project and whatever it brings in for the first time are written as soon as they are drawn. What
is kept grows by a few bytes per organisation and city (their kind, city, country, language and whether they
were written yet), never an RDF graph; names and IRIs are computed from indexes when needed.

Reproducible: one random.Random(seed) drives everything, the reference data is read in sorted order, and the
writer adds nothing of its own (gzip without a time stamp or name), so the same N, seed and reference data give
the same bytes.
"""

from __future__ import annotations

import array
import bisect
import gzip as gzip_module
import math
import os
import random
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError
from kg.namespaces import CKG, GRAPH, ID, SCHEMA

FORMATS = ("nquads", "ntriples")
# One graph per kind of thing, as the real data keeps places, organisations, projects and sources in their own
# files (and so graphs): few graphs, each telling where a statement belongs.
GRAPHS = {kind: f"{GRAPH}synth/{kind}" for kind in ("places", "organisations", "projects", "sources")}

# Measured at 10,000 projects with the data/ of this commit (see docs/synth.md); `projects_for` sizes with it.
TRIPLES_PER_PROJECT = 136

# The files read for reference under data/: what generated things point to (needed), and the real cities and
# organisations whose English labels they must not repeat (read when present).
REFERENCE_FILES = ("places/countries.ttl", "funding/programmes.ttl", "vocabularies/roles.ttl", "vocabularies/themes.ttl")
LABEL_FILES = ("places/cities.ttl", "organisations.ttl")

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
DCT = "http://purl.org/dc/terms/"


def _p(iri: str) -> str:
    return str(ox.NamedNode(iri))


P = {
    name: _p(str(CKG[name]))
    for name in (
        "acronym", "nativeName", "country", "basedIn", "governs", "startDate", "endDate", "fundedBy", "theme", "sdg",
        "hasParticipation", "inProject", "participant", "role", "hasOutput", "outputOf", "hasEvent", "eventOf",
        "location", "totalBudget", "euContribution",
    )
}
P.update(
    source=_p(DCT + "source"), description=_p(DCT + "description"), identifier=_p(DCT + "identifier"),
    spatial=_p(DCT + "spatial"), url=_p(str(SCHEMA.url)),
)
C = {name: _p(str(CKG[name])) for name in (
    "Project", "Participation", "City", "Output", "Event", "SourceDocument", "Municipality", "PublicAgency",
    "University", "Association", "NonProfitOrganisation", "Foundation", "Company",
)}
DATE = f"^^<{XSD}date>"
DECIMAL = f"^^<{XSD}decimal>"
# Made-up pages live under a domain reserved for examples: nothing real is ever cited.
WEB = "https://example.org/cohesion-kg-synth/"


#################################################################
# Reference data: read once from data/
#################################################################


@dataclass(frozen=True)
class Country:
    iri: str
    code: str
    languages: tuple[str, ...]  # of its native names, sorted; the languages its cities are named in


@dataclass(frozen=True)
class Programme:
    """A leaf of the funding hierarchy: what projects are funded by."""

    iri: str
    label_en: str
    label_it: str
    years: tuple[int, int]  # the period projects start in: its own dates, or its nearest dated ancestor's
    fund: str  # acronym of the top of its hierarchy (ERDF, AMIF, EfC): sets budgets and co-funding rates


@dataclass(frozen=True)
class Concept:
    iri: str
    label_en: str
    label_it: str


@dataclass(frozen=True)
class Reference:
    countries: tuple[Country, ...]
    programmes: tuple[Programme, ...]
    roles: dict[str, str]  # slug -> IRI
    themes: tuple[Concept, ...]
    taken: frozenset[str]  # English labels of the real cities and organisations, normalised


def read_reference(data: Path | None = None) -> Reference:
    """The real countries, programme leaves, roles and themes under `data` (default: the KG's data/, $KG_DATA)."""
    from kg.config import Paths

    return _read_reference((data or Paths().data).resolve())


@lru_cache(maxsize=4)
def _read_reference(data: Path) -> Reference:
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import RDF, RDFS

    from kg.sources.load import display_path

    graph = Graph()
    for rel in REFERENCE_FILES + LABEL_FILES:
        path = data / rel
        if not path.is_file():
            if rel in LABEL_FILES:
                continue
            raise InputError("missing: kg synth reads the KG's countries, programmes, roles and themes from it", display_path(path))
        try:
            graph.parse(path, format="turtle")
        except Exception as e:  # rdflib's parsers raise many types; `kg validate` locates them, here it is enough to name the file
            raise InputError(f"cannot be read ({e})", display_path(path)) from None

    def label(node, lang: str) -> str:
        found = sorted(str(o) for o in graph.objects(node, RDFS.label) if isinstance(o, Literal) and o.language == lang)
        return found[0] if found else ""

    def instances(cls) -> list[URIRef]:
        return sorted(s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef))

    countries = []
    for c in instances(CKG.Country):
        code = str(graph.value(c, CKG.iso3166Alpha2) or c.rsplit("/", 1)[-1]).lower()
        langs = sorted({o.language.lower() for o in graph.objects(c, CKG.nativeName) if isinstance(o, Literal) and o.language})
        countries.append(Country(str(c), code, tuple(langs) or ("en",)))

    levels = set()
    for cls in (CKG.Fund, CKG.Programme, CKG.ProgrammeStrand, CKG.FundingProgramme):
        levels.update(instances(cls))
    parents = {p for lv in levels for p in graph.objects(lv, CKG.partOfProgramme)}

    def years(node) -> tuple[int, int] | None:
        start, end = graph.value(node, CKG.startDate), graph.value(node, CKG.endDate)
        if start is None:
            return None
        y0 = int(str(start)[:4])
        return y0, max(y0, int(str(end)[:4])) if end is not None else y0 + 6

    programmes = []
    for leaf in sorted(levels - parents):
        node, period, top = leaf, None, leaf
        seen = set()
        while node is not None and node not in seen:  # a loop in the hierarchy is the shapes' to report, not ours
            seen.add(node)
            period = period or years(node)
            top = node
            node = graph.value(node, CKG.partOfProgramme)
        fund = str(graph.value(top, CKG.acronym) or "")
        programmes.append(Programme(str(leaf), label(leaf, "en"), label(leaf, "it") or label(leaf, "en"), period or (2008, 2020), fund))

    roles = {str(r).rsplit("/", 1)[-1]: str(r) for r in instances(CKG.Role)}
    themes = tuple(
        Concept(str(t), label(t, "en") or str(t).rsplit("/", 1)[-1], label(t, "it") or label(t, "en") or str(t).rsplit("/", 1)[-1])
        for t in instances(CKG.Theme)
    )
    taken = set()
    for cls in (CKG.City, CKG.Organisation, CKG.Municipality, CKG.PublicAgency, CKG.PublicAuthority, CKG.Association,
                CKG.NonProfitOrganisation, CKG.Foundation, CKG.University, CKG.Company):
        for s in instances(cls):
            taken.add(_normalise(label(s, "en")))
    for needed, what in ((countries, "countries"), (programmes, "funding programmes"), (themes, "themes")):
        if not needed:
            raise InputError(f"no {what} found: kg synth needs them to point to", display_path(data))
    for slug in ("coordinator", "partner"):
        if slug not in roles:
            raise InputError(f"the role scheme has no role:{slug}, which kg synth needs", display_path(data / "vocabularies/roles.ttl"))
    return Reference(tuple(countries), tuple(programmes), roles, themes, frozenset(taken))


def _normalise(text: str) -> str:
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


#################################################################
# Names: unique by construction, from an index
#################################################################

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
SYLLABLES = [c + v for c in CONSONANTS for v in VOWELS]  # 70, each a consonant then a vowel


class Names:
    """Index -> a pronounceable stem of consonant-vowel syllables, one-to-one.

    Stems of L syllables are numbered after all the shorter ones (from `shortest` up); within a length the
    number is scrambled by an affine map modulo 70**L (a bijection, the factor being prime to 70), so
    neighbouring indexes do not give neighbouring names. Distinct indexes give distinct stems, and since every
    syllable is two letters, distinct stems are distinct strings."""

    FACTOR = 48271  # prime to 2, 5 and 7

    def __init__(self, rng: random.Random, shortest: int):
        self.shortest = shortest
        self.offsets = [rng.randrange(70 ** (shortest + k)) for k in range(6)]

    def __call__(self, index: int) -> str:
        length, size = self.shortest, 70 ** self.shortest
        k = 0
        while index >= size:
            index -= size
            length, k = length + 1, k + 1
            size = 70**length
        n = (index * self.FACTOR + self.offsets[k]) % size
        out = []
        for _ in range(length):
            n, s = divmod(n, 70)
            out.append(SYLLABLES[s])
        return "".join(out)


# Endings of place names by language. Each starts with a vowel: stems end with one and never hold two in a row,
# so the first pair of vowels in a name marks where its stem ends, and two cities with distinct stems never get
# the same name, whatever endings they draw.
ENDINGS = {
    "de": ("", "enberg", "ingen", "enfeld", "au"), "it": ("", "ano", "ello", "ina", "ate"),
    "fr": ("", "eville", "ac", "ourt", "ay"), "es": ("", "ejo", "illa", "ares", "al"),
    "nl": ("", "endam", "ingen", "oven", "erveen"), "pl": ("", "owo", "owice", "in"),
    "sv": ("", "eby", "ala", "inge"), "da": ("", "ebjerg", "inge", "ager"), "fi": ("", "ala", "inen", "oski"),
    "et": ("", "ere", "oja", "usti"), "cs": ("", "ov", "ice", "any"), "hr": ("", "ovac", "ica", "ac"),
    "sl": ("", "ica", "ovo", "ec"), "lt": ("", "iai", "enai"), "lv": ("", "iena", "ava", "ini"),
    "ro": ("", "eni", "ești", "ani"), "bg": ("", "ovo", "ets", "ino"), "el": ("", "ada", "ia", "os"),
    "sq": ("", "ajë", "ani", "ova"), "en": ("", "ington", "ow", "ey"),
}
# Used only when a generated city name is a real city's: the stem is kept, so the name stays unique.
FALLBACK_ENDINGS = ("ora", "ena", "ia", "ura", "olo")

_GREEK = dict(zip("abdefgiklmnoprstuvz", ["α", "μπ", "ντ", "ε", "φ", "γκ", "ι", "κ", "λ", "μ", "ν", "ο", "π", "ρ", "σ", "τ", "ου", "β", "ζ"]))
_CYRILLIC = dict(zip("abdefgiklmnoprstuvz", "абдефгиклмнопрстувз"))


def native_script(name: str, lang: str) -> str:
    """A Latin-letter name in the script of `lang` (Greek, Cyrillic), letter by letter; others as they are."""
    table = _GREEK if lang == "el" else _CYRILLIC if lang == "bg" else None
    if table is None:
        return name
    out = "".join(table.get(ch, ch) for ch in name.lower())
    if lang == "el" and out.endswith("σ"):
        out = out[:-1] + "ς"
    return out[:1].upper() + out[1:]


# Organisations. Kinds 0-2 are tied to their city (at most one of each per city, named after it); kinds 3-6 have
# a name of their own. (class, share of the pool, English label, Italian label)
KINDS = (
    ("Municipality", 40, "City of {x}", "Città di {x}"),
    ("University", 7, "University of {x}", "Università di {x}"),
    ("PublicAgency", 7, "{x} Urban Development Agency", "Agenzia per lo sviluppo urbano di {x}"),
    ("Association", 16, "{x} Association", "Associazione {x}"),
    ("NonProfitOrganisation", 12, "{x} Social Cooperative", "Cooperativa sociale {x}"),
    ("Foundation", 6, "{x} Foundation", "Fondazione {x}"),
    ("Company", 12, "{x} Consulting", "{x} Consulting"),
)
CITY_TIED = 3
# The name an organisation of each kind has in its own language, by language, in the order of KINDS.
NATIVE = {
    "de": ("Stadt {x}", "Universität {x}", "Stadtentwicklungsagentur {x}", "Verein {x}", "Sozialgenossenschaft {x}", "Stiftung {x}", "{x} GmbH"),
    "it": ("Comune di {x}", "Università degli Studi di {x}", "Agenzia per lo sviluppo urbano di {x}", "Associazione {x}", "Cooperativa sociale {x}", "Fondazione {x}", "{x} S.r.l."),
    "fr": ("Ville de {x}", "Université de {x}", "Agence d'urbanisme de {x}", "Association {x}", "Coopérative sociale {x}", "Fondation {x}", "{x} SARL"),
    "es": ("Ayuntamiento de {x}", "Universidad de {x}", "Agencia de Desarrollo Urbano de {x}", "Asociación {x}", "Cooperativa Social {x}", "Fundación {x}", "{x} S.L."),
    "nl": ("Gemeente {x}", "Universiteit {x}", "Stedelijk Ontwikkelingsbedrijf {x}", "Vereniging {x}", "Sociale Coöperatie {x}", "Stichting {x}", "{x} B.V."),
    "pl": ("Urząd Miasta {x}", "Uniwersytet {x}", "Agencja Rozwoju Miasta {x}", "Stowarzyszenie {x}", "Spółdzielnia Socjalna {x}", "Fundacja {x}", "{x} sp. z o.o."),
    "sv": ("{x} kommun", "{x} universitet", "Stadsbyggnadskontoret {x}", "Föreningen {x}", "Sociala kooperativet {x}", "Stiftelsen {x}", "{x} AB"),
    "da": ("{x} Kommune", "{x} Universitet", "{x} Byudviklingsselskab", "Foreningen {x}", "Socialøkonomisk Virksomhed {x}", "Fonden {x}", "{x} ApS"),
    "fi": ("{x}n kaupunki", "{x}n yliopisto", "{x}n kehitysyhtiö", "{x} ry", "Osuuskunta {x}", "Säätiö {x}", "{x} Oy"),
    "et": ("{x} linn", "{x} Ülikool", "{x} Arenduskeskus", "MTÜ {x}", "Ühistu {x}", "SA {x}", "{x} OÜ"),
    "cs": ("Město {x}", "Univerzita {x}", "Agentura pro rozvoj města {x}", "Spolek {x}", "Sociální družstvo {x}", "Nadace {x}", "{x} s.r.o."),
    "hr": ("Grad {x}", "Sveučilište {x}", "Razvojna agencija {x}", "Udruga {x}", "Socijalna zadruga {x}", "Zaklada {x}", "{x} d.o.o."),
    "sl": ("Mestna občina {x}", "Univerza {x}", "Razvojna agencija {x}", "Društvo {x}", "Socialna zadruga {x}", "Fundacija {x}", "{x} d.o.o."),
    "lt": ("{x} miesto savivaldybė", "{x} universitetas", "{x} plėtros agentūra", "Asociacija {x}", "Socialinis kooperatyvas {x}", "Labdaros fondas {x}", "UAB {x}"),
    "lv": ("{x} pilsētas dome", "{x} Universitāte", "{x} attīstības aģentūra", "Biedrība {x}", "Sociālais kooperatīvs {x}", "Nodibinājums {x}", "SIA {x}"),
    "ro": ("Primăria {x}", "Universitatea din {x}", "Agenția de Dezvoltare Urbană {x}", "Asociația {x}", "Cooperativa Socială {x}", "Fundația {x}", "{x} S.R.L."),
    "bg": ("Община {x}", "Университет {x}", "Агенция за градско развитие {x}", "Сдружение {x}", "Социална кооперация {x}", "Фондация {x}", "{x} ООД"),
    "el": ("Δήμος {x}", "Πανεπιστήμιο {x}", "Αναπτυξιακή Εταιρεία {x}", "Σύλλογος {x}", "Κοινωνική Συνεταιριστική Επιχείρηση {x}", "Ίδρυμα {x}", "{x} Ε.Π.Ε."),
    "sq": ("Bashkia {x}", "Universiteti i {x}", "Agjencia e Zhvillimit Urban {x}", "Shoqata {x}", "Kooperativa Sociale {x}", "Fondacioni {x}", "{x} sh.p.k."),
    "en": ("{x} City Council", "University of {x}", "{x} Urban Development Agency", "{x} Association", "{x} Community Interest Company", "{x} Foundation", "{x} Ltd"),
}

# Roles besides the coordinator's, with weights; a municipality's and any other organisation's. A role the
# scheme lacks is left out. At most one lead expert per project.
MUNICIPAL_ROLES = (("partner", 80), ("associated-city", 8), ("mentor-city", 4), ("fellow-city", 3), ("regional-partner", 2))
OTHER_ROLES = (("partner", 70), ("expert-organisation", 10), ("technical-support", 8), ("local-support-group", 6), ("lead-expert", 3), ("regional-partner", 3))

# Rough populations (millions): bigger countries get more cities. A country not listed counts as 5.
POPULATION = {"de": 83, "fr": 68, "it": 59, "gb": 67, "es": 48, "pl": 37, "ro": 19, "nl": 18, "be": 12, "gr": 10,
              "cz": 11, "se": 10, "bg": 6, "dk": 6, "fi": 6, "hr": 4, "lt": 3, "si": 2, "lv": 2, "ee": 1, "ch": 9, "al": 3}

# Budgets in euro (lowest, highest) and the EU's share, by the fund at the top of a programme's hierarchy.
BUDGETS = {"ERDF": (300_000, 6_000_000, 0.70, 0.85), "AMIF": (400_000, 2_500_000, 0.90, 0.90), "EfC": (20_000, 150_000, 1.0, 1.0)}
DEFAULT_BUDGET = (100_000, 2_000_000, 0.60, 0.80)

SDGS = (11, 10, 1, 16, 5, 8, 4, 3, 17)
SDG_WEIGHTS = (30, 20, 10, 8, 8, 8, 6, 5, 5)

TITLES = (
    ("{T} in European cities", "{T} nelle città europee"),
    ("{T}: a network of cities", "{T}: una rete di città"),
    ("{T} through cooperation", "{T} attraverso la cooperazione"),
    ("Cities learning together: {t}", "Città che imparano insieme: {t}"),
    ("Local action plans for {t}", "Piani d'azione locali: {t}"),
)
OUTPUTS = (
    ("baseline-study", "{a} baseline study", "Studio di base di {a}"),
    ("final-report", "{a} final report", "Rapporto finale di {a}"),
    ("toolkit", "{a} toolkit for practitioners", "Kit di strumenti di {a} per gli operatori"),
    ("policy-recommendations", "{a} policy recommendations", "Raccomandazioni politiche di {a}"),
)
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre")


#################################################################
# The generator
#################################################################


@dataclass
class Summary:
    """What a run generated. `iris` holds, when asked for, the IRIs of the projects, organisations,
    participations and cities, in the order they were written."""

    projects: int = 0
    organisations: int = 0
    cities: int = 0
    participations: int = 0
    outputs: int = 0
    events: int = 0
    sources: int = 0
    triples: int = 0
    seconds: float = 0.0
    iris: dict[str, list[str]] | None = None

    @property
    def triples_per_second(self) -> float:
        return self.triples / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        counts = ", ".join(_count(n, word) for n, word in (
            (self.projects, "project"), (self.organisations, "organisation"), (self.cities, "city"),
            (self.participations, "participation"), (self.outputs, "output"), (self.events, "event"),
        ))
        return f"{_count(self.triples, 'triple')}: {counts}; {self.seconds:.1f} s ({self.triples_per_second:,.0f} triples/s)"


def _count(n: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n:,} {word if n == 1 else plural}"


def projects_for(triples: int) -> int:
    """About how many projects make `triples` triples."""
    return max(1, round(triples / TRIPLES_PER_PROJECT))


def _lit(text: str, lang: str) -> str:
    return str(ox.Literal(text, language=lang))


def _plain(text: str) -> str:
    return str(ox.Literal(text))


def _date(y: int, m: int, d: int) -> str:
    return f'"{y:04d}-{m:02d}-{d:02d}"{DATE}'


def _add_months(y: int, m: int, months: int) -> tuple[int, int]:
    total = y * 12 + (m - 1) + months
    return total // 12, total % 12 + 1


def _coprime_factor(n: int, rng: random.Random) -> int:
    """A factor prime to n, for an affine bijection of range(n)."""
    while True:
        a = rng.randrange(1, max(2, n)) | 1
        if math.gcd(a, n) == 1:
            return a


@dataclass
class _Pools:
    """Per organisation and per city, a few bytes: kind, city, country, language, written yet."""

    org_kind: bytearray
    org_city: array.array
    city_country: bytearray
    city_lang: bytearray
    org_written: bytearray
    city_written: bytearray
    renamed: dict[int, str] = field(default_factory=dict)  # the few cities whose name had to avoid a real one


@dataclass(frozen=True)
class _Member:
    org: int
    city: int
    en: str
    it: str
    slug: str  # without the "synth-" every generated slug starts with


@dataclass
class _Project:
    """One project's facts, drawn before any of it is written."""

    acronym: str
    slug: str
    iri: str  # iri and source in N-Triples form, <...>
    source: str
    members: list[_Member]  # the coordinator first
    programme: Programme
    start: tuple[int, int, int]
    end: tuple[int, int, int]
    months: int
    themes: list[Concept]


class _Generator:
    def __init__(self, ref: Reference, projects: int, seed: int, fmt: str, collect: bool):
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})", "--format")
        self.ref, self.n, self.rng = ref, projects, random.Random(seed)
        rng = self.rng
        self.line_end = {k: (f" <{g}> .\n" if fmt == "nquads" else " .\n") for k, g in GRAPHS.items()}
        self.summary = Summary(iris={"project": [], "organisation": [], "participation": [], "city": []} if collect else None)
        self.project_names = Names(rng, 2)
        self.city_stems = Names(rng, 3)
        self.org_stems = Names(rng, 2)

        # The organisation pool: its size grows with N (the organisations of a field grow with its projects),
        # and a skewed draw over it makes some organisations hubs, so pairs of partners recur.
        self.orgs = 20 + math.ceil(1.5 * projects)
        kinds = bytearray(rng.choices(range(len(KINDS)), weights=[k[1] for k in KINDS], k=self.orgs))
        self.cities = max(max(kinds.count(k) for k in range(CITY_TIED)), math.ceil(self.orgs * 0.5), 1)
        weights = [POPULATION.get(c.code, 5) for c in ref.countries]
        city_country = bytearray(rng.choices(range(len(ref.countries)), weights=weights, k=self.cities))
        city_lang = bytearray(rng.randrange(len(ref.countries[c].languages)) for c in city_country)
        org_city = array.array("I", bytes(4 * self.orgs))
        # The k-th organisation of a city-tied kind gets the k-th city of that kind's own permutation of the
        # cities: no city has two municipalities, two universities or two agencies.
        perms = [(_coprime_factor(self.cities, rng), rng.randrange(self.cities)) for _ in range(CITY_TIED)]
        seen = [0] * CITY_TIED
        for i, kind in enumerate(kinds):
            if kind < CITY_TIED:
                a, b = perms[kind]
                org_city[i] = (seen[kind] * a + b) % self.cities
                seen[kind] += 1
            else:
                org_city[i] = rng.randrange(self.cities)
        self.pools = _Pools(kinds, org_city, city_country, city_lang, bytearray(self.orgs), bytearray(self.cities))
        # Partner draw: rank r with probability about 1/(r + c), a Zipf law drawn in O(1) by inverting its
        # continuous distribution; then a fixed scramble of ranks to organisations, so hubs are of every kind.
        self.zipf_c = 10.0
        self.zipf_span = (self.orgs + self.zipf_c) / self.zipf_c
        self.rank_a, self.rank_b = _coprime_factor(self.orgs, rng), rng.randrange(self.orgs)
        self.municipal_roles = _cumulative(MUNICIPAL_ROLES, ref.roles)
        self.other_roles = _cumulative(OTHER_ROLES, ref.roles)
        self.lead_expert = ref.roles.get("lead-expert")
        self.coordinator = f"<{ref.roles['coordinator']}>"

    # ---- names -------------------------------------------------------------------------------------------

    def city_name(self, c: int) -> str:
        renamed = self.pools.renamed.get(c)
        if renamed is not None:
            return renamed
        stem = self.city_stems(c)
        endings = ENDINGS.get(self.city_language(c), ("",))
        name = (stem + endings[(c * 7 + len(stem)) % len(endings)]).capitalize()
        # casefold() is the checks' normalisation for our names: one word, composed letters.
        if name.casefold() in self.ref.taken:
            for ending in FALLBACK_ENDINGS:
                name = (stem + ending).capitalize()
                if name.casefold() not in self.ref.taken:
                    break
            self.pools.renamed[c] = name
        return name

    def city_language(self, c: int) -> str:
        return self.ref.countries[self.pools.city_country[c]].languages[self.pools.city_lang[c]]

    def city_iri(self, c: int) -> str:
        return f"<{ID}city/synth-{_slug(self.city_name(c))}>"

    def org_names(self, o: int) -> tuple[str, str, str, str]:
        """English label, Italian label, native name and its language."""
        kind, city = self.pools.org_kind[o], self.pools.org_city[o]
        lang = self.city_language(city)
        x = self.city_name(city) if kind < CITY_TIED else self.org_stems(o).capitalize()
        _, _, en, it = KINDS[kind]
        en, it = en.format(x=x), it.format(x=x)
        native = NATIVE.get(lang)
        if native is None:
            native_name, native_lang = en, "en"
        else:
            native_name, native_lang = native[kind].format(x=native_script(x, lang)), lang
        if _normalise(en) in self.ref.taken:  # not seen with our stems, but a real organisation's name must not repeat
            en, it = en + " (synthetic)", it + " (sintetico)"
        return en, it, native_name, native_lang

    def member(self, o: int) -> _Member:
        en, it, _, _ = self.org_names(o)
        return _Member(o, self.pools.org_city[o], en, it, _slug(en))

    # ---- drawing -----------------------------------------------------------------------------------------

    def draw_partner(self) -> int:
        rank = int(self.zipf_c * self.zipf_span ** self.rng.random() - self.zipf_c)
        rank = min(max(rank, 0), self.orgs - 1)
        return (rank * self.rank_a + self.rank_b) % self.orgs

    def draw_role(self, o: int, lead_taken: bool) -> str:
        iris, acc = self.municipal_roles if self.pools.org_kind[o] == 0 else self.other_roles
        while True:
            iri = iris[bisect.bisect_right(acc, self.rng.random() * acc[-1])]
            if iri != self.lead_expert or not lead_taken:
                return iri

    def draw(self, j: int) -> _Project:
        rng, pools = self.rng, self.pools
        acronym = self.project_names(j).upper()
        slug = "synth-" + acronym.lower()
        # The partnership: 3 to 15 distinct organisations, most often 6 to 9; a municipality leads four times
        # out of five when there is one.
        size = min(15, max(3, round(rng.triangular(3, 15, 7))), self.orgs)
        members: list[int] = []
        chosen: set[int] = set()
        while len(members) < size:
            o = self.draw_partner()
            if o not in chosen:
                chosen.add(o)
                members.append(o)
        municipal = [o for o in members if pools.org_kind[o] == 0]
        lead = municipal[0] if municipal and rng.random() < 0.8 else members[0]
        members.remove(lead)
        members.insert(0, lead)

        programme = self.ref.programmes[rng.randrange(len(self.ref.programmes))]
        y0, y1 = programme.years
        start = (rng.randint(y0, y1), rng.randint(1, 12), rng.randint(1, 28))
        months = rng.randint(18, 42)
        end = (*_add_months(start[0], start[1], months), rng.randint(1, 28))
        themes = rng.sample(self.ref.themes, min(len(self.ref.themes), rng.randint(1, 4)))
        return _Project(acronym, slug, f"<{ID}project/{slug}>", f"<{ID}source/{slug}>", [self.member(o) for o in members],
                        programme, start, end, months, themes)

    # ---- writing -----------------------------------------------------------------------------------------

    def run(self, emit: Callable[[str], object]) -> Summary:
        started = time.perf_counter()
        for j in range(self.n):
            lines = self.project(j)
            self.summary.triples += len(lines)
            emit("".join(lines))
        self.summary.projects = self.n
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def project(self, j: int) -> list[str]:
        """The lines of project j and of whatever it brings in for the first time."""
        p = self.draw(j)
        out: list[str] = []
        for m in p.members:  # first appearances cite this project's source, where they were "found"
            if not self.pools.org_written[m.org]:
                self.write_org(m, p.source, out.append)
        self.write_source(p, out.append)
        self.write_project(p, out.append)
        self.write_participations(p, out.append)
        self.write_outputs(p, out.append)
        self.write_events(p, out.append)
        if self.summary.iris is not None:
            self.summary.iris["project"].append(p.iri[1:-1])
        return out

    def write_org(self, m: _Member, source: str, add) -> None:
        pools, g = self.pools, self.line_end["organisations"]
        country = f"<{self.ref.countries[pools.city_country[m.city]].iri}>"
        city = self.city_iri(m.city)
        if not pools.city_written[m.city]:
            gp = self.line_end["places"]
            name, lang = self.city_name(m.city), self.city_language(m.city)
            add(f"{city} {RDF_TYPE} {C['City']}{gp}")
            add(f"{city} {LABEL} {_lit(name, 'en')}{gp}")
            add(f"{city} {LABEL} {_lit(name, 'it')}{gp}")
            add(f"{city} {P['nativeName']} {_lit(native_script(name, lang), lang)}{gp}")
            add(f"{city} {P['country']} {country}{gp}")
            add(f"{city} {P['source']} {source}{gp}")
            pools.city_written[m.city] = 1
            self.summary.cities += 1
            if self.summary.iris is not None:
                self.summary.iris["city"].append(city[1:-1])
        kind = pools.org_kind[m.org]
        _, _, native, native_lang = self.org_names(m.org)
        node = f"<{ID}organisation/synth-{m.slug}>"
        add(f"{node} {RDF_TYPE} {C[KINDS[kind][0]]}{g}")
        add(f"{node} {LABEL} {_lit(m.en, 'en')}{g}")
        add(f"{node} {LABEL} {_lit(m.it, 'it')}{g}")
        add(f"{node} {P['nativeName']} {_lit(native, native_lang)}{g}")
        add(f"{node} {P['country']} {country}{g}")
        add(f"{node} {P['basedIn']} {city}{g}")
        if kind == 0:
            add(f"{node} {P['governs']} {city}{g}")
        if KINDS[kind][0] in ("University", "Company"):  # those that would have a web site of their own
            add(f"{node} {P['url']} <{WEB}organisations/{m.slug}>{g}")
        add(f"{node} {P['source']} {source}{g}")
        pools.org_written[m.org] = 1
        self.summary.organisations += 1
        if self.summary.iris is not None:
            self.summary.iris["organisation"].append(node[1:-1])

    def write_source(self, p: _Project, add) -> None:
        s, g = p.source, self.line_end["sources"]
        add(f"{s} {RDF_TYPE} {C['SourceDocument']}{g}")
        add(f"{s} {LABEL} {_lit(f'Project page of {p.acronym} (synthetic)', 'en')}{g}")
        add(f"{s} {LABEL} {_lit(f'Pagina del progetto {p.acronym} (sintetica)', 'it')}{g}")
        add(f"{s} {P['identifier']} {_plain(p.slug)}{g}")
        add(f"{s} {P['url']} <{WEB}projects/{p.acronym.lower()}>{g}")
        self.summary.sources += 1

    def write_project(self, p: _Project, add) -> None:
        rng, pools, g, s = self.rng, self.pools, self.line_end["projects"], p.iri
        lead, programme, t0 = p.members[0], p.programme, p.themes[0]
        countries = len({pools.city_country[m.city] for m in p.members})
        title_en, title_it = TITLES[rng.randrange(len(TITLES))]
        title_en = title_en.format(T=_upper_first(t0.label_en), t=_lower_first(t0.label_en))
        title_it = title_it.format(T=_upper_first(t0.label_it), t=_lower_first(t0.label_it))
        about_en = ", ".join(t.label_en.lower() for t in p.themes)
        about_it = ", ".join(t.label_it.lower() for t in p.themes)
        description_en = (
            f"A synthetic project funded under {programme.label_en}: {len(p.members)} partners from {countries} "
            f"{'country' if countries == 1 else 'countries'}, coordinated by {lead.en}, working on {about_en}."
        )
        description_it = (
            f"Progetto sintetico finanziato da {programme.label_it}: {len(p.members)} partner di {countries} "
            f"{'paese' if countries == 1 else 'paesi'}, coordinato da {lead.it}, sui temi: {about_it}."
        )
        add(f"{s} {RDF_TYPE} {C['Project']}{g}")
        add(f"{s} {LABEL} {_lit(f'{p.acronym} – {title_en}', 'en')}{g}")
        add(f"{s} {LABEL} {_lit(f'{p.acronym} – {title_it}', 'it')}{g}")
        add(f"{s} {P['acronym']} {_plain(p.acronym)}{g}")
        add(f"{s} {P['description']} {_lit(description_en, 'en')}{g}")
        add(f"{s} {P['description']} {_lit(description_it, 'it')}{g}")
        add(f"{s} {P['startDate']} {_date(*p.start)}{g}")
        add(f"{s} {P['endDate']} {_date(*p.end)}{g}")
        add(f"{s} {P['fundedBy']} <{programme.iri}>{g}")
        for t in p.themes:
            add(f"{s} {P['theme']} <{t.iri}>{g}")
        if rng.random() < 0.5:
            for goal in sorted(set(rng.choices(SDGS, SDG_WEIGHTS, k=rng.randint(1, 2)))):
                add(f"{s} {P['sdg']} <http://metadata.un.org/sdg/{goal}>{g}")
        lo, hi, share_lo, share_hi = BUDGETS.get(programme.fund, DEFAULT_BUDGET)
        total = rng.randrange(lo, hi) // 100 * 100
        eu = max(1, round(total * rng.uniform(share_lo, share_hi)))
        add(f'{s} {P["totalBudget"]} "{total}.00"{DECIMAL}{g}')
        add(f'{s} {P["euContribution"]} "{eu}.00"{DECIMAL}{g}')
        add(f"{s} {P['url']} <{WEB}projects/{p.acronym.lower()}>{g}")
        add(f"{s} {P['source']} {p.source}{g}")

    def write_participations(self, p: _Project, add) -> None:
        rng, g, iris = self.rng, self.line_end["projects"], self.summary.iris
        lead_taken = False
        for k, m in enumerate(p.members):
            part = f"<{ID}participation/{p.slug}-{m.slug}>"
            if k == 0:
                role = self.coordinator
            else:
                iri = self.draw_role(m.org, lead_taken)
                lead_taken = lead_taken or iri == self.lead_expert
                role = f"<{iri}>"
            add(f"{p.iri} {P['hasParticipation']} {part}{g}")
            add(f"{part} {RDF_TYPE} {C['Participation']}{g}")
            add(f"{part} {LABEL} {_lit(f'{m.en} in {p.acronym}', 'en')}{g}")
            add(f"{part} {LABEL} {_lit(f'{m.it} in {p.acronym}', 'it')}{g}")
            add(f"{part} {P['inProject']} {p.iri}{g}")
            add(f"{part} {P['participant']} <{ID}organisation/synth-{m.slug}>{g}")
            add(f"{part} {P['role']} {role}{g}")
            add(f"{part} {P['source']} {p.source}{g}")
            if k and rng.random() < 0.1:  # a partner that joined later: its own period
                joined = _add_months(p.start[0], p.start[1], rng.randint(3, p.months // 2))
                add(f"{part} {P['startDate']} {_date(*joined, 1)}{g}")
                add(f"{part} {P['endDate']} {_date(*p.end)}{g}")
            if iris is not None:
                iris["participation"].append(part[1:-1])
        self.summary.participations += len(p.members)

    def write_outputs(self, p: _Project, add) -> None:
        """Some general outputs, and a local action plan for up to three partner municipalities."""
        rng, g = self.rng, self.line_end["projects"]
        outputs = [(f"{p.slug}-{kind}", en.format(a=p.acronym), it.format(a=p.acronym), None)
                   for kind, en, it in rng.sample(OUTPUTS, rng.randint(0, 2))]
        for m in [m for m in p.members if self.pools.org_kind[m.org] == 0][: rng.randint(0, 3)]:
            name = self.city_name(m.city)
            outputs.append((f"{p.slug}-local-action-plan-{_slug(name)}", f"{p.acronym} local action plan of {name}",
                            f"Piano d'azione locale di {name} ({p.acronym})", m.city))
        for slug, en, it, city in outputs:
            node = f"<{ID}output/{slug}>"
            add(f"{p.iri} {P['hasOutput']} {node}{g}")
            add(f"{node} {RDF_TYPE} {C['Output']}{g}")
            add(f"{node} {LABEL} {_lit(en, 'en')}{g}")
            add(f"{node} {LABEL} {_lit(it, 'it')}{g}")
            add(f"{node} {P['outputOf']} {p.iri}{g}")
            if city is not None:
                add(f"{node} {P['spatial']} {self.city_iri(city)}{g}")
            add(f"{node} {P['source']} {p.source}{g}")
        self.summary.outputs += len(outputs)

    def write_events(self, p: _Project, add) -> None:
        """A kick-off in the coordinator's city, partner meetings in distinct months, a final conference."""
        rng, g, a = self.rng, self.line_end["projects"], p.acronym
        lead_city = p.members[0].city
        lead_name = self.city_name(lead_city)
        events = []
        if rng.random() < 0.6:
            events.append(("kick-off", f"{a} kick-off meeting in {lead_name}", f"Riunione di avvio di {a} a {lead_name}",
                           lead_city, p.start[:2], 2))
        meetings = rng.randint(0, 2)
        for i in range(meetings):
            y, m = _add_months(p.start[0], p.start[1], (i + 1) * p.months // (meetings + 2))
            city = p.members[rng.randrange(len(p.members))].city
            name = self.city_name(city)
            events.append((f"partner-meeting-{i + 1}", f"{a} partner meeting in {name}, {MONTHS_EN[m - 1]} {y}",
                           f"Incontro dei partner di {a} a {name}, {MONTHS_IT[m - 1]} {y}", city, (y, m), 2))
        if rng.random() < 0.4:
            events.append(("final-conference", f"{a} final conference in {lead_name}", f"Conferenza finale di {a} a {lead_name}",
                           lead_city, p.end[:2], 1))
        for kind, en, it, city, month, days in events:
            # Inside the project's period, and inside the month (day 28 at the latest: never a 30 February).
            if month == p.start[:2]:
                first = p.start[2]
            elif month == p.end[:2]:
                first = max(1, p.end[2] - days + 1)
            else:
                first = rng.randint(1, 28 - days + 1)
            last = min(28, first + days - 1)
            node = f"<{ID}event/{p.slug}-{kind}>"
            add(f"{p.iri} {P['hasEvent']} {node}{g}")
            add(f"{node} {RDF_TYPE} {C['Event']}{g}")
            add(f"{node} {LABEL} {_lit(en, 'en')}{g}")
            add(f"{node} {LABEL} {_lit(it, 'it')}{g}")
            add(f"{node} {P['eventOf']} {p.iri}{g}")
            add(f"{node} {P['location']} {self.city_iri(city)}{g}")
            add(f"{node} {P['startDate']} {_date(*month, first)}{g}")
            add(f"{node} {P['endDate']} {_date(*month, last)}{g}")
            add(f"{node} {P['source']} {p.source}{g}")
        self.summary.events += len(events)


def _cumulative(table: tuple[tuple[str, int], ...], roles: dict[str, str]) -> tuple[list[str], list[int]]:
    """Role IRIs and cumulative weights, for the roles of `table` the scheme has."""
    iris, acc, total = [], [], 0
    for slug, weight in table:
        if slug in roles:
            total += weight
            iris.append(roles[slug])
            acc.append(total)
    return iris, acc


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _slug(text: str) -> str:
    """The slug of one of our names: ASCII letters and spaces, but for endings such as "ești" or "ajë"
    (folded to ASCII) and "(synthetic)"."""
    if text.isascii() and text.replace(" ", "").isalnum():
        return text.lower().replace(" ", "-")
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in folded.lower()).split())


#################################################################
# Entry points
#################################################################


def generate(emit: Callable[[str], object], projects: int, seed: int = 0, *, fmt: str = "nquads",
             reference: Reference | None = None, collect: bool = False) -> Summary:
    """Generate `projects` projects and everything they bring in, passing N-Quads (or N-Triples) text to
    `emit` one project at a time. With `collect`, the summary lists the IRIs generated."""
    if projects <= 0:
        raise InputError(f"must be a positive number of projects, not {projects}", "--projects")
    return _Generator(reference or read_reference(), projects, seed, fmt, collect).run(emit)


def summarise(projects: int, seed: int = 0, *, reference: Reference | None = None) -> Summary:
    """What `generate` would produce, with its IRIs, writing nothing."""
    return generate(lambda _: None, projects, seed, reference=reference, collect=True)


def write(output: Path | str, projects: int, seed: int = 0, *, fmt: str = "nquads", compress: bool | None = None,
          reference: Reference | None = None, collect: bool = False) -> Summary:
    """Generate into a file, atomically (a temporary file beside it, renamed once complete; removed if the
    run fails), or to standard output for '-'. Gzipped when `compress`, or by default when the name ends in .gz."""
    if projects <= 0:
        raise InputError(f"must be a positive number of projects, not {projects}", "--projects")
    reference = reference or read_reference()
    if str(output) == "-":
        stream = sys.stdout.buffer
        if compress:
            with _gzip(stream) as gz:
                summary = generate(_encoder(gz), projects, seed, fmt=fmt, reference=reference, collect=collect)
        else:
            summary = generate(_encoder(stream), projects, seed, fmt=fmt, reference=reference, collect=collect)
        stream.flush()
        return summary

    path = Path(output)
    if compress is None:
        compress = path.suffix == ".gz"
    if path.is_dir():
        raise InputError("is a folder; give a file name", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open rather than tempfile: the file gets the umask's permissions, as any file the user writes.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise InputError(f"cannot be written: {e.strerror or e}", str(path)) from None
    try:
        with open(fd, "wb", buffering=1 << 20) as raw:
            if compress:
                with _gzip(raw) as gz:
                    summary = generate(_encoder(gz), projects, seed, fmt=fmt, reference=reference, collect=collect)
            else:
                summary = generate(_encoder(raw), projects, seed, fmt=fmt, reference=reference, collect=collect)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def _gzip(stream):
    # No time stamp and no file name in the header: the same data gives the same bytes.
    return gzip_module.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0, compresslevel=1)


def _encoder(stream) -> Callable[[str], object]:
    write_bytes = stream.write
    return lambda text: write_bytes(text.encode("utf-8"))
