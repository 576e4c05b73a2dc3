"""The co-participation networks: materialised by the build, exported by `kg network`, served at /network."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from urllib.parse import parse_qs, urlsplit

import networkx as nx
import pytest
from rdflib import Dataset

from kg.sources.load import load_files
from kg.namespaces import CKG, ID
from kg.network import NETWORK_GRAPH, filters as F, lookup, measures, network_graph
from kg.network.export import FORMATS
from kg.network.materialise import materialise
from kg.store.embedded import KGStore

from .conftest import FIXTURES, kg_here, select

ORG = str(ID) + "organisation/"
CITY = str(ID) + "city/"
P = str(ID) + "project/"
GEXF_NS = "http://www.gexf.net/1.2draft"

# The fixture's networks (tests/fixtures/network/network.ttl), by local names.
FIXTURE_ORGANISATION_EDGES = {
    ("a", "b"): {"p1", "p5"}, ("a", "c"): {"p1", "p2"}, ("b", "c"): {"p1"}, ("a", "e"): {"p2"},
    ("c", "e"): {"p2", "p4", "p7"}, ("b", "d"): {"p3"}, ("c", "f"): {"p4"}, ("e", "f"): {"p4"},
}
FIXTURE_CITY_EDGES = {
    ("milan", "rome"): {"p1", "p5"}, ("berlin", "rome"): {"p1", "p2"}, ("berlin", "milan"): {"p1"},
    ("milan", "paris"): {"p3"}, ("berlin", "madrid"): {"p4"},
}

# The researcher's question asked directly of the raw data, for comparison with what the build materialised.
CO_OCCURRENCE = {
    "organisation": """SELECT ?a ?b ?project WHERE {
      ?x ckg:participant ?a ; ckg:inProject ?project . ?y ckg:participant ?b ; ckg:inProject ?project .
      FILTER (STR(?a) < STR(?b)) }""",
    "city": """SELECT DISTINCT ?a ?b ?project WHERE {
      ?x ckg:participant/ckg:basedIn ?a ; ckg:inProject ?project . ?y ckg:participant/ckg:basedIn ?b ; ckg:inProject ?project .
      FILTER (STR(?a) < STR(?b)) }""",
}


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def by_local_names(edges: dict) -> dict:
    return {(local(a), local(b)): {local(p) for p in projects} for (a, b), projects in edges.items()}


def co_occurrence(kg_store, kind: str) -> dict:
    pairs: dict = {}
    for row in select(kg_store, CO_OCCURRENCE[kind]):
        pairs.setdefault((row["a"], row["b"]), set()).add(row["project"])
    return pairs


def read(kg_store, kind: str):
    network = lookup.read_network(kind, lookup.rows_of(kg_store.query(lookup.network_query(kind))))
    projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY)))
    vocabulary = lookup.read_vocabulary(lookup.rows_of(kg_store.query(lookup.VOCABULARY_QUERY)))
    return network, projects, vocabulary


def answer_for(kg_store, kind: str, **options):
    """What network_graph gives for `options`: a kg.network.graph.Graph, as the writers take it."""
    network, projects, vocabulary = read(kg_store, kind)
    return network_graph(network, projects, F.parse(options, vocabulary))


def graph_for(kg_store, kind: str, **options) -> nx.Graph:
    return answer_for(kg_store, kind, **options).to_networkx()


@pytest.fixture(scope="module")
def small():
    """The fixture KG in a store, with its networks materialised as the build does."""
    dataset = Dataset()
    load_files(dataset, [FIXTURES / "network"])
    kg_store = KGStore.in_memory()
    kg_store.add_dataset(dataset)
    materialise(kg_store)
    return kg_store


@pytest.fixture(scope="module")
def small_client(small):
    from server import create_app

    return create_app({"KG_STORE": small, "TESTING": True}).test_client()


# --------------------------------------------------------------------------------------------------------------
# Materialisation
# --------------------------------------------------------------------------------------------------------------


def test_measures_computed_in_the_build_s_worker_process_are_those_computed_here(small):
    """kg build measures the networks in a forked process while it writes the edges: the network graph must be the
    one materialise writes in one process."""
    from kg.build import _measuring_apart

    apart = KGStore.in_memory()
    dataset = Dataset()
    load_files(dataset, [FIXTURES / "network"])
    apart.add_dataset(dataset)
    summary = materialise(apart, measuring=_measuring_apart)
    graph = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{NETWORK_GRAPH}> {{ ?s ?p ?o }} }}"
    written = {tuple(r.values()) for r in select(apart, graph)}
    assert written == {tuple(r.values()) for r in select(small, graph)}
    assert any(p.endswith("networkBetweenness") for _, p, _ in written)
    assert summary.triples == len(written) and set(summary.pairs) == {"organisation", "city"}


@pytest.mark.parametrize("kind, expected", [("organisation", FIXTURE_ORGANISATION_EDGES), ("city", FIXTURE_CITY_EDGES)])
def test_fixture_edges_are_the_shared_projects_of_each_pair(small, kind, expected):
    network, _, _ = read(small, kind)
    assert by_local_names(network.edges) == expected


@pytest.mark.parametrize("kind", ["organisation", "city"])
def test_fixture_network_equals_the_direct_co_occurrence_query(small, kind):
    network, _, _ = read(small, kind)
    assert network.edges == co_occurrence(small, kind)


@pytest.mark.parametrize("kind", ["organisation", "city"])
def test_real_kg_network_equals_the_direct_co_occurrence_query(store, kind):
    network, _, _ = read(store, kind)
    expected = co_occurrence(store, kind)
    assert expected, "the real KG has co-participations"
    assert network.edges == expected


def test_the_build_stores_the_network_in_its_own_graph_and_still_conforms(built, store):
    assert built.report.conforms
    assert str(NETWORK_GRAPH) in store.named_graphs()
    # Derived data only: nothing of the network is in a source graph.
    rows = select(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?e ckg:between ?x } "
                         f"FILTER (?g != <{NETWORK_GRAPH}>) }}")
    assert rows[0]["n"] == "0"


def test_an_edge_is_a_typed_co_participation_with_its_count_and_projects(small):
    rows = select(small, f"""SELECT ?type ?end ?n ?project WHERE {{ GRAPH <{NETWORK_GRAPH}> {{
        <{ID}co-participation/organisation/c--e> a ?type ; ckg:between ?end ; ckg:sharedProjects ?n ; ckg:sharedProject ?project }} }}""")
    assert {r["type"] for r in rows} == {str(CKG.OrganisationCoParticipation)}
    assert {local(r["end"]) for r in rows} == {"c", "e"}
    assert {r["n"] for r in rows} == {"3"}
    assert {local(r["project"]) for r in rows} == {"p2", "p4", "p7"}


def test_projects_carry_their_funding_levels_years_and_participant_countries(small):
    _, projects, _ = read(small, "organisation")
    p1 = projects[P + "p1"]
    assert {local(x) for x in p1.levels} == {"strand-one", "programme-one", "fund-one"}
    assert (p1.start, p1.end) == (2008, 2011)  # xsd:date
    assert (projects[P + "p2"].start, projects[P + "p2"].end) == (2012, 2014)  # xsd:gYear
    assert (projects[P + "p3"].start, projects[P + "p3"].end) == (2015, 2017)  # xsd:gYearMonth
    assert (projects[P + "p4"].start, projects[P + "p4"].end) == (2019, None)
    assert {local(c) for c in projects[P + "p4"].countries} == {"de", "es"}


def test_nodes_carry_label_kind_country_and_city(small):
    g = graph_for(small, "organisation")
    a = g.nodes[ORG + "a"]
    assert (a["label"], a["kind"], local(a["country"]), local(a["city"])) == ("Org A", "Municipality", "it", "rome")
    berlin = graph_for(small, "city").nodes[CITY + "berlin"]
    assert (berlin["label"], berlin["kind"], local(berlin["country"]), berlin["city"]) == ("Berlin", "City", "de", None)


# --------------------------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------------------------


def measure(g: nx.Graph, budget: int = measures.REQUEST_BUDGET) -> None:
    """kg.network.measures.compute on a networkx graph (its nodes and edges in its order), written onto it."""
    nodes = list(g)
    position = {node: i for i, node in enumerate(nodes)}
    edges = list(g.edges(data="weight"))
    values, attributes = measures.compute(nodes, [(position[a], position[b]) for a, b, _ in edges], [w for _, _, w in edges], budget)
    for i, node in enumerate(nodes):
        g.nodes[node].update({name: column[i] for name, column in values.items()})
    g.graph.update(attributes)


def independent(edges: dict) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(sorted({n for pair in edges for n in pair}))
    for (a, b) in sorted(edges):
        g.add_edge(a, b, weight=len(edges[(a, b)]), distance=1 / len(edges[(a, b)]))
    return g


@pytest.mark.parametrize("kind, expected", [("organisation", FIXTURE_ORGANISATION_EDGES), ("city", FIXTURE_CITY_EDGES)])
@pytest.mark.parametrize("when", ["build", "request"])
def test_measures_match_networkx_computed_independently(small, kind, expected, when):
    # "build": the unfiltered network's measures, stored by the build; "request": computed for a filtered network
    # (a period that keeps every project with a year leaves p5 out, so compare with the same cut).
    if when == "build":
        g, edges = graph_for(small, kind), expected
    else:
        g = graph_for(small, kind, **{"from": "1900"})
        edges = {pair: projects - {"p5"} for pair, projects in expected.items() if projects - {"p5"}}
    reference = independent(edges)
    ours = {local(n): data for n, data in g.nodes(data=True)}
    assert {n: d["degree"] for n, d in ours.items()} == dict(reference.degree())
    assert {n: d["weighted_degree"] for n, d in ours.items()} == dict(reference.degree(weight="weight"))
    betweenness = nx.betweenness_centrality(reference, weight="distance")
    assert {n: d["betweenness"] for n, d in ours.items()} == pytest.approx(betweenness)
    communities = nx.community.louvain_communities(reference, weight="weight", seed=42)
    grouped = {}
    for n, d in ours.items():
        grouped.setdefault(d["community"], set()).add(n)
    assert sorted(map(sorted, grouped.values())) == sorted(map(sorted, communities))
    components = {}
    for n, d in ours.items():
        components.setdefault(d["component"], set()).add(n)
    assert sorted(map(sorted, components.values())) == sorted(map(sorted, nx.connected_components(reference)))
    assert g.graph["betweenness_pivots"] == g.number_of_nodes()  # exact at this size
    assert g.graph["communities_by"] == "networkx"


def test_a_large_network_takes_igraph_s_seeded_louvain(monkeypatch):
    """Past networkx's size (a large network) the communities come from igraph's Louvain: a partition of the
    nodes, the same at every run, of a modularity near networkx's, and the graph says so."""
    import random

    rng = random.Random(3)
    base = nx.relabel_nodes(nx.planted_partition_graph(6, 25, 0.5, 0.02, seed=4), lambda i: f"n{i:03d}")
    for a, b in base.edges:
        base[a][b]["weight"] = rng.choice([1, 2, 3])
    monkeypatch.setattr(measures, "NETWORKX_LOUVAIN_EDGES", base.number_of_edges() - 1)
    runs = []
    for _ in range(2):
        g = base.copy()
        measure(g)
        assert g.graph["communities_by"] == "igraph"
        runs.append({n: d["community"] for n, d in g.nodes(data=True)})
    assert runs[0] == runs[1] and set(runs[0]) == set(base)
    ours = {}
    for n, c in runs[0].items():
        ours.setdefault(c, set()).add(n)
    reference = nx.community.louvain_communities(base, weight="weight", seed=measures.SEED)
    modularity = lambda parts: nx.community.modularity(base, parts, weight="weight")
    assert modularity(list(ours.values())) == pytest.approx(modularity(reference), abs=0.02)
    monkeypatch.setattr(measures, "NETWORKX_LOUVAIN_EDGES", base.number_of_edges())
    g = base.copy()
    measure(g)
    assert g.graph["communities_by"] == "networkx"


