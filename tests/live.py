"""`kg serve` on 127.0.0.1, a free port, over a build on disk (conftest.py's disk_store): for tests that need a
real server."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import requests

from kg.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served(str):
    """The base URL of a running `kg serve` (http://127.0.0.1:PORT); `pid` is its process, granian's main process."""

    pid: int


@contextlib.contextmanager
def serving(link: Path, *options: str) -> Iterator[Served]:
    """Serve the build at `link` with `kg serve`; yields its base URL once /health answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--store", str(link), "--host", "127.0.0.1", "--port", str(port), *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = Served(f"http://127.0.0.1:{port}")
    base.pid = server.pid
    try:
        for _ in range(200):
            if server.poll() is not None:
                break
            try:
                if requests.get(base + "/health", timeout=5).ok:
                    break
            except requests.RequestException:  # not listening yet, or a worker still opening the store
                time.sleep(0.1)
        else:
            server.terminate()
            raise RuntimeError("kg serve did not answer /health: " + server.communicate(timeout=10)[0])
        if server.poll() is not None:
            raise RuntimeError("kg serve stopped: " + server.communicate(timeout=10)[0])
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
