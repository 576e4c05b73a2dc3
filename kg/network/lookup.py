"""Read a materialised network back from a store with look-up queries, into plain Python values (a network as
columns: its IRIs in lists, its edges in arrays of positions).

Four look-ups of a whole network or its vocabulary, each cached by the server per build:
  network_query     the network's edges with their shared projects, and its nodes with what the exports show
                    about them (label, kind, country, city, the measures of the whole network);
  PROJECTS_QUERY    the filter attributes of every project, needed only when a request filters;
  VOCABULARY_QUERY  the funding levels and countries a filter may name, with codes and labels;
  YEARS_QUERY       the first and last year of the projects' periods, the range a period filter may take;
and two of a part of a network, for ego networks: edges_query (the edges with an end among given nodes) and
nodes_query (what network_query says of given nodes).
Nothing is joined or aggregated beyond one node's own attributes, so the cost grows with the size of the
network, not of the KG. The same texts run in-process on a KGStore (`kg network`) and in the server's query
process (Backend.select); the readers take rows of plain strings from either.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from operator import sub

from kg.namespaces import CKG, PREFIXES

from kg.namespaces import NETWORK_GRAPH
from kg.network.materialise import EDGE_CLASS, MEASURE_PROPERTIES, edge_iri

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
# The organisation classes, most specific first: a node's kind is the first of its types in this list.
KIND_ORDER = ["Municipality", "PublicAgency", "PublicAuthority", "Foundation", "NonProfitOrganisation", "University",
              "Company", "Association", "Organisation", "City"]
FUNDING_CLASSES = ("Fund", "Programme", "ProgrammeStrand")
INT = "i"  # positions in a network's columns: 32 bits, as the build writes them


def network_query(kind: str) -> str:
    """The edges and nodes of the network of `kind` (organisation or city)."""
    return f"""SELECT ?what ?s ?p ?o WHERE {{
  {{ GRAPH <{NETWORK_GRAPH}> {{ ?s a <{EDGE_CLASS[kind]}> ; ckg:between ?o }} BIND (ckg:between AS ?p) BIND ("edge" AS ?what) }}
  UNION
  {{ GRAPH <{NETWORK_GRAPH}> {{ ?s a <{EDGE_CLASS[kind]}> ; ckg:sharedProject ?o }} BIND (ckg:sharedProject AS ?p) BIND ("edge" AS ?what) }}
  UNION
  {_node_pattern(kind)}
}}"""


def nodes_of_network_query(kind: str) -> str:
    """The node rows of network_query alone: with the edges known already (network_of_pairs)."""
    return f"SELECT ?what ?s ?p ?o WHERE {{ {_node_pattern(kind)} }}"


# Part of a network, for an ego network (kg.network.ego): the work is that of the part, not of the network.
def edges_query(kind: str, nodes: list[str]) -> str:
    """The edges of the network of `kind` with an end among `nodes` (IRIs checked by the caller), as network_query
    gives them."""
    return f"""SELECT DISTINCT ?what ?s ?p ?o WHERE {{
  VALUES ?end {{ {" ".join(f"<{n}>" for n in nodes)} }}
  GRAPH <{NETWORK_GRAPH}> {{
    ?s ckg:between ?end . ?s a <{EDGE_CLASS[kind]}> .
    {{ ?s ckg:between ?o BIND (ckg:between AS ?p) }} UNION {{ ?s ckg:sharedProject ?o BIND (ckg:sharedProject AS ?p) }}
  }}
  BIND ("edge" AS ?what)
}}"""


def nodes_query(kind: str, nodes: list[str]) -> str:
    """What network_query gives of `nodes` (IRIs checked by the caller) in the network of `kind`; no rows for one
    that is not a node of it."""
    return f"""SELECT ?what ?s ?p ?o WHERE {{
  VALUES ?s {{ {" ".join(f"<{n}>" for n in nodes)} }}
  {_node_pattern(kind)}
}}"""


def _node_pattern(kind: str) -> str:
    node_test = "?s a ckg:City ." if kind == "city" else "FILTER NOT EXISTS { ?s a ckg:City }"
    return f"""{{ GRAPH <{NETWORK_GRAPH}> {{ ?s ckg:networkDegree ?degree }} {node_test}
     {{ GRAPH <{NETWORK_GRAPH}> {{ ?s ?p ?o }} }}
     UNION {{ ?s ?p ?o . VALUES ?p {{ ckg:country ckg:basedIn }} }}
     UNION {{ ?s rdfs:label ?o . FILTER (LANGMATCHES(LANG(?o), "en")) BIND (rdfs:label AS ?p) }}
     UNION {{ ?s a ?o . FILTER STRSTARTS(STR(?o), STR(ckg:)) BIND (rdf:type AS ?p) }}
     BIND ("node" AS ?what) }}"""


# What the filters test, per project; fetched only when a request filters.
PROJECTS_QUERY = f"""SELECT ?s ?p ?o WHERE {{
  GRAPH <{NETWORK_GRAPH}> {{ ?s ?p ?o . VALUES ?p {{ ckg:fundedUnder ckg:participantCountry ckg:startYear ckg:endYear }} }}
}}"""

# The funding levels (with the level above each) and countries a filter may name, with codes and English labels.
VOCABULARY_QUERY = f"""SELECT ?s ?p ?o WHERE {{
  {{ ?s a ?o . VALUES ?o {{ {" ".join(f"ckg:{c}" for c in FUNDING_CLASSES)} ckg:Country }} BIND (rdf:type AS ?p) }}
  UNION
  {{ ?s ckg:iso3166Alpha2 ?o . BIND (ckg:iso3166Alpha2 AS ?p) }}
  UNION
  {{ ?s ckg:partOfProgramme ?o . BIND (ckg:partOfProgramme AS ?p) }}
  UNION
  {{ ?s a ?type ; rdfs:label ?o . VALUES ?type {{ {" ".join(f"ckg:{c}" for c in FUNDING_CLASSES)} ckg:Country }}
     FILTER (LANGMATCHES(LANG(?o), "en")) BIND (rdfs:label AS ?p) }}
}}"""


# The range of years the period filters (from, to) can usefully take.
YEARS_QUERY = f"""SELECT (MIN(?year) AS ?first) (MAX(?year) AS ?last) WHERE {{
  GRAPH <{NETWORK_GRAPH}> {{ ?project ckg:startYear|ckg:endYear ?year }}
}}"""


@dataclass
class Project:
    levels: set[str] = field(default_factory=set)  # every funding level it falls under
    countries: set[str] = field(default_factory=set)  # its participants' countries
    start: int | None = None
    end: int | None = None


@dataclass
class Network:
    """One network as materialised, in columns: each IRI held once, the edges as arrays of positions.

    A filter then only counts, per edge, the selected projects among its shared ones (`weights`), in loops that
    run in C (at 1M triples 190,000 edges sharing 240,000 projects), and a build writes these columns as they are
    (kg.publish.network_files), so that a worker reads a network in a tenth of the time JSON took.
    """

    kind: str
    nodes: dict[str, dict]  # node IRI -> label, kind, country, city and the whole network's measures
    names: list[str]  # every node IRI, sorted: an edge names its ends by their positions here
    a: array  # edge i joins names[a[i]] and names[b[i]], a[i] < b[i]; the edges sorted by (a, b)
    b: array
    keys: list[str]  # edge i's co-participation IRI
    projects: list[str]  # the projects the edges share, sorted
    starts: array  # edge i shared projects[j] for j in shared[starts[i]:starts[i + 1]] (ascending)
    shared: array

    @classmethod
    def of(cls, kind: str, edges: dict[tuple[str, str], set[str]], keys: dict[tuple[str, str], str],
           nodes: dict[str, dict]) -> Network:
        """The columns of (a, b) with a < b -> shared projects, (a, b) -> the co-participation's IRI, and the nodes."""
        names = sorted(set(nodes).union(*edges))
        position = {name: i for i, name in enumerate(names)}
        projects = sorted(set().union(*edges.values()))
        index = {project: i for i, project in enumerate(projects)}
        pairs = sorted(edges)
        starts, shared = array(INT, [0]), array(INT)
        for pair in pairs:
            shared.extend(sorted(index[p] for p in edges[pair]))
            starts.append(len(shared))
        return cls(kind, nodes, names, array(INT, (position[a] for a, _ in pairs)), array(INT, (position[b] for _, b in pairs)),
                   [keys[pair] for pair in pairs], projects, starts, shared)

    @property
    def edges(self) -> dict[tuple[str, str], set[str]]:
        """(a, b), a < b -> the projects they shared."""
        return {pair: {self.projects[j] for j in self.shared[self.starts[i]:self.starts[i + 1]]}
                for i, pair in enumerate(self.pairs())}

    @property
    def edge_keys(self) -> dict[tuple[str, str], str]:
        return dict(zip(self.pairs(), self.keys))

    @cached_property
    def key_order(self) -> list[int]:
        """The edges' positions in the order of their co-participation IRIs."""
        return sorted(range(len(self.keys)), key=self.keys.__getitem__)

    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(map(self.names.__getitem__, self.a), map(self.names.__getitem__, self.b)))

    def chosen(self, keep: set[str] | None) -> bytes | None:
        """A flag per project of `projects`: 1 when it is in `keep`; None (every project) without `keep`."""
        return None if keep is None else bytes(map(keep.__contains__, self.projects))

    def weights(self, chosen: bytes | None = None) -> list[int]:
        """Per edge, how many of its shared projects are `chosen` (all of them without flags): its weight in the
        network of those projects, 0 for an edge that is not in it."""
        ends = self.starts[1:]
        if chosen is None:
            return list(map(sub, ends, self.starts))
        counted = list(accumulate(map(chosen.__getitem__, self.shared), initial=0))
        return list(map(sub, map(counted.__getitem__, ends), map(counted.__getitem__, self.starts)))

    def projects_of(self, edge: int, chosen: bytes | None = None) -> list[str]:
        """The (chosen) projects edge `edge` shared, sorted."""
        found = self.shared[self.starts[edge]:self.starts[edge + 1]]
        return [self.projects[j] for j in found if chosen is None or chosen[j]]


