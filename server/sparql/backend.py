"""What the app knows of the KG it serves: the build's identity, and a way to run queries on it.

An embedded store is queried in threads of the worker (server.sparql.runner: light queries in the request thread,
heavy ones in a bounded pool); a remote SPARQL server (kg.store.remote) is asked over HTTP from the request thread,
the query timeout being the HTTP timeout and, for Virtuoso, the server's own."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kg.errors import InputError, KGError, StoreTimeout
from kg.publish.description import bindings
from kg.store.remote import RemoteStore
from kg.store.builds import current_build
from kg.store.embedded import KGStore

from .cost import Cost
from .executor import Answer, QueryJob, execute_remote
from .runner import Runner
from .watchdog import Watchdog, log_only


class BackendError(Exception):
    """A query the app itself sent failed (timeout, memory bound, bug in the query): status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


LIGHT_THREADS = 4


@dataclass(frozen=True)
class Limits:
    """How queries on an embedded store are run (server.sparql.runner): the timeout, the heavy queries' slots
    and how many may run or wait at once per worker, the most bytes an answer takes, and the app's watchdog
    (server.sparql.watchdog: one per app, shared by the builds it serves in turn)."""

    timeout: float = 30.0
    slots: int = 2
    max_heavy: int = 4
    max_bytes: int = 0
    watchdog: Watchdog = field(default_factory=lambda: Watchdog(log_only))

    @classmethod
    def from_config(cls, cfg) -> Limits:
        # Heavy queries running and waiting may hold all request threads but LIGHT_THREADS, kept for light ones.
        return cls(cfg["QUERY_TIMEOUT"], cfg["SLOW_QUERIES"], max(cfg["SLOW_QUERIES"], cfg["THREADS"] - LIGHT_THREADS),
                   cfg["MAX_RESULT_BYTES"], cfg["KG_WATCHDOG"])


@dataclass
class Backend:
    open_store: Callable[[], KGStore] | None  # opened on the first query, in the worker process
    build_id: str
    created: datetime
    triples: int
    graph_sizes: dict[str, int]
    timeout: float
    limits: Limits = field(default_factory=Limits)
    folder: Path | None = None  # where the build published (dumps, network files, the site's figures); None: nowhere
    remote: RemoteStore | None = None  # a SPARQL server fronted: queries go to it from the request thread
    runner: Runner | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.remote is None:
            limits = self.limits
            self.runner = Runner(self.open_store, limits.timeout, limits.watchdog, limits.slots, limits.max_heavy,
                                 limits.max_bytes)

    @classmethod
    def for_path(cls, link: Path, limits: Limits) -> Backend:
        """Serve an on-disk build, opened read-only by the worker."""
        target, info = current_build(link)
        return cls(
            open_store=lambda: KGStore.open_build(target, info),
            build_id=info.id,
            created=datetime.fromisoformat(info.created),
            triples=info.triples,
            graph_sizes=info.graph_sizes,
            timeout=limits.timeout,
            limits=limits,
            folder=target,
        )

    @classmethod
    def for_url(cls, url: str, timeout: float, kind: str | None = None, graph_store: str | None = None,
                update: str | None = None, follow_interval: float = 0.0) -> Backend:
        """Front the SPARQL server whose query endpoint is `url`, as `kg build --store URL` filled it; a server that
        switches builds atomically is asked which build it serves at most once per `follow_interval` seconds."""
        store = RemoteStore.connect(url, kind, graph_store, timeout=timeout, update=update, follow_interval=follow_interval)
        return cls.for_remote(store, timeout)

    @classmethod
    def for_remote(cls, store: RemoteStore, timeout: float) -> Backend:
        info = store.info
        if info is None:
            raise InputError("this SPARQL server holds no complete build of the KG: run `kg build --store URL`", store.url)
        store.timeout = timeout
        return cls(None, info.id, datetime.fromisoformat(info.created), info.triples, info.graph_sizes, timeout, remote=store)

    @classmethod
    def for_store(cls, store: KGStore, limits: Limits, published: str | Path | None = None) -> Backend:
        """Serve a store already open in this process (built in memory, as tests do); forked workers share it.
        `published` is where its build published (kg.build.Outcome.published); else the store's own folder."""
        if isinstance(store, RemoteStore):
            return cls.for_remote(store, limits.timeout)
        created = datetime.fromisoformat(store.info.created) if store.info else datetime.now(timezone.utc).replace(microsecond=0)
        build_id = store.info.id if store.info else "memory-" + created.strftime("%Y%m%dT%H%M%SZ") + f"-{id(store):x}"
        folder = Path(published) if published is not None else store.path
        return cls(lambda: store, build_id, created, len(store), store.graph_sizes(), limits.timeout, limits, folder)

    def run(self, job: QueryJob, cost: Cost | None = None) -> Answer:
        """Answer a query job; `cost` overrides the class read from its text (the app's own pages know theirs)."""
        if self.remote is not None:
            return execute_remote(self.remote, job)
        return self.runner.run(job, cost)

    def select(self, text: str) -> list[dict[str, dict]]:
        """Rows of a SELECT run like any endpoint query (same threads, timeout and bounds), as SPARQL JSON
        bindings: {variable: {"type": ..., "value": ..., "xml:lang"/"datatype": ...}}. For the app's own pages.
        From a remote store, every row: pages past its row limit."""
        if self.remote is not None:
            return self._remote_select(text)
        answer = self.run(QueryJob(text=text, result_format="json"))
        if answer.status != 200:
            raise BackendError(answer.status, answer.body.decode("utf-8", "replace").strip())
        return json.loads(answer.body)["results"]["bindings"]

    def ask(self, text: str) -> bool:
        answer = self.run(QueryJob(text=text, result_format="json"))
        if answer.status != 200:
            raise BackendError(answer.status, answer.body.decode("utf-8", "replace").strip())
        return bool(json.loads(answer.body)["boolean"])

    def graph(self, text: str, format_name: str) -> bytes:
        """A CONSTRUCT/DESCRIBE serialised in one of kg.queries.run.GRAPH_FORMATS (by name)."""
        job = QueryJob(text=text, graph_format=format_name)
        # A page must show all of a graph: from a remote store, in as many requests as its row limit needs.
        answer = self.run(job) if self.remote is None else execute_remote(self.remote, job, page=True)
        if answer.status != 200:
            raise BackendError(answer.status, answer.body.decode("utf-8", "replace").strip())
        if answer.store_limit is not None:  # a DESCRIBE, which cannot be paged
            raise BackendError(502, f"the store cut the graph at its limit of {answer.store_limit} rows")
        return answer.body

    def _remote_select(self, text: str) -> list[dict[str, dict]]:
        try:
            return bindings(self.remote.select(text))
        except StoreTimeout as e:
            raise BackendError(503, e.message) from None
        except KGError as e:  # logged by the caller's handler; the message names no URL of the store
            raise BackendError(502, e.message) from None

    def close(self) -> None:
        """Let go of the store; an on-disk one closes once the queries still running on it are done with it."""
        if self.runner is not None:
            self.runner.close()
