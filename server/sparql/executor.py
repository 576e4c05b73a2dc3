"""Query execution in a child process that can be stopped.

Oxigraph offers no way to cancel a running query from Python, so each server worker hands its queries to one
child process and waits at most the query timeout. A query that overruns, or that exhausts the child's memory
bound, ends with the child (SIGKILL / allocation failure): the CPU is free again at once, the client gets a
503 that says why, and the next query starts a fresh child. Results are serialised in the child, so only bytes
cross the pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
import resource
import signal
from dataclasses import dataclass
from typing import Callable

import pyoxigraph as ox

from kg.queries import run as q
from kg.errors import QueryError, StoreError, StoreTimeout, TruncatedResults
from kg.sparql_text import with_row_limit


@dataclass(frozen=True)
class QueryJob:
    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    result_format: str | None = None  # format name for SELECT/ASK, None when the client accepts none
    graph_format: str | None = None  # format name for CONSTRUCT/DESCRIBE
    row_limit: int = 0  # most solutions returned; 0: no limit
    base_iri: str | None = None  # relative IRIs in the query resolve against it (the endpoint's URL)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str = "text/plain"
    kind: str = ""
    truncated: bool = False  # the row limit cut solutions off: more came back than were returned
    retry_after: int | None = None  # seconds, for a 503
    store_limit: int | None = None  # a remote store cut the result at this many rows (its own limit, not ours)


def execute(store, job: QueryJob, **store_options) -> Answer:
    """Run one query job against `store` and serialise the answer (in the child, or in-process). `store_options`
    go to the store's query method with the job's own."""
    text, limited = (job.text, False)
    if job.row_limit:
        capped, limited = with_row_limit(job.text, job.row_limit)
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
    except TruncatedResults as e:  # a remote store's own row limit: the client gets what it sent, and is told
        result, store_limit = e.result, e.limit
    except QueryError as e:
        if limited:  # the capped text must never be blamed for an error: judge the client's own text
            return execute(store, QueryJob(**{**job.__dict__, "row_limit": 0}), **store_options)
        return Answer(400, _message(f"{e.where}: {e.message}" if e.where else e.message))
    kind = q.kind_of(result)
    name = job.graph_format if kind == "graph" else job.result_format
    formats = q.formats_for(kind)
    if name is None or name not in formats:
        offered = ", ".join(f.media_type for n, f in formats.items() if n != "table")
        return Answer(406, _message(f"the query returns {'a graph' if kind == 'graph' else 'solutions'}; none of the accepted media types fits; available: {offered}"))
    fmt = formats[name]
    truncated = False
    try:
        if kind == "select" and limited:
            result, truncated = _first(result, job.row_limit)
        body = q.serialize(result, fmt)
    except OSError as e:
        return Answer(500, _message(f"the query failed while running: {e}"))
    return Answer(200, body, fmt.media_type, kind, truncated, store_limit=store_limit)


def _first(solutions, limit: int):
    """The first `limit` solutions, and whether there were more (the capped query asks for one more than it
    returns). They pass through TSV, whose one line per solution keeps every term as it was (IRIs, blank node
    labels, language tags, datatypes, escaped newlines), so the cut is exact in whatever format is written next."""
    lines = solutions.serialize(format=ox.QueryResultsFormat.TSV).split(b"\n")
    rows = lines[1:-1]  # a header line first; a newline ends every line
    kept = b"\n".join([lines[0], *rows[:limit]]) + b"\n"
    return ox.parse_query_results(kept, ox.QueryResultsFormat.TSV), len(rows) > limit


def execute_remote(store, job: QueryJob, page: bool = False) -> Answer:
    """Run a job on a remote store (kg.store.remote) in this process: no child to kill, the store's own timeout
    stops the query. Failures of the store are the store's: 502, or 503 for time; the operator's log gets the URL.
    Without `page`, as for clients' queries, a result cut by the store's row limit is answered as it came, with
    `store_limit` set (KG-Results-Truncated), rather than completed in pages that cost a query each."""
    try:
        return execute(store, job, page=page)
    except StoreTimeout as e:
        print(f"kg serve: {e}", file=sys.stderr)
        return Answer(503, _message(f"the query ran longer than the {store.timeout:g} s limit and was stopped; narrow "
                                    "it down or add a LIMIT"), retry_after=5)
    except StoreError as e:
        print(f"kg serve: {e}", file=sys.stderr)
        return Answer(502, _message(f"the SPARQL store behind this endpoint failed to answer: {e.message}"))


def _message(text: str) -> bytes:
    return (text.rstrip() + "\n").encode("utf-8")


class Runner:
    """Runs jobs in a child process, stopping any job that outlasts `timeout` seconds."""

    def __init__(self, open_store: Callable[[], object], timeout: float, memory_limit: int = 0):
        self.open_store = open_store
        self.timeout = timeout
        self.memory_limit = memory_limit  # bytes of address space for the child; 0: no bound
        self._context = multiprocessing.get_context("fork")
        self._child = None
        self._conn = None

    def run(self, job: QueryJob) -> Answer:
        if self._child is None or not self._child.is_alive():
            self._start()
        try:
            self._conn.send(job)
            if self._conn.poll(self.timeout):
                return self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            self._stop()
            # The child died without answering: its memory bound (the usual cause) or a crash; either way it is gone.
            return Answer(503, _message("the query process ended before answering (most likely the query needed more "
                                        "memory than this endpoint allows); the next query starts a fresh one"))
        self._stop()
        return Answer(
            503,
            _message(f"the query ran longer than the {self.timeout:g} s limit and was stopped; narrow it down or add a LIMIT"),
            retry_after=5,
        )

    def close(self) -> None:
        self._stop()

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._child = self._context.Process(target=_child_main, args=(child, self.open_store, self.memory_limit), daemon=True)
        self._child.start()
        child.close()
        self._conn = parent

    def _stop(self) -> None:
        if self._child is not None and self._child.is_alive():
            os.kill(self._child.pid, signal.SIGKILL)
        if self._child is not None:
            self._child.join(5)
        if self._conn is not None:
            self._conn.close()
        self._child = self._conn = None


def _child_main(conn, open_store, memory_limit: int) -> None:
    # A forked child holds copies of every descriptor of its parent: the server's listening socket, client
    # connections, a browser driver's pipes in tests. Held here, they keep peers from ever seeing them closed.
    os.closerange(3, conn.fileno())
    os.closerange(conn.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    store = open_store()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = execute(store, job)
        except MemoryError:
            answer = Answer(503, _message("the query used more memory than this endpoint allows and was stopped"))
        except Exception as e:  # logged for the operator; the client gets a message, never a traceback
            traceback.print_exc(file=sys.stderr)
            answer = Answer(500, _message(f"internal error while running the query ({type(e).__name__}); it has been logged"))
        conn.send(answer)
