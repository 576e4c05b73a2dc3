"""A SPARQL 1.1 server as the KG's store: queries through the SPARQL Protocol, graphs written through the Graph
Store Protocol (GSP) and switched in with SPARQL Update. It offers what the build steps and the server need of a
kg.store.embedded.KGStore: `query`, `select`, `add_quads`, `named_graphs`, `graph_sizes`, `len()` and `info`.

Three kinds of server, told apart by the `Server` header of their first answer unless given:
  virtuoso  queries at …/sparql, writes at …/sparql-graph-crud-auth (GSP) and …/sparql-auth (Update), with
            Digest authentication;
  oxigraph  `oxigraph serve`: queries at …/query, writes at …/store (GSP) and …/update;
  generic   any other: the query URL as given, the GSP and Update URLs given separately (Basic authentication).
Credentials come from the environment (KG_STORE_USER, KG_STORE_PASSWORD), never from the command line, where
any user of the machine could read them.

The KG's dataset. `kg build --store URL` writes, last, a small graph (BUILD_GRAPH) naming the build and the
graphs it wrote. Every query that does not name its own dataset (FROM, FROM NAMED, the protocol's graph
parameters) is sent with those graphs as its default and named graphs, so it sees what the embedded store would:
neither the server's own graphs (Virtuoso has several) nor graphs someone else loaded. That is also why the
server's own default-graph setting does not matter to the KG's queries.

Writing a build (`replace_build`). The server goes from one build to the next in one SPARQL Update request, so
that a reader sees the old build or the new, never half of one:
  1. stage: each graph of the build is POSTed, in chunks of CHUNK_TRIPLES N-Triples, into a staging graph named
     by a digest of the graph's IRI and triples (STAGING…), never into a graph readers query; a staging graph a
     run cut short left complete is not sent again, one left partial is completed (RDF graphs are sets: a chunk
     sent twice is stored once). Their sizes, counted by the server, must be what was sent;
  2. switch: one update request makes each KG graph equal to its staging graph (deleting and inserting only the
     triples that differ, so a build that changes little switches fast), drops the graphs the previous build had
     and this one lacks, and replaces the build record;
  3. clean: every staging graph is dropped, a failed run's too: a build lists its staging graphs (STAGED_GRAPH)
     before it sends any, so the clean reads one small graph instead of looking for them among every quad.
Oxigraph applies an update request in one transaction and reads from snapshots: its readers never see the
switch half done, and go on reading the old build while it runs. Virtuoso applies an update as it goes, its
readers seeing each change as it is made; there (and on generic servers, whose isolation is unknown) the switch
is bracketed by a marker (SWITCHING_GRAPH) set before and removed after it.
Every write is sent again after a connection error, a timeout or a 5xx answer (RETRY_WAITS): all are
idempotent (a POSTed chunk; a DELETE; the switch, which makes graphs equal to others), except that Virtuoso gives
the blank nodes of a chunk stored twice new identities: the size check then finds the staging graph too big,
and it is sent once more from empty.

Reading a build. A query's answer must come from one build alone: after each answer, the store asks which build
the server serves (one small query). If a switch is under way (the marker), it waits for its end; if the build
is no longer the one queried, it moves to the new build (`info`) and asks again. On a server that switches in one
transaction (ISOLATED_KINDS) every answer is one snapshot, of one build: there the store asks at most once per
`follow_interval` seconds (`kg serve` sets its --follow-interval; 0, the default, asks after every answer). For
that long after a switch an answer may be the new build's triples read through the old build's list of graphs
(a graph the new build added unseen, one it dropped empty) and is taken as the old build's; the graphs a build
keeps are read as the new build has them.

Answers as they come. Given `verbatim` (the media type a caller takes each form of answer in), a query whose
answer the server writes as the embedded store would (Dialect.verbatim: `oxigraph serve`, the same writers) is
answered with the server's bytes untouched (Verbatim): no parsing, no writing again, one request.

Row limits. Virtuoso cuts every result at its ResultSetMaxRows and says so only for SELECT (an
X-SPARQL-MaxRows header); a CONSTRUCT is cut without a word (the limit is then read from the server's
configuration). A SELECT found cut is asked again in pages (a total order added to its own, OFFSET/LIMIT around
it), a CONSTRUCT in pages of solutions too few to reach the limit, so callers get everything; what cannot be
paged (a DESCRIBE), or a caller that asks for no paging (a client of `kg serve`), gets TruncatedResults.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from kg.errors import InputError, QueryError, StoreError, StoreTimeout, TruncatedResults
from kg.namespaces import GRAPH, PREFIXES
from kg.sparql_text import prefixes as declared_prefixes
from kg.sparql_text import services, tokens
from kg.store.builds import BuildInfo
from kg.store.dialect import Dialect, for_kind

KINDS = ("virtuoso", "oxigraph", "generic")
BUILD_GRAPH = str(GRAPH["build"])  # what `kg build --store URL` wrote last: the build's identity and its graphs
USER_ENV, PASSWORD_ENV = "KG_STORE_USER", "KG_STORE_PASSWORD"
DEFAULT_TIMEOUT = 300.0  # seconds to wait for one answer, outside `kg serve` (which uses its query timeout)
CONNECT_TIMEOUT = 10.0
POOL_SIZE = 64  # keep-alive connections per host kept open: more than `kg serve --threads` (32 by default)
CHUNK_TRIPLES = 50_000  # N-Triples sent per request when loading: a few MB, so memory stays flat at any size
CHUNK_TIMEOUT = 120.0  # seconds for one chunk (about one second's work): a server that hangs is asked again sooner
GRAPH_TIMEOUT = 3600.0  # seconds for a request writing whole graphs: the switch, dropping a staging graph
RETRY_WAITS = (1.0, 2.0, 4.0, 8.0)  # seconds before each further attempt of a write: five attempts in all
SWITCH_POLL = 0.2  # seconds between looks, by a reader waiting for the end of a switch
STAGING = BUILD_GRAPH + "/staging/"  # + a digest of a graph's IRI and triples: where it is uploaded before the switch
SWITCHING_GRAPH = BUILD_GRAPH + "/switching"  # the marker: names the build being switched to, while it is
STAGED_GRAPH = BUILD_GRAPH + "/staged"  # names every staging graph a build began, until it is dropped
ISOLATED_KINDS = ("oxigraph",)  # servers applying an update request in one transaction, their readers a snapshot

RESULTS_JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
N_TRIPLES = "application/n-triples"
_DCT, _VOID, _XSD = "http://purl.org/dc/terms/", "http://rdfs.org/ns/void#", PREFIXES["xsd"]
_OWL_VERSION = PREFIXES["owl"] + "versionInfo"
_INFERENCE = BUILD_GRAPH + "#inference"
_SWITCHING_TO = BUILD_GRAPH + "#switchingTo"
_ASK_VARIABLE = "__ASK_RETVAL"  # Virtuoso answers ASK with one solution binding it to 1 or 0


@dataclass(frozen=True)
class Verbatim:
    """A server's answer as it came: the query's form (select, ask or graph), its media type and its bytes."""

    form: str
    media_type: str
    body: bytes


@dataclass(frozen=True)
class Endpoints:
    query: str
    graph_store: str | None  # GSP endpoint; None when the server's is not known (writes are then refused)
    kind: str
    update: str | None = None  # SPARQL Update endpoint; None when not known (builds are then refused)


def endpoints(url: str, kind: str, graph_store: str | None = None, update: str | None = None) -> Endpoints:
    """The endpoints of a server of `kind` whose query endpoint is `url`, by each server's conventions."""
    root = url.rstrip("/")
    derived = derived_update = None
    if kind == "virtuoso":
        root = re.sub(r"/sparql(-auth)?$", "", root)
        derived = root + "/sparql-graph-crud-auth"
        derived_update = root + "/sparql-auth"  # the endpoint that authenticates: /sparql's own user may not write
    elif kind == "oxigraph":
        root = re.sub(r"/query$", "", root)
        derived, derived_update = root + "/store", root + "/update"
    return Endpoints(url, graph_store or derived, kind, update or derived_update)


