"""One query, run in a thread of the web worker and written within its bounds: the timeout, the row limit and the
byte limit.

pyoxigraph releases the GIL while it evaluates and while it writes a result (measured on 0.5.13: a thread counting
in Python kept its full speed beside an aggregate being iterated or serialised; bench/results/endpoint.md), so the
worker's other threads go on answering. It cannot be told to stop, though: a query is stopped between two chunks of
its output (the writer below raises), and one stuck inside a blocking operator (a sort, a group, a count) is left
to server.sparql.watchdog once its client has had the 503.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import QueryError, StoreError, StoreTimeout, TruncatedResults
from kg.queries import run as q
from kg.sparql_text import with_row_limit
from kg.store.remote import Verbatim

# A solution sequence and a graph are first written in a line-based form (one solution, one triple per line), so
# that a cut made by the row or byte limit falls between two whole rows, then re-read and written in the asked form.
_LINES = {"select": ox.QueryResultsFormat.TSV, "graph": ox.RdfFormat.N_TRIPLES}


@dataclass(frozen=True)
class QueryJob:
    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    result_format: str | None = None  # format name for SELECT/ASK, None when the client accepts none
    graph_format: str | None = None  # format name for CONSTRUCT/DESCRIBE
    row_limit: int = 0  # most solutions returned; 0: no limit
    base_iri: str | None = None  # relative IRIs in the query resolve against it (the endpoint's URL)
    # The text's tokens (kg.sparql_text.tokens) when the caller has read them already: each is read once.
    tokens: list | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str = "text/plain"
    kind: str = ""
    truncated: bool = False  # the row or byte limit cut solutions off: more came back than were returned
    retry_after: int | None = None  # seconds, for a 503
    store_limit: int | None = None  # a remote store cut the result at this many rows (its own limit, not ours)


@dataclass(frozen=True)
class Bounds:
    """What one run may take: until `deadline` (time.monotonic(); None: no end), `max_bytes` of output (0: any)."""

    deadline: float | None = None
    max_bytes: int = 0
    stopped: object = None  # a threading.Event set when the run's client has gone (its 503 was sent)


class Overrun(Exception):
    """Raised from inside pyoxigraph's writer: the run passed its deadline, or its client is gone."""


class _Full(Exception):
    """Raised from inside pyoxigraph's writer: the output reached its byte limit."""


class _Writer:
    """The file pyoxigraph writes a result into (in chunks of about 8 KB): looks at the clock and the byte count
    on each chunk, so a streaming query stops between rows."""

    __slots__ = ("parts", "size", "bounds")

    def __init__(self, bounds: Bounds):
        self.parts, self.size, self.bounds = [], 0, bounds

    def write(self, chunk) -> int:
        b = self.bounds
        if (b.deadline is not None and time.monotonic() > b.deadline) or (b.stopped is not None and b.stopped.is_set()):
            raise Overrun()
        self.parts.append(bytes(chunk))
        self.size += len(chunk)
        if b.max_bytes and self.size > b.max_bytes:
            raise _Full()
        return len(chunk)

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self.parts)


def execute(store, job: QueryJob, bounds: Bounds = Bounds(), **store_options) -> Answer:
    """Run one query job against `store` and write the answer. Raises Overrun when `bounds` says to stop; the
    caller answers that with its 503. `store_options` go to the store's query method with the job's own."""
    text, limited = (job.text, False)
    if job.row_limit:
        capped, limited = with_row_limit(job.text, job.row_limit, job.tokens)
        text = capped if limited else job.text
    options = {"base_iri": job.base_iri} if job.base_iri else {}
    if job.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        options["use_default_graph_as_union"] = False
    if job.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    store_limit = None
    try:
        result = q.run(store, text, **options, **store_options)
        if isinstance(result, Verbatim):  # a remote server's answer as it came (execute_remote)
            if not (limited and result.form == "select" and _most_solutions(result) > job.row_limit):
                return Answer(200, result.body, result.media_type, result.form)
            # Past our row limit: asked again and parsed, to be cut between rows as any answer is.
            result = q.run(store, text, **options, **{**store_options, "verbatim": None})
    except TruncatedResults as e:  # a remote store's own row limit: the client gets what it sent, and is told
        result, store_limit = e.result, e.limit
    except QueryError as e:
        if limited:  # the capped text must never be blamed for an error: judge the client's own text
            return execute(store, QueryJob(**{**job.__dict__, "row_limit": 0, "tokens": None}), bounds, **store_options)
        return Answer(400, message(f"{e.where}: {e.message}" if e.where else e.message))
    kind = q.kind_of(result)
    name = job.graph_format if kind == "graph" else job.result_format
    formats = q.formats_for(kind)
    if name is None or name not in formats:
        offered = ", ".join(f.media_type for n, f in formats.items() if n != "table")
        return Answer(406, message(f"the query returns {'a graph' if kind == 'graph' else 'solutions'}; none of the accepted media types fits; available: {offered}"))
    fmt = formats[name]
    try:
        if kind == "ask" or store_limit is not None:  # one boolean; or rows a remote store already cut
            return Answer(200, q.serialize(result, fmt), fmt.media_type, kind, store_limit=store_limit)
        rows_limit = job.row_limit if kind == "select" and limited else 0
        result, truncated = _bounded(result, kind, bounds, rows_limit)
        body = q.serialize(result, fmt)
    except OSError as e:
        return Answer(500, message(f"the query failed while running: {e}"))
    return Answer(200, body, fmt.media_type, kind, truncated)


