"""The last resort for a query that cannot be stopped: one stuck inside a blocking operator past its timeout.

Oxigraph has no way to cancel a query from Python. A query that streams is stopped between rows by its writer
(server.sparql.executor); one inside a sort, a group or a count gives no such chance. Its client has had the 503 on
time; the CPU it burns is ended by recycling its worker gracefully: the worker stops accepting connections, lets
the requests it is answering finish, and exits; the server (granian) starts a fresh one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Callable

# A run is stuck when it is still going this long after its deadline: its writer would have stopped it by now.
GRACE = 0.5
# Recycling lets the worker's other requests finish for this long, then the worker exits whatever is running.
DRAIN = 1.0
# granian stops the whole server when a worker it restarted less than 5.5 s ago exits again (a crash loop); a
# worker therefore never recycles itself younger than this.
YOUNGEST = 6.0
_BORN = time.monotonic()


class Watchdog:
    """Runs of this process with their deadlines and queries; once one is stuck, `on_stuck(description)` is
    called (once per run) from the watchdog's own thread."""

    def __init__(self, on_stuck: Callable[[str], None], interval: float = 0.1):
        self.on_stuck, self.interval = on_stuck, interval
        self.runs: dict[int, tuple[float, str]] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = None
        self.stuck = 0  # runs found stuck so far

    def watch(self, key: int, deadline: float, query: str) -> None:
        if self.pid != os.getpid():  # first run in this process (threads do not survive a fork)
            self._start()
        self.runs[key] = (deadline, query)

    def done(self, key: int) -> None:
        self.runs.pop(key, None)

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.runs = {}
            self.thread = threading.Thread(target=self._loop, name="kg-watchdog", daemon=True)
            self.thread.start()
            self.pid = os.getpid()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            now = time.monotonic()
            for key, (deadline, query) in list(self.runs.items()):
                if now > deadline + GRACE and self.runs.pop(key, None) is not None:
                    self.stuck += 1
                    flat = " ".join(query.split())
                    self.on_stuck(f"the query {flat if len(flat) <= 80 else flat[:77] + '...'!r}")


def log_only(what: str) -> None:
    """For an app that is not run by `kg serve` (tests, another WSGI server): say so, and let the query run out."""
    print(f"kg serve: {what} is still running past its timeout inside an operator that cannot be interrupted",
          file=sys.stderr)


def recycle_worker(what: str) -> None:
    """Under `kg serve`: stop this worker gracefully (granian's own SIGTERM handling: stop accepting, finish the
    requests in flight) and make sure it is gone DRAIN seconds later; granian starts a fresh one."""
    wait = YOUNGEST - (time.monotonic() - _BORN)
    print(f"kg serve: {what} is still running past its timeout inside an operator that cannot be interrupted; "
          f"worker {os.getpid()} stops taking requests and exits{f' in {wait:.1f} s' if wait > 0 else ''}",
          file=sys.stderr, flush=True)
    if wait > 0:
        time.sleep(wait)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(DRAIN)
    os._exit(0)


def born_now() -> None:
    """Mark this process's start (called in each worker after the fork)."""
    global _BORN
    _BORN = time.monotonic()