@pytest.mark.parametrize("budget", [10**9, 2_000], ids=["exact", "sampled"])
def test_betweenness_is_networkx_s_exact_value_or_its_seeded_estimate(budget):
    """igraph computes it; networkx, the reference, gives the same values from the same seeded sample of sources.
    Weights 1, 2 and 4 make the distances exact binary fractions: no tie depends on rounding."""
    import random

    rng = random.Random(7)
    g = nx.relabel_nodes(nx.gnm_random_graph(80, 300, seed=5), lambda i: f"n{i:03d}")
    for a, b in g.edges:
        g[a][b]["weight"] = rng.choice([1, 2, 4])
    reference = g.copy()
    for a, b, d in reference.edges(data=True):
        d["distance"] = 1 / d["weight"]
    measure(g, budget)
    k = g.graph["betweenness_pivots"]
    assert (k == 80) == (budget == 10**9) and k >= measures.MIN_PIVOTS
    expected = nx.betweenness_centrality(reference, k=None if k == 80 else k, weight="distance", normalized=True,
                                         seed=measures.SEED)
    assert {n: d["betweenness"] for n, d in g.nodes(data=True)} == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------------------


def edges_of(g: nx.Graph) -> dict:
    return {tuple(sorted((local(a), local(b)))): {local(p) for p in d["projects"]} for a, b, d in g.edges(data=True)}