@dataclass
class Vocabulary:
    funding: dict[str, str]  # funding level IRI -> its class: Fund, Programme or ProgrammeStrand
    countries: dict[str, str]  # country IRI -> ISO 3166-1 alpha-2 code (upper case)
    labels: dict[str, str]  # English labels of funding levels and countries, for choosers
    above: dict[str, str] = field(default_factory=dict)  # funding level -> the level directly above it

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or iri.rsplit("/", 1)[-1]

    def path(self, iri: str) -> list[str]:
        """The labels from the fund down to this funding level: the order of a programme chooser."""
        chain, seen = [], set()
        while iri is not None and iri not in seen:
            seen.add(iri)
            chain.insert(0, self.label(iri))
            iri = self.above.get(iri)
        return chain

    def choosers(self) -> dict[str, list[dict]]:
        """The funding levels in the hierarchy's order with their depth and class, and the countries by name: what
        a page's filter choosers list."""
        programmes = [{"iri": iri, "label": self.label(iri), "depth": len(self.path(iri)) - 1, "level": level}
                      for iri, level in sorted(self.funding.items(), key=lambda item: self.path(item[0]))]
        countries = [{"iri": iri, "code": code, "label": self.label(iri)}
                     for iri, code in sorted(self.countries.items(), key=lambda item: self.label(item[0]))]
        return {"programmes": programmes, "countries": countries}


