"""Network measures, computed by igraph (C) from the edge list, and Louvain by networkx for small networks.

degree           how many neighbours a node has
weighted_degree  the sum of its edges' weights (shared projects), also called strength
betweenness      normalised betweenness centrality, with distance = 1 / weight: two partners that shared many
                 projects are close. Exact while the work (nodes x edges) fits the budget; beyond that it is
                 estimated from a fixed, seeded sample of source nodes (networkx's estimator and sample), and
                 the graph says how many it used. igraph computes it some ten times faster than networkx's pure
                 Python (2.3 s against 10.6 s for the organisation network at 1M triples, where networkx only
                 sampled 199 of its 2,380 nodes); igraph also takes paths of equal length as equal within a
                 rounding error (1/3 + 1/3 + 1/3 = 1), where networkx compares the float sums exactly.
component        connected component, numbered by size (0 is the largest; ties by the smallest node key)
community        Louvain community (weight = shared projects, fixed seed), numbered the same way: networkx's up to
                 NETWORKX_LOUVAIN_EDGES links, igraph's beyond (`community_multilevel`, the same method in C, some
                 ten times faster); the graph says which (`communities_by`). networkx's is the reference for small
                 networks: igraph's, seeded alike, put the five cities of the test fixtures in one community
                 (modularity 0) for some seeds and in networkx's two (0.031) for others. On the networks of 1M
                 triples (8,600 nodes, 190,000 links) networkx took 5 s a network in the build and 4.5 s of a 10 s
                 cold filtered request; igraph's communities have about the same modularity (tested).

Nodes come as a list of IRIs, sorted, and edges as pairs of positions in it, sorted by their ends, with their
weights: igraph takes them as they are, and networkx's Louvain is given them in that order, so that the seeded
measures repeat. No networkx graph is built for the rest: a filtered request at 1M triples spent 1.4 s building
one of 190,000 links only to measure and write it.
"""

from __future__ import annotations

import random
import threading

import igraph
import networkx as nx

MEASURES = ("degree", "weighted_degree", "betweenness", "component", "community")
SEED = 42
# Work allowed for betweenness, in edge relaxations (pivots x edges). igraph manages about fifty million a second
# here, so a request stays well under a second; the build, done once, may afford more: the networks of 1M
# triples (2,380 nodes, 50,143 edges) are exact.
REQUEST_BUDGET = 20_000_000
BUILD_BUDGET = 200_000_000
MIN_PIVOTS = 8
# The largest network whose communities networkx's Louvain finds (well under a second); igraph's beyond.
NETWORKX_LOUVAIN_EDGES = 30_000


def pivots(nodes: int, edges: int, budget: int) -> int:
    """Source nodes used for betweenness: all of them when the exact computation fits the budget."""
    if nodes * max(edges, 1) <= budget:
        return nodes
    return min(nodes, max(MIN_PIVOTS, budget // max(edges, 1)))


def compute(nodes: list[str], edges: list[tuple[int, int]], weights: list[int],
            budget: int = REQUEST_BUDGET) -> tuple[dict[str, list], dict]:
    """The measures of the network of `nodes` (IRIs, sorted) and `edges` (pairs of positions in `nodes`, sorted,
    with their `weights`): a list per measure named as in MEASURES, in the order of `nodes`, and the graph's
    attributes: the betweenness sample size (`betweenness_pivots`; the node count when exact) and the Louvain
    used (`communities_by`: networkx or igraph)."""
    g = igraph.Graph(n=len(nodes), edges=edges)
    k = pivots(len(nodes), len(edges), budget)
    by = communities_by(len(edges))
    if by == "networkx":
        graph = nx.Graph()
        graph.add_nodes_from(nodes)
        graph.add_weighted_edges_from((nodes[a], nodes[b], w) for (a, b), w in zip(edges, weights))
        position = {node: i for i, node in enumerate(nodes)}
        communities = [[position[n] for n in part] for part in nx.community.louvain_communities(graph, weight="weight", seed=SEED)]
    else:
        communities = _multilevel(g, weights)
    values = {
        "degree": g.degree(),
        "weighted_degree": [int(s) for s in g.strength(weights=weights)],  # sums of whole numbers, exact in floats
        "betweenness": _betweenness(g, [1.0 / w for w in weights], nodes, k),
        "component": _numbered(g.connected_components(), nodes),
        "community": _numbered(communities, nodes),
    }
    return values, {"betweenness_pivots": k, "communities_by": by}


def communities_by(edges: int) -> str:
    """Whose Louvain finds the communities of a network of `edges` links: networkx or igraph."""
    return "networkx" if edges <= NETWORKX_LOUVAIN_EDGES else "igraph"


_RANDOM = threading.Lock()  # igraph's random number generator is one for the process


def _multilevel(g: igraph.Graph, weights: list[float]) -> list[list[int]]:
    """igraph's Louvain, seeded: igraph draws from the generator it is given (Python's random module unless told)."""
    with _RANDOM:
        igraph.set_random_number_generator(random.Random(SEED))
        try:
            return [list(part) for part in g.community_multilevel(weights=weights)]
        finally:
            igraph.set_random_number_generator(random)


def _betweenness(g: igraph.Graph, distances: list[float], nodes: list, k: int) -> list[float]:
    """Normalised betweenness with distance = 1 / weight, from `k` source nodes: networkx's definition and, when
    sampled, networkx's seeded sample and rescaling, so that only the engine changed."""
    n = len(nodes)
    if n <= 2:
        return [0.0] * n
    if k >= n:  # igraph counts each unordered pair once; networkx normalises by the ordered pairs
        raw = g.betweenness(directed=False, weights=distances)
        return [2 * b / ((n - 1) * (n - 2)) for b in raw]
    sample = set(random.Random(SEED).sample(nodes, k))
    raw = g.betweenness(directed=False, weights=distances, sources=[i for i, node in enumerate(nodes) if node in sample])
    # A source is never the end of its own paths: k - 1 sampled pairs could pass through it, k through the others.
    return [2 * b / (((k - 1) if node in sample else k) * (n - 2)) for node, b in zip(nodes, raw)]


def _numbered(groups, nodes: list[str]) -> list[int]:
    """Each node's group (groups of positions in `nodes`), the groups numbered by size, ties by their least IRI."""
    number = [0] * len(nodes)
    ordered = sorted((list(group) for group in groups), key=lambda members: (-len(members), min(nodes[i] for i in members)))
    for n, members in enumerate(ordered):
        for i in members:
            number[i] = n
    return number