def keep(edges: dict, projects: set) -> dict:
    return {pair: shared & projects for pair, shared in edges.items() if shared & projects}


@pytest.mark.parametrize("options, projects", [
    ({"programme": "programme:programme-one"}, {"p1", "p2", "p5", "p7"}),  # with the strand below it
    ({"programme": f"{ID}programme/strand-one"}, {"p1", "p5"}),
    ({"fund": "programme:fund-two"}, {"p3", "p4", "p6"}),
    ({"country": "fr"}, {"p3"}),
    ({"country": f"{ID}country/es"}, {"p4", "p6"}),
    ({"from": "2012", "to": "2014"}, {"p2", "p7"}),  # overlapping periods; p5 has no dates
    ({"from": "2019"}, {"p4", "p6"}),  # p4 has no end, p6 no start
    ({"to": "2011"}, {"p1"}),
    ({"fund": "programme:fund-one", "country": "DE", "from": "2013"}, {"p2", "p7"}),
])
def test_each_filter_keeps_the_co_participations_of_the_projects_it_selects(small, options, projects):
    g = graph_for(small, "organisation", **options)
    assert edges_of(g) == keep(FIXTURE_ORGANISATION_EDGES, projects)
    assert {d["weight"] for _, _, d in g.edges(data=True)} <= set(range(1, 4))
    assert all(d["weight"] == len(d["projects"]) for _, _, d in g.edges(data=True))


def test_the_city_network_filters_the_same_projects(small):
    g = graph_for(small, "city", country="FR")
    assert edges_of(g) == keep(FIXTURE_CITY_EDGES, {"p3"})


@pytest.mark.parametrize("options, option, message", [
    ({"programme": "programme:nowhere"}, "programme", "not a funding programme"),
    ({"programme": "not an iri"}, "programme", "expected an IRI"),
    ({"fund": "programme:programme-one"}, "fund", "not a fund"),
    ({"country": "XX"}, "country", "ISO 3166-1"),
    ({"country": "country:zz"}, "country", "not a country"),
    ({"from": "20x0"}, "from", "expected a year"),
    ({"to": "99"}, "to", "expected a year"),
    ({"from": "2015", "to": "2010"}, "from", "after it ends"),
])
def test_bad_filters_name_their_option(small, options, option, message):
    _, _, vocabulary = read(small, "organisation")
    with pytest.raises(F.OptionError, match=message) as caught:
        F.parse(options, vocabulary)
    assert caught.value.option == option


# --------------------------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_answer(small):
    return answer_for(small, "organisation")


@pytest.fixture(scope="module")
def fixture_graph(fixture_answer):
    return fixture_answer.to_networkx()


def test_graphml_opens_in_networkx_with_the_same_nodes_edges_and_attributes(fixture_answer, fixture_graph):
    back = nx.read_graphml(io.BytesIO(FORMATS["graphml"].write(fixture_answer)))
    assert set(back.nodes) == set(fixture_graph.nodes)
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in fixture_graph.edges}
    for node, data in fixture_graph.nodes(data=True):
        for name in ("label", "kind", "country", "city", "degree", "weighted_degree", "component", "community"):
            assert back.nodes[node][name] == data[name]
        assert back.nodes[node]["betweenness"] == pytest.approx(data["betweenness"])
    for a, b, data in fixture_graph.edges(data=True):
        assert back.edges[a, b]["weight"] == data["weight"]
        assert back.edges[a, b]["projects"].split() == data["projects"]
    assert back.graph["kind"] == "organisation"


def test_gexf_is_well_formed_gexf_1_2_and_reads_back_in_networkx(fixture_answer, fixture_graph):
    data = FORMATS["gexf"].write(fixture_answer)
    root = ET.fromstring(data)  # well-formed
    assert root.tag == f"{{{GEXF_NS}}}gexf" and root.get("version") == "1.2"
    declared = {a.get("title") for a in root.iter(f"{{{GEXF_NS}}}attribute")}
    assert {"kind", "country", "degree", "weighted_degree", "betweenness", "component", "community", "projects"} <= declared
    back = nx.read_gexf(io.BytesIO(data))
    assert set(back.nodes) == set(fixture_graph.nodes)
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in fixture_graph.edges}
    for node, attributes in fixture_graph.nodes(data=True):
        assert back.nodes[node]["label"] == attributes["label"]
        assert back.nodes[node]["degree"] == attributes["degree"]
    for a, b, attributes in fixture_graph.edges(data=True):
        assert back.edges[a, b]["weight"] == attributes["weight"]
        assert back.edges[a, b]["id"] == attributes["key"]


def test_csv_edge_and_node_lists(fixture_answer, fixture_graph):
    edges = list(csv.DictReader(io.StringIO(FORMATS["csv"].write(fixture_answer).decode())))
    assert {(local(r["source"]), local(r["target"])): {local(p) for p in r["projects"].split()} for r in edges} == FIXTURE_ORGANISATION_EDGES
    assert all(int(r["weight"]) == len(r["projects"].split()) for r in edges)
    nodes = list(csv.DictReader(io.StringIO(FORMATS["nodes-csv"].write(fixture_answer).decode())))
    assert {r["id"] for r in nodes} == set(fixture_graph.nodes)
    assert {"label", "kind", "country", "city", "degree", "weighted_degree", "betweenness", "component", "community"} <= set(nodes[0])


def test_json_is_graphology_serialisation(fixture_answer, fixture_graph):
    doc = json.loads(FORMATS["json"].write(fixture_answer))
    assert doc["options"]["type"] == "undirected"
    assert {n["key"] for n in doc["nodes"]} == set(fixture_graph.nodes)
    assert all({"label", "degree", "community", "country"} <= set(n["attributes"]) for n in doc["nodes"])
    edge = next(e for e in doc["edges"] if {local(e["source"]), local(e["target"])} == {"c", "e"})
    assert edge["key"] == f"{ID}co-participation/organisation/c--e"
    assert edge["attributes"]["weight"] == 3 and len(edge["attributes"]["projects"]) == 3


def test_cytoscape_json_reads_back_in_networkx(fixture_answer, fixture_graph):
    back = nx.cytoscape_graph(json.loads(FORMATS["cytoscape"].write(fixture_answer)))
    assert set(back.nodes) == set(fixture_graph.nodes)
    assert back.number_of_edges() == fixture_graph.number_of_edges()


