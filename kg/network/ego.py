"""The ego network of one organisation or city: its co-partners and theirs, cut out of a (filtered) network.

  ego    the node at the centre: an IRI (optionally in <>) or a prefixed name of the KG (organisation:cesie)
  depth  1: the ego, its co-partners and the links among them; 2: also the co-partners' co-partners and every
         link among all of these (as networkx.ego_graph: unweighted hops). Nothing deeper: at depth 3 a hub of the
         organisation network reaches most of it, which is the whole network, not an ego network.

The cut is made on the network the other options chose (the whole network, or the one the filters leave), so
the ego network's nodes keep that network's measures (a node's betweenness or community is a fact about the
network around it, not about the cut), and each node gains `hops`, its distance from the ego (0, 1 or 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from kg.network.filters import OptionError, iri_option
from kg.network.graph import Graph
from kg.network.lookup import Network, edges_query, nodes_query, read_network

DEPTHS = (1, 2)
BATCH = 400  # nodes per look-up
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@dataclass(frozen=True)
class Ego:
    iri: str
    depth: int = 1

    def as_dict(self) -> dict:
        return {"ego": self.iri, "depth": self.depth}


class NotInNetwork(OptionError):
    """The ego is a well-formed IRI that is no node of the network asked for (an unknown IRI, or a node without
    co-partners, or one the filters leave out): a "not found" rather than a bad request."""


def parse(ego: str | None, depth: str | None) -> Ego | None:
    """The options as given (strings; None or "" when absent) -> an Ego, or None without `ego`."""
    ego = (ego or "").strip()
    depth = (depth or "").strip()
    if not ego:
        if depth:
            raise OptionError("depth", "is only meaningful with 'ego' (the organisation or city at the centre)")
        return None
    iri = iri_option(ego, "ego")
    if _NOT_IN_IRI.search(iri):  # the SPARQL IRIREF rule: such an IRI cannot be a node, nor go into a look-up
        raise OptionError("ego", f"{ego!r} is not an IRI (spaces and <>\"{{}}|^`\\ are not allowed in one)")
    if not depth:
        return Ego(iri)
    if depth not in {str(d) for d in DEPTHS}:
        raise OptionError("depth", f"expected {' or '.join(map(str, DEPTHS))} (hops from the ego), not {depth!r}")
    return Ego(iri, int(depth))


def read(kind: str, ego: Ego, rows: Callable[[str], list[tuple]]) -> Network:
    """The part of the materialised `kind` network an ego network needs, read with look-ups that grow with that part,
    not with the network: the edges of the ego, then of each ring of co-partners out to `depth`, then those of the
    outermost ring (for the links among its nodes), and the nodes' attributes. `rows(text)` runs a look-up
    (lookup.edges_query, lookup.nodes_query) and gives its rows. Raises NotInNetwork when the ego is no node of it."""
    check(read_network(kind, rows(nodes_query(kind, [ego.iri]))), ego)
    reached, ring = {ego.iri}, [ego.iri]
    edges, keys = {}, {}
    for step in range(ego.depth + 1):
        part = _read(kind, ring, edges_query, rows)
        found = part.edges
        edges.update(found)
        keys.update(part.edge_keys)
        ring = sorted({n for pair in found for n in pair} - reached)
        if step == ego.depth or not ring:
            break  # that was the outermost ring's edges: of those, only the links among reached nodes count
        reached.update(ring)
    inside = sorted(pair for pair in edges if pair[0] in reached and pair[1] in reached)
    nodes = _read(kind, sorted(reached), nodes_query, rows).nodes
    return Network.of(kind, {pair: edges[pair] for pair in inside}, {pair: keys[pair] for pair in inside}, nodes)


def graph_around(part: Network, ego: Ego, build: str | None = None) -> Graph:
    """The ego network from the part `read` gave, with the build's measures of the whole network on its nodes."""
    from kg.network import network_graph
    from kg.network.filters import Filters

    graph = cut(network_graph(part, {}, Filters(), build=build), ego)
    # Counted from the part, they would describe nothing: the measures are the build's.
    del graph.attributes["betweenness_pivots"], graph.attributes["communities_by"]
    return graph


def _read(kind: str, nodes: list[str], query, rows) -> Network:
    """One look-up for many nodes, in batches: a query text stays a few tens of kilobytes."""
    found = []
    for i in range(0, len(nodes), BATCH):
        found += rows(query(kind, nodes[i:i + BATCH]))
    return read_network(kind, found)


def check(network: Network, ego: Ego, keep: set[str] | None = None) -> None:
    """Raise NotInNetwork unless `ego` has a co-partner in `network` (lookup.Network), in the projects of `keep`
    when given (the filters' selection): what a request must know before it draws or computes anything."""
    if ego.iri not in network.nodes:
        raise NotInNetwork("ego", f"{ego.iri} is not a node of the {network.kind} network (an organisation or city with "
                           "at least one co-partner; 'kind' chooses the network)")
    if keep is not None and not _partnered(network, network.names.index(ego.iri), network.weights(network.chosen(keep))):
        raise NotInNetwork("ego", f"{ego.iri} has no co-partner in the projects these filters select")


def _partnered(network: Network, node: int, weights: list[int]) -> bool:
    """Whether the node at `node` is an end of an edge of positive weight."""
    return any(w and node in (a, b) for a, b, w in zip(network.a, network.b, weights))


def cut(graph: Graph, ego: Ego) -> Graph:
    """The ego network of `ego` in `graph`: its nodes with their attributes and `hops`, the links among them in
    the graph's order, and the graph's attributes with the ego's.

    Raises NotInNetwork when the ego is not a node of `graph`."""
    if ego.iri not in graph.nodes:
        kind = graph.attributes.get("kind", "")
        filtered = any(k in graph.attributes for k in ("programme", "fund", "country", "from", "to"))
        why = "has no co-partner in the projects these filters select" if filtered else f"is not a node of the {kind} network"
        raise NotInNetwork("ego", f"{ego.iri} {why}")
    ends = list(graph.ends())
    hops = {graph.network.names.index(ego.iri): 0}
    ring = set(hops)
    for step in range(1, ego.depth + 1):
        ring = {b if a in ring else a for a, b in ends if (a in ring) != (b in ring)} - hops.keys()
        hops.update(dict.fromkeys(ring, step))
    inside = [i for i, (a, b) in enumerate(ends) if a in hops and b in hops]
    names = graph.network.names
    # Sorted, as everywhere in the networks: the same file for the same question.
    nodes = {names[n]: {**graph.nodes[names[n]], "hops": hops[n]} for n in sorted(hops)}
    return Graph(graph.network, nodes, [graph.edges[i] for i in inside], [graph.weights[i] for i in inside], graph.chosen,
                 {**graph.attributes, **ego.as_dict(), "links": len(inside)})
