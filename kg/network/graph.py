"""A network as answered: its nodes with their attributes, its links strongest first, and the graph's attributes.

What `kg.network.network_graph` gives, the ego cut (kg.network.ego) takes and gives, and every writer
(kg.network.export) writes. The links are positions of the edges of the lookup.Network they were cut from, with
their weights there; an edge's IRI and its shared projects are only looked up for the links a writer lists, so
that a page of a big network costs the page, and the networkx graph the GraphML, GEXF and Cytoscape writers need
is built of the page only.

Links are listed strongest first: by weight, descending, then by the co-participation's IRI (`key`), so that a
page (`page`) of the first links is the strongest of them, and the same question gives the same page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import compress
from typing import Iterator

import networkx as nx

from kg.network.lookup import Network


@dataclass(frozen=True)
class Graph:
    network: Network
    nodes: dict[str, dict]  # node IRI -> label, kind, country, city and the measures (ego networks: hops), by IRI
    edges: list[int]  # the links: positions of edges of `network`, strongest first
    weights: list[int]  # each link's weight: its shared projects, of those `chosen`
    chosen: bytes | None  # a flag per project of `network` that the filters selected; None: every project
    attributes: dict  # kind, the filters, build, links (how many in the whole answer), the measures' budgets, ...

    @classmethod
    def strongest_first(cls, network: Network, nodes: dict[str, dict], weights: list[int], chosen: bytes | None,
                        attributes: dict) -> Graph:
        """The graph whose links are the edges of `network` of a positive weight (`weights`, one per edge),
        listed strongest first."""
        ordered = list(compress(network.key_order, map(weights.__getitem__, network.key_order)))
        ordered.sort(key=weights.__getitem__, reverse=True)  # stable: equal weights stay in the order of their keys
        return cls(network, nodes, ordered, list(map(weights.__getitem__, ordered)), chosen, attributes)

    def links(self) -> Iterator[tuple[str, str, dict]]:
        """(source, target, {weight, projects, key}) per link, in the order listed."""
        names, network = self.network.names, self.network
        for edge, weight in zip(self.edges, self.weights):
            yield (names[network.a[edge]], names[network.b[edge]],
                   {"weight": weight, "projects": network.projects_of(edge, self.chosen), "key": network.keys[edge]})

    def ends(self) -> Iterator[tuple[int, int]]:
        """The positions in `network.names` of each link's two ends, in the order listed."""
        return zip(map(self.network.a.__getitem__, self.edges), map(self.network.b.__getitem__, self.edges))

    def page(self, offset: int, limit: int | None) -> Graph:
        """Every node, and the links from the `offset`-th (0 for the strongest), at most `limit` of them (None: all);
        the attributes say which slice it is (`offset`, `limit`) of how many links (`links`)."""
        end = None if limit is None else offset + limit
        attributes = {**self.attributes, "offset": offset, **({} if limit is None else {"limit": limit})}
        return replace(self, edges=self.edges[offset:end], weights=self.weights[offset:end], attributes=attributes)

    def to_networkx(self, flat: bool = False) -> nx.Graph:
        """The graph for networkx's writers and readers; `flat`: every value a scalar, as GraphML and GEXF require
        (a link's projects one string of IRIs separated by spaces; attributes without a value left out)."""
        g = nx.Graph()
        g.graph.update({k: v for k, v in self.attributes.items() if v is not None})
        for node, data in self.nodes.items():
            g.add_node(node, **({k: v for k, v in data.items() if v is not None} if flat else data))
        for a, b, data in self.links():
            if flat:
                data["projects"] = " ".join(data["projects"])
            g.add_edge(a, b, **data)
        return g
