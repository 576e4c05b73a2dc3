"""A SPARQL 1.1 server as the KG's store: queries through the SPARQL Protocol, graphs written through the Graph
Store Protocol (GSP). It offers what the build steps and the server need of a kg.store.embedded.KGStore: `query`,
`select`, `add_quads`, `named_graphs`, `graph_sizes`, `len()` and `info`.

Three kinds of server, told apart by the `Server` header of their first answer unless given:
  virtuoso  queries at …/sparql, writes at …/sparql-graph-crud-auth (GSP) with Digest authentication;
  oxigraph  `oxigraph serve`: queries at …/query, writes at …/store (GSP);
  generic   any other: the query URL as given, the GSP URL given separately (Basic authentication).
Credentials come from the environment (KG_STORE_USER, KG_STORE_PASSWORD), never from the command line, where
any user of the machine could read them.

The KG's dataset. `kg build --store URL` writes, last, a small graph (BUILD_GRAPH) naming the build and the
graphs it wrote. Every query that does not name its own dataset (FROM, FROM NAMED, the protocol's graph
parameters) is sent with those graphs as its default and named graphs, so it sees what the embedded store would:
neither the server's own graphs (Virtuoso has several) nor graphs someone else loaded. That is also why the
server's own default-graph setting does not matter to the KG's queries.

Row limits. Virtuoso cuts every result at its ResultSetMaxRows and says so only for SELECT (an
X-SPARQL-MaxRows header); a CONSTRUCT is cut without a word (the limit is then read from the server's
configuration). A SELECT found cut is asked again in pages (a total order added to its own, OFFSET/LIMIT around
it), a CONSTRUCT in pages of solutions too few to reach the limit, so callers get everything; what cannot be
paged (a DESCRIBE), or a caller that asks for no paging (a client of `kg serve`), gets TruncatedResults.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pyoxigraph as ox

from kg.errors import InputError, QueryError, StoreError, StoreTimeout, TruncatedResults
from kg.namespaces import GRAPH, PREFIXES
from kg.sparql_text import prefixes as declared_prefixes
from kg.sparql_text import services, tokens
from kg.store.builds import BuildInfo

KINDS = ("virtuoso", "oxigraph", "generic")
BUILD_GRAPH = str(GRAPH["build"])  # what `kg build --store URL` wrote last: the build's identity and its graphs
USER_ENV, PASSWORD_ENV = "KG_STORE_USER", "KG_STORE_PASSWORD"
DEFAULT_TIMEOUT = 300.0  # seconds to wait for one answer, outside `kg serve` (which uses its query timeout)
CONNECT_TIMEOUT = 10.0
CHUNK_TRIPLES = 50_000  # N-Triples sent per request when loading: a few MB, so memory stays flat at any size

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_DCT, _VOID, _XSD = "http://purl.org/dc/terms/", "http://rdfs.org/ns/void#", PREFIXES["xsd"]
_OWL_VERSION = PREFIXES["owl"] + "versionInfo"
_INFERENCE = BUILD_GRAPH + "#inference"
_ASK_VARIABLE = "__ASK_RETVAL"  # Virtuoso answers ASK with one solution binding it to 1 or 0


@dataclass(frozen=True)
class Endpoints:
    query: str
    graph_store: str | None  # GSP endpoint; None when the server's is not known (writes are then refused)
    kind: str


def endpoints(url: str, kind: str, graph_store: str | None = None) -> Endpoints:
    """The endpoints of a server of `kind` whose query endpoint is `url`, by each server's conventions."""
    root = url.rstrip("/")
    derived = None
    if kind == "virtuoso":
        root = re.sub(r"/sparql(-auth)?$", "", root)
        derived = root + "/sparql-graph-crud-auth"
    elif kind == "oxigraph":
        root = re.sub(r"/query$", "", root)
        derived = root + "/store"
    return Endpoints(url, graph_store or derived, kind)


def check_url(url: str, option: str = "--store") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"expected an http:// or https:// URL of a SPARQL endpoint, not {url!r}", option)
    return url


