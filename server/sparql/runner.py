"""Where a query runs in the worker, and when it is refused: admission control by cost class.

A light query (server.sparql.cost) runs in the request thread itself: no hand-over, which on this machine costs
more than the look-up (bench/results/endpoint.md). A heavy one runs in a thread of its own, one of at most
`slots` per worker, waiting for a slot if need be; its request thread waits for it until the deadline (the wait for
a slot included) and answers 503 on time if it is not done. When the heavy queries running and waiting fill
`max_heavy`, the next one is refused at once with 503 and Retry-After, so heavy queries never hold every request
thread and light ones never wait behind them. Heavy threads also run at a lower CPU priority than the request
threads, so light queries do not wait for a CPU behind them either.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
import sys
from typing import Callable

from .cost import Cost, classify
from .executor import Answer, Bounds, Overrun, QueryJob, execute, message, timed_out
from .watchdog import Watchdog

_keys = itertools.count()


class Runner:
    def __init__(self, open_store: Callable[[], object], timeout: float, watchdog: Watchdog, slots: int = 2,
                 max_heavy: int = 4, max_bytes: int = 0):
        self.open_store, self.timeout, self.watchdog = open_store, timeout, watchdog
        self.max_bytes = max_bytes
        self.max_heavy = max(max_heavy, slots)
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._heavy = 0  # heavy queries running or waiting for a slot
        self._lock = threading.Lock()
        self._store = None

    @property
    def store(self):
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = self.open_store()
        return self._store

    def close(self) -> None:
        self._store = None

    def run(self, job: QueryJob, cost: Cost | None = None) -> Answer:
        cost = cost or classify(job.text, job.tokens)
        deadline = time.monotonic() + self.timeout
        if cost is Cost.LIGHT:
            return self._run(job, Bounds(deadline, self.max_bytes))
        with self._lock:
            if self._heavy >= self.max_heavy:
                return busy(f"this endpoint is running as many long queries as it allows ({self.max_heavy} per worker); "
                            "try again shortly")
            self._heavy += 1
        try:
            return self._run_heavy(job, deadline)
        finally:
            with self._lock:
                self._heavy -= 1

    def _run_heavy(self, job: QueryJob, deadline: float) -> Answer:
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return timed_out(self.timeout)
        left = deadline - time.monotonic()
        if left <= 0:
            self._slots.release()
            return timed_out(self.timeout)
        if left < self.timeout / 2:
            # Started with less than half its time, a heavy query is likely to be stopped, and one stopped inside
            # a blocking operator costs its worker: the client is asked to come back instead.
            self._slots.release()
            return busy(f"this endpoint's long queries kept this one waiting for half of its {self.timeout:g} s; "
                        "try again shortly")
        stopped, finished = threading.Event(), threading.Event()
        box: list[Answer] = []

        def work():
            try:
                _yield_cpu()
                box.append(self._run(job, Bounds(deadline, self.max_bytes, stopped), finished.set))
            finally:
                self._slots.release()
                finished.set()

        threading.Thread(target=work, name="kg-query", daemon=True).start()
        finished.wait(max(0.0, deadline - time.monotonic()))
        if box:
            return box[0]
        stopped.set()  # its writer stops it at the next chunk; the watchdog sees to it if it never gets there
        if self.watchdog.over_memory:
            return Answer(503, message("this worker ran out of the memory it may use while the query ran; the query "
                                       "was abandoned and the worker is being replaced"), retry_after=5)
        return timed_out(self.timeout)

    def _run(self, job: QueryJob, bounds: Bounds, abandon=None) -> Answer:
        key = next(_keys)
        self.watchdog.watch(key, bounds.deadline, job.text, abandon)
        try:
            return execute(self.store, job, bounds)
        except Overrun:
            return timed_out(self.timeout)
        except MemoryError:
            return Answer(503, message("the query needed more memory than this endpoint allows and was stopped"))
        except Exception as e:  # logged for the operator; the client gets a message, never a traceback
            traceback.print_exc(file=sys.stderr)
            return Answer(500, message(f"internal error while running the query ({type(e).__name__}); it has been logged"))
        finally:
            self.watchdog.done(key)


def busy(text: str) -> Answer:
    """503 for a heavy query refused by admission control, with the time to come back after."""
    return Answer(503, message(text), retry_after=2)


# How much lower than the request threads a heavy query's thread runs (Linux nice, per thread): the CPUs go to light
# queries first, and to heavy ones whenever they are free.
HEAVY_NICE = 10


def _yield_cpu() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HEAVY_NICE)
    except (OSError, AttributeError):  # not Linux, or not allowed: heavy threads share the CPUs evenly
        pass
