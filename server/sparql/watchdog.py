"""The last resort for what the request threads cannot stop: a query stuck inside a blocking operator past its
timeout, and a worker grown past its memory limit.

Oxigraph has no way to cancel a query from Python. A query that streams is stopped between rows by its writer
(server.sparql.executor); one inside a sort, a group or a count gives no such chance, and the memory it takes is
not bounded by the row and byte limits. Its client has had the 503 on time (for memory, the watchdog answers the
heavy queries running); the CPU and memory it holds are freed by recycling the worker gracefully: the worker stops
accepting connections, lets the requests it is answering finish, and exits; the server (granian) starts a fresh one.
"""

from __future__ import annotations

import fcntl
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
# Workers take turns to recycle, holding a lock on this file (`kg serve` names it), so that one of them always
# listens; the lock goes with the process that held it.
TURNS: str | None = None
SETTLE = 1.0
_BORN = time.monotonic()
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Watchdog:
    """Runs of this process with their deadlines and queries, and the process's resident memory. When a run is
    stuck, or the memory passes `memory_limit` bytes (0: no limit), `on_trouble(reason)` is called from the
    watchdog's own thread, once per stuck run; for memory, each run that can be abandoned is abandoned first."""

    def __init__(self, on_trouble: Callable[[str], None], memory_limit: int = 0, interval: float = 0.1):
        self.on_trouble, self.memory_limit, self.interval = on_trouble, memory_limit, interval
        self.runs: dict[int, tuple[float, str, Callable[[], None] | None]] = {}
        self.lock = threading.Lock()
        self.pid = None
        self.stuck = 0  # runs found stuck so far
        self.over_memory = False

    def watch(self, key: int, deadline: float, query: str, abandon: Callable[[], None] | None = None) -> None:
        """Watch a run until done(key). `abandon` answers its client at once (a heavy run's request thread waits)."""
        if self.pid != os.getpid():  # first run in this process (threads do not survive a fork)
            self._start()
        self.runs[key] = (deadline, query, abandon)

    def done(self, key: int) -> None:
        self.runs.pop(key, None)

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.runs = {}
            threading.Thread(target=self._loop, name="kg-watchdog", daemon=True).start()
            self.pid = os.getpid()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            if self.memory_limit and not self.over_memory:
                used = resident()
                if used > self.memory_limit:
                    self.over_memory = True
                    for _, _, abandon in list(self.runs.values()):
                        if abandon is not None:
                            abandon()
                    self.on_trouble(f"this worker holds {used / 2**20:,.0f} MB, over its memory limit of "
                                    f"{self.memory_limit / 2**20:,.0f} MB")
            now = time.monotonic()
            for key, (deadline, query, _) in list(self.runs.items()):
                if now > deadline + GRACE and self.runs.pop(key, None) is not None:
                    self.stuck += 1
                    flat = " ".join(query.split())
                    self.on_trouble(f"the query {flat if len(flat) <= 80 else flat[:77] + '...'!r} is still running "
                                    "past its timeout inside an operator that cannot be interrupted")


def resident() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def log_only(reason: str) -> None:
    """For an app that is not run by `kg serve` (tests, another WSGI server): say so, and let the query run out."""
    print(f"kg serve: {reason}", file=sys.stderr)


def recycle_worker(reason: str) -> None:
    """Under `kg serve`: stop this worker gracefully (granian's own SIGTERM handling: stop accepting, finish the
    requests in flight) and make sure it is gone DRAIN seconds later; granian starts a fresh one. Workers take
    turns (TURNS), so that the others keep listening meanwhile."""
    wait = YOUNGEST - (time.monotonic() - _BORN)
    print(f"kg serve: {reason}; worker {os.getpid()} stops taking requests and exits"
          f"{f' in {wait:.1f} s' if wait > 0 else ''}", file=sys.stderr, flush=True)
    if wait > 0:
        time.sleep(wait)
    if TURNS is not None:
        turn = os.open(TURNS, os.O_RDWR | os.O_CREAT, 0o600)  # a description of its own: flock excludes the others
        fcntl.flock(turn, fcntl.LOCK_EX)  # held until this process is gone
        # The worker that went before wrote when it stopped taking requests: it was gone DRAIN later at most, and
        # its replacement gets SETTLE more to start listening.
        pause = os.fstat(turn).st_mtime + DRAIN + SETTLE - time.time()
        if pause > 0:
            time.sleep(pause)
        os.write(turn, b".")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(DRAIN)
    os._exit(0)


def born_now(turns: str | None = None) -> None:
    """Mark this process's start (called in each worker after the fork), and the file workers take turns on."""
    global _BORN, TURNS
    _BORN = time.monotonic()
    TURNS = turns