def _bounded(result, kind: str, bounds: Bounds, row_limit: int):
    """The result evaluated within `bounds`, cut to `row_limit` rows (0: all) and to the byte limit, as a result
    that can be written in any format of its kind; and whether anything was cut."""
    lines_format = _LINES[kind]
    out = _Writer(bounds)
    full = False
    try:
        if kind == "graph":
            ox.serialize(result, out, format=lines_format)
        else:
            result.serialize(out, format=lines_format)
    except _Full:
        full = True
    data = out.value()
    if full:
        data = data[: bounds.max_bytes]
        data = data[: data.rfind(b"\n") + 1]  # the rows written whole within the limit
    header = b""
    if kind == "select":
        end = data.find(b"\n") + 1
        header, data = data[:end], data[end:]
        if not header:  # cut before the header was whole: nothing to return but the variables
            header = ("\t".join(str(v) for v in result.variables) + "\n").encode("utf-8")
    cut = full
    if row_limit:
        rows = data.split(b"\n")[:-1]
        if len(rows) > row_limit:
            data, cut = b"".join(r + b"\n" for r in rows[:row_limit]), True
    if kind == "graph":
        return ox.parse(data, format=lines_format), cut
    return ox.parse_query_results(header + data, lines_format), cut


def _most_solutions(answer: Verbatim) -> int:
    """At least as many as the solutions in a SPARQL results document; exactly so but for a CSV value holding a
    line break. Counted without parsing where the format allows: an XML document escapes every `<` of a value,
    and TSV writes one solution a line."""
    if answer.media_type == "application/sparql-results+json":
        return len(json.loads(answer.body)["results"]["bindings"])
    if answer.media_type == "application/sparql-results+xml":
        return answer.body.count(b"<result>")
    lines = answer.body.count(b"\n") + (not answer.body.endswith(b"\n"))
    return lines - 1  # the header


def execute_remote(store, job: QueryJob, page: bool = False) -> Answer:
    """Run a job on a remote store (kg.store.remote) in this thread: the store's own timeout stops the query.
    Failures of the store are the store's: 502, or 503 for time; the operator's log gets the URL. Without `page`,
    as for clients' queries, a result cut by the store's row limit is answered as it came, with `store_limit` set
    (KG-Results-Truncated), rather than completed in pages that cost a query each. Where the server writes the
    format asked for as this endpoint would, its answer is passed on as it came (kg.store.remote.Verbatim),
    unless our row limit cuts it."""
    formats = {"select": q.RESULT_FORMATS.get(job.result_format), "ask": q.RESULT_FORMATS.get(job.result_format),
               "graph": q.GRAPH_FORMATS.get(job.graph_format)}
    verbatim = {form: f.media_type for form, f in formats.items() if f is not None and f.writer is not None}
    try:
        return execute(store, job, page=page, verbatim=verbatim)
    except StoreTimeout as e:
        print(f"kg serve: {e}", file=sys.stderr)
        return timed_out(store.timeout)
    except StoreError as e:
        print(f"kg serve: {e}", file=sys.stderr)
        return Answer(502, message(f"the SPARQL store behind this endpoint failed to answer: {e.message}"))


def timed_out(timeout: float) -> Answer:
    return Answer(503, message(f"the query ran longer than the {timeout:g} s limit and was stopped; narrow it down "
                                "or add a LIMIT"), retry_after=5)


def message(text: str) -> bytes:
    return (text.rstrip() + "\n").encode("utf-8")

