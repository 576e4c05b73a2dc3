"""Run SPARQL queries on the store and write their results in the standard formats.

Output formats are a registry of media types and serialisers, shared by the `kg` command and the server:
SELECT/ASK results go through Oxigraph's SPARQL results writers, graphs through its RDF writers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import QueryError
from kg.namespaces import PREFIXES, compact


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    writer: object  # an ox.QueryResultsFormat or ox.RdfFormat, or None for the text table


RESULT_FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/sparql-results+json", "srj", ox.QueryResultsFormat.JSON),
        Format("xml", "application/sparql-results+xml", "srx", ox.QueryResultsFormat.XML),
        Format("csv", "text/csv", "csv", ox.QueryResultsFormat.CSV),
        Format("tsv", "text/tab-separated-values", "tsv", ox.QueryResultsFormat.TSV),
        Format("table", "text/plain", "txt", None),
    )
}
GRAPH_FORMATS = {
    f.name: f
    for f in (
        Format("turtle", "text/turtle", "ttl", ox.RdfFormat.TURTLE),
        Format("ntriples", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
        Format("rdfxml", "application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML),
        Format("jsonld", "application/ld+json", "jsonld", ox.RdfFormat.JSON_LD),
        Format("table", "text/plain", "txt", None),
    )
}
# Asking for a graph format on a SELECT (or the reverse) falls back to the kind's natural format.
DEFAULT_RESULT_FORMAT = "json"
DEFAULT_GRAPH_FORMAT = "turtle"

def content_type(media_type: str) -> str:
    """The Content-Type for a media type: text formats (all of ours are UTF-8) say so."""
    if media_type.startswith("text/") or media_type.endswith(("json", "xml")):
        return f"{media_type}; charset=utf-8"
    return media_type


_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.S)


def run(store, text: str, **options):
    """Execute a query; a syntax error becomes a QueryError naming line and column."""
    try:
        return store.query(text, **options)
    except SyntaxError as e:
        raise _query_error(str(e)) from None
    except OSError as e:
        raise QueryError(f"the query could not be evaluated: {e}") from None


def _query_error(message: str) -> QueryError:
    m = _POSITION.match(message)
    if m:
        return QueryError(m.group(3), f"query line {m.group(1)} column {m.group(2)}")
    return QueryError(message, "query")


def kind_of(result) -> str:
    if isinstance(result, ox.QuerySolutions):
        return "select"
    if isinstance(result, ox.QueryBoolean):
        return "ask"
    return "graph"


def formats_for(kind: str) -> dict[str, Format]:
    return GRAPH_FORMATS if kind == "graph" else RESULT_FORMATS


def serialize(result, fmt: Format) -> bytes:
    """Write a query result in `fmt`, which must be one of formats_for(kind_of(result))."""
    if fmt.writer is None:
        return render_table(result).encode("utf-8")
    if isinstance(fmt.writer, ox.RdfFormat):
        return ox.serialize(result, format=fmt.writer, prefixes=PREFIXES if fmt.name == "turtle" else None)
    return result.serialize(format=fmt.writer)


def render_table(result) -> str:
    """A plain-text table for people at a terminal; IRIs shortened with the KG's prefixes."""
    kind = kind_of(result)
    if kind == "ask":
        return ("true" if bool(result) else "false") + "\n"
    if kind == "graph":
        rows = [[short(t.subject), short(t.predicate), short(t.object)] for t in result]
        header = ["subject", "predicate", "object"]
    else:
        header = [v.value for v in result.variables]
        rows = [[short(solution[v]) if solution[v] is not None else "" for v in result.variables] for solution in result]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(header), "-+-".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def short(term) -> str:
    if isinstance(term, ox.NamedNode):
        return compact(term.value) or f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"{term.value}@{term.language}"
        return term.value
    return str(term)
