"""What the app knows of the KG it serves: the build's identity, and a way to run queries on it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kg.store import KGStore, current_build

from .executor import Answer, QueryJob, Runner


@dataclass
class Backend:
    open_store: Callable[[], KGStore]  # called in the query child process, never in the server worker itself
    build_id: str
    created: datetime
    triples: int
    graph_sizes: dict[str, int]
    timeout: float
    memory_limit: int = 0
    _runners: dict[int, Runner] = field(default_factory=dict, repr=False)

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
        )

    @classmethod
    def for_store(cls, store: KGStore, timeout: float, memory_limit: int = 0) -> Backend:
        """Serve a store already open in this process (built in memory, as tests do); children inherit it."""
        created = datetime.now(timezone.utc).replace(microsecond=0)
        build_id = store.info.id if store.info else "memory-" + created.strftime("%Y%m%dT%H%M%SZ") + f"-{id(store):x}"
        return cls(lambda: store, build_id, created, len(store), store.graph_sizes(), timeout, memory_limit)

    def run(self, job: QueryJob) -> Answer:
        # One runner per process: gunicorn forks its workers after the app is created.
        runner = self._runners.get(os.getpid())
        if runner is None:
            runner = self._runners[os.getpid()] = Runner(self.open_store, self.timeout, self.memory_limit)
        return runner.run(job)

    def close(self) -> None:
        runner = self._runners.pop(os.getpid(), None)
        if runner is not None:
            runner.close()
