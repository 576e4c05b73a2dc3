"""What a page shows: a resource's facts and, by kind, the tables a reader looks for, named in their language.

A page is built in three steps: run the queries its kind needs (server.pages.describe), fetch the labels of every IRI
they returned in one go, then assemble plain values (`Shown`: a text, maybe a link) for the templates. Nothing
here writes HTML; the templates do, with autoescaping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from kg.namespaces import BASE, CKG as _CKG, KINDS, SCHEMA as _SCHEMA, compact

from . import describe
from .describe import Fact, Term
from .i18n import date_text, pick, term_label
from .iris import local_path

# Namespaces as plain strings: the IRIs in query results are str, and rdflib's URIRef never equals a str.
CKG = str(_CKG)
SCHEMA = str(_SCHEMA)
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
TYPE = RDF + "type"
COORDINATOR = BASE + "id/role/coordinator"


@dataclass(frozen=True)
class Shown:
    """A value as a page shows it: text in a language, a link for IRIs (local path, or the IRI for the Web)."""

    text: str
    href: str | None = None
    lang: str = ""
    iri: str | None = None


class Namer:
    """Names IRIs in the reader's language and links them, from the labels fetched for one page."""

    def __init__(self, labels: dict, lang: str, carry_lang: bool):
        self.labels, self.lang, self.carry_lang = labels, lang, carry_lang

    def name(self, iri: str) -> tuple[str, str]:
        found = pick(self.labels.get(iri, {}), self.lang)
        if found:
            return found
        known = term_label(iri, self.lang)
        if known:
            return known, self.lang
        if iri.startswith(BASE + "id/"):  # unlabelled things of the KG (the network's pairs): their path reads well
            return iri[len(BASE + "id/"):], ""
        return compact(iri) or iri, ""

    def href(self, iri: str) -> str | None:
        path = local_path(iri)
        if path is not None:
            return path + (f"?lang={self.lang}" if self.carry_lang else "")
        # Only Web links: an IRI of another scheme (javascript:, data:) is shown, never made clickable.
        if iri.startswith(("http://", "https://")):
            return iri
        return None

    def link(self, iri: str) -> Shown:
        text, lang = self.name(iri)
        return Shown(text, self.href(iri), lang, iri)

    def show(self, term: Term) -> Shown:
        if term.is_iri:
            return self.link(term.value)
        if term.kind == "bnode":
            return Shown("…")
        return Shown(date_text(term.value, term.datatype, self.lang), None, term.lang)

    def text(self, texts: list[Term]) -> Shown | None:
        """One of several literals (a description in two languages), in the reader's language if there."""
        by_lang: dict[str, list[str]] = defaultdict(list)
        for t in texts:
            by_lang[t.lang].append(t.value)
        found = pick(by_lang, self.lang)
        return Shown(found[0], None, found[1]) if found else None


@dataclass
class Context:
    """Everything known for one page before it is assembled."""

    iri: str
    lang: str
    facts: list[Fact]
    inbound: list[tuple[Term, Term]]
    rows: dict[str, list[dict[str, Term]]]
    namer: Namer

    def values(self, predicate: str, inferred: bool = True) -> list[Term]:
        """The values of `predicate`, asserted ones first; only asserted ones when `inferred` is False."""
        seen: dict[Term, None] = {}
        for f in sorted(self.facts, key=lambda f: f.inferred):
            if f.predicate.value == predicate and (inferred or not f.inferred):
                seen.setdefault(f.value)
        return list(seen)

    def summary(self) -> Shown | None:
        """The resource's own description (not the objectives and activities that reasoning also makes descriptions)."""
        return self.namer.text(self.values(DCT + "description", inferred=False) or self.values(RDFS + "comment", inferred=False))

    def first(self, predicate: str) -> Term | None:
        found = self.values(predicate)
        return found[0] if found else None

    def links(self, predicate: str) -> list[Shown]:
        return sorted((self.namer.show(v) for v in self.values(predicate)), key=_by_text)

    def referrers(self, predicate: str) -> list[Shown]:
        """The resources that point here with `predicate` (asserted)."""
        return sorted((self.namer.link(s.value) for s, p in self.inbound if p.value == predicate), key=_by_text)