# Each reader takes rows of plain strings, in the order of the query's variables.
def rows_of(solutions) -> list[tuple]:
    """Rows of a pyoxigraph SELECT (a KGStore's query in this process)."""
    names = [v.value for v in solutions.variables]
    return [tuple(None if s[n] is None else s[n].value for n in names) for s in solutions]


def rows_of_bindings(bindings: list[dict], names: tuple[str, ...]) -> list[tuple]:
    """Rows of SPARQL JSON bindings (Backend.select)."""
    return [tuple(b[n]["value"] if n in b else None for n in names) for b in bindings]


def read_network(kind: str, rows) -> Network:
    ends: dict[str, list[str]] = defaultdict(list)
    shared: dict[str, set[str]] = defaultdict(set)
    raw_nodes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    between, shared_project = str(CKG.between), str(CKG.sharedProject)
    for what, s, p, o in rows:
        if what == "node":
            raw_nodes[s][p].append(o)
        elif p == between:
            ends[s].append(o)
        elif p == shared_project:
            shared[s].add(o)
    edges, keys = {}, {}
    for edge, pair in ends.items():
        a, b = sorted(set(pair))  # both ends of an undirected edge, in a fixed order
        edges[(a, b)] = shared[edge]
        keys[(a, b)] = edge
    nodes = {iri: _node(kind, iri, attributes) for iri, attributes in raw_nodes.items()}
    return Network.of(kind, edges, keys, nodes)


