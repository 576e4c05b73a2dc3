"""Derive the co-participation networks from the asserted data and write them into their own named graph.

Run by `kg build` once the store holds the sources, so that the heaviest question researchers ask (who worked
with whom, on what, how often) is a look-up. One SPARQL query reads the triples needed from the source graphs
only (never the OWL RL closure, never a previous network); the pairs are counted in Python, which at 1M triples
is several times faster than one co-occurrence query in Oxigraph (bench/results/network.md).

What is written (prefix ckg:, graph https://w3id.org/cohesion-kg/graph/network):
  <id/co-participation/organisation/A--B> a ckg:OrganisationCoParticipation ;   (or city/..., CityCoParticipation)
      ckg:between <A> , <B> ; ckg:sharedProjects 2 ; ckg:sharedProject <p1> , <p2> .
  <project> ckg:fundedUnder <level>, <level above>, ... ; ckg:startYear 2008 ; ckg:endYear 2011 ;
      ckg:participantCountry <country> , ...                    (what the filters need, without joins)
  <node> ckg:networkDegree 3 ; ckg:networkWeightedDegree 5 ; ckg:networkBetweenness 0.1 ;
      ckg:networkComponent 0 ; ckg:networkCommunity 2 .          (measures of the whole network of its kind)

A city takes part in a project through the organisations based in it (ckg:basedIn); two organisations of the
same city in one project make no edge of the city network (no self-loops).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from kg.namespaces import CKG, ID, INFERRED_GRAPH, PREFIXES

from kg.namespaces import NETWORK_GRAPH
from kg.network import KINDS, measures

# Every triple the networks need, from the source graphs only: one query, joined in Python.
ASSERTED = f"""SELECT ?s ?p ?o WHERE {{
  VALUES ?p {{ ckg:participant ckg:inProject ckg:basedIn ckg:country ckg:startDate ckg:endDate ckg:fundedBy ckg:partOfProgramme }}
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER (?g NOT IN (<{INFERRED_GRAPH}>, <{NETWORK_GRAPH}>))
}}"""

EDGE_CLASS = {"organisation": CKG.OrganisationCoParticipation, "city": CKG.CityCoParticipation}
# Node measures and the properties that hold them in the graph.
MEASURE_PROPERTIES = {
    "degree": CKG.networkDegree,
    "weighted_degree": CKG.networkWeightedDegree,
    "betweenness": CKG.networkBetweenness,
    "component": CKG.networkComponent,
    "community": CKG.networkCommunity,
}
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = PREFIXES["rdf"] + "type"
_YEAR = re.compile(r"-?\d{4,}")


@dataclass
class Sources:
    """What the networks are derived from, as read from the asserted graphs."""

    members: dict[str, set[str]]  # project -> organisations that took part
    cities: dict[str, set[str]]  # organisation -> cities it is based in
    countries: dict[str, set[str]]  # organisation -> its countries
    years: dict[str, tuple[int | None, int | None]]  # project -> (start year, end year)
    levels: dict[str, set[str]]  # project -> every funding level it falls under


@dataclass(frozen=True)
class Summary:
    edges: dict[str, int]  # kind -> edges
    triples: int
    # kind -> the pairs written (co_participations): the build's network files take the edges from here rather
    # than read them back (two thirds of a million rows a network at 1M triples, 13 s of look-up queries).
    pairs: dict[str, dict[tuple[str, str], set[str]]]


def materialise(kg_store, budget: int = measures.BUILD_BUDGET, measuring=None) -> Summary:
    """Derive both networks from the store's source graphs and add them to the store's network graph.
    `measuring(pairs, budget)`, when given, starts the measures of the networks of `pairs` (kind -> pairs)
    elsewhere and returns a function that waits for them (what `measure` gives): `kg build` has them
    computed in another process while this one writes the edges (together 21 s of its 27 s at 1M triples)."""
    sources = read_sources(kg_store)
    made = {kind: co_participations(sources, kind) for kind in KINDS}
    pending = (measuring or _here)(made, budget)
    try:
        lines = list(project_lines(sources))
        for kind, pairs in made.items():
            lines += edge_lines(kind, pairs)
        triples = _add(kg_store, lines)
    finally:
        measured = pending()  # also when the edges failed: nothing left measuring once this returns
    triples += _add(kg_store, [line for kind in KINDS for line in node_lines(*measured[kind])])
    return Summary({kind: len(pairs) for kind, pairs in made.items()}, triples, made)


def node_measures(pairs: dict[tuple[str, str], set[str]], budget: int) -> tuple[list[str], dict[str, list]]:
    """The nodes of the network of `pairs`, sorted, and their measures (kg.network.measures.compute) in that order."""
    nodes = sorted({n for pair in pairs for n in pair})
    position = {node: i for i, node in enumerate(nodes)}
    ends = sorted(pairs)  # sorted, so that the seeded measures repeat
    values, _ = measures.compute(nodes, [(position[a], position[b]) for a, b in ends], [len(pairs[e]) for e in ends], budget)
    return nodes, values


def measure(made: dict, budget: int) -> dict:
    """kind -> node_measures of its pairs in `made` (kind -> pairs)."""
    return {kind: node_measures(pairs, budget) for kind, pairs in made.items()}


def _here(made: dict, budget: int):
    measured = measure(made, budget)
    return lambda: measured


def _add(kg_store, lines: list[str]) -> int:
    data = "".join(lines).encode("utf-8")
    kg_store.store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(NETWORK_GRAPH)))
    return data.count(b"\n")


def read_sources(kg_store) -> Sources:
    triples = defaultdict(lambda: defaultdict(set))  # property local name -> subject -> objects
    for row in kg_store.store.query(ASSERTED, prefixes=PREFIXES):
        triples[row["p"].value[len(str(CKG)):]][row["s"].value].add(row["o"])
    members = defaultdict(set)
    for participation, projects in triples["inProject"].items():
        for organisation in triples["participant"].get(participation, ()):
            for project in projects:
                members[project.value].add(organisation.value)
    values = lambda name: {s: {o.value for o in objects} for s, objects in triples[name].items()}
    above = values("partOfProgramme")
    years, levels = {}, {}
    for project in members:
        starts = {y for d in triples["startDate"].get(project, ()) if (y := _year(d)) is not None}
        ends = {y for d in triples["endDate"].get(project, ()) if (y := _year(d)) is not None}
        # Sources may (in a contradiction) give several dates: the period covers them all.
        years[project] = (min(starts, default=None), max(ends, default=None))
        levels[project] = _upwards({o.value for o in triples["fundedBy"].get(project, ())}, above)
    return Sources(dict(members), values("basedIn"), values("country"), years, levels)


def _upwards(start: set[str], above: dict[str, set[str]]) -> set[str]:
    """The levels in `start` and every level above them in the funding hierarchy."""
    seen, todo = set(), list(start)
    while todo:
        level = todo.pop()
        if level not in seen:
            seen.add(level)
            todo.extend(above.get(level, ()))
    return seen


def _year(term) -> int | None:
    """The year of an xsd:date, xsd:gYearMonth, xsd:gYear or xsd:dateTime literal."""
    match = _YEAR.match(term.value) if isinstance(term, ox.Literal) else None
    return int(match.group()) if match else None


def co_participations(sources: Sources, kind: str) -> dict[tuple[str, str], set[str]]:
    """(a, b) with a < b -> the projects both took part in, for organisations or for cities."""
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for project, organisations in sources.members.items():
        if kind == "organisation":
            nodes = organisations
        else:
            nodes = {city for o in organisations for city in sources.cities.get(o, ())}
        for a, b in itertools.combinations(sorted(nodes), 2):
            pairs[(a, b)].add(project)
    return dict(pairs)


def edge_iri(kind: str, a: str, b: str) -> str:
    return f"{ID}co-participation/{kind}/{_slug(kind, a)}--{_slug(kind, b)}"


def _slug(kind: str, iri: str) -> str:
    own = f"{ID}{kind}/"
    rest = iri[len(own):]
    if iri.startswith(own) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", rest):
        return rest
    return "x" + hashlib.sha1(iri.encode("utf-8")).hexdigest()[:16]  # an IRI outside the KG's own pattern


# The network is written as N-Triples text and bulk-loaded: at 1M triples, several times faster than building
# pyoxigraph Quad objects one by one. IRIs read from the store are valid IRIs and need no escaping.
def _integer(n: int) -> str:
    return f'"{n}"^^<{XSD}integer>'


def edge_lines(kind: str, pairs: dict[tuple[str, str], set[str]]):
    cls, between, weight, shared = EDGE_CLASS[kind], CKG.between, CKG.sharedProjects, CKG.sharedProject
    for (a, b), projects in sorted(pairs.items()):
        edge = edge_iri(kind, a, b)
        yield f"<{edge}> <{RDF_TYPE}> <{cls}> .\n<{edge}> <{between}> <{a}> .\n<{edge}> <{between}> <{b}> .\n"
        yield f"<{edge}> <{weight}> {_integer(len(projects))} .\n"
        for project in sorted(projects):
            yield f"<{edge}> <{shared}> <{project}> .\n"


def project_lines(sources: Sources):
    for project in sorted(sources.members):
        for level in sorted(sources.levels.get(project, ())):
            yield f"<{project}> <{CKG.fundedUnder}> <{level}> .\n"
        start, end = sources.years.get(project, (None, None))
        if start is not None:
            yield f"<{project}> <{CKG.startYear}> {_integer(start)} .\n"
        if end is not None:
            yield f"<{project}> <{CKG.endYear}> {_integer(end)} .\n"
        countries = {c for o in sources.members[project] for c in sources.countries.get(o, ())}
        for country in sorted(countries):
            yield f"<{project}> <{CKG.participantCountry}> <{country}> .\n"


def node_lines(nodes: list[str], values: dict[str, list]):
    for i, node in enumerate(nodes):
        for name, prop in MEASURE_PROPERTIES.items():
            value = values[name][i]
            literal = f'"{float(value)!r}"^^<{XSD}double>' if name == "betweenness" else _integer(value)
            yield f"<{node}> <{prop}> {literal} .\n"