@dataclass(frozen=True)
class Kind:
    queries: dict[str, str] = field(default_factory=dict)  # name -> a query of server.pages.describe about <THIS>
    assemble: Callable[[Context], dict] = lambda ctx: {}


def _by_text(shown: Shown) -> str:
    return shown.text.casefold()


def kind_of(iri: str) -> str:
    """project, organisation, ... for id/{kind}/{slug}; "ontology" and "term" for the ontology; else "thing"."""
    rest = iri[len(BASE):]
    if rest == "ontology":
        return "ontology"
    if rest.startswith("ontology/"):
        return "term"
    parts = rest.split("/")
    if len(parts) == 3 and parts[0] == "id" and parts[1] in KINDS:
        return parts[1]
    return "thing"


# --- Pieces shared by several kinds ---------------------------------------------------------------------------

def _contradictions(ctx: Context) -> list[dict]:
    found: dict[str, dict] = {}
    for r in ctx.rows.get("contradictions", []):
        c = found.setdefault(r["contradiction"].value, {"about": r["about"], "comments": [], "claims": {}})
        if "comment" in r and r["comment"] not in c["comments"]:
            c["comments"].append(r["comment"])
        claim = c["claims"].setdefault(r["claim"].value, {"predicate": r.get("predicate"), "value": r.get("value"), "sources": []})
        if "source" in r and r["source"] not in claim["sources"]:
            claim["sources"].append(r["source"])
    n = ctx.namer
    out = []
    for iri, c in found.items():
        claims = [
            {
                "link": n.link(claim_iri),
                "predicate": n.show(claim["predicate"]) if claim["predicate"] else None,
                "value": n.show(claim["value"]) if claim["value"] else None,
                "sources": sorted((n.show(s) for s in claim["sources"]), key=_by_text),
            }
            for claim_iri, claim in c["claims"].items()
        ]
        out.append({"link": n.link(iri), "about": n.show(c["about"]), "comment": n.text(c["comments"]),
                    "claims": sorted(claims, key=lambda cl: _by_text(cl["link"]))})
    return sorted(out, key=lambda c: _by_text(c["link"]))


def _funding_chains(ctx: Context) -> list[list[Shown]]:
    """Each funding path, fund first: ERDF > URBACT II > URBACT II Thematic Networks."""
    chains: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in ctx.rows.get("funding", []):
        chains[r["start"].value].append((int(r["depth"].value), r["level"].value))
    return [[ctx.namer.link(level) for _, level in sorted(levels)] for _, levels in sorted(chains.items())]


def _grouped(rows: list[dict[str, Term]], key: str, many: tuple[str, ...]) -> dict[str, dict]:
    """Rows merged by `key`: single-valued columns kept once, the `many` columns gathered as lists."""
    out: dict[str, dict] = {}
    for r in rows:
        item = out.setdefault(r[key].value, {m: [] for m in many})
        for column, term in r.items():
            if column in many:
                if term not in item[column]:
                    item[column].append(term)
            else:
                item.setdefault(column, term)
    return out


def _shown_list(ctx: Context, terms: list[Term]) -> list[Shown]:
    return sorted((ctx.namer.show(t) for t in terms), key=_by_text)


def _maybe(ctx: Context, term: Term | None) -> Shown | None:
    return ctx.namer.show(term) if term is not None else None


# --- Kinds ---------------------------------------------------------------------------------------------------

