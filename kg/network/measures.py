"""Network measures, computed with networkx and written as node attributes.

degree           how many neighbours a node has
weighted_degree  the sum of its edges' weights (shared projects), also called strength
betweenness      normalised betweenness centrality, with distance = 1 / weight: two partners that shared many
                 projects are close. Exact while the work (nodes x edges) fits the budget; beyond that networkx
                 estimates it from a fixed, seeded sample of source nodes, and the graph says how many it used.
component        connected component, numbered by size (0 is the largest; ties by the smallest node key)
community        Louvain community (networkx, weight = shared projects, fixed seed), numbered the same way
"""

from __future__ import annotations

import networkx as nx

MEASURES = ("degree", "weighted_degree", "betweenness", "component", "community")
SEED = 42
# Work allowed for betweenness, in edge relaxations (pivots x edges). networkx manages about half a million a
# second here, so a request stays within a couple of seconds; the build, done once, may afford more.
REQUEST_BUDGET = 1_000_000
BUILD_BUDGET = 10_000_000
MIN_PIVOTS = 8


def pivots(nodes: int, edges: int, budget: int) -> int:
    """Source nodes used for betweenness: all of them when the exact computation fits the budget."""
    if nodes * max(edges, 1) <= budget:
        return nodes
    return min(nodes, max(MIN_PIVOTS, budget // max(edges, 1)))


def compute(graph: nx.Graph, budget: int = REQUEST_BUDGET) -> None:
    """Write the measures onto `graph`'s nodes (attributes named as in MEASURES) and the betweenness sample size
    onto the graph (`betweenness_pivots`; equal to the node count when exact)."""
    for node, value in graph.degree():
        graph.nodes[node]["degree"] = value
    for node, value in graph.degree(weight="weight"):
        graph.nodes[node]["weighted_degree"] = value
    for u, v, data in graph.edges(data=True):
        data["distance"] = 1.0 / data["weight"]
    k = pivots(graph.number_of_nodes(), graph.number_of_edges(), budget)
    sample = None if k >= graph.number_of_nodes() else k
    betweenness = nx.betweenness_centrality(graph, k=sample, weight="distance", normalized=True, seed=SEED)
    for u, v, data in graph.edges(data=True):
        del data["distance"]  # a helper, not something to export
    for node, value in betweenness.items():
        graph.nodes[node]["betweenness"] = value
    graph.graph["betweenness_pivots"] = k
    _number(graph, nx.connected_components(graph), "component")
    _number(graph, nx.community.louvain_communities(graph, weight="weight", seed=SEED), "community")


def _number(graph: nx.Graph, groups, name: str) -> None:
    ordered = sorted((sorted(g) for g in groups), key=lambda members: (-len(members), members[0]))
    for number, members in enumerate(ordered):
        for node in members:
            graph.nodes[node][name] = number