def network_of_pairs(kind: str, pairs: dict[tuple[str, str], set[str]], node_rows) -> Network:
    """The network materialise wrote from `pairs` (kg.network.materialise.co_participations), as read_network
    reads it back, with its nodes from `node_rows` (of nodes_of_network_query)."""
    nodes = read_network(kind, node_rows).nodes
    return Network.of(kind, pairs, {(a, b): edge_iri(kind, a, b) for a, b in pairs}, nodes)


def read_projects(rows) -> dict[str, Project]:
    projects: dict[str, Project] = defaultdict(Project)
    for s, p, o in rows:
        _project_attribute(projects[s], p, o)
    return dict(projects)


def read_vocabulary(rows) -> Vocabulary:
    funding, countries, labels, above = {}, {}, {}, {}
    for s, p, o in rows:
        if p == RDF_TYPE:
            name = o[len(str(CKG)):]
            if name in FUNDING_CLASSES:
                funding[s] = name
        elif p == str(CKG.iso3166Alpha2):
            countries[s] = o.upper()
        elif p == RDFS_LABEL:
            labels[s] = o
        elif p == str(CKG.partOfProgramme):
            above[s] = o
    return Vocabulary(funding, countries, labels, above)


def read_years(rows) -> tuple[int | None, int | None]:
    """(first, last) year of the projects' periods; (None, None) when no project has a date."""
    for first, last in rows:
        return (None if first is None else int(first), None if last is None else int(last))
    return (None, None)


# The look-ups as JSON: a build writes the projects' beside its network files (kg.publish.network_files), and builds
# before the networks' columns wrote the networks' too, which are still read.
def network_from_json(document: dict) -> Network:
    edges, keys = {}, {}
    for a, b, key, shared in document["edges"]:
        edges[(a, b)] = set(shared)
        keys[(a, b)] = key
    return Network.of(document["kind"], edges, keys, document["nodes"])


def projects_to_json(projects: dict[str, Project]) -> dict:
    return {iri: [sorted(p.levels), sorted(p.countries), p.start, p.end] for iri, p in sorted(projects.items())}


def projects_from_json(document: dict) -> dict[str, Project]:
    return {iri: Project(set(levels), set(countries), start, end) for iri, (levels, countries, start, end) in document.items()}


def _project_attribute(project: Project, p: str, o: str) -> None:
    if p == str(CKG.fundedUnder):
        project.levels.add(o)
    elif p == str(CKG.participantCountry):
        project.countries.add(o)
    elif p == str(CKG.startYear):
        project.start = int(o)
    elif p == str(CKG.endYear):
        project.end = int(o)


def _node(kind: str, iri: str, attributes: dict[str, list[str]]) -> dict:
    first = lambda prop: min(attributes.get(str(prop), []), default=None)  # min: the same pick on every run
    types = {t[len(str(CKG)):] for t in attributes.get(RDF_TYPE, [])}
    node = {
        "label": first(RDFS_LABEL) or iri.rsplit("/", 1)[-1],
        "kind": next((k for k in KIND_ORDER if k in types), kind.capitalize()),
        "country": first(CKG.country),
        "city": first(CKG.basedIn) if kind == "organisation" else None,
    }
    for name, prop in MEASURE_PROPERTIES.items():
        value = first(prop)
        node[name] = None if value is None else (float(value) if name == "betweenness" else int(value))
    return node