class RemoteStore:
    """A remote SPARQL 1.1 server holding the KG, used where a kg.store.embedded.KGStore is."""

    path = None  # no build folder: no dumps, no network files

    def __init__(self, url: str, kind: str | None = None, graph_store: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, user: str | None = None, password: str | None = None):
        self.url = check_url(url)
        if graph_store is not None:
            check_url(graph_store, "--store-graph-store")
        if kind is not None and kind not in KINDS:
            raise InputError(f"unknown store kind {kind!r}; use one of: {', '.join(KINDS)}", "--store-kind")
        self._kind, self._graph_store = kind, graph_store
        self.timeout = timeout
        self.user, self.password = user, password
        self.info: BuildInfo | None = None
        self.max_rows: int | None = None  # the server's row limit, once known
        self._max_rows_asked = False
        self._session, self._session_pid = None, None
        self._parser = ox.Store()  # empty: queries are parsed here first, for the same errors as the embedded store

    @classmethod
    def connect(cls, url: str, kind: str | None = None, graph_store: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> RemoteStore:
        """Reach the server, learn its kind and read the build it holds (if any); credentials from the environment."""
        store = cls(url, kind, graph_store, timeout, os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None)
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
        return endpoints(self.url, self.kind, self._graph_store)

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
              use_default_graph_as_union: bool = True, page: bool = True, prefixes=None):
        """Run a query over the KG's graphs, like KGStore.query: a pyoxigraph QuerySolutions or QueryBoolean, or
        a list of Triples. The options are pyoxigraph's. A SELECT cut by the server's row limit is completed by
        paging when `page`; otherwise, and for graphs, the cut result comes as TruncatedResults."""
        del use_default_graph_as_union, prefixes  # the KG's dataset and prefixes are always those of the build
        form = self._check(text, base_iri)
        dataset = self._dataset(text, default_graph, named_graphs)
        deadline = time.monotonic() + self.timeout  # for all the pages of one answer together
        return self._send(self._with_prologue(text, base_iri), form, dataset, page=page, deadline=deadline)

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

    # --- Writing a build --------------------------------------------------------------------------------------

    def load_graph(self, name: str, triples) -> int:
        """Replace graph `name` with `triples` (an iterable of Triples or Quads): the first chunk PUT, the rest
        POSTed, each with its length given (Virtuoso stores nothing from a chunked body, yet answers 201)."""
        sent = 0
        for i, chunk in enumerate(_chunks(triples, CHUNK_TRIPLES)):
            data = ox.serialize((ox.Triple(t.subject, t.predicate, t.object) for t in chunk), format=ox.RdfFormat.N_TRIPLES)
            self._write("PUT" if i == 0 else "POST", name, data)
            sent += len(chunk)
        if not sent:
            self.drop_graph(name)
        return sent

    def drop_graph(self, name: str) -> None:
        self._write("DELETE", name, None, missing_ok=True)

    def check_writable(self) -> None:
        """Fail now rather than after the build's work when the server will refuse its writes: a DELETE of a
        graph nobody writes needs the same rights as a load, and changes nothing."""
        self.drop_graph(BUILD_GRAPH + "/write-check")

    def replace_build(self, kg_store, info_fields: dict) -> BuildInfo:
        """Make the server hold exactly the graphs of `kg_store` (built and validated here), then the build
        record. Not atomic: the record goes first and comes back last, so a build cut short leaves a store that
        `kg serve` refuses ("no complete build") until a build into it completes; run `kg build` again."""
        build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        previous = self.read_build()
        sizes = kg_store.graph_sizes()
        self.drop_graph(BUILD_GRAPH)
        for name in sorted(sizes):
            self.load_graph(name, kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
        for name in sorted(set(previous.graph_sizes) - set(sizes) if previous else ()):
            self.drop_graph(name)  # a source file removed since the last build
        stored = self._stored_sizes(sorted(sizes))
        wrong = {g: (n, stored.get(g, 0)) for g, n in sizes.items() if stored.get(g, 0) != n}
        if wrong:
            listed = "; ".join(f"<{g}>: {n} sent, {m} stored" for g, (n, m) in sorted(wrong.items()))
            raise StoreError(
                f"the server did not store what was sent ({listed}); Virtuoso merges literals of equal value "
                "(1 and true, a date and its month) and drops triples it cannot parse without saying so",
                self.endpoints.graph_store,
            )
        info = BuildInfo(
            id=build_id,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            triples=sum(sizes.values()),
            graphs=len(sizes),
            graph_sizes=sizes,
            **info_fields,
        )
        self.load_graph(BUILD_GRAPH, ox.parse(_build_record(info).encode(), format=ox.RdfFormat.N_TRIPLES))
        self.info = info
        return info

    def read_build(self) -> BuildInfo | None:
        """The build record `kg build --store URL` wrote, or None when there is none (or it was cut short)."""
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
            return BuildInfo(
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

    def _stored_sizes(self, names: list[str]) -> dict[str, int]:
        values = " ".join(f"<{g}>" for g in names)
        query = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
        return {s["g"].value: int(s["n"].value) for s in self._send(query, "select", dataset=[])}

    # --- Queries ----------------------------------------------------------------------------------------------

    def _check(self, text: str, base_iri: str | None) -> str:
        """The query's form (select, ask or graph), after Oxigraph's parser accepted it. A SyntaxError comes out
        as from the embedded store, with line and column. Parsing evaluates nothing but an ASK, which on this
        empty store is instant unless it calls a SERVICE: such an ASK is left to the server to judge."""
        toks = tokens(text)
        if _form(toks) == "ASK" and services(toks, PREFIXES):
            return "ask"
        options = {"base_iri": base_iri} if base_iri else {}
        result = self._parser.query(text, prefixes=PREFIXES, **options)
        if isinstance(result, ox.QuerySolutions):
            return "select"
        return "ask" if isinstance(result, ox.QueryBoolean) else "graph"

    def _with_prologue(self, text: str, base_iri: str | None) -> str:
        """The text with the KG's prefixes it uses without declaring (the embedded store offers them all), on one
        line so the server's line numbers are off by one at most."""
        declared = declared_prefixes(tokens(text))
        head = [f"BASE <{base_iri}>"] if base_iri else []
        head += [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p not in declared]
        return " ".join(head) + "\n" + text

    def _dataset(self, text: str, default_graph, named_graphs) -> list[tuple[str, str]]:
        """The protocol's graph parameters: those asked for, else the KG's graphs unless the query names its own."""
        names = lambda graphs: [g.value if hasattr(g, "value") else str(g) for g in graphs or ()]
        kg_graphs = list(self.info.graph_sizes) if self.info is not None else []
        defaults, named = names(default_graph), names(named_graphs)
        if not defaults and not named:
            if _names_dataset(tokens(text)) or not kg_graphs:
                return []
            defaults = named = kg_graphs
        elif not named:
            named = kg_graphs
        elif not defaults:
            defaults = kg_graphs
        return [("default-graph-uri", g) for g in defaults] + [("named-graph-uri", g) for g in named]

    def _send(self, text: str, form: str, dataset: list, page: bool = True, deadline: float | None = None):
        accept = N_TRIPLES if form == "graph" else RESULTS_JSON
        response = self._request("POST", self.url, data=[("query", text), *dataset, *self._timeout_param(deadline)],
                                 headers={"Accept": accept}, deadline=deadline)
        if form == "graph":
            return self._graph_result(response, text, dataset, page, deadline)
        document = _results_document(response, self.url)
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

    def _pages(self, text: str, variables: list[str], dataset: list, size: int, deadline: float | None):
        prologue, body = _ordered(text, variables, self.url, self._cut_message())
        rows: list = []
        for offset in itertools.count(0, size):
            paged = f"{prologue}\nSELECT * WHERE {{ {{ {body}\n}} }} OFFSET {offset} LIMIT {size}"
            response = self._request("POST", self.url, data=[("query", paged), *dataset, *self._timeout_param(deadline)],
                                     headers={"Accept": RESULTS_JSON}, deadline=deadline)
            page_rows = _results_document(response, self.url).get("results", {}).get("bindings", [])
            rows += page_rows
            if len(page_rows) < size:
                break
        return _parsed({"head": {"vars": variables}, "results": {"bindings": rows}}, self.url)

    def _graph_result(self, response, text: str, dataset: list, page: bool, deadline: float | None):
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        fmt = ox.RdfFormat.N_TRIPLES if media_type in ("", "text/plain") else ox.RdfFormat.from_media_type(media_type)
        if fmt is None:
            raise StoreError(f"the server answered a graph query with {media_type!r}, which is not RDF", self.url)
        try:
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.content, format=fmt)]
        except SyntaxError as e:
            raise StoreError(f"the server's answer is not valid {media_type}: {e}", self.url) from None
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
            response = self._request("POST", self.url, data=[("query", paged), *dataset, *self._timeout_param(deadline)],
                                     headers={"Accept": N_TRIPLES}, deadline=deadline)
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
            if self.user is not None:
                kind = self._kind
                auth = requests.auth.HTTPDigestAuth if kind in (None, "virtuoso") else requests.auth.HTTPBasicAuth
                self._session.auth = auth(self.user, self.password or "")
        return self._session

    def _request(self, method: str, url: str, deadline: float | None = None, **kwargs):
        import requests

        timeout = self.timeout if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            response = self._http().request(method, url, timeout=(min(CONNECT_TIMEOUT, timeout), timeout), **kwargs)
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
            # Virtuoso's "anytime" answer: what it found before its time ran out, with status 200.
            raise StoreTimeout("the query ran longer than the store allows; the store stopped it (its answer would "
                               "have been incomplete)", url)
        return response

    def _write(self, method: str, graph: str | None, data: bytes | None, missing_ok: bool = False) -> None:
        target = self.endpoints.graph_store
        if target is None:
            raise StoreError("no Graph Store Protocol endpoint is known for this server: give --store-graph-store URL", self.url)
        param = "graph-uri" if self.kind == "virtuoso" else "graph"  # Virtuoso's own name for the GSP's `graph`
        params = {"default": ""} if graph is None else {param: graph}
        headers = {"Content-Type": N_TRIPLES} if data is not None else {}
        try:
            self._request(method, target, params=params, data=data, headers=headers)
        except StoreError as e:
            if missing_ok and getattr(e, "status", None) == 404:
                return
            raise


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


def _results_document(response, url: str) -> dict:
    """The SPARQL JSON results of a response, blank node labels made valid (Virtuoso's are `nodeID://b123`)."""
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
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
