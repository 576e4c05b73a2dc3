"""Network file formats: a registry of small writers keyed by name, each with its media type and extension.

Each writes a kg.network.graph.Graph. GraphML, GEXF and Cytoscape go through networkx's own writers, on a networkx
graph of what is written; the graphology JSON and the CSVs are written straight from the Graph. The JSON formats
are what web libraries read:
  graphml    GraphML (networkx, Gephi, yEd, igraph); served as application/xml, there being no registered type
  gexf       GEXF 1.2 (the 1.2draft namespace networkx and Gephi read and write), application/gexf+xml
  json       graphology's serialisation format, read by sigma.js and graphology.from()/.import()
  cytoscape  cytoscape.js elements (networkx.cytoscape_data)
  csv        the edge list: source, target, weight, projects, key, source_label, target_label
  nodes-csv  the node list: id, label, kind, country, city and the measures (and `hops` in an ego network)
In the flat formats (GraphML, GEXF, CSV) an edge's shared projects are one string of IRIs separated by spaces;
attributes with no value (a city's city) are left out rather than written empty. The graphology JSON and the edge
list list the links in the Graph's order, strongest first; networkx's writers list them node by node.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Callable

import networkx as nx

from kg.network.graph import Graph
from kg.network.measures import MEASURES

NODE_FIELDS = ("label", "kind", "country", "city", *MEASURES)
EDGE_FIELDS = ("weight", "projects", "key")


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    write: Callable[[Graph], bytes]


def graphml(graph: Graph) -> bytes:
    out = io.BytesIO()
    nx.write_graphml(graph.to_networkx(flat=True), out, encoding="utf-8", prettyprint=False)
    return out.getvalue()


def gexf(graph: Graph) -> bytes:
    flat = graph.to_networkx(flat=True)
    for a, b, data in flat.edges(data=True):
        data["id"] = data.pop("key")  # GEXF edges have an id of their own: the co-participation's IRI
    out = io.BytesIO()
    nx.write_gexf(flat, out, encoding="utf-8", prettyprint=False, version="1.2draft")
    return out.getvalue()


def graphology(graph: Graph) -> bytes:
    document = {
        "attributes": dict(graph.attributes),
        "options": {"type": "undirected", "multi": False, "allowSelfLoops": False},
        "nodes": [{"key": node, "attributes": data} for node, data in graph.nodes.items()],
        "edges": [
            {"key": data["key"], "source": a, "target": b, "undirected": True,
             "attributes": {"weight": data["weight"], "projects": data["projects"]}}
            for a, b, data in graph.links()
        ],
    }
    return _json(document)


def cytoscape(graph: Graph) -> bytes:
    return _json(nx.cytoscape_data(graph.to_networkx()))


def _json(document) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def edges_csv(graph: Graph) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source", "target", "weight", "projects", "key", "source_label", "target_label"])
    for a, b, data in graph.links():
        writer.writerow([a, b, data["weight"], " ".join(data["projects"]), data["key"],
                         graph.nodes[a].get("label"), graph.nodes[b].get("label")])
    return out.getvalue().encode("utf-8")


def nodes_csv(graph: Graph) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = (*NODE_FIELDS, "hops") if "ego" in graph.attributes else NODE_FIELDS  # kg.network.ego: distance from the ego
    writer.writerow(["id", *fields])
    for node, data in graph.nodes.items():
        writer.writerow([node, *("" if data.get(k) is None else data[k] for k in fields)])
    return out.getvalue().encode("utf-8")


FORMATS = {
    f.name: f
    for f in (
        Format("graphml", "application/xml", "graphml", graphml),
        Format("gexf", "application/gexf+xml", "gexf", gexf),
        Format("json", "application/json", "json", graphology),
        Format("cytoscape", "application/json", "cyjs", cytoscape),
        Format("csv", "text/csv", "csv", edges_csv),
        Format("nodes-csv", "text/csv", "csv", nodes_csv),
    )
}