def check_url(url: str, option: str = "--store") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"expected an http:// or https:// URL of a SPARQL endpoint, not {url!r}", option)
    return url


class RemoteStore:
    """A remote SPARQL 1.1 server holding the KG, used where a kg.store.embedded.KGStore is."""

    path = None  # no build folder: no dumps, no network files

    def __init__(self, url: str, kind: str | None = None, graph_store: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, user: str | None = None, password: str | None = None,
                 update: str | None = None, follow_interval: float = 0.0):
        self.url = check_url(url)
        if graph_store is not None:
            check_url(graph_store, "--store-graph-store")
        if update is not None:
            check_url(update, "--store-update")
        if kind is not None and kind not in KINDS:
            raise InputError(f"unknown store kind {kind!r}; use one of: {', '.join(KINDS)}", "--store-kind")
        self._kind, self._graph_store, self._update_endpoint = kind, graph_store, update
        self.timeout = timeout
        self.user, self.password = user, password
        self.info: BuildInfo | None = None
        self.follow_interval = follow_interval  # seconds an isolated server's answers are not checked (docstring)
        self._confirmed = float("-inf")  # when the server was last found serving `info`
        self.timings: dict[str, float] = {}  # of the last replace_build: seconds of upload, switch and clean
        self.cleanup_error: StoreError | None = None  # of the last replace_build: the staging graphs it left
        self.max_rows: int | None = None  # the server's row limit, once known
        self._max_rows_asked = False
        self._session, self._session_pid = None, None
        self._proxies: dict[str, dict] = {}  # by URL, from the environment (_http)
        self._parser = ox.Store()  # empty: queries are parsed here first, for the same errors as the embedded store

    @classmethod
    def connect(cls, url: str, kind: str | None = None, graph_store: str | None = None,
                timeout: float = DEFAULT_TIMEOUT, update: str | None = None, follow_interval: float = 0.0) -> RemoteStore:
        """Reach the server, learn its kind and read the build it holds (if any); credentials from the environment."""
        store = cls(url, kind, graph_store, timeout, os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None,
                    update, follow_interval)
        store.info = store.read_build()
        return store

    # --- What callers of a KGStore use ------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        if self._kind is None:
            self._send("ASK {}", "ask", dataset=[])  # the first answer's Server header says who it is
        return self._kind

    @property
    def endpoints(self) -> Endpoints:
        return endpoints(self.url, self.kind, self._graph_store, self._update_endpoint)

    def __len__(self) -> int:
        if self.info is not None:
            return self.info.triples
        return sum(self.graph_sizes().values())

    def named_graphs(self) -> list[str]:
        if self.info is not None:
            return sorted(self.info.graph_sizes)
        return sorted(self.graph_sizes())

    def graph_sizes(self) -> dict[str, int]:
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        return {s["g"].value: int(s["n"].value) for s in self.select(query)}

    def query(self, text: str, *, base_iri: str | None = None, default_graph=None, named_graphs=None,
              use_default_graph_as_union: bool = True, page: bool = True, prefixes=None,
              verbatim: dict[str, str] | None = None):
        """Run a query over the KG's graphs, like KGStore.query: a pyoxigraph QuerySolutions or QueryBoolean, or
        a list of Triples. The options are pyoxigraph's. A SELECT cut by the server's row limit is completed by
        paging when `page`; otherwise, and for graphs, the cut result comes as TruncatedResults. The answer comes
        from one build alone, the one `info` then names (module docstring, "Reading a build"). `verbatim` maps a
        form (select, ask, graph) to the media type the caller wants it in: where the server writes that as the
        embedded store would, the answer is a Verbatim, the server's bytes."""
        del use_default_graph_as_union, prefixes  # the KG's dataset and prefixes are always those of the build
        toks = tokens(text)
        form = self._check(text, toks, base_iri)
        deadline = time.monotonic() + self.timeout  # for all the pages of one answer together
        dialect = for_kind(self.kind)
        # In the server's dialect (kg.store.dialect), whose rewrites leave the prefix declarations as they were.
        sent = self._with_prologue(dialect.query(text), toks, base_iri)
        media_type = (verbatim or {}).get(form)
        if media_type not in dialect.verbatim:
            media_type = None
        while True:
            build = self.info.id if self.info is not None else None
            dataset = self._dataset(toks, default_graph, named_graphs)
            try:
                if media_type is not None:
                    result = self._send_verbatim(sent, form, media_type, dataset, page, deadline)
                else:
                    result = self._send(sent, form, dataset, page=page, deadline=deadline)
            except TruncatedResults:
                if self._still_serving(build, deadline):
                    raise
                continue
            if self._still_serving(build, deadline):
                return result

    def select(self, text: str):
        """Every solution of a SELECT (paging past the server's row limit): each maps a variable to a term or None."""
        return self.query(text)

    def add_quads(self, quads) -> None:
        """Add pyoxigraph Quads (their graph names say where), one GSP request per graph and chunk."""
        by_graph: dict = {}
        for quad in quads:
            by_graph.setdefault(quad.graph_name, []).append(ox.Triple(quad.subject, quad.predicate, quad.object))
        for graph, triples in by_graph.items():
            name = None if isinstance(graph, ox.DefaultGraph) else graph.value
            for chunk in _chunks(triples, CHUNK_TRIPLES):
                self._write("POST", name, ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES))

    def add_constructed(self, queries: list[str], graph: str) -> list[int]:
        """Add to named graph `graph` the triples of each CONSTRUCT query, all asked before any is added (as
        KGStore.add_constructed); how many triples each gave."""
        found = [self.query(text) for text in queries]
        target = ox.NamedNode(graph)
        self.add_quads(ox.Quad(t.subject, t.predicate, t.object, target) for triples in found for t in triples)
        return [len(triples) for triples in found]

    # --- Writing a build --------------------------------------------------------------------------------------

    def load_graph(self, name: str, triples) -> int:
        """Replace graph `name` with `triples` (an iterable of Triples or Quads): the first chunk PUT, the rest
        POSTed, each with its length given (Virtuoso stores nothing from a chunked body, yet answers 201). Readers
        see the graph change chunk by chunk: a build stages and switches instead (`replace_build`)."""
        sent = 0
        for i, chunk in enumerate(_chunks(triples, CHUNK_TRIPLES)):
            self._write("PUT" if i == 0 else "POST", name, _n_triples(chunk))
            sent += len(chunk)
        if not sent:
            self.drop_graph(name)
        return sent

    def drop_graph(self, name: str, timeout: float | None = None) -> None:
        self._write("DELETE", name, None, missing_ok=True, timeout=timeout)

    def check_writable(self) -> None:
        """Fail now rather than after the build's work when the server will refuse its writes: deleting a graph
        nobody writes, through the GSP endpoint and through the Update endpoint, needs the rights a build needs,
        and changes nothing."""
        self.drop_graph(BUILD_GRAPH + "/write-check")
        self._update(f"DROP SILENT GRAPH <{BUILD_GRAPH}/write-check>")

    def replace_build(self, kg_store, info_fields: dict) -> BuildInfo:
        """Make the server serve exactly the graphs of `kg_store` (built and validated here) under a new build
        record: staged, switched in by one update request, the staging graphs dropped (module docstring, "Writing
        a build"). The seconds each step took are left in `timings`; a failure to drop the staging graphs after
        the switch, in `cleanup_error` (the build is served all the same)."""
        started = time.perf_counter()
        previous = self.read_build()
        sizes = kg_store.graph_sizes()
        quads = lambda name: kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(name))
        staging = {name: _staging_graph(name, quads(name)) for name in sorted(sizes)}
        self._stage(staging, sizes, quads)
        staged = time.perf_counter()
        info = BuildInfo(
            id=datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ"),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            triples=sum(sizes.values()),
            graphs=len(sizes),
            graph_sizes=sizes,
            **info_fields,
        )
        gone = sorted(set(previous.graph_sizes) - set(sizes)) if previous else []  # a source file removed since
        self._switch(info, staging, gone, previous)
        self.info = info
        switched = time.perf_counter()
        self.cleanup_error = None
        try:
            self._drop_staging()
        except StoreError as e:
            self.cleanup_error = e
        self.timings = {"upload": staged - started, "switch": switched - staged, "clean": time.perf_counter() - switched}
        return info

    def _stage(self, staging: dict[str, str], sizes: dict[str, int], quads) -> None:
        """Upload each graph (`quads(name)` lists it) into its staging graph, unless an earlier run left that
        complete, and check what the server stored. A staging graph found wrong is sent once more from empty: a
        retried chunk may have been stored twice, which on Virtuoso doubles its blank nodes."""
        # Listed before anything is sent, so that the clean of this run, or of the next if this one fails, finds
        # them in one small graph rather than by a scan of every quad on the server (`_drop_staging`).
        listed = " ".join(f"<{STAGED_GRAPH}> <{_DCT}hasPart> <{graph}> ." for graph in staging.values())
        self._update(f"INSERT DATA {{ GRAPH <{STAGED_GRAPH}> {{ {listed} }} }}")
        stored = self._stored_sizes(list(staging.values()))
        for name, graph in staging.items():
            if stored.get(graph, 0) != sizes[name]:
                self._upload(graph, quads(name))  # into what a failed run left: graphs are sets, chunks add nothing twice
        stored = self._stored_sizes(list(staging.values()))
        resent = [name for name, graph in staging.items() if stored.get(graph, 0) != sizes[name]]
        for name in resent:
            self.drop_graph(staging[name], GRAPH_TIMEOUT)
            self._upload(staging[name], quads(name))
        if resent:  # else the count just taken stands: a count is a scan of every staged triple on Virtuoso
            stored = self._stored_sizes(list(staging.values()))
        wrong = {name: (n, stored.get(staging[name], 0)) for name, n in sizes.items() if stored.get(staging[name], 0) != n}
        if wrong:
            listed = "; ".join(f"<{g}>: {n} sent, {m} stored" for g, (n, m) in sorted(wrong.items()))
            raise StoreError(
                f"the server did not store what was sent ({listed}); Virtuoso merges literals of equal value "
                "(1 and true, a date and its month) and drops triples it cannot parse without saying so; the build "
                "it serves is unchanged",
                self.endpoints.graph_store,
            )

    def _upload(self, graph: str, quads) -> None:
        for chunk in _chunks(quads, CHUNK_TRIPLES):
            self._write("POST", graph, _n_triples(chunk))

    def _switch(self, info: BuildInfo, staging: dict[str, str], gone: list[str], previous: BuildInfo | None) -> None:
        """Serve build `info`: one update request (`_switch_request`), marked where readers would see it half done."""
        marked = self.kind not in ISOLATED_KINDS
        if marked:
            self._update(f"INSERT DATA {{ GRAPH <{SWITCHING_GRAPH}> {{ <{BUILD_GRAPH}> <{_SWITCHING_TO}> {json.dumps(info.id)} }} }}")
        try:
            self._update(_switch_request(info, staging, gone), GRAPH_TIMEOUT)
        except StoreError as e:
            if self._served_id() != info.id:  # else only the answer was lost
                was = f"build {previous.id}" if previous else "no build"
                if not marked:
                    raise StoreError(f"the switch to build {info.id} failed ({e.message}); the server still serves "
                                     f"{was}", e.where) from None
                if getattr(e, "status", None) is not None and e.status < 500:  # refused before anything changed
                    self._update(f"DROP SILENT GRAPH <{SWITCHING_GRAPH}>")
                    raise StoreError(f"the switch to build {info.id} was refused ({e.message}); the server still serves "
                                     f"{was}", e.where) from None
                raise StoreError(
                    f"the switch to build {info.id} failed ({e.message}); this server applies an update as it goes, so the "
                    f"KG's graphs may be partly switched from {was}: queries through kg wait for the switch to end "
                    "until a build completes; run `kg build --store URL` again", e.where) from None
        if marked:
            self._update(f"DROP SILENT GRAPH <{SWITCHING_GRAPH}>")
        if self._served_id() != info.id:
            raise StoreError(f"the server answered the switch to build {info.id} as done, yet does not serve it", self.endpoints.update)

    def _served_id(self) -> str | None:
        try:
            return self._served_build(time.monotonic() + self.timeout)[0]
        except StoreError:
            return None

    def _drop_staging(self) -> None:
        """Drop every staging graph STAGED_GRAPH lists: this build's, switched in, and those of runs that failed.
        Each leaves the list once dropped, so a clean cut short is finished by the next."""
        query = f"SELECT ?g WHERE {{ GRAPH <{STAGED_GRAPH}> {{ <{STAGED_GRAPH}> <{_DCT}hasPart> ?g }} }}"
        for row in self._send(query, "select", dataset=[]):
            graph = row["g"].value
            self.drop_graph(graph, GRAPH_TIMEOUT)
            self._update(f"DELETE DATA {{ GRAPH <{STAGED_GRAPH}> {{ <{STAGED_GRAPH}> <{_DCT}hasPart> <{graph}> }} }}")

    def read_build(self) -> BuildInfo | None:
        """The build record `kg build --store URL` wrote, or None when there is none or it is not whole: the graphs'
        sizes must add up to the build's, as they do not in a record read half rewritten (by a switch on a server
        whose readers see an update as it goes)."""
        rows = self._send(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?s ?p ?o }} }}", "select", dataset=[])
        record, sizes, parts = {}, {}, set()
        for row in rows:
            s, p, o = row["s"].value, row["p"].value, row["o"]
            if s == BUILD_GRAPH:
                if p == _DCT + "hasPart":
                    parts.add(o.value)
                else:
                    record[p] = o.value
            elif p == _VOID + "triples":
                sizes[s] = int(o.value)
        try:
            info = BuildInfo(
                id=record[_DCT + "identifier"],
                created=datetime.fromisoformat(record[_DCT + "created"]).isoformat(timespec="seconds"),
                triples=int(record[_VOID + "triples"]),
                graphs=len(parts),
                inference=record.get(_INFERENCE, ""),
                kg_version=record.get(_OWL_VERSION, ""),
                graph_sizes={g: sizes.get(g, 0) for g in sorted(parts)},
            )
        except (KeyError, ValueError):
            return None
        return info if sum(info.graph_sizes.values()) == info.triples else None

    def _stored_sizes(self, names: list[str]) -> dict[str, int]:
        """The server's count of each graph, one query per graph: a count of several graphs at once (VALUES ?g …
        GROUP BY ?g) is a join whose plan Virtuoso chooses for the data it holds when first asked, then reuses by
        the query's text: the count before the upload, of empty graphs, made the one after it a scan of every
        quad (V9 in kg.store.dialect). A count of one named graph has no join to plan."""
        sizes = {}
        for graph in names:
            rows = self._send(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", "select", dataset=[])
            sizes[graph] = int(next(iter(rows))["n"].value)
        return sizes

    def _served_build(self, deadline: float) -> tuple[str | None, str | None]:
        """The id of the build the server serves, and that of the build a switch under way goes to (or None)."""
        query = (f"SELECT ?id ?to WHERE {{ {{ GRAPH <{BUILD_GRAPH}> {{ <{BUILD_GRAPH}> <{_DCT}identifier> ?id }} }} "
                 f"UNION {{ GRAPH <{SWITCHING_GRAPH}> {{ <{BUILD_GRAPH}> <{_SWITCHING_TO}> ?to }} }} }}")
        rows = list(self._send(query, "select", dataset=[], deadline=deadline))
        ids = {row["id"].value for row in rows if row["id"] is not None}
        switching = next((row["to"].value for row in rows if row["to"] is not None), None)
        return (ids.pop() if len(ids) == 1 else None), switching

    def _still_serving(self, build: str | None, deadline: float) -> bool:
        """Whether the server still serves `build`, the one an answer just received was asked of: then no switch
        came in between, and the answer is that build's alone. Otherwise, once a switch under way has ended, this
        store moves to the build served now (`info`) for the query to be asked again. On an isolated server, found
        serving it less than `follow_interval` seconds ago is enough (module docstring)."""
        isolated = self.kind in ISOLATED_KINDS
        if isolated and time.monotonic() - self._confirmed < self.follow_interval:
            return True
        while True:
            asked = time.monotonic()
            served, switching = self._served_build(deadline)
            if switching is None and served == build:
                self._confirmed = asked
                return True
            if switching is None:
                info = self.read_build()
                if info is not None or served is None:  # else the record is being rewritten: look again
                    self.info = info
                    return False
            if time.monotonic() + SWITCH_POLL >= deadline:
                raise StoreTimeout(f"the store is switching to build {switching or '(unknown)'} and did not finish within "
                                   f"{self.timeout:g} s (a switch cut short leaves it so until a build completes)", self.url)
            time.sleep(SWITCH_POLL)

    # --- Queries ----------------------------------------------------------------------------------------------

    def _check(self, text: str, toks, base_iri: str | None) -> str:
        """The query's form (select, ask or graph), after Oxigraph's parser accepted it. A SyntaxError comes out
        as from the embedded store, with line and column. Parsing evaluates nothing but an ASK, which on this
        empty store is instant unless it calls a SERVICE: such an ASK is left to the server to judge."""
        if _form(toks) == "ASK" and services(toks, PREFIXES):
            return "ask"
        options = {"base_iri": base_iri} if base_iri else {}
        result = self._parser.query(text, prefixes=PREFIXES, **options)
        if isinstance(result, ox.QuerySolutions):
            return "select"
        return "ask" if isinstance(result, ox.QueryBoolean) else "graph"

    def _with_prologue(self, text: str, toks, base_iri: str | None) -> str:
        """The text with the KG's prefixes it uses without declaring (the embedded store offers them all), on one
        line so the server's line numbers are off by one at most; `toks` are the text's tokens."""
        declared = declared_prefixes(toks)
        used = {t.text.split(":", 1)[0] for t in toks if t.kind == "pname"}
        head = [f"BASE <{base_iri}>"] if base_iri else []
        head += [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p in used and p not in declared]
        return " ".join(head) + "\n" + text

    def _dataset(self, toks, default_graph, named_graphs) -> list[tuple[str, str]]:
        """The protocol's graph parameters: those asked for, else the KG's graphs unless the query names its own."""
        names = lambda graphs: [g.value if hasattr(g, "value") else str(g) for g in graphs or ()]
        kg_graphs = list(self.info.graph_sizes) if self.info is not None else []
        defaults, named = names(default_graph), names(named_graphs)
        if not defaults and not named:
            if _names_dataset(toks) or not kg_graphs:
                return []
            defaults = named = kg_graphs
        elif not named:
            named = kg_graphs
        elif not defaults:
            defaults = kg_graphs
        return [("default-graph-uri", g) for g in defaults] + [("named-graph-uri", g) for g in named]

    def _send(self, text: str, form: str, dataset: list, page: bool = True, deadline: float | None = None):
        accept = N_TRIPLES if form == "graph" else RESULTS_JSON
        response = self._post_query(text, dataset, accept, deadline)
        if form == "graph":
            return self._graph_result(response, text, dataset, page, deadline)
        document = self._dialect.solutions(_results_document(response, self.url))
        if form == "ask":
            return _as_boolean(document, self.url)
        if "boolean" in document:
            raise StoreError("the server answered a SELECT with a boolean", self.url)
        rows = document.get("results", {}).get("bindings", [])
        limit = response.headers.get("X-SPARQL-MaxRows", "").strip()
        if limit.isdigit():
            self.max_rows = int(limit)
        if not limit.isdigit() or len(rows) < int(limit) or _own_limit(text) <= len(rows):
            return _parsed(document, self.url)  # the header comes with every answer of the limit's size
        if page:
            return self._pages(text, document["head"]["vars"], dataset, self.max_rows, deadline)
        raise TruncatedResults(self._cut_message(), self.url, _parsed(document, self.url), self.max_rows)

    def _post_query(self, text: str, dataset: list, accept: str, deadline: float | None):
        """A query request (form-encoded, as the SPARQL 1.1 Protocol has it) and its answer."""
        fields = [*self._dialect.request(text, dataset), *self._timeout_param(deadline)]
        return self._request("POST", self.url, data=_form_encoded(fields), headers={"Accept": accept, "Content-Type": FORM},
                             deadline=deadline)

    def _send_verbatim(self, text: str, form: str, media_type: str, dataset: list, page: bool, deadline: float | None):
        """The server's answer in `media_type`, as it came; parsed as any other answer should the server give
        another media type than asked for."""
        response = self._post_query(text, dataset, media_type, deadline)
        if _media_type(response) != media_type:
            return self._send(text, form, dataset, page=page, deadline=deadline)
        return Verbatim(form, media_type, response.content)

    def _pages(self, text: str, variables: list[str], dataset: list, size: int, deadline: float | None):
        prologue, body = _ordered(text, variables, self.url, self._cut_message())
        rows: list = []
        for offset in itertools.count(0, size):
            paged = f"{prologue}\nSELECT * WHERE {{ {{ {body}\n}} }} OFFSET {offset} LIMIT {size}"
            response = self._post_query(paged, dataset, RESULTS_JSON, deadline)
            page_rows = self._dialect.solutions(_results_document(response, self.url)).get("results", {}).get("bindings", [])
            rows += page_rows
            if len(page_rows) < size:
                break
        return _parsed({"head": {"vars": variables}, "results": {"bindings": rows}}, self.url)

    def _graph_result(self, response, text: str, dataset: list, page: bool, deadline: float | None):
        media_type = _media_type(response)
        fmt = ox.RdfFormat.N_TRIPLES if media_type in ("", "text/plain") else ox.RdfFormat.from_media_type(media_type)
        if fmt is None:
            raise StoreError(f"the server answered a graph query with {media_type!r}, which is not RDF", self.url)
        try:
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.content, format=fmt)]
        except SyntaxError as e:
            raise StoreError(f"the server's answer is not valid {media_type}: {e}", self.url) from None
        triples = self._dialect.triples(triples)
        limit = self._graph_limit()
        if not limit or len(triples) < limit:
            return triples
        parts = _construct_parts(text) if page else None
        if parts is None:  # DESCRIBE, or a CONSTRUCT naming its own dataset
            raise TruncatedResults(self._cut_message(graph=True), self.url, triples, limit)
        return self._graph_pages(parts, dataset, limit, deadline)

    def _graph_pages(self, parts: tuple[str, str, str, int], dataset: list, limit: int, deadline: float | None):
        """Every triple of a CONSTRUCT cut by the row limit: its solutions in pages small enough that even if each
        made as many triples as its template has terms, no page reaches the limit."""
        prologue, template, inner, terms = parts
        per_page = max(1, (limit - 1) // terms)
        count = f"{prologue}\nSELECT (COUNT(*) AS ?n) WHERE {{ {{ {inner}\n}} }}"
        solutions = int(next(iter(self._send(count, "select", dataset, deadline=deadline)))["n"].value)
        inner_prologue, ordered = _ordered(inner, _variables(tokens(inner)), self.url, self._cut_message(graph=True))
        seen: dict = {}
        for offset in range(0, solutions, per_page):
            paged = f"{prologue}\nCONSTRUCT {template} WHERE {{ {{ {ordered}\n}} }} OFFSET {offset} LIMIT {per_page}"
            response = self._post_query(paged, dataset, N_TRIPLES, deadline)
            got = self._graph_result(response, paged, dataset, False, deadline)
            seen.update(dict.fromkeys(got))
        return list(seen)

    def _graph_limit(self) -> int | None:
        """Virtuoso's ResultSetMaxRows, read once from its configuration (it cuts graphs without saying so)."""
        if self.kind == "virtuoso" and not self._max_rows_asked:
            self._max_rows_asked = True
            probe = "SELECT (bif:cfg_item_value(bif:virtuoso_ini_path(), 'SPARQL', 'ResultSetMaxRows') AS ?m) WHERE {}"
            try:
                value = next(iter(self._send(probe, "select", dataset=[])))["m"]
                if value is not None and value.value.strip().isdigit() and int(value.value) > 0:
                    self.max_rows = int(value.value)
            except (StoreError, StopIteration, KeyError):
                pass  # not allowed to read it: graphs cannot be checked, SELECTs still are by their header
        return self.max_rows

    @property
    def _dialect(self) -> Dialect:
        """The dialect of the server (SPARQL 1.1 as written until its kind is known, i.e. for the first request)."""
        return for_kind(self._kind)

    def _cut_message(self, graph: bool = False) -> str:
        what = "a graph" if graph else "the results"
        setting = "ResultSetMaxRows in the [SPARQL] section of virtuoso.ini" if self.kind == "virtuoso" else "its result limit"
        return f"the store cut {what} at its limit of {self.max_rows} rows; raise {setting}, or narrow the query"

    def _timeout_param(self, deadline: float | None) -> list[tuple[str, str]]:
        # Virtuoso stops the query itself at this many milliseconds (and says the answer is incomplete, which is
        # then an error here): the CPU is freed, as the embedded store's watchdog frees it by recycling a worker.
        if self._kind != "virtuoso":
            return []
        left = (deadline - time.monotonic()) if deadline else self.timeout
        return [("timeout", str(max(1, int(left * 1000))))]

    # --- HTTP -------------------------------------------------------------------------------------------------

    def _http(self):
        import requests

        if self._session is None or self._session_pid != os.getpid():  # a forked worker makes its own connections
            self._session, self._session_pid = requests.Session(), os.getpid()
            # Every request thread of a `kg serve` worker keeps its connection open (requests keeps 10 by default,
            # opening and closing the rest for each query).
            pool = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
            self._session.mount("http://", pool)
            self._session.mount("https://", pool)
            # What requests takes from the environment (proxies, a CA bundle) taken once per endpoint, not again for
            # every request: that took a tenth of a look-up's time.
            self._session.trust_env = False
            self._session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            self._proxies = {}
            if self.user is not None:
                kind = self._kind
                auth = requests.auth.HTTPDigestAuth if kind in (None, "virtuoso") else requests.auth.HTTPBasicAuth
                self._session.auth = auth(self.user, self.password or "")
        return self._session

    def _request(self, method: str, url: str, deadline: float | None = None, **kwargs):
        import requests

        timeout = self.timeout if deadline is None else max(0.1, deadline - time.monotonic())
        session = self._http()
        if url not in self._proxies:
            self._proxies[url] = requests.utils.get_environ_proxies(url)
        try:
            response = session.request(method, url, timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
                                       proxies=self._proxies[url], **kwargs)
        except requests.Timeout:
            raise StoreTimeout(f"the store did not answer within {timeout:g} s", url) from None
        except requests.ConnectionError as e:
            raise StoreError(f"cannot reach the store: {_reason(e)}", url) from None
        except requests.RequestException as e:
            raise StoreError(f"the request to the store failed: {_reason(e)}", url) from None
        if self._kind is None:
            self._kind = _kind_of(response.headers.get("Server", ""))
            if self.user is not None and self._kind != "virtuoso":
                self._session.auth = requests.auth.HTTPBasicAuth(self.user, self.password or "")
        _raise_for_status(response, url, self.user is not None)
        if response.headers.get("X-SQL-State") == "S1TAT":
            # Virtuoso's "anytime" answer: what it found before its time ran out, with status 200. Its time is the
            # shorter of the request's and the server's own setting, which only its operator can raise.
            raise StoreTimeout("the query ran longer than the store allows; the store stopped it (its answer would "
                               "have been incomplete; Virtuoso stops a query at the request's timeout or at "
                               "MaxQueryExecutionTime in the [SPARQL] section of virtuoso.ini, whichever is shorter)", url)
        return response

    def _write(self, method: str, graph: str | None, data: bytes | None, missing_ok: bool = False,
               timeout: float | None = None) -> None:
        target = self.endpoints.graph_store
        if target is None:
            raise StoreError("no Graph Store Protocol endpoint is known for this server: give --store-graph-store URL", self.url)
        param = "graph-uri" if self.kind == "virtuoso" else "graph"  # Virtuoso's own name for the GSP's `graph`
        params = {"default": ""} if graph is None else {param: graph}
        headers = {"Content-Type": N_TRIPLES} if data is not None else {}
        try:
            self._retried(method, target, timeout or CHUNK_TIMEOUT, params=params, data=data, headers=headers)
        except StoreError as e:
            if missing_ok and getattr(e, "status", None) == 404:
                return
            raise

    def _update(self, text: str, timeout: float | None = None) -> None:
        """Send a SPARQL Update request (form-encoded, as the SPARQL 1.1 Protocol has it)."""
        target = self.endpoints.update
        if target is None:
            raise StoreError("no SPARQL Update endpoint is known for this server: give --store-update URL", self.url)
        self._retried("POST", target, timeout or CHUNK_TIMEOUT, data={"update": self._dialect.update(text)})

    def _retried(self, method: str, url: str, timeout: float, **kwargs):
        """A write, sent again after a connection error, a timeout or a 5xx answer (a server restarting or busy, a
        proxy's 502 or 503), waiting longer each time: every write here may be repeated (module docstring)."""
        for wait in (*RETRY_WAITS, None):
            try:
                return self._request(method, url, deadline=time.monotonic() + timeout, **kwargs)
            except StoreError as e:
                status = getattr(e, "status", None)
                if wait is None or (status is not None and status < 500):
                    raise
            time.sleep(wait)


def _form_encoded(fields: list[tuple[str, str]]) -> bytes:
    """Form fields URL-encoded; the graphs of the dataset, the same in every query of a build, encoded once (encoding
    them took a tenth of a look-up's time)."""
    return "&".join(_field(name, value) if name in _DATASET_FIELDS else urlencode({name: value})
                    for name, value in fields).encode("ascii")


_DATASET_FIELDS = ("default-graph-uri", "named-graph-uri")


@functools.lru_cache(maxsize=4096)
def _field(name: str, value: str) -> str:
    return urlencode({name: value})


def _kind_of(server_header: str) -> str:
    lowered = server_header.lower()
    if lowered.startswith("virtuoso"):
        return "virtuoso"
    return "oxigraph" if lowered.startswith("oxigraph") else "generic"


def _raise_for_status(response, url: str, credentials: bool) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        if credentials:
            message = f"the store refused the credentials in {USER_ENV}/{PASSWORD_ENV} (HTTP {status})"
        else:
            message = f"the store asks for credentials (HTTP {status}): set {USER_ENV} and {PASSWORD_ENV}"
        error = StoreError(message, url)
    elif status == 400:
        # No URL here: the message may reach a client of `kg serve`, to whom the store's address is nobody's business.
        error = QueryError(f"the store refused the query: {_server_message(response)}")
    elif status == 404:
        error = StoreError(f"nothing answers here (HTTP 404; is this the server's SPARQL endpoint?): {_server_message(response)}", url)
    elif status == 408 or status == 504:
        error = StoreTimeout(f"the store gave up on the query (HTTP {status}): {_server_message(response)}", url)
    else:
        error = StoreError(f"the store answered HTTP {status}: {_server_message(response)}", url)
    error.status = status
    raise error


def _server_message(response) -> str:
    """The server's own words, without markup, cut to a readable length."""
    text = response.content[:4000].decode("utf-8", "replace")
    text = text.split("SPARQL query:")[0]  # Virtuoso repeats the query after its message, graph parameters and all
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return (text[:500] + "…") if len(text) > 500 else (text or response.reason or "no message")


def _reason(error: Exception) -> str:
    """The innermost cause of a requests error, e.g. 'Connection refused', rather than its wrapping."""
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return match.group(1).strip() if match else text


def _media_type(response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _results_document(response, url: str) -> dict:
    """The SPARQL JSON results of a response, blank node labels made valid (Virtuoso's are `nodeID://b123`)."""
    media_type = _media_type(response)
    if media_type != RESULTS_JSON:
        raise StoreError(f"the server answered with {media_type or 'no content type'!r}, not {RESULTS_JSON}", url)
    try:
        document = json.loads(response.content)
        for row in document.get("results", {}).get("bindings", ()):
            for term in row.values():
                if term.get("type") == "bnode":
                    term["value"] = _bnode_label(term["value"])
    except (ValueError, AttributeError, TypeError, KeyError) as e:
        raise StoreError(f"the server's answer is not valid SPARQL JSON results: {e}", url) from None
    return document


def _bnode_label(value: str) -> str:
    label = re.sub(r"[^A-Za-z0-9_-]", "_", value.removeprefix("nodeID://"))
    return label if label[:1].isalnum() or label[:1] == "_" else "b" + label


def _parsed(document: dict, url: str):
    """A pyoxigraph result of a SPARQL JSON document, checked now rather than when a caller iterates it."""
    data = json.dumps(document).encode()
    try:
        if "boolean" not in document:
            for _ in ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON):
                pass
        return ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    except SyntaxError as e:
        raise StoreError(f"the server's answer is not valid SPARQL JSON results: {e}", url) from None


def _as_boolean(document: dict, url: str):
    if "boolean" in document:
        return _parsed(document, url)
    rows = document.get("results", {}).get("bindings", [])
    if document.get("head", {}).get("vars") == [_ASK_VARIABLE]:
        value = rows[0].get(_ASK_VARIABLE, {}).get("value") if rows else None
        return _parsed({"head": {}, "boolean": value not in (None, "0", "false")}, url)
    raise StoreError("the server answered an ASK with solutions", url)


def _form(toks) -> str | None:
    """The query form keyword, after the prologue."""
    return next((t.text.upper() for t in toks if t.kind == "word" and t.text.upper() in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")), None)


def _names_dataset(toks) -> bool:
    return any(t.kind == "word" and t.depth == 0 and t.text.upper() == "FROM" for t in toks)


def _own_limit(text: str) -> float:
    """The query's outermost LIMIT; infinity without one."""
    top = [t for t in tokens(text) if t.depth == 0]
    at = next((i for i in reversed(range(len(top) - 1)) if top[i].kind == "word" and top[i].text.upper() == "LIMIT"), None)
    return int(top[at + 1].text) if at is not None and top[at + 1].text.isdigit() else float("inf")


def _prologue_end(toks) -> int:
    """Index of the first token after the BASE and PREFIX declarations."""
    i = 0
    while i < len(toks) and toks[i].kind == "word":
        word = toks[i].text.upper()
        if word == "BASE":
            i += 2
        elif word == "PREFIX":
            i += 3
        else:
            break
    return min(i, len(toks))


def _ordered(text: str, variables: list[str], url: str, cut: str) -> tuple[str, str]:
    """The query's prologue, and its body with a total order: its own ORDER BY (kept first, so the order asked
    for survives) followed by every projected variable, so pages of OFFSET/LIMIT neither repeat nor skip."""
    toks = tokens(text)
    start = _prologue_end(toks)
    if _names_dataset(toks):
        raise StoreError(cut + " (a query naming its own dataset with FROM cannot be completed by paging)", url)
    prologue = text[: toks[start - 1].end] if start else ""
    body_toks = toks[start:]
    if not body_toks:
        raise StoreError("empty query", url)
    offset = body_toks[0].start
    ties = " ".join(f"?{v}" for v in variables)
    top = [t for t in body_toks if t.depth == 0]
    words = [t for t in top if t.kind == "word"]
    order_at = next((i for i, t in enumerate(words[:-1]) if t.text.upper() == "ORDER" and words[i + 1].text.upper() == "BY"), None)
    after = words[order_at + 2:] if order_at is not None else words
    stop = next((t for t in after if t.text.upper() in ("LIMIT", "OFFSET", "VALUES")), None)
    insert = stop.start if stop is not None else body_toks[-1].end
    addition = f" {ties} " if order_at is not None else f" ORDER BY {ties} "
    body = text[offset:insert] + addition + text[insert:]
    return prologue, body


def _variables(toks) -> list[str]:
    return list(dict.fromkeys(t.text[1:] for t in toks if t.kind == "var"))


def _group_end(toks, i: int) -> int:
    """Index of the bracket closing the one opened at toks[i]."""
    return next(j for j in range(i + 1, len(toks)) if toks[j].kind == "close" and toks[j].depth == toks[i].depth)


def _construct_parts(text: str):
    """A CONSTRUCT split for paging: (prologue, template with its braces, `SELECT * WHERE {…} modifiers`, the
    template's terms: a bound on the triples one solution makes); None when it is not a CONSTRUCT that can be."""
    toks = tokens(text)
    start = _prologue_end(toks)
    if start >= len(toks) or toks[start].text.upper() != "CONSTRUCT" or _names_dataset(toks):
        return None
    try:
        i = start + 1
        if toks[i].kind == "word" and toks[i].text.upper() == "WHERE":  # CONSTRUCT WHERE { pattern }: both in one
            template_open, template_close = i + 1, _group_end(toks, i + 1)
            where_open = template_open
        else:
            template_open, template_close = i, _group_end(toks, i)
            where_open = template_close + 1
            if toks[where_open].kind == "word" and toks[where_open].text.upper() == "WHERE":
                where_open += 1
            _group_end(toks, where_open)  # an unclosed pattern is no query to page
    except (IndexError, StopIteration):
        return None
    if toks[template_open].text != "{" or toks[where_open].text != "{":
        return None
    prologue = text[: toks[start - 1].end] if start else ""
    template = text[toks[template_open].start: toks[template_close].end]
    inner = "SELECT * WHERE " + text[toks[where_open].start:]
    inside = toks[template_open + 1: template_close]
    terms = sum(1 for t in inside if t.kind in ("var", "iri", "pname", "string", "number", "word"))
    if any(t.text == "(" for t in inside):  # a collection makes two triples (rdf:first, rdf:rest) per member
        terms *= 2
    return prologue, template, inner, max(1, terms)


def _chunks(items, size: int):
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _literal(value, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


def _build_record(info: BuildInfo) -> str:
    """The build record as N-Triples: Dublin Core and VoID terms, the graph IRI standing for the build."""
    b = f"<{BUILD_GRAPH}>"
    esc = lambda s: json.dumps(str(s))  # a JSON string is a valid N-Triples string for these plain values
    lines = [
        f"{b} <{_DCT}identifier> {esc(info.id)} .",
        f"{b} <{_DCT}created> {_literal(info.created, _XSD + 'dateTime')} .",
        f"{b} <{_VOID}triples> {_literal(info.triples, _XSD + 'integer')} .",
        f"{b} <{_OWL_VERSION}> {esc(info.kg_version)} .",
        f"{b} <{_INFERENCE}> {esc(info.inference)} .",
    ]
    for graph, size in sorted(info.graph_sizes.items()):
        lines.append(f"{b} <{_DCT}hasPart> <{graph}> .")
        lines.append(f"<{graph}> <{_VOID}triples> {_literal(size, _XSD + 'integer')} .")
    return "\n".join(lines) + "\n"


def _n_triples(quads) -> bytes:
    return ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)


def _staging_graph(name: str, quads) -> str:
    """The staging graph of graph `name` holding these triples, named by a digest of the IRI and of the set of
    triples, so that a run after a failed one finds what that one uploaded. The digest adds up each triple's hash,
    as the order a store lists triples in depends on the order they were added. Blank nodes get new labels in
    every build: a graph with them is staged anew each time."""
    total = count = 0
    for chunk in _chunks(quads, CHUNK_TRIPLES):
        for line in _n_triples(chunk).splitlines():  # one triple a line
            total += int.from_bytes(hashlib.blake2b(line, digest_size=16).digest(), "big")
            count += 1
    return STAGING + hashlib.sha256(f"{name}\n{count}\n{total % 2**128:x}".encode()).hexdigest()[:32]


def _switch_request(info: BuildInfo, staging: dict[str, str], gone: list[str]) -> str:
    """The update request of a switch: each KG graph made equal to its staging graph by deleting and inserting the
    triples that differ (a build changing little writes little), the graphs gone since the last build dropped,
    the build record replaced."""
    operations = []
    for name, graph in sorted(staging.items()):
        operations.append(f"DELETE {{ GRAPH <{name}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} "
                          f"FILTER NOT EXISTS {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} }}")
        operations.append(f"INSERT {{ GRAPH <{name}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
                          f"FILTER NOT EXISTS {{ GRAPH <{name}> {{ ?s ?p ?o }} }} }}")
    operations += [f"DROP SILENT GRAPH <{name}>" for name in gone]
    operations.append(f"DROP SILENT GRAPH <{BUILD_GRAPH}>")
    operations.append(f"INSERT DATA {{ GRAPH <{BUILD_GRAPH}> {{\n{_build_record(info)}}} }}")
    return " ;\n".join(operations)