def _project(ctx: Context) -> dict:
    n = ctx.namer
    partners = []
    for item in _grouped(ctx.rows["partners"], "participation", ("role", "source")).values():
        partners.append({
            "participation": n.link(item["participation"].value),
            "organisation": n.link(item["organisation"].value),
            "roles": _shown_list(ctx, item["role"]),
            "city": _maybe(ctx, item.get("city")),
            "country": _maybe(ctx, item.get("country")),
            "sources": _shown_list(ctx, item["source"]),
            "leads": any(r.value == COORDINATOR for r in item["role"]),
        })
    partners.sort(key=lambda p: (not p["leads"], _by_text(p["organisation"])))
    events = [
        {"link": n.link(iri), "city": _maybe(ctx, e.get("city")), "start": _maybe(ctx, e.get("start")),
         "end": _maybe(ctx, e.get("end")), "sort": e["start"].value if "start" in e else "9999"}
        for iri, e in _grouped(ctx.rows["events"], "event", ()).items()
    ]
    outputs = [
        {"link": n.link(iri), "places": _shown_list(ctx, o["place"])}
        for iri, o in _grouped(ctx.rows["outputs"], "output", ("place",)).items()
    ]
    return {
        "acronym": _maybe(ctx, ctx.first(CKG + "acronym")),
        "start": _maybe(ctx, ctx.first(CKG + "startDate")),
        "end": _maybe(ctx, ctx.first(CKG + "endDate")),
        "partners": partners,
        "coordinators": [p["organisation"] for p in partners if p["leads"]],
        "funding": _funding_chains(ctx),
        "themes": ctx.links(CKG + "theme"),
        "events": sorted(events, key=lambda e: (e["sort"], _by_text(e["link"]))),
        "outputs": sorted(outputs, key=lambda o: _by_text(o["link"])),
        "websites": ctx.links(SCHEMA + "url"),
    }


def _organisation(ctx: Context) -> dict:
    n = ctx.namer
    projects = [
        {"project": n.link(p["project"].value), "participation": n.link(iri), "roles": _shown_list(ctx, p["role"]),
         "start": _maybe(ctx, p.get("start")), "end": _maybe(ctx, p.get("end"))}
        for iri, p in _grouped(ctx.rows["projects"], "participation", ("role",)).items()
    ]
    return {
        "kinds": [n.link(f.value.value) for f in ctx.facts if f.predicate.value == TYPE and not f.inferred],
        "native_names": [n.show(t) for t in ctx.values(CKG + "nativeName")],
        "based_in": ctx.links(CKG + "basedIn"),
        "governs": ctx.links(CKG + "governs"),
        "country": _maybe(ctx, ctx.first(CKG + "country")),
        "projects": sorted(projects, key=lambda p: _by_text(p["project"])),
    }


def _city(ctx: Context) -> dict:
    n = ctx.namer
    organisations = []
    for iri, o in _grouped(ctx.rows["organisations"], "organisation", ("project", "role")).items():
        organisations.append({"link": n.link(iri), "projects": _shown_list(ctx, o["project"]),
                              "roles": _shown_list(ctx, o["role"])})
    events = [{"link": n.link(iri), "project": _maybe(ctx, e.get("project")), "start": _maybe(ctx, e.get("start"))}
              for iri, e in _grouped(ctx.rows["events"], "event", ()).items()]
    return {
        "country": _maybe(ctx, ctx.first(CKG + "country")),
        "native_names": [n.show(t) for t in ctx.values(CKG + "nativeName")],
        "organisations": sorted(organisations, key=lambda o: _by_text(o["link"])),
        "events": sorted(events, key=lambda e: _by_text(e["link"])),
        "same_as": ctx.links(SCHEMA + "sameAs"),
    }


def _country(ctx: Context) -> dict:
    members: dict[str, list[Shown]] = {"City": [], "Organisation": []}
    for r in ctx.rows["members"]:
        members[r["class"].value.rsplit("/", 1)[-1]].append(ctx.namer.link(r["thing"].value))
    return {
        "codes": [t.value for t in ctx.values(CKG + "iso3166Alpha2") + ctx.values(CKG + "iso3166Alpha3")],
        "native_names": [ctx.namer.show(t) for t in ctx.values(CKG + "nativeName")],
        "cities": sorted(set(members["City"]), key=_by_text),
        "organisations": sorted(set(members["Organisation"]), key=_by_text),
    }


def _programme(ctx: Context) -> dict:
    n = ctx.namer
    projects = [{"project": n.link(r["project"].value), "level": n.link(r["level"].value)} for r in ctx.rows["projects"]]
    return {
        "funding": _funding_chains(ctx),
        "children": sorted((n.link(r["child"].value) for r in ctx.rows["children"]), key=_by_text),
        "projects": sorted(projects, key=lambda p: _by_text(p["project"])),
        "acronym": _maybe(ctx, ctx.first(CKG + "acronym")),
        "start": _maybe(ctx, ctx.first(CKG + "startDate")),
        "end": _maybe(ctx, ctx.first(CKG + "endDate")),
    }


