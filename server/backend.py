"""What the app knows of the KG it serves: the build's identity, and a way to run queries on it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from threading import Lock
from typing import Callable

from kg.store import KGStore, current_build

from .executor import Answer, QueryJob, Runner


class BackendError(Exception):
    """A query the app itself sent failed (timeout, memory bound, bug in the query): status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Backend:
    open_store: Callable[[], KGStore]  # called in the query child process, never in the server worker itself
    build_id: str
    created: datetime
    triples: int
    graph_sizes: dict[str, int]
    timeout: float
    memory_limit: int = 0
    folder: Path | None = None  # the on-disk build's folder (dumps, network files); None for a store in memory
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
    def for_store(cls, store: KGStore, timeout: float, memory_limit: int = 0) -> Backend:
        """Serve a store already open in this process (built in memory, as tests do); children inherit it."""
        created = datetime.now(timezone.utc).replace(microsecond=0)
        build_id = store.info.id if store.info else "memory-" + created.strftime("%Y%m%dT%H%M%SZ") + f"-{id(store):x}"
        return cls(lambda: store, build_id, created, len(store), store.graph_sizes(), timeout, memory_limit, store.path)

    def run(self, job: QueryJob) -> Answer:
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
        bindings: {variable: {"type": ..., "value": ..., "xml:lang"/"datatype": ...}}. For the app's own pages."""
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
        """A CONSTRUCT/DESCRIBE serialised in one of kg.query.GRAPH_FORMATS (by name)."""
        answer = self.run(QueryJob(text=text, graph_format=format_name))
        if answer.status != 200:
            raise BackendError(answer.status, answer.body.decode("utf-8", "replace").strip())
        return answer.body

    def close(self) -> None:
        runner = self._runners.pop(os.getpid(), None)
        if runner is not None:
            runner.close()
