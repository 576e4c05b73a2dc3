"""The co-participation networks: organisations (or cities) linked by the projects they shared.

One job per module:
  materialise  at build time, derive the networks from the asserted data and write them as RDF into their own
               named graph (edges with their shared projects, per-project filter attributes, node measures);
  lookup       read a network back from a store with one look-up query;
  filters      parse the filter options (programme, fund, country, period) and cut a network down to them;
  ego          the network around one node, to depth 1 or 2: read with look-ups of its part, or cut from a network;
  measures     degree, weighted degree, betweenness, component and community, with igraph (and networkx's Louvain
               for small networks);
  graph        a network as answered: nodes with their attributes, links strongest first, and pages of them;
  export       GraphML, GEXF, CSV, graphology JSON and Cytoscape JSON, through networkx where it has a writer.

The `kg network` command and the server's /network both go through `network_graph` below.
See docs/network.md.
"""

from __future__ import annotations

from kg.namespaces import NETWORK_GRAPH  # noqa: F401 - where readers of the network expect it

KINDS = ("organisation", "city")


def network_graph(network, projects, filters, build: str | None = None):
    """The network of `network.kind` cut down to `filters`, with its measures, as a kg.network.graph.Graph.

    `network` is a lookup.Network, `projects` the lookup's projects (only read when `filters` filter), `filters`
    a filters.Filters. Without filters the measures come from the build (computed once on the whole network,
    with the build's budget for betweenness); with filters they are computed on the filtered network.
    """
    from itertools import compress

    from kg.network import filters as f
    from kg.network import measures
    from kg.network.graph import Graph

    chosen = network.chosen(f.selected(projects, filters)) if filters else None
    weights = network.weights(chosen)
    a, b = list(compress(network.a, weights)), list(compress(network.b, weights))
    ends = sorted(set(a).union(b))  # positions in network.names, so sorted by IRI too
    nodes = [network.names[i] for i in ends]
    if filters:
        position = dict(zip(ends, range(len(ends))))
        pairs = list(zip(map(position.__getitem__, a), map(position.__getitem__, b)))
        values, attributes = measures.compute(nodes, pairs, list(filter(None, weights)), measures.REQUEST_BUDGET)
    else:
        values = {name: [network.nodes.get(node, {}).get(name) for node in nodes] for name in measures.MEASURES}
        attributes = {"betweenness_pivots": measures.pivots(len(nodes), len(a), measures.BUILD_BUDGET),
                      "communities_by": measures.communities_by(len(a))}
    described = {}
    for i, node in enumerate(nodes):
        known = network.nodes.get(node, {})
        described[node] = {**{k: known.get(k) for k in ("label", "kind", "country", "city")},
                           **{name: values[name][i] for name in measures.MEASURES}}
    attributes.update({"kind": network.kind, **filters.as_dict(), "links": len(a)})
    if build is not None:
        attributes["build"] = build
    return Graph.strongest_first(network, described, weights, chosen, attributes)