# --------------------------------------------------------------------------------------------------------------
# /network over HTTP
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query, accept, media_type", [
    ("format=json", None, "application/json"),
    ("format=graphml", None, "application/xml"),
    ("format=gexf", None, "application/gexf+xml"),
    ("format=csv", None, "text/csv"),
    ("format=nodes-csv", None, "text/csv"),
    ("format=cytoscape", None, "application/json"),
    ("", "application/json", "application/json"),
    ("", "application/graphml+xml", "application/xml"),
    ("", "application/gexf+xml", "application/gexf+xml"),
    ("", "text/csv", "text/csv"),
    ("", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),
])
def test_network_formats_over_http(small_client, query, accept, media_type):
    response = small_client.get("/network?" + query, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    assert response.mimetype == media_type
    assert "Accept" in response.vary


def test_http_answers_are_the_exports(small_client, fixture_graph):
    back = nx.read_graphml(io.BytesIO(small_client.get("/network?format=graphml").data))
    assert set(back.nodes) == set(fixture_graph.nodes) and back.number_of_edges() == fixture_graph.number_of_edges()
    assert small_client.get("/network?format=graphml").headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("query, projects", [
    ("programme=programme:programme-one", {"p1", "p2", "p5", "p7"}),
    ("fund=" + f"{ID}programme/fund-two", {"p3", "p4", "p6"}),
    ("country=FR", {"p3"}),
    ("from=2012&to=2014", {"p2", "p7"}),
])
def test_filters_over_http(small_client, query, projects):
    doc = small_client.get(f"/network?format=json&{query}").json
    edges = {tuple(sorted((local(e["source"]), local(e["target"])))): {local(p) for p in e["attributes"]["projects"]} for e in doc["edges"]}
    assert edges == keep(FIXTURE_ORGANISATION_EDGES, projects)


def test_city_network_over_http(small_client):
    doc = small_client.get("/network?kind=city&format=json").json
    assert {local(n["key"]) for n in doc["nodes"]} == {"rome", "milan", "berlin", "paris", "madrid"}
    assert doc["attributes"]["kind"] == "city"


@pytest.mark.parametrize("query, parameter", [
    ("kind=project", "kind"),
    ("format=png", "format"),
    ("from=later", "from"),
    ("to=1e3", "to"),
    ("from=2015&to=2010", "from"),
    ("programme=programme:nowhere", "programme"),
    ("fund=programme:programme-one", "fund"),
    ("country=XX", "country"),
    ("colour=red", "colour"),
    ("kind=city&kind=organisation", "kind"),
])
def test_bad_parameters_give_400_naming_the_parameter(small_client, query, parameter):
    response = small_client.get("/network?format=json&" + query if "format" not in query else "/network?" + query)
    assert response.status_code == 400
    assert f"'{parameter}'" in response.text


def test_an_unacceptable_media_type_gives_406(small_client):
    response = small_client.get("/network", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/json" in response.text


def test_answers_carry_an_etag_and_revalidate(small_client):
    first = small_client.get("/network?format=json&country=IT")
    again = small_client.get("/network?format=json&country=IT", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = small_client.get("/network?format=json&country=DE")
    assert other.headers["ETag"] != first.headers["ETag"]


def test_the_page_offers_the_filters_and_loads_the_drawing_libraries(small_client):
    page = small_client.get("/network?kind=city&country=IT", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.text
    for needle in ('name="programme"', 'name="fund"', 'name="country"', 'name="from"', 'name="to"', 'id="colour-by"',
                   'id="size-by"', 'id="search"', "/vendor/sigma/dist/sigma.min.js",
                   "/vendor/graphology/dist/graphology.umd.min.js", "/vendor/graphology-library/dist/graphology-library.min.js",
                   "network.js", "Strand one"):
        assert needle in html, needle
    assert '<option value="IT" selected>' in html


def test_the_vendored_libraries_are_served(small_client):
    for path in ("sigma/dist/sigma.min.js", "graphology/dist/graphology.umd.min.js", "graphology-library/dist/graphology-library.min.js"):
        assert small_client.get("/vendor/" + path).status_code == 200, path


def test_real_kg_network_over_http(client, store):
    doc = client.get("/network?format=json").json
    network, _, _ = read(store, "organisation")
    assert len(doc["edges"]) == len(network.edges) > 0
    british = client.get("/network?format=json&country=GB").json  # CoNet's partners only
    assert 0 < len(british["edges"]) < len(doc["edges"])
    assert client.get("/network", headers={"Accept": "text/html"}).status_code == 200


# --------------------------------------------------------------------------------------------------------------
# Pages of links: ?limit=&offset=
# --------------------------------------------------------------------------------------------------------------

FILTERED = "from=1900"  # every project with a year: the fixture's network without p5 (its 8 links, lighter), filtered


def link_header(response) -> dict[str, dict]:
    """rel -> the query of its address, from an RFC 8288 Link header."""
    found = {}
    for part in response.headers.get("Link", "").split(", ") if response.headers.get("Link") else []:
        address, rel = re.fullmatch(r'<([^>]*)>; rel="(\w+)"', part).groups()
        assert urlsplit(address).path == "/network"
        found[rel] = {k: v[0] for k, v in parse_qs(urlsplit(address).query).items()}
    return found


def strength_order(edges: list[dict]) -> list[tuple]:
    return [(-e["attributes"]["weight"], e["key"]) for e in edges]


def test_a_filtered_answer_lists_its_links_strongest_first_in_pages_with_every_node(small_client):
    whole = small_client.get(f"/network?format=json&{FILTERED}&limit=all")
    assert whole.status_code == 200 and "Link" not in whole.headers
    everything = whole.json
    assert strength_order(everything["edges"]) == sorted(strength_order(everything["edges"]))
    links = everything["attributes"]["links"]
    assert links == len(everything["edges"]) == 8 and everything["attributes"]["offset"] == 0
    assert "limit" not in everything["attributes"]
    pages, query = [], {"format": "json", "from": "1900", "limit": "3"}
    while True:
        response = small_client.get("/network", query_string=query)
        assert response.status_code == 200
        page = response.json
        pages.append(page)
        # Every node, with the measures of the whole filtered network; the slice named in the attributes.
        assert page["nodes"] == everything["nodes"]
        assert page["attributes"] == {**everything["attributes"], "offset": int(query.get("offset", 0)), "limit": 3}
        rels = link_header(response)
        if int(query.get("offset", 0)) > 0:  # back to offset 0: the address without one
            back = int(query["offset"]) - 3
            assert rels["prev"] == ({**query, "offset": str(back)} if back else {k: v for k, v in query.items() if k != "offset"})
        else:
            assert "prev" not in rels
        if "next" not in rels:
            break
        assert rels["next"]["offset"] == str(int(query.get("offset", 0)) + 3)
        query = rels["next"]
    assert [len(p["edges"]) for p in pages] == [3, 3, 2]
    assert [e for p in pages for e in p["edges"]] == everything["edges"]


def test_the_default_limit_caps_filtered_and_ego_answers_not_the_whole_network(small_client, monkeypatch):
    from server import network as route

    monkeypatch.setattr(route, "DEFAULT_LIMIT", 2)
    filtered = small_client.get(f"/network?format=json&{FILTERED}")
    assert len(filtered.json["edges"]) == 2 and filtered.json["attributes"]["links"] == 8
    assert link_header(filtered)["next"] == {"format": "json", "from": "1900", "offset": "2"}
    ego = small_client.get("/network?format=json&ego=organisation:c")
    assert len(ego.json["edges"]) == 2 and ego.json["attributes"]["links"] == 7  # every link but b-d
    whole = small_client.get("/network?format=json")
    assert len(whole.json["edges"]) == whole.json["attributes"]["links"] == 8 and "Link" not in whole.headers
    assert "offset" not in whole.json["attributes"]
    # Asked for, the whole network is paged too, with the build's measures.
    first = small_client.get("/network?format=json&limit=5")
    assert len(first.json["edges"]) == 5 and first.json["nodes"] == whole.json["nodes"]
    assert link_header(first) == {"next": {"format": "json", "limit": "5", "offset": "5"}}
    assert first.json["edges"] == sorted(whole.json["edges"], key=lambda e: (-e["attributes"]["weight"], e["key"]))[:5]


def test_past_the_last_link_a_page_has_the_nodes_and_no_links(small_client):
    response = small_client.get(f"/network?format=json&{FILTERED}&limit=3&offset=9")
    assert response.status_code == 200
    assert response.json["edges"] == [] and len(response.json["nodes"]) == 6
    assert link_header(response) == {"prev": {"format": "json", "from": "1900", "limit": "3", "offset": "6"}}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_gives_the_same_page(small_client, fmt):
    """The links of a page, and every node, in each format; the slice in the graph attributes where a format has
    them, and the Link header everywhere."""
    query = f"{FILTERED}&limit=3&offset=3"
    expected = small_client.get(f"/network?format=json&{query}").json
    pairs = {frozenset((e["source"], e["target"])) for e in expected["edges"]}
    nodes = {n["key"] for n in expected["nodes"]}
    response = small_client.get(f"/network?format={fmt}&{query}")
    assert response.status_code == 200
    assert set(link_header(response)) == {"next", "prev"}
    data = response.get_data()
    if fmt == "nodes-csv":
        assert {r["id"] for r in csv.DictReader(io.StringIO(data.decode()))} == nodes
        return
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert [(r["source"], r["target"], r["key"]) for r in rows] == [(e["source"], e["target"], e["key"]) for e in expected["edges"]]
        return
    back = {"graphml": lambda: nx.read_graphml(io.BytesIO(data)), "gexf": lambda: nx.read_gexf(io.BytesIO(data)),
            "cytoscape": lambda: nx.cytoscape_graph(json.loads(data)),
            "json": lambda: nx.Graph([(e["source"], e["target"]) for e in json.loads(data)["edges"]])}[fmt]()
    assert {frozenset(e) for e in back.edges} == pairs
    if fmt != "json":
        assert set(back.nodes) == nodes
    if fmt in {"graphml", "cytoscape"}:  # GEXF keeps no graph attributes in networkx's writer
        assert (back.graph["links"], back.graph["offset"], back.graph["limit"]) == (8, 3, 3)


@pytest.mark.parametrize("query, parameter, words", [
    ("limit=0", "limit", "between 1 and"),
    ("limit=-5", "limit", "between 1 and"),
    ("limit=many", "limit", "not a whole number"),
    ("limit=1e3", "limit", "'all'"),
    ("limit=2000000000", "limit", "between 1 and"),
    ("offset=-1", "offset", "between 0 and"),
    ("offset=first", "offset", "not a whole number"),
    ("limit=3&limit=4", "limit", "more than once"),
])
@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_bad_limits_and_offsets_give_400_naming_the_parameter(small_client, query, parameter, words, fmt):
    response = small_client.get(f"/network?format={fmt}&{FILTERED}&{query}")
    assert response.status_code == 400, response.text
    assert f"parameter '{parameter}'" in response.text and words in response.text
    assert "Traceback" not in response.text


def test_pages_have_their_own_etags(small_client):
    first = small_client.get(f"/network?format=json&{FILTERED}&limit=3")
    second = small_client.get(f"/network?format=json&{FILTERED}&limit=3&offset=3")
    assert first.headers["ETag"] != second.headers["ETag"]
    again = small_client.get(f"/network?format=json&{FILTERED}&limit=3&offset=3", headers={"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304


def test_the_page_carries_limit_and_offset_into_its_downloads(small_client):
    html = small_client.get(f"/network?{FILTERED}&limit=3&offset=3", headers={"Accept": "text/html"}).text
    downloads = re.findall(r'<li><a href="([^"]+)">json</a></li>', html)
    assert parse_qs(urlsplit(unescape(downloads[0])).query) == {
        "kind": ["organisation"], "from": ["1900"], "limit": ["3"], "offset": ["3"], "format": ["json"]}
    assert 'id="every-link"' in html


# --------------------------------------------------------------------------------------------------------------
# kg network
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_store(disk_build, disk_store):
    """An on-disk build of the real KG: the session's `kg build` (conftest.py). The network is derived from
    asserted triples, so the closure that build adds changes nothing here."""
    assert "network" in disk_build.stdout  # the build reports the step's time
    return disk_store


def test_cli_writes_graphml_that_networkx_reads(kg_cmd, built_store, tmp_path, store):
    out = tmp_path / "net.graphml"
    done = kg_cmd("network", "--store", str(built_store), "--format", "graphml", "-o", str(out))
    assert done.returncode == 0, done.stderr
    back = nx.read_graphml(out)
    network, _, _ = read(store, "organisation")
    assert back.number_of_edges() == len(network.edges)
    assert {frozenset(e) for e in back.edges} == {frozenset(pair) for pair in network.edges}


def test_cli_writes_csv_as_two_files(kg_cmd, built_store, tmp_path):
    done = kg_cmd("network", "--store", str(built_store), "--kind", "city", "--format", "csv", "-o", str(tmp_path / "cities.csv"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cities-edges.csv").read_text().startswith("source,target,weight,projects")
    assert (tmp_path / "cities-nodes.csv").read_text().startswith("id,label,kind,country,city")


def test_cli_filters_and_writes_json_to_standard_output(kg_cmd, built_store):
    everything = json.loads(kg_cmd("network", "--store", str(built_store), "--format", "json").stdout)
    done = kg_cmd("network", "--store", str(built_store), "--format", "json", "--country", "it", "--from", "2008", "--to", "2012")
    assert done.returncode == 0, done.stderr
    filtered = json.loads(done.stdout)  # CoNet (2008-2011) only
    assert 0 < len(filtered["edges"]) < len(everything["edges"])
    assert filtered["attributes"]["country"] == f"{ID}country/it"


def test_cli_writes_the_ego_network_the_endpoint_gives(kg_cmd, client, built_store):
    done = kg_cmd("network", "--store", str(built_store), "--format", "json", "--ego", "organisation:cesie", "--depth", "2")
    assert done.returncode == 0, done.stderr
    served = client.get(f"/network?format=json&ego={ID}organisation/cesie&depth=2").get_json()
    written = json.loads(done.stdout)
    assert {n["key"] for n in written["nodes"]} == {n["key"] for n in served["nodes"]}
    assert len(written["edges"]) == len(served["edges"]) > 0
    assert {n["attributes"]["hops"] for n in written["nodes"]} == {0, 1, 2}


@pytest.mark.parametrize("args, option", [
    (["--from", "soon"], "--from"),
    (["--programme", "programme:nowhere"], "--programme"),
    (["--fund", "programme:urbact-ii"], "--fund"),
    (["--country", "XX"], "--country"),
    (["--from", "2015", "--to", "2010"], "--from"),
    (["--format", "csv"], "--output"),
    (["--kind", "project"], "--kind"),
    (["--format", "svg"], "--format"),
    (["--ego", "organisation:nobody"], "--ego"),
    (["--depth", "2"], "--depth"),
    (["--ego", "organisation:cesie", "--depth", "3"], "--depth"),
])
def test_cli_errors_name_the_option_and_exit_2(built_store, args, option):
    done = kg_here("network", "--store", str(built_store), *args)
    assert done.returncode == 2
    assert option in done.stderr


@pytest.fixture(scope="module")
def on_disk(disk_store):
    """The session's `kg build` (conftest.py)."""
    return disk_store


def test_an_on_disk_build_serves_the_whole_networks_from_files_it_wrote(on_disk):
    """`kg build` writes every export of both unfiltered networks; /network answers with exactly those bytes, which
    equal what computing the network from that build's store gives."""
    from kg.publish.network_files import find
    from kg.store.builds import current_build
    from server import create_app

    folder, info = current_build(on_disk)
    kg_store = KGStore.open_build(folder, info)
    client = create_app({"KG_STORE_PATH": str(on_disk), "TESTING": True}).test_client()
    for kind in ("organisation", "city"):
        network = lookup.read_network(kind, lookup.rows_of(kg_store.query(lookup.network_query(kind))))
        expected = network_graph(network, {}, F.Filters(), build=info.id)
        for fmt, spec in FORMATS.items():
            path = find(folder, kind, fmt)
            assert path is not None, (kind, fmt)
            answer = client.get("/network", query_string={"kind": kind, "format": fmt})
            assert answer.status_code == 200
            assert answer.get_data() == path.read_bytes() == spec.write(expected), (kind, fmt)
        filtered = client.get("/network", query_string={"kind": kind, "format": "json", "from": "2016"})
        assert filtered.status_code == 200 and filtered.get_data() != find(folder, kind, "json").read_bytes()


def test_the_look_ups_the_build_wrote_are_what_the_look_up_queries_read(on_disk):
    """A filtered network starts from the build's files, not the queries: they must hold the same network and
    projects, and a filtered answer must not depend on which of the two it came from."""
    from kg.publish import network_files
    from kg.store.builds import current_build
    from server import create_app

    folder, info = current_build(on_disk)
    kg_store = KGStore.open_build(folder, info)
    for kind in ("organisation", "city"):
        queried = lookup.read_network(kind, lookup.rows_of(kg_store.query(lookup.network_query(kind))))
        assert network_files.read_network(folder, kind) == queried
    queried_projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY)))
    assert queried_projects and network_files.read_projects(folder) == queried_projects

    filtered = {"kind": "organisation", "format": "json", "from": "2016"}
    from_files = create_app({"KG_STORE_PATH": str(on_disk), "TESTING": True}).test_client().get("/network", query_string=filtered)
    assert network_files.read_network(None, "organisation") is None and network_files.read_projects(None) is None
    app = create_app({"KG_STORE_PATH": str(on_disk), "TESTING": True})
    app.config["KG_BACKEND"].folder = None  # as for a store without a build folder: the look-up queries
    from_queries = app.test_client().get("/network", query_string=filtered)
    assert from_files.status_code == from_queries.status_code == 200
    assert from_files.get_data() == from_queries.get_data()


def old_lookup(network: lookup.Network) -> dict:
    """A network's look-up as builds wrote it before the columns (kg.publish.network_files)."""
    return {"kind": network.kind, "nodes": network.nodes,
            "edges": [[a, b, network.edge_keys[(a, b)], sorted(shared)] for (a, b), shared in sorted(network.edges.items())]}


def test_a_build_made_before_the_columns_is_still_served(on_disk, tmp_path):
    """A build folder with the JSON look-ups only (builds before the columns) gives the same networks, and the
    same filtered answers, as the columns the build writes now."""
    from kg.publish import network_files
    from kg.store.builds import current_build
    from server import create_app

    folder, _ = current_build(on_disk)
    old = tmp_path / "old-build"
    (old / network_files.NETWORK_DIR).mkdir(parents=True)
    for kind in ("organisation", "city"):
        network = network_files.read_network(folder, kind)
        assert (folder / network_files.NETWORK_DIR / f"{kind}.lookup.columns").is_file()
        (old / network_files.NETWORK_DIR / f"{kind}.lookup.json").write_text(json.dumps(old_lookup(network)))
        assert network_files.read_network(old, kind) == network
    (old / network_files.NETWORK_DIR / network_files.PROJECTS).write_bytes((folder / network_files.NETWORK_DIR / network_files.PROJECTS).read_bytes())
    filtered = {"kind": "organisation", "format": "json", "country": "IT"}
    now = create_app({"KG_STORE_PATH": str(on_disk), "TESTING": True}).test_client().get("/network", query_string=filtered)
    app = create_app({"KG_STORE_PATH": str(on_disk), "TESTING": True})
    app.config["KG_BACKEND"].folder = old
    before = app.test_client().get("/network", query_string=filtered)
    assert now.status_code == before.status_code == 200
    assert now.get_data() == before.get_data()


def test_network_columns_read_back_as_written_whatever_the_byte_order(small, tmp_path, monkeypatch):
    """The columns file holds the network exactly, read on a machine of either byte order; a file that is not one
    (another version's) is refused by name rather than misread."""
    import sys
    from dataclasses import replace

    from kg.publish import network_files

    network, _, _ = read(small, "organisation")
    path = tmp_path / "organisation.lookup.columns"
    network_files._write_columns(path, network)
    assert network_files._read_columns(path) == network
    other = {"little": "big", "big": "little"}[sys.byteorder]
    swapped = {}
    for name in ("a", "b", "starts", "shared"):
        swapped[name] = getattr(network, name)[:]
        swapped[name].byteswap()
    with monkeypatch.context() as patched:  # written where the integers' bytes are in the other order
        patched.setattr(sys, "byteorder", other)
        network_files._write_columns(path, replace(network, **swapped))
    assert network_files._read_columns(path) == network
    path.write_bytes(b"cohesion-kg network columns 0\n{}\n")
    with pytest.raises(ValueError, match="not a network columns file"):
        network_files._read_columns(path)


# --------------------------------------------------------------------------------------------------------------
# Ego networks: ?ego=IRI&depth=1|2
# --------------------------------------------------------------------------------------------------------------

# Who shares a project with whom, on the raw data (not the materialised network): ?n took part in a project with ?m.
PARTNERS = {
    "organisation": "?x ckg:participant {m} ; ckg:inProject ?p{i} . ?y ckg:participant {n} ; ckg:inProject ?p{i} .",
    "city": "?x ckg:participant/ckg:basedIn {m} ; ckg:inProject ?p{i} . ?y ckg:participant/ckg:basedIn {n} ; ckg:inProject ?p{i} .",
}


def within(kg_store, kind: str, ego: str, depth: int) -> dict[str, int]:
    """Nodes within `depth` shared projects of `ego`, with their distance, asked of the raw data with SPARQL."""
    hops = {ego: 0}
    one = {r["n"] for r in select(kg_store, f"SELECT DISTINCT ?n WHERE {{ {PARTNERS[kind].format(m=f'<{ego}>', n='?n', i=1)} }}")}
    hops.update({n: 1 for n in one - {ego}})
    if depth == 2:
        two = {r["n"] for r in select(kg_store, f"SELECT DISTINCT ?n WHERE {{ {PARTNERS[kind].format(m=f'<{ego}>', n='?m', i=1)} "
                                                 f"{PARTNERS[kind].format(m='?m', n='?n', i=2).replace('?x', '?u').replace('?y', '?v')} }}")}
        hops.update({n: 2 for n in two - set(hops)})
    return hops


def ego_answer(client, query: str) -> tuple[dict, dict]:
    response = client.get("/network?format=json&" + query)
    assert response.status_code == 200, response.text
    doc = response.json
    return doc, {n["key"]: n["attributes"] for n in doc["nodes"]}


@pytest.mark.parametrize("kind", ["organisation", "city"])
@pytest.mark.parametrize("depth", [1, 2])
def test_an_ego_network_holds_what_sparql_on_the_raw_data_finds(client, store, kind, depth):
    """The nodes within `depth` shared projects of the ego, their distances, and every co-participation among them
    with its shared projects, as SPARQL over the participations finds them; checked for the best-connected node
    and for the first node (by IRI) whose co-partners' co-partners reach further than its own."""
    whole = client.get(f"/network?format=json&kind={kind}").json
    ranked = sorted(whole["nodes"], key=lambda n: (-n["attributes"]["degree"], n["key"]))
    links = nx.Graph([(e["source"], e["target"]) for e in whole["edges"]])
    reaching = [n for n in sorted(links) if len(nx.single_source_shortest_path_length(links, n, cutoff=2)) > links.degree(n) + 1]
    if kind == "organisation":
        assert reaching, "no organisation of the real KG has co-partners' co-partners: depth 2 is not tested"
    pairs = co_occurrence(store, kind)
    grew = not reaching
    for ego in (ranked[0]["key"], *reaching[:1]):
        expected = within(store, kind, ego, depth)
        doc, nodes = ego_answer(client, f"kind={kind}&ego={ego}&depth={depth}")
        assert {n: a["hops"] for n, a in nodes.items()} == expected
        edges = {tuple(sorted((e["source"], e["target"]))): set(e["attributes"]["projects"]) for e in doc["edges"]}
        assert edges == {pair: projects for pair, projects in pairs.items() if set(pair) <= set(expected)}
        assert doc["attributes"]["ego"] == ego and doc["attributes"]["depth"] == depth
        # The measures are those of the network it is cut from.
        whole_nodes = {n["key"]: n["attributes"] for n in whole["nodes"]}
        assert all(nodes[n]["degree"] == whole_nodes[n]["degree"] for n in nodes)
        grew = grew or (depth == 2 and len(expected) > len(within(store, kind, ego, 1)))
    assert depth == 1 or grew, "depth 2 reached no further than depth 1"


def test_without_kind_an_ego_network_is_the_egos_own(small_client):
    _, nodes = ego_answer(small_client, f"ego={CITY}rome")
    assert {local(n) for n in nodes} == {"rome", "milan", "berlin"}
    doc, nodes = ego_answer(small_client, "ego=organisation:d&depth=2")
    assert doc["attributes"]["kind"] == "organisation"
    assert {local(n): a["hops"] for n, a in nodes.items()} == {"d": 0, "b": 1, "a": 2, "c": 2}


def test_an_ego_network_is_cut_from_the_filtered_network(small_client):
    # In 2012-2014 only p2 and p7 ran: c's partners are a (p2) and e (p2, p7).
    doc, nodes = ego_answer(small_client, "ego=organisation:c&from=2012&to=2014")
    assert {local(n) for n in nodes} == {"a", "c", "e"}
    edges = {tuple(sorted((local(e["source"]), local(e["target"])))): {local(p) for p in e["attributes"]["projects"]} for e in doc["edges"]}
    assert edges == keep({k: v for k, v in FIXTURE_ORGANISATION_EDGES.items() if set(k) <= {"a", "c", "e"}}, {"p2", "p7"})
    assert doc["attributes"]["from"] == 2012


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_serves_the_ego_network(small_client, fmt):
    """The same nodes and links as the ego network's JSON, in every format, named as the ego's file."""
    _, nodes = ego_answer(small_client, "ego=organisation:d&depth=2")
    response = small_client.get(f"/network?ego=organisation:d&depth=2&format={fmt}")
    assert response.status_code == 200 and response.mimetype == FORMATS[fmt].media_type
    data = response.get_data()
    if fmt == "graphml":
        back = nx.read_graphml(io.BytesIO(data))
    elif fmt == "gexf":
        back = nx.read_gexf(io.BytesIO(data))
    elif fmt == "cytoscape":
        back = nx.cytoscape_graph(json.loads(data))
    elif fmt == "json":
        doc = json.loads(data)
        back = nx.Graph([(e["source"], e["target"]) for e in doc["edges"]])
    elif fmt == "csv":
        back = nx.Graph([(r["source"], r["target"]) for r in csv.DictReader(io.StringIO(data.decode()))])
    else:
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert {r["id"]: int(r["hops"]) for r in rows} == {n: a["hops"] for n, a in nodes.items()}
        return
    assert set(back.nodes) == set(nodes)
    assert {tuple(sorted(map(local, e))) for e in back.edges} == {("a", "b"), ("a", "c"), ("b", "c"), ("b", "d")}
    if fmt in {"graphml", "gexf", "csv"}:
        assert "around-d-depth-2" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("query, status, parameter, words", [
    (f"ego={ORG}nobody", 404, "ego", "is not a node of the organisation network"),
    (f"ego={P}p1", 404, "ego", "is not a node"),
    ("ego=organisation:a&depth=3", 400, "depth", "expected 1 or 2"),
    ("ego=organisation:a&depth=0", 400, "depth", "expected 1 or 2"),
    ("depth=2", 400, "depth", "only meaningful with 'ego'"),
    ("ego=nonsense", 400, "ego", "expected an IRI or a prefixed name"),
    ("ego=organisation:a&ego=organisation:b", 400, "ego", "more than once"),
    ("kind=city&ego=organisation:a", 404, "ego", "is not a node of the city network"),
    ("ego=organisation:f&country=FR", 404, "ego", "has no co-partner in the projects these filters select"),
])
@pytest.mark.parametrize("fmt", ["json", "graphml", "html"])
def test_bad_egos_are_refused_naming_the_parameter(small_client, query, status, parameter, words, fmt):
    response = small_client.get(f"/network?format={fmt}&{query}")
    assert response.status_code == status, response.text
    assert f"parameter '{parameter}'" in response.text and words in response.text


def test_ego_option_parsing():
    from kg.network import ego as E

    assert E.parse(None, None) is None and E.parse("", "") is None
    assert E.parse("organisation:a", None) == E.Ego(ORG + "a", 1)
    assert E.parse(f" <{ORG}a> ", "2") == E.Ego(ORG + "a", 2)
    with pytest.raises(F.OptionError) as e:
        E.parse("organisation:a", "two")
    assert e.value.option == "depth"


# --------------------------------------------------------------------------------------------------------------
# The page's address holds its view
# --------------------------------------------------------------------------------------------------------------


def test_the_page_shows_the_filters_of_its_address_and_carries_them_into_its_links(small_client):
    html = small_client.get("/network?kind=city&programme=programme:programme-one&country=IT&from=2010&to=2014",
                            headers={"Accept": "text/html"}).text
    assert f'<option value="{ID}programme/programme-one" selected>' in html
    assert '<option value="IT" selected>' in html
    assert '<option value="city" selected>' in html
    assert re.search(r'<input type="number" name="from"[^>]*value="2010"', html)
    assert re.search(r'<input type="number" name="to"[^>]*value="2014"', html)
    downloads = re.findall(r'<li><a href="([^"]+)">(json|graphml|csv)</a></li>', html)
    assert len(downloads) == 3
    for href, fmt in downloads:
        query = parse_qs(urlsplit(unescape(href)).query)
        assert query == {"kind": ["city"], "programme": [f"{ID}programme/programme-one"], "country": [f"{ID}country/it"],
                         "from": ["2010"], "to": ["2014"], "format": [fmt]}, href


def test_the_year_range_comes_from_the_projects(small, small_client):
    years = [int(r["y"]) for r in select(small, "SELECT ?y WHERE { GRAPH ?g { ?p ckg:startYear|ckg:endYear ?y } }")]
    html = small_client.get("/network", headers={"Accept": "text/html"}).text
    field = re.search(r'<input type="number" name="from"[^>]*>', html)[0]
    assert f'min="{min(years)}"' in field and f'max="{max(years)}"' in field


def test_an_ego_page_names_its_centre_and_offers_depth_and_the_whole_network(small_client):
    response = small_client.get("/network?ego=organisation:d&depth=2&country=IT", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.text
    assert re.search(r'<h1 id="network-title">Network around <a id="ego-page" href="/id/organisation/d">Org D</a></h1>', html), html[:3000]
    assert f'<input type="hidden" name="ego" value="{ORG}d">' in html
    assert '<option value="2" selected>' in html
    whole = unescape(re.search(r'<a id="whole-network" href="([^"]+)"', html)[1])
    assert parse_qs(urlsplit(whole).query) == {"kind": ["organisation"], "country": [f"{ID}country/it"]}
    assert 'data-ego="' + ORG + 'd"' in html


def test_organisation_and_city_pages_link_to_the_network_around_them(client, store):
    org = client.get("/network?format=json").json["nodes"][0]["key"]
    city = client.get("/network?kind=city&format=json").json["nodes"][0]["key"]
    for iri, kind in ((org, "organisation"), (city, "city")):
        html = client.get(iri.replace(str(ID), "/id/"), headers={"Accept": "text/html"}).text
        link = re.search(r'<p class="network-link"><a href="([^"]+)">([^<]+)</a>', html)
        assert link, iri
        assert f"around this {kind}" in link[2]
        assert parse_qs(urlsplit(unescape(link[1])).query) == {"kind": [kind], "ego": [iri]}
        answer = client.get(unescape(link[1]) + "&format=json")
        assert answer.status_code == 200 and answer.json["attributes"]["ego"] == iri


@pytest.mark.parametrize("kind", ["organisation", "city"])
def test_reading_only_the_part_around_an_ego_gives_the_cut_of_the_whole_network(store, kind):
    """The server reads an unfiltered ego network with look-ups of its part of the network only (kg.network.ego.read);
    for every node of the real KG and both depths that gives the same file as cutting the whole network."""
    from kg.network import ego as E

    network, _, _ = read(store, kind)
    whole = network_graph(network, {}, F.Filters())
    rows = lambda text: lookup.rows_of(store.query(text))
    with pytest.raises(E.NotInNetwork):
        E.read(kind, E.Ego(ORG + "nobody-at-all"), rows)
    for node in sorted(whole.nodes):
        for depth in (1, 2):
            ego = E.Ego(node, depth)
            expected = E.cut(whole, ego)
            del expected.attributes["betweenness_pivots"], expected.attributes["communities_by"]
            assert FORMATS["json"].write(E.graph_around(E.read(kind, ego, rows), ego)) == FORMATS["json"].write(expected), (node, depth)


def test_an_ego_that_is_not_an_iri_is_refused_before_any_look_up(small_client):
    response = small_client.get("/network", query_string={"format": "json", "ego": "http://x.org/a> } DROP ALL {"})
    assert response.status_code == 400 and "parameter 'ego'" in response.text and "is not an IRI" in response.text