def _participation(ctx: Context) -> dict:
    return {
        "project": _maybe(ctx, ctx.first(CKG + "inProject")),
        "organisation": _maybe(ctx, ctx.first(CKG + "participant")),
        "roles": ctx.links(CKG + "role"),
    }


def _role(ctx: Context) -> dict:
    n = ctx.namer
    rows = [{"project": n.link(r["project"].value), "organisation": n.link(r["organisation"].value),
             "participation": n.link(r["participation"].value)} for r in ctx.rows["participants"]]
    return {"participants": sorted(rows, key=lambda r: (_by_text(r["project"]), _by_text(r["organisation"])))}


def _claim(ctx: Context) -> dict:
    return {
        "subject": _maybe(ctx, ctx.first(RDF + "subject")),
        "predicate": _maybe(ctx, ctx.first(RDF + "predicate")),
        "object": _maybe(ctx, ctx.first(RDF + "object")),
    }


def _event(ctx: Context) -> dict:
    return {
        "project": _maybe(ctx, ctx.first(CKG + "eventOf")),
        "city": _maybe(ctx, ctx.first(CKG + "location")),
        "start": _maybe(ctx, ctx.first(CKG + "startDate")),
        "end": _maybe(ctx, ctx.first(CKG + "endDate")),
    }


def _output(ctx: Context) -> dict:
    return {"project": _maybe(ctx, ctx.first(CKG + "outputOf")), "places": ctx.links(DCT + "spatial")}


def _source(ctx: Context) -> dict:
    return {"websites": ctx.links(SCHEMA + "url"), "cited_by": ctx.referrers(DCT + "source")}


def _theme(ctx: Context) -> dict:
    return {"projects": ctx.referrers(CKG + "theme")}


def _term(ctx: Context) -> dict:
    n = ctx.namer
    asserted = lambda p: sorted((n.show(f.value) for f in ctx.facts if f.predicate.value == p and not f.inferred
                                 and f.value.kind != "bnode"), key=_by_text)
    chain = [n.link(r["member"].value) for r in ctx.rows["lists"] if r["property"].value == OWL + "propertyChainAxiom"]
    types = {f.value.value for f in ctx.facts if f.predicate.value == TYPE}
    return {
        "is_class": OWL + "Class" in types,
        "comments": sorted((n.show(t) for t in ctx.values(RDFS + "comment")), key=lambda s: s.lang != ctx.lang),
        "superclasses": asserted(RDFS + "subClassOf"),
        "subclasses": ctx.referrers(RDFS + "subClassOf"),
        "domain_of": ctx.referrers(RDFS + "domain"),
        "range_of": ctx.referrers(RDFS + "range"),
        "domain": asserted(RDFS + "domain"),
        "range": asserted(RDFS + "range"),
        "inverse": asserted(OWL + "inverseOf") + ctx.referrers(OWL + "inverseOf"),
        "superproperties": asserted(RDFS + "subPropertyOf"),
        "subproperties": ctx.referrers(RDFS + "subPropertyOf"),
        "chain": chain,
    }


def _ontology(ctx: Context) -> dict:
    n = ctx.namer
    terms = _grouped(ctx.rows["terms"], "term", ("comment", "domain", "range"))
    classes, properties = [], []
    for iri, t in terms.items():
        entry = {"link": n.link(iri), "comment": n.text(t["comment"]),
                 "domain": _shown_list(ctx, t["domain"]), "range": _shown_list(ctx, t["range"])}
        (classes if t["type"].value == OWL + "Class" else properties).append(entry)
    return {
        "title": n.text(ctx.values(DCT + "title")),
        "description": n.text(ctx.values(DCT + "description")),
        "version": _maybe(ctx, ctx.first(OWL + "versionInfo")),
        "license": _maybe(ctx, ctx.first(DCT + "license")),
        "classes": sorted(classes, key=lambda e: _by_text(e["link"])),
        "properties": sorted(properties, key=lambda e: _by_text(e["link"])),
    }


