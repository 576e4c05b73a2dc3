"""What the app knows of the KG it serves: the build's identity, and a way to run queries on it.

An embedded store is queried in a child process that can be killed (server.sparql.executor); a remote SPARQL server
(kg.store.remote) is asked over HTTP from the worker itself, the query timeout being the HTTP timeout and, for
Virtuoso, the server's own."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from threading import Lock
from typing import Callable

from kg.errors import InputError, KGError, StoreTimeout
from kg.publish.site import bindings
from kg.store.remote import RemoteStore
from kg.store.builds import current_build
from kg.store.embedded import KGStore

from .executor import Answer, QueryJob, Runner, execute_remote


class BackendError(Exception):
    """A query the app itself sent failed (timeout, memory bound, bug in the query): status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Backend:
    open_store: Callable[[], KGStore] | None  # called in the query child process, never in the server worker itself
    build_id: str
    created: datetime
    triples: int
    graph_sizes: dict[str, int]
    timeout: float
    memory_limit: int = 0
    folder: Path | None = None  # where the build published (dumps, network files, the site's figures); None: nowhere
    remote: RemoteStore | None = None  # a SPARQL server fronted: queries go to it, no child process
    _runners: dict[int, Runner] = field(default_factory=dict, repr=False)
    # A backend replaced by a newer build keeps its query child until the queries running on it are answered.
    _lock: Lock = field(default_factory=Lock, repr=False)
    _running: int = field(default=0, repr=False)
    _retired: bool = field(default=False, repr=False)

    @classmethod
    def for_path(cls, link: Path, timeout: float, memory_limit: int = 0) -> Backend:
        """Serve an on-disk build; each query child opens it read-only."""
        target, info = current_build(link)
        return cls(
            open_store=lambda: KGStore.open_build(target, info),
            build_id=info.id,
            created=datetime.fromisoformat(info.created),
            triples=info.triples,
            graph_sizes=info.graph_sizes,
            timeout=timeout,
            memory_limit=memory_limit,
            folder=target,
        )

    @classmethod
    def for_url(cls, url: str, timeout: float, kind: str | None = None, graph_store: str | None = None) -> Backend:
        """Front the SPARQL server whose query endpoint is `url`, as `kg build --store URL` filled it."""
        return cls.for_remote(RemoteStore.connect(url, kind, graph_store, timeout=timeout), timeout)

    @classmethod
    def for_remote(cls, store: RemoteStore, timeout: float) -> Backend:
        info = store.info
        if info is None:
            raise InputError("this SPARQL server holds no complete build of the KG: run `kg build --store URL`", store.url)
        store.timeout = timeout
        return cls(None, info.id, datetime.fromisoformat(info.created), info.triples, info.graph_sizes, timeout, remote=store)

    @classmethod
    def for_store(cls, store: KGStore, timeout: float, memory_limit: int = 0, published: str | Path | None = None) -> Backend:
        """Serve a store already open in this process (built in memory, as tests do); children inherit it.
        `published` is where its build published (kg.build.Outcome.published); else the store's own folder."""
        if isinstance(store, RemoteStore):
            return cls.for_remote(store, timeout)
        created = datetime.fromisoformat(store.info.created) if store.info else datetime.now(timezone.utc).replace(microsecond=0)
        build_id = store.info.id if store.info else "memory-" + created.strftime("%Y%m%dT%H%M%SZ") + f"-{id(store):x}"
        folder = Path(published) if published is not None else store.path
        return cls(lambda: store, build_id, created, len(store), store.graph_sizes(), timeout, memory_limit, folder)

    def run(self, job: QueryJob) -> Answer:
        if self.remote is not None:
            return execute_remote(self.remote, job)
        with self._lock:
            self._running += 1
        try:
            # One runner per process: gunicorn forks its workers after the app is created.
            runner = self._runners.get(os.getpid())
            if runner is None:
                runner = self._runners[os.getpid()] = Runner(self.open_store, self.timeout, self.memory_limit)
            return runner.run(job)
        finally:
            with self._lock:
                self._running -= 1
                done = self._retired and not self._running
            if done:
                self.close()

    def retire(self) -> None:
        """No new request will use this backend: stop its query child once the queries on it are answered."""
        with self._lock:
            self._retired = True
            idle = not self._running
        if idle:
            self.close()

    def select(self, text: str) -> list[dict[str, dict]]:
        """Rows of a SELECT run like any endpoint query (same child, timeout and memory bound), as SPARQL JSON
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
        runner = self._runners.pop(os.getpid(), None)
        if runner is not None:
            runner.close()
