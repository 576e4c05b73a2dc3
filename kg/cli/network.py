"""`kg network`: the co-participation network of organisations or cities, filtered, in a graph format."""

from __future__ import annotations

import sys
from pathlib import Path

from kg.errors import InputError

from .options import add_store_options, location, open_store


def add_parser(sub) -> None:
    p = sub.add_parser(
        "network", help="export the co-participation network of organisations or cities (see docs/network.md)",
        description="Export the co-participation network materialised by `kg build`: organisations (or cities) linked "
        "by the projects they shared, with degree, weighted degree, betweenness, component and community per node. "
        "Filters select projects; an edge's weight is the number of selected projects its ends shared.",
    )
    p.add_argument("--kind", choices=["organisation", "city"], default="organisation", help="whose network (default: organisation)")
    p.add_argument("--format", choices=["graphml", "gexf", "csv", "json", "cytoscape"], default="graphml",
                   help="graphml, gexf (1.2), csv (two files: PATH-edges.csv and PATH-nodes.csv), json (graphology) or cytoscape (default: graphml)")
    p.add_argument("--programme", metavar="IRI", help="projects funded under this funding level or any level below it (IRI or programme:slug)")
    p.add_argument("--fund", metavar="IRI", help="projects funded under this fund (IRI or programme:slug)")
    p.add_argument("--country", metavar="IRI|ISO", help="projects with a participant in this country (ISO 3166-1 alpha-2 code or IRI)")
    p.add_argument("--from", dest="start", metavar="YEAR", help="projects that ran in or after YEAR")
    p.add_argument("--to", dest="end", metavar="YEAR", help="projects that ran in or before YEAR")
    p.add_argument("--ego", metavar="IRI", help="only the network around this organisation or city (IRI or organisation:slug)")
    p.add_argument("--depth", metavar="1|2", help="with --ego: its co-partners (1, the default) or theirs too (2)")
    p.add_argument("--output", "-o", metavar="PATH", default="-", help="file to write ('-', the default, for standard output; csv needs a PATH)")
    add_store_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from kg.namespaces import NETWORK_GRAPH
    from kg.network import ego as ego_option
    from kg.network import filters, lookup, network_graph
    from kg.network.export import FORMATS

    if args.format == "csv" and args.output == "-":
        raise InputError("csv writes two files (PATH-edges.csv and PATH-nodes.csv): give -o PATH", "--output")
    kg_store = open_store(args)
    if str(NETWORK_GRAPH) not in kg_store.named_graphs():
        raise InputError("this build has no co-participation network: run `kg build` again", str(location(args)))
    try:
        vocabulary = lookup.read_vocabulary(lookup.rows_of(kg_store.query(lookup.VOCABULARY_QUERY)))
        chosen = filters.parse(
            {"programme": args.programme, "fund": args.fund, "country": args.country, "from": args.start, "to": args.end},
            vocabulary,
        )
        ego = ego_option.parse(args.ego, args.depth)
    except filters.OptionError as e:
        raise InputError(e.message, "--" + e.option) from None
    network = lookup.read_network(args.kind, lookup.rows_of(kg_store.query(lookup.network_query(args.kind))))
    projects = lookup.read_projects(lookup.rows_of(kg_store.query(lookup.PROJECTS_QUERY))) if chosen else {}
    graph = network_graph(network, projects, chosen, build=kg_store.info.id if kg_store.info else None)
    if ego is not None:  # cut from the network the filters chose, as /network?ego= does
        try:
            graph = ego_option.cut(graph, ego)
        except ego_option.NotInNetwork as e:
            raise InputError(e.message, "--ego") from None
    if args.format == "csv":
        stem = args.output[: -len(".csv")] if args.output.endswith(".csv") else args.output
        outputs = [(Path(stem + "-edges.csv"), FORMATS["csv"]), (Path(stem + "-nodes.csv"), FORMATS["nodes-csv"])]
    else:
        outputs = [(None if args.output == "-" else Path(args.output), FORMATS[args.format])]
    for path, fmt in outputs:
        data = fmt.write(graph)
        if path is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path}: {len(graph.nodes)} nodes, {len(graph.edges)} edges", file=sys.stderr)
    return 0