_CONTRADICTIONS = {"contradictions": describe.CONTRADICTIONS}

PAGE_KINDS = {
    "project": Kind({"partners": describe.PARTNERS, "events": describe.EVENTS, "outputs": describe.OUTPUTS,
                     "funding": describe.FUNDING_CHAIN, **_CONTRADICTIONS}, _project),
    "organisation": Kind({"projects": describe.ORGANISATION_PROJECTS, **_CONTRADICTIONS}, _organisation),
    "city": Kind({"organisations": describe.CITY_ORGANISATIONS, "events": describe.CITY_EVENTS, **_CONTRADICTIONS}, _city),
    "country": Kind({"members": describe.COUNTRY_MEMBERS, **_CONTRADICTIONS}, _country),
    "programme": Kind({"funding": describe.FUNDING_CHAIN, "children": describe.PROGRAMME_CHILDREN,
                       "projects": describe.PROGRAMME_PROJECTS, **_CONTRADICTIONS}, _programme),
    "participation": Kind(_CONTRADICTIONS, _participation),
    "role": Kind({"participants": describe.ROLE_PARTICIPANTS}, _role),
    "claim": Kind(_CONTRADICTIONS, _claim),
    "contradiction": Kind(_CONTRADICTIONS),
    "event": Kind(_CONTRADICTIONS, _event),
    "output": Kind(_CONTRADICTIONS, _output),
    "source": Kind({}, _source),
    "theme": Kind({}, _theme),
    "term": Kind({"lists": describe.LIST_MEMBERS}, _term),
    "ontology": Kind({"terms": describe.ONTOLOGY_TERMS}, _ontology),
}


# --- The page ------------------------------------------------------------------------------------------------

def resource_page(backend, iri: str, lang: str, carry_lang: bool) -> dict | None:
    """What the page of `iri` shows, or None when the KG knows nothing of it."""
    facts = describe.facts(backend, iri)
    inbound = describe.inbound(backend, iri)
    if not facts and not inbound:
        return None
    kind = kind_of(iri)
    spec = PAGE_KINDS.get(kind, Kind())
    rows = {name: describe.rows(backend, query, iri) for name, query in spec.queries.items()}
    mentioned = {iri} | {t.value for f in facts for t in (f.predicate, f.value) if t.is_iri}
    mentioned |= {t.value for pair in inbound for t in pair}
    mentioned |= {t.value for found in rows.values() for row in found for t in row.values() if t.is_iri}
    namer = Namer(describe.labels(backend, mentioned), lang, carry_lang)
    ctx = Context(iri, lang, facts, inbound, rows, namer)
    sections = spec.assemble(ctx)
    title = namer.link(iri)
    return {
        "iri": iri,
        "kind": kind,
        "title": title,
        "types": sorted({namer.link(f.value.value) for f in facts if f.predicate.value == TYPE and not f.inferred}, key=_by_text),
        "summary": ctx.summary(),
        "facts": _fact_rows(ctx, inferred=False),
        "inferred": _fact_rows(ctx, inferred=True),
        "inbound": sorted(((namer.link(s.value), namer.link(p.value)) for s, p in inbound),
                          key=lambda pair: (_by_text(pair[1]), _by_text(pair[0]))),
        "sources": ctx.links(DCT + "source"),
        "contradictions": _contradictions(ctx),
        "sections": sections,
        "schema_org": schema_org(ctx, kind, title, sections),
    }


_FIRST = {TYPE: 0, RDFS + "label": 1}


def _fact_rows(ctx: Context, inferred: bool) -> list[dict]:
    by_predicate: dict[str, list[Term]] = defaultdict(list)
    for f in ctx.facts:
        if f.inferred == inferred:
            by_predicate[f.predicate.value].append(f.value)
    n = ctx.namer
    # The reader's language first, then untagged values, then the rest; alphabetical within each.
    order = lambda s: (s.lang not in (ctx.lang, ""), s.lang != ctx.lang, _by_text(s))
    rows = [{"property": n.link(p), "values": sorted((n.show(v) for v in values), key=order)}
            for p, values in by_predicate.items()]
    return sorted(rows, key=lambda r: (_FIRST.get(r["property"].iri, 2), _by_text(r["property"])))


