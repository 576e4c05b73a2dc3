"""The co-participation networks: organisations (or cities) linked by the projects they shared.

One job per module:
  materialise  at build time, derive the networks from the asserted data and write them as RDF into their own
               named graph (edges with their shared projects, per-project filter attributes, node measures);
  lookup       read a network back from a store with one look-up query;
  filters      parse the filter options (programme, fund, country, period) and cut a network down to them;
  ego          the network around one node, to depth 1 or 2: read with look-ups of its part, or cut from a network;
  measures     degree, weighted degree, betweenness, component and community, with networkx;
  export       GraphML, GEXF, CSV, graphology JSON and Cytoscape JSON, through networkx where it has a writer.

The `kg network` command and the server's /network both go through `network_graph` below.
See docs/network.md.
"""

from __future__ import annotations

from kg.namespaces import NETWORK_GRAPH  # noqa: F401 - where readers of the network expect it

KINDS = ("organisation", "city")


def network_graph(network, projects, filters, build: str | None = None):
    """The network of `network.kind` cut down to `filters`, with its measures, as a networkx graph.

    `network` is a lookup.Network, `projects` the lookup's projects (only read when `filters` filter), `filters`
    a filters.Filters. Without filters the measures come from the build (computed once on the whole network,
    with the build's budget for betweenness); with filters they are computed on the filtered network.
    """
    from kg.network import filters as f
    from kg.network import measures

    if filters:
        graph = f.graph(network, f.selected(projects, filters))
        measures.compute(graph, measures.REQUEST_BUDGET)
    else:
        graph = f.graph(network)
        for node, data in graph.nodes(data=True):
            data.update({name: network.nodes[node].get(name) for name in measures.MEASURES})
        graph.graph["betweenness_pivots"] = measures.pivots(
            graph.number_of_nodes(), graph.number_of_edges(), measures.BUILD_BUDGET
        )
        graph.graph["communities_by"] = measures.communities_by(graph.number_of_edges())
    graph.graph.update({"kind": network.kind, **filters.as_dict()})
    if build is not None:
        graph.graph["build"] = build
    return graph
