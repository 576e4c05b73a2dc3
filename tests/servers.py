"""SPARQL servers for tests of the remote store: `oxigraph serve` and Debian's Virtuoso, each started on 127.0.0.1
on free ports with its own data in a temporary folder, and stopped after.

Virtuoso runs with a configuration written here, never the system instance the package sets up (whose dba
password is the well-known default): its own database, both ports on 127.0.0.1 only, a small ResultSetMaxRows
(so results are cut and the store must notice), and a random dba password set through isql at start-up.
"""

from __future__ import annotations

import contextlib
import http.client
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import requests

from .live import free_port
from .system_packages import command, unavailable

VIRTUOSO_MAX_ROWS = 1000

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
DirsAllowed = {db}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
MaxQueryMem = 500M
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
MaxClientConnections = 8
ServerThreads = 8
Charset = UTF-8
EnabledDavVSP = 0

[SPARQL]
; 0: no refusals on the optimiser's estimate, which on a database this fresh runs to minutes for queries of
; milliseconds (Virtuoso then answers 500, "The estimated execution time ... exceeds the limit").
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""


@dataclass(frozen=True)
class Server:
    url: str  # the query endpoint
    pid: int  # of the server process, for tests that stop it
    user: str | None = None
    password: str | None = None

    @property
    def credentials(self) -> dict[str, str]:
        """The environment `kg` reads them from."""
        return {"KG_STORE_USER": self.user, "KG_STORE_PASSWORD": self.password} if self.user else {}


def _answering(url: str, process: subprocess.Popen, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start-up: " + _tail(log))
        try:
            if requests.post(url, data={"query": "ASK {}"}, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {seconds:g} s: " + _tail(log))


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no output)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def oxigraph_server(folder: Path) -> Iterator[Server]:
    """`oxigraph serve` (the PyPI package of pyoxigraph's version), its union default graph on, as docs say."""
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if executable is None:
        unavailable("the oxigraph command is not installed: pip install -e '.[test]'")
    port = free_port()
    log = folder / "oxigraph.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [executable, "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}/query", process.pid)
    try:
        _answering(server.url, process, 30, "oxigraph serve", log)
        yield server
    finally:
        _stop(process)


def _stop_system_instance() -> None:
    """The package's own service, where the install started it (containers forbid that): it listens on every
    interface with the default dba password. Stopped only right after this installation, never someone's own."""
    script = Path("/etc/init.d/virtuoso-opensource-7")
    if script.exists():
        subprocess.run([str(script), "stop"], capture_output=True, timeout=60)


@contextlib.contextmanager
def virtuoso_server(folder: Path, max_rows: int = VIRTUOSO_MAX_ROWS) -> Iterator[Server]:
    """Debian's Virtuoso (installed here when this is root with apt) with a configuration of its own."""
    executable = command("virtuoso-opensource", "virtuoso-t", after_install=_stop_system_instance)
    isql = shutil.which("isql-vt") or shutil.which("isql")
    if isql is None:
        unavailable("Virtuoso's isql (isql-vt) is missing, which sets the dba password: apt-get install virtuoso-opensource")
    db = folder / "virtuoso"
    db.mkdir()
    sql_port, http_port = free_port(), free_port()
    ini = db / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(db=db, sql_port=sql_port, http_port=http_port, max_rows=max_rows))
    log = db / "console.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([executable, "+foreground", "+configfile", str(ini)], cwd=db, stdout=out, stderr=subprocess.STDOUT)
    try:
        server = Server(f"http://127.0.0.1:{http_port}/sparql", process.pid, "dba", secrets.token_hex(12))
        _answering(server.url, process, 60, "Virtuoso", log)
        # A new database's dba password is "dba": replaced before anything is loaded.
        done = subprocess.run(
            [isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec=USER_SET_PASSWORD('dba', '{server.password}');"],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0 or "Error" in done.stdout + done.stderr:
            raise RuntimeError("could not set Virtuoso's dba password: " + (done.stdout + done.stderr)[-1000:])
        yield server
    finally:
        _stop(process)


@dataclass
class Write:
    """A write request seen by a FaultyProxy: its method, path, target graph (the GSP's `graph` or Virtuoso's
    `graph-uri`, None for an update), body, and whether it carries credentials."""

    method: str
    path: str
    graph: str | None
    body: bytes
    authorized: bool


class FaultyProxy:
    """A proxy in front of a test server that forwards every request, except that a write (a request to one of
    `write_paths`) meets the fault `fault(write)` chooses, if any:
      "503"   answered 503 without reaching the server;
      "drop"  the connection closed without an answer, the server never reached;
      "cut"   forwarded, then the connection closed without the server's answer (the write was done; the client
              cannot know);
      "hang"  no answer for `hang` seconds, then the connection closed.
    `writes` lists every write with its fault, as they come. `url` is the proxy's address of the server's query
    endpoint."""

    def __init__(self, server: Server, write_paths: tuple[str, ...], fault=lambda write: None, hang: float = 5.0):
        upstream = urlsplit(server.url)
        self.host, self.port = upstream.hostname, upstream.port
        self.write_paths, self.fault, self.hang = write_paths, fault, hang
        self.writes: list[tuple[Write, str | None]] = []
        self.lock = threading.Lock()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.http.daemon_threads = True
        self.http.proxy = self
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}{upstream.path}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the servers themselves

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    do_POST = do_PUT = do_DELETE = do_GET

    def _forward(self) -> None:
        proxy: FaultyProxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        fault = None
        if path in proxy.write_paths:
            params = parse_qs(query)
            graph = (params.get("graph") or params.get("graph-uri") or [None])[0]
            write = Write(self.command, path, graph, body, "Authorization" in self.headers)
            with proxy.lock:
                fault = proxy.fault(write)
                proxy.writes.append((write, fault))
        if fault == "503":
            self.send_response_only(503, "Service Unavailable")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault in ("drop", "hang"):
            if fault == "hang":
                time.sleep(proxy.hang)
            self.close_connection = True
            return
        upstream = http.client.HTTPConnection(proxy.host, proxy.port, timeout=600)
        skipped = ("host", "connection", "keep-alive", "transfer-encoding")
        upstream.request(self.command, self.path, body=body,
                         headers={k: v for k, v in self.headers.items() if k.lower() not in skipped})
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if fault == "cut":
            self.close_connection = True
            return
        self.send_response_only(answer.status, answer.reason)  # no Server header of its own: the server's tells its kind
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