def schema_org(ctx: Context, kind: str, title: Shown, sections: dict) -> dict:
    """A schema.org description for search engines, from the schema.org types the reasoner gave the resource."""
    types = sorted({f.value.value[len(SCHEMA):] for f in ctx.facts
                    if f.predicate.value == TYPE and f.value.value.startswith(SCHEMA)})
    doc: dict = {
        # Self-contained: @vocab instead of the remote schema.org context, so any JSON-LD reader needs no fetch.
        "@context": {"@vocab": SCHEMA, "url": {"@type": "@id"}, "sameAs": {"@type": "@id"}},
        "@id": ctx.iri,
        "@type": types[0] if len(types) == 1 else (types or "Thing"),
        "name": title.text,
        "url": ctx.iri,
    }
    description = ctx.summary()
    if description:
        doc["description"] = description.text
    same_as = [t.value for p in (SCHEMA + "sameAs", SCHEMA + "url", SKOS + "exactMatch") for t in ctx.values(p) if t.is_iri]
    if same_as:
        doc["sameAs"] = same_as
    alternate = [t.value for p in (CKG + "acronym", CKG + "nativeName") for t in ctx.values(p)]
    if alternate:
        doc["alternateName"] = alternate
    ref = lambda shown, schema_type: {"@type": schema_type, "@id": shown.iri, "name": shown.text}
    if kind == "project":
        doc["member"] = [ref(p["organisation"], "Organization") for p in sections["partners"]]
        if sections["funding"]:
            doc["funding"] = ref(sections["funding"][0][-1], "Grant")
    elif kind == "organisation":
        if sections["based_in"]:
            doc["location"] = ref(sections["based_in"][0], "City")
        doc["memberOf"] = [ref(p["project"], "Project") for p in sections["projects"]]
    elif kind == "city" and sections["country"]:
        doc["containedInPlace"] = ref(sections["country"], "Country")
    elif kind == "event":
        if sections["city"]:
            doc["location"] = ref(sections["city"], "City")
        for key, prop in (("start", CKG + "startDate"), ("end", CKG + "endDate")):
            if ctx.first(prop):
                doc[key + "Date"] = ctx.first(prop).value
    return doc


# --- The home page --------------------------------------------------------------------------------------------

def home_page(backend, lang: str, carry_lang: bool) -> dict:
    counts = {r["class"].value: int(r["n"].value) for r in describe.rows(backend, describe.COUNTS)}
    triples = int(describe.rows(backend, describe.TRIPLES)[0]["n"].value)
    projects = _grouped(describe.rows(backend, describe.PROJECTS), "project", ("level",))
    index = describe.rows(backend, describe.INDEX)
    mentioned = set(projects) | {t.value for p in projects.values() for t in p["level"]} | {r["x"].value for r in index}
    mentioned |= {r["class"].value for r in index} | set(counts)
    n = Namer(describe.labels(backend, mentioned), lang, carry_lang)
    listed: dict[str, list[Shown]] = defaultdict(list)
    for r in index:
        listed[r["class"].value].append(n.link(r["x"].value))
    return {
        "triples": triples,
        # (heading in English, the class, how many): the template translates the heading.
        "counts": [(plural, n.link(CKG + c), counts.get(CKG + c, 0))
                   for c, plural in (("Project", "Projects"), ("Organisation", "Organisations"), ("City", "Cities"),
                                     ("Country", "Countries"))],
        "projects": sorted(
            ({"link": n.link(iri), "acronym": _opt(n, p.get("acronym")), "start": _opt(n, p.get("start")),
              "end": _opt(n, p.get("end")), "funding": sorted((n.show(t) for t in p["level"]), key=_by_text)}
             for iri, p in projects.items()),
            key=lambda p: _by_text(p["link"])),
        "lists": [(plural, sorted(set(listed[CKG + c]), key=_by_text))
                  for c, plural in (("Country", "Countries"), ("FundingProgramme", "Funding programmes"),
                                    ("Theme", "Themes"), ("Role", "Roles"))],
    }


def _opt(n: Namer, term: Term | None) -> Shown | None:
    return n.show(term) if term is not None else None
