"""A runner for the W3C SPARQL 1.1 tests, sent over HTTP to the endpoint (Flask test client).

Two suites from the W3C rdf-tests tree (read in place under ../shared/conformance, never copied):

* Protocol: `protocol/manifest.ttl` describes each test as HTTP requests in RDF (the W3C HTTP-in-RDF
  vocabulary): every `ht:Request` of a test is sent in order and its status class or code, result kind
  (boolean / tabular / RDF) and ASK answer are checked. Tests that need SPARQL Update to succeed do not apply to
  a read-only endpoint: their update requests must be refused (4xx) instead. The three Service Description tests
  have no machine-readable action and are written here from their names.
* Query evaluation: every `mf:QueryEvaluationTest` reachable from `manifest-sparql11-query.ttl` whose dataset is
  at most one default-graph file (no `qt:graphData`) is run against an endpoint holding that file as its data, and
  the answer is compared with `mf:result`: solutions as multisets (in order only under a top-level ORDER BY),
  blank nodes up to renaming, graphs up to isomorphism. A failure is re-run with pyoxigraph in-process to tell an
  engine limitation (wrong there too) from an endpoint bug (right there, wrong over HTTP).

Each test gives an Outcome; a Tally collects them and writes the report printed by the test modules.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, unquote

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.query import Result

from kg.sparql_text import tokens

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")

ENDPOINT = "/sparql"  # the manifest's /sparql/ paths are mapped here
PASSED, FAILED, NOT_APPLICABLE = "passed", "failed", "not applicable"
# Why a test fails, as far as the runner can tell.
ENGINE = "engine"  # pyoxigraph itself gives the same wrong answer in-process
ENDPOINT_BUG = "endpoint"  # pyoxigraph answers right in-process; the HTTP layer changes the answer
RUNNER = "runner"  # this runner cannot judge the answer
# A pass where numbers or booleans come back in another lexical form of the same value ("1"^^xsd:decimal for
# "1.0"^^xsd:decimal): Oxigraph stores the values of these literals, not the way they were written.
CANONICAL_ONLY = "equal only up to canonical literal forms"

RESULTS_JSON = "application/sparql-results+json"
RDF_MEDIA_TYPES = {  # media type -> rdflib parser
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "text/n3": "n3",
}
TABULAR_MEDIA_TYPES = {  # media type -> rdflib results parser
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RESULT_FILE_FORMATS = {".srx": "xml", ".srj": "json", ".csv": "csv", ".tsv": "tsv"}
GRAPH_FILE_FORMATS = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml"}


def conformance_root(test_file: str) -> Path:
    """../shared/conformance beside the repository; skipped when absent, except under CI where it must be there."""
    root = Path(test_file).resolve().parents[2] / "shared" / "conformance"
    if not (root / "w3c-sparql11").is_dir():
        message = f"the W3C conformance material is not at {root}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return root


@dataclass(frozen=True)
class Outcome:
    name: str
    verdict: str  # PASSED | FAILED | NOT_APPLICABLE
    reason: str = ""
    cause: str | None = None  # for failures: ENGINE | ENDPOINT_BUG | RUNNER, when known


@dataclass
class Tally:
    title: str
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def names(self, verdict: str) -> list[str]:
        return [o.name for o in self.outcomes if o.verdict == verdict]

    @property
    def passed(self) -> int:
        return len(self.names(PASSED))

    @property
    def failed(self) -> int:
        return len(self.names(FAILED))

    @property
    def not_applicable(self) -> int:
        return len(self.names(NOT_APPLICABLE))

    def summary(self) -> str:
        applicable = self.passed + self.failed
        line = f"{self.title}: {self.passed}/{applicable} passed, {self.failed} failed"
        return line + (f", {self.not_applicable} not applicable" if self.not_applicable else "")

    def report(self) -> str:
        lines = [self.summary()]
        failures = [o for o in self.outcomes if o.verdict == FAILED]
        for cause, heading in (
            (ENDPOINT_BUG, "failed: endpoint (its HTTP layer; for a query test, pyoxigraph in-process answers right)"),
            (ENGINE, "failed: Oxigraph engine (the same wrong answer in-process)"),
            (RUNNER, "failed: runner cannot judge"),
            (None, "failed"),
        ):
            group = [o for o in failures if o.cause == cause]
            if group:
                lines.append(f"  {heading}:")
                lines.extend(f"    {o.name}: {o.reason}" for o in group)
        canonical = [o.name for o in self.outcomes if o.verdict == PASSED and o.reason.startswith(CANONICAL_ONLY)]
        if canonical:
            lines.append(f"  passed, {CANONICAL_ONLY} (Oxigraph keeps the value of a number or boolean, not its lexical form): {len(canonical)}")
            lines.extend(f"    {name}" for name in canonical)
        na = [o for o in self.outcomes if o.verdict == NOT_APPLICABLE]
        if na:
            lines.append("  not applicable:")
            lines.extend(f"    {o.name}: {o.reason}" for o in na)
        return "\n".join(lines)


def _entries(manifest: Path) -> tuple[Graph, list]:
    g = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    lists = list(g.objects(None, MF.entries))
    return g, [e for head in lists for e in Collection(g, head)]


def _local(iri) -> str:
    return re.split(r"[#/]", str(iri))[-1]


def _path(iri) -> Path:
    return Path(unquote(str(iri).removeprefix("file://")))


# --- Protocol tests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # as in the manifest, /sparql/...
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: tuple[str, ...]  # local names in http-statusCodes#: StatusCode2xx, OK, NotFound, ...
    result_format: str | None  # "boolean" | "tabular" | "RDF"
    boolean: bool | None

    @property
    def content_type(self) -> str:
        return next((v for n, v in self.headers if n.lower() == "content-type"), "")

    @property
    def is_update(self) -> bool:
        """A SPARQL Update operation, by media type or by an update (or using-graph) parameter in body or path."""
        if self.content_type.split(";")[0].strip().lower() == "application/sparql-update":
            return True
        params = parse_qs(self.path.partition("?")[2])
        if self.body is not None and self.content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            params.update(parse_qs(self.body.decode("utf-8", "replace")))
        return any(p in params for p in ("update", "using-graph-uri", "using-named-graph-uri"))

    @property
    def expects_success(self) -> bool:
        return any(s in ("StatusCode2xx", "OK", "Created", "NoContent") for s in self.statuses)


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    requests: tuple[HttpRequest, ...]
    graph_data: tuple[tuple[Path, str], ...]  # (file, named graph IRI) to load before the test


def protocol_tests(manifest: Path) -> list[ProtocolTest]:
    g, entries = _entries(manifest)
    tests = []
    for entry in entries:
        if (entry, RDF.type, MF.ProtocolTest) not in g:
            continue
        action = g.value(entry, MF.action)
        requests = tuple(_http_request(g, r) for r in Collection(g, g.value(action, HT.requests)))
        data = tuple(
            sorted((_path(g.value(gd, UT.graph)), str(g.value(gd, RDFS.label))) for gd in g.objects(entry, UT.graphData))
        )
        tests.append(ProtocolTest(_local(entry), requests, data))
    return tests


def _http_request(g: Graph, node) -> HttpRequest:
    headers = []
    if (head := g.value(node, HT.headers)) is not None:
        headers = [(str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue))) for h in Collection(g, head)]
    body = None
    if (content := g.value(node, HT.body)) is not None:
        encoding = str(g.value(content, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(content, CNT.chars)).encode(encoding)
    resp = g.value(node, HT.resp)
    boolean = g.value(resp, MF.expectedBoolean)
    fmt = g.value(resp, MF.expectedFormat)
    return HttpRequest(
        method=str(g.value(node, HT.methodName)),
        path=str(g.value(node, HT.absolutePath)),
        headers=tuple(headers),
        body=body,
        statuses=tuple(sorted(_local(s) for s in g.objects(resp, MF.expectedStatus))),
        result_format=str(fmt) if fmt is not None else None,
        boolean=bool(boolean.toPython()) if boolean is not None else None,
    )


def protocol_graph_data(tests: list[ProtocolTest]) -> set[tuple[Path, str]]:
    return {d for t in tests for d in t.graph_data}


def endpoint_path(path: str) -> str:
    if path.startswith("/sparql/"):
        rest = path[len("/sparql/") :]
        return ENDPOINT + (rest if not rest or rest.startswith("?") else "/" + rest)
    return path


def send(client, request: HttpRequest):
    return client.open(endpoint_path(request.path), method=request.method, headers=list(request.headers), data=request.body)


def status_matches(code: int, expected: str) -> bool:
    m = re.fullmatch(r"StatusCode(\d)xx", expected)
    if m:
        return code // 100 == int(m.group(1))
    by_phrase = {s.phrase.replace(" ", "").replace("-", "").lower(): s.value for s in HTTPStatus}
    return by_phrase.get(expected.lower()) == code


def response_kind(response) -> tuple[str | None, bool | None, str]:
    """The response's result kind ("boolean", "tabular", "RDF" or None), its ASK answer, and why None."""
    media_type = response.mimetype
    body = response.get_data()
    if media_type in TABULAR_MEDIA_TYPES:
        try:
            result = Result.parse(io.BytesIO(body), format=TABULAR_MEDIA_TYPES[media_type])
        except Exception as e:  # any parser error means "not results"
            return None, None, f"{media_type} body does not parse: {type(e).__name__}: {e}"
        if result.type == "ASK":
            return "boolean", bool(result.askAnswer), ""
        return "tabular", None, ""
    if media_type in RDF_MEDIA_TYPES:
        try:
            Graph().parse(data=body, format=RDF_MEDIA_TYPES[media_type])
        except Exception as e:
            return None, None, f"{media_type} body does not parse: {type(e).__name__}: {e}"
        return "RDF", None, ""
    return None, None, f"unexpected media type {media_type or '(none)'}"


def check_response(request: HttpRequest, response) -> list[str]:
    problems = []
    if request.statuses and not any(status_matches(response.status_code, s) for s in request.statuses):
        text = response.get_data(as_text=True).strip().replace("\n", " ")[:160]
        problems.append(f"status {response.status_code} ({text!r}), expected {'/'.join(request.statuses)}")
        return problems
    if request.result_format is not None:
        kind, answer, why = response_kind(response)
        if kind != request.result_format:
            problems.append(f"result is {kind or why}, expected {request.result_format}")
        elif request.boolean is not None and answer != request.boolean:
            problems.append(f"ASK answered {answer}, expected {request.boolean}")
    return problems


def run_protocol_test(client, test: ProtocolTest) -> Outcome:
    name = f"protocol/{test.name}"
    if any(r.is_update and r.expects_success for r in test.requests):
        # Needs SPARQL Update to succeed: a read-only endpoint must refuse the update instead.
        for request in (r for r in test.requests if r.is_update):
            response = send(client, request)
            if response.status_code // 100 != 4:
                reason = f"{request.method} {request.path}: update answered {response.status_code}, a read-only endpoint must refuse it with 4xx"
                return Outcome(name, FAILED, reason, ENDPOINT_BUG)
        return Outcome(name, NOT_APPLICABLE, f"needs SPARQL Update; the read-only endpoint refused it ({response.status_code})")
    for i, request in enumerate(test.requests, 1):
        problems = check_response(request, send(client, request))
        if problems:
            where = f"request {i}: " if len(test.requests) > 1 else ""
            return Outcome(name, FAILED, where + "; ".join(problems), ENDPOINT_BUG)
    return Outcome(name, PASSED)


def service_description_outcomes(client, shapes: Path, vocabulary: Path) -> list[Outcome]:
    """The three Service Description tests, which the W3C manifest describes by name only."""
    import pyshacl

    names = ("service-description/returns-rdf", "service-description/has-endpoint-triple", "service-description/conforms-to-schema")
    response = client.get(ENDPOINT)  # what a plain client (no Accept header) gets
    kind, _, why = response_kind(response)
    if response.status_code != 200 or kind != "RDF":
        reason = f"GET {ENDPOINT} answered {response.status_code} {response.mimetype}: {why or kind}"
        return [Outcome(n, FAILED, reason, ENDPOINT_BUG) for n in names]
    outcomes = [Outcome(names[0], PASSED)]
    graph = Graph().parse(data=response.get_data(), format=RDF_MEDIA_TYPES[response.mimetype])
    url = URIRef("http://localhost" + ENDPOINT)  # the test client's host
    services = list(graph.subjects(SD.endpoint, url))
    outcomes.append(
        Outcome(names[1], PASSED) if services
        else Outcome(names[1], FAILED, f"no ?s sd:endpoint <{url}>; sd:endpoint objects: {sorted(map(str, graph.objects(None, SD.endpoint)))}", ENDPOINT_BUG)
    )
    conforms, _, text = pyshacl.validate(
        graph, shacl_graph=Graph().parse(shapes), ont_graph=Graph().parse(vocabulary), inference="rdfs", allow_warnings=True
    )
    messages = sorted(set(re.findall(r"Message: (.*)", text)))
    outcomes.append(Outcome(names[2], PASSED) if conforms else Outcome(names[2], FAILED, "; ".join(messages) or text[:300], ENDPOINT_BUG))
    return outcomes


# --- Query evaluation tests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTest:
    name: str  # folder/test
    query: Path
    data: Path | None  # the default graph; None for an empty dataset
    result: Path


def query_tests(root: Path) -> tuple[list[QueryTest], list[str]]:
    """The evaluation tests with at most one default-graph file and no named graphs, and the names of the others."""
    top = root / "manifest-sparql11-query.ttl"
    g = Graph().parse(top, format="turtle", publicID=top.as_uri())
    selected, left_out = [], []
    for head in g.objects(None, MF.include):
        for included in Collection(g, head):
            manifest = _path(included)
            mg, entries = _entries(manifest)
            for entry in entries:
                if (entry, RDF.type, MF.QueryEvaluationTest) not in mg:
                    continue
                name = f"{manifest.parent.name}/{_local(entry)}"
                action = mg.value(entry, MF.action)
                data = list(mg.objects(action, QT.data))
                if len(data) > 1 or (action, QT.graphData, None) in mg:
                    left_out.append(name)
                    continue
                selected.append(
                    QueryTest(
                        name=name,
                        query=_path(mg.value(action, QT.query)),
                        data=_path(data[0]) if data else None,
                        result=_path(mg.value(entry, MF.result)),
                    )
                )
    return selected, left_out


def load_data(store: ox.Store, data: Path | None) -> None:
    """Load one test's data file into the store's default graph (the union default graph then equals it)."""
    if data is not None:
        store.load(path=str(data), format=ox.RdfFormat.from_extension(data.suffix[1:]), base_iri=data.as_uri())


@contextmanager
def _lexical_literals():
    """Parse literals as written: rdflib would otherwise rewrite "01"^^xsd:integer as "1" and hide differences."""
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def _term(t):
    """RDF 1.1 term identity: a simple literal is an xsd:string, and language tags are case-insensitive."""
    if isinstance(t, Literal):
        if t.language:
            return Literal(str(t), lang=t.language.lower(), normalize=False)
        if t.datatype is None or t.datatype == XSD.string:
            return Literal(str(t), normalize=False)
    return t


_INTEGERS = {XSD[n] for n in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger",
    "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
)}
_XSD_DOUBLE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN")
_XSD_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _canonical(t):
    """A numeric or boolean literal in one canonical lexical form per value ("1.0"^^xsd:decimal -> "1.0", "1" -> "1.0")."""
    if not isinstance(t, Literal) or t.datatype is None:
        return t
    lexical, datatype = str(t).strip(), t.datatype
    if datatype in _INTEGERS and re.fullmatch(r"[+-]?\d+", lexical):
        canonical = str(int(lexical))
    elif datatype == XSD.decimal and _XSD_DECIMAL.fullmatch(lexical):
        canonical = format(Decimal(lexical).normalize(), "f")
        canonical += "" if "." in canonical else ".0"
    elif datatype in (XSD.double, XSD.float) and _XSD_DOUBLE.fullmatch(lexical):
        value = float(lexical.replace("INF", "inf"))
        canonical = "NaN" if value != value else ("INF" if value == float("inf") else "-INF" if value == float("-inf") else repr(value))
    elif datatype == XSD.boolean and lexical in ("true", "false", "1", "0"):
        canonical = "true" if lexical in ("true", "1") else "false"
    else:
        return t
    return Literal(canonical, datatype=datatype, normalize=False)


@dataclass(frozen=True)
class Answer:
    """A query's answer in comparable form: kind "boolean" | "solutions" | "graph"."""

    kind: str
    boolean: bool | None = None
    variables: tuple[str, ...] = ()
    rows: tuple[dict, ...] = ()
    graph: Graph | None = None


def _from_result(result: Result, lossy_csv: bool = False) -> Answer:
    if result.type == "ASK":
        return Answer("boolean", boolean=bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return _from_graph(result.graph)
    rows = []
    for binding in result.bindings:
        row = {}
        for var, value in binding.items():
            if value is None:
                continue
            value = _term(value)
            if lossy_csv and isinstance(value, Literal):  # CSV keeps only lexical forms
                value = Literal(str(value), normalize=False)
            row[str(var)] = value
        rows.append(row)
    return Answer("solutions", variables=tuple(str(v) for v in result.vars or ()), rows=tuple(rows))


def canonical_answer(answer: Answer) -> Answer:
    """The answer with numeric and boolean literals in canonical form: equal values, equal terms."""
    if answer.kind == "solutions":
        rows = tuple({k: _canonical(v) for k, v in row.items()} for row in answer.rows)
        return Answer("solutions", variables=answer.variables, rows=rows)
    if answer.kind == "graph":
        g = Graph()
        for s, p, o in answer.graph:
            g.add((s, p, _canonical(o)))
        return Answer("graph", graph=g)
    return answer


def _from_graph(graph: Graph) -> Answer:
    g = Graph()
    for s, p, o in graph:
        g.add((s, p, _term(o)))
    return Answer("graph", graph=g)


def expected_answer(path: Path) -> Answer:
    suffix = path.suffix.lower()
    with _lexical_literals():
        if suffix in RESULT_FILE_FORMATS:
            with path.open("rb") as f:
                return _from_result(Result.parse(f, format=RESULT_FILE_FORMATS[suffix]), lossy_csv=suffix == ".csv")
        if suffix in GRAPH_FILE_FORMATS:
            graph = Graph().parse(path, format=GRAPH_FILE_FORMATS[suffix], publicID=path.as_uri())
            if (None, RDF.type, RS.ResultSet) in graph:
                raise RunnerLimitation(f"{path.name} is a result set written in RDF, which this runner does not read")
            return _from_graph(graph)
    raise RunnerLimitation(f"unknown result file type {path.name}")


class RunnerLimitation(Exception):
    pass


def accept_for(result: Path) -> str:
    """Ask for SPARQL results (JSON, read losslessly) or for RDF, following the expected result's file type."""
    return "text/turtle" if result.suffix.lower() in GRAPH_FILE_FORMATS else RESULTS_JSON


def actual_answer(response, lossy_csv: bool = False) -> Answer:
    media_type = response.mimetype
    body = response.get_data()
    with _lexical_literals():
        if media_type in TABULAR_MEDIA_TYPES:
            return _from_result(Result.parse(io.BytesIO(body), format=TABULAR_MEDIA_TYPES[media_type]), lossy_csv)
        if media_type in RDF_MEDIA_TYPES:
            return _from_graph(Graph().parse(data=body, format=RDF_MEDIA_TYPES[media_type]))
    raise RunnerLimitation(f"cannot read a {media_type} answer")


def order_keys(query: str) -> list[str] | None:
    """The top-level ORDER BY keys when all are plain variables; [] without ORDER BY; None when some are expressions."""
    toks = tokens(query)
    top = [t for t in toks if t.depth == 0]
    for i, t in enumerate(top[:-1]):
        if t.kind == "word" and t.text.upper() == "ORDER" and top[i + 1].text.upper() == "BY":
            start = toks.index(t) + 2
            break
    else:
        return []
    keys = []
    for t in toks[start:]:
        if t.depth == 0 and t.kind == "word" and t.text.upper() in ("LIMIT", "OFFSET", "VALUES"):
            break
        if t.kind == "var":
            keys.append(t.text[1:])
        elif not (t.kind in ("open", "close") and t.text in "()") and not (t.kind == "word" and t.text.upper() in ("ASC", "DESC")):
            return None
    return keys


def judge(expected: Answer, actual: Answer, query: str) -> tuple[bool, str | None]:
    """Whether the answers agree, and why not (or, when they agree only up to canonical literal forms, how not)."""
    why = compare(expected, actual, query)
    if why is None:
        return True, None
    if compare(canonical_answer(expected), canonical_answer(actual), query) is None:
        return True, why
    return False, why


def compare(expected: Answer, actual: Answer, query: str) -> str | None:
    """None when the answers agree, else why not."""
    if expected.kind != actual.kind:
        return f"answer is {actual.kind}, expected {expected.kind}"
    if expected.kind == "boolean":
        return None if expected.boolean == actual.boolean else f"ASK answered {actual.boolean}, expected {expected.boolean}"
    if expected.kind == "graph":
        if isomorphic(expected.graph, actual.graph):
            return None
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected.graph), to_isomorphic(actual.graph))
        return f"graphs differ ({len(actual.graph)} triples, expected {len(expected.graph)}): " + _sample_triples(only_expected, only_actual)
    if set(expected.variables) != set(actual.variables):
        return f"variables {sorted(actual.variables)}, expected {sorted(expected.variables)}"
    why = _match_multiset(list(expected.rows), list(actual.rows))
    if why:
        return why
    keys = order_keys(query)
    if not keys and keys is not None:
        return None  # no ORDER BY: order is not part of the answer
    if keys and all(k in expected.variables for k in keys):
        # Ties may come in any order: the sequence of sort keys must match, not the rows.
        shape = lambda rows: [tuple(_shape(r.get(k)) for k in keys) for r in rows]
        if shape(expected.rows) != shape(actual.rows):
            return f"order of the ORDER BY keys ({' '.join('?' + k for k in keys)}) differs: {_rows(actual.rows[:4])} ..., expected {_rows(expected.rows[:4])} ..."
        return None
    if _unify_in_order(expected.rows, actual.rows) is None:
        return f"solutions in a different order than ORDER BY requires: {_rows(actual.rows[:4])} ..., expected {_rows(expected.rows[:4])} ..."
    return None


def _shape(t):
    return "_:" if isinstance(t, BNode) else t


def _row_key(row: dict) -> tuple:
    return tuple(sorted(((k, _shape(v)) for k, v in row.items()), key=lambda kv: kv[0]))


def _has_bnode(row: dict) -> bool:
    return any(isinstance(v, BNode) for v in row.values())


def _unify(e: dict, a: dict, mapping: dict, inverse: dict):
    """Extend the blank node bijection so that row e maps onto row a, or None."""
    if e.keys() != a.keys():
        return None
    new = {}
    for k, et in e.items():
        at = a[k]
        if isinstance(et, BNode) and isinstance(at, BNode):
            mapped = mapping.get(et, new.get(et))
            if mapped is None:
                if at in inverse or at in new.values():
                    return None
                new[et] = at
            elif mapped != at:
                return None
        elif et != at:
            return None
    if not new:
        return mapping, inverse
    return {**mapping, **new}, {**inverse, **{v: k for k, v in new.items()}}


def _unify_in_order(expected, actual):
    if len(expected) != len(actual):
        return None
    state = ({}, {})
    for e, a in zip(expected, actual):
        state = _unify(e, a, *state)
        if state is None:
            return None
    return state


def _match_multiset(expected: list[dict], actual: list[dict]) -> str | None:
    exp_shapes, act_shapes = Counter(map(_row_key, expected)), Counter(map(_row_key, actual))
    if exp_shapes != act_shapes:
        missing = list((exp_shapes - act_shapes).elements())
        extra = list((act_shapes - exp_shapes).elements())
        parts = [f"{len(actual)} solutions, expected {len(expected)}"]
        if missing:
            parts.append(f"missing {len(missing)}: {_rows([dict(r) for r in missing[:3]])}")
        if extra:
            parts.append(f"unexpected {len(extra)}: {_rows([dict(r) for r in extra[:3]])}")
        return "; ".join(parts)
    # Same rows up to blank node labels: look for one bijection of labels that maps every row (backtracking).
    exp_b = [r for r in expected if _has_bnode(r)]
    act_b = [r for r in actual if _has_bnode(r)]
    candidates = [[j for j, a in enumerate(act_b) if _row_key(a) == _row_key(e)] for e in exp_b]
    order = sorted(range(len(exp_b)), key=lambda i: len(candidates[i]))
    used = [False] * len(act_b)

    def search(n: int, mapping: dict, inverse: dict) -> bool:
        if n == len(order):
            return True
        i = order[n]
        for j in candidates[i]:
            if used[j]:
                continue
            state = _unify(exp_b[i], act_b[j], mapping, inverse)
            if state is None:
                continue
            used[j] = True
            if search(n + 1, *state):
                return True
            used[j] = False
        return False

    return None if search(0, {}, {}) else "solutions agree except for which blank nodes are the same"


def _rows(rows) -> str:
    return "[" + ", ".join("{" + " ".join(f"?{k}={_n3(v)}" for k, v in sorted(r.items())) + "}" for r in rows) + "]"


def _n3(t) -> str:
    return "_:" if t == "_:" else t.n3()


def _sample_triples(only_expected: Graph, only_actual: Graph) -> str:
    fmt = lambda g: "[" + ", ".join(" ".join(x.n3() for x in t) for t in list(g)[:3]) + "]"
    return f"missing {len(only_expected)}: {fmt(only_expected)}; unexpected {len(only_actual)}: {fmt(only_actual)}"


def run_query_test(client, test: QueryTest) -> Outcome:
    text = test.query.read_text(encoding="utf-8")
    try:
        expected = expected_answer(test.result)
    except RunnerLimitation as e:
        return Outcome(test.name, FAILED, str(e), RUNNER)
    response = client.post(
        ENDPOINT, data=text.encode("utf-8"), content_type="application/sparql-query", headers={"Accept": accept_for(test.result)}
    )
    if response.status_code != 200:
        why = f"HTTP {response.status_code}: {response.get_data(as_text=True).strip()[:200]}"
    else:
        try:
            agree, why = judge(expected, actual_answer(response, lossy_csv=test.result.suffix == ".csv"), text)
        except RunnerLimitation as e:
            return Outcome(test.name, FAILED, str(e), RUNNER)
        except Exception as e:  # an answer that does not parse is the endpoint's fault
            agree, why = False, f"the {response.mimetype} answer does not parse: {type(e).__name__}: {e}"
        if agree:
            return Outcome(test.name, PASSED, "" if why is None else f"{CANONICAL_ONLY}: {why}")
    return Outcome(test.name, FAILED, why, _diagnose(test, text, expected))


def _diagnose(test: QueryTest, text: str, expected: Answer) -> str:
    """Run the query with pyoxigraph in-process on the same data: a wrong answer there too is the engine's."""
    store = ox.Store()
    load_data(store, test.data)
    try:
        result = store.query(text)
        with _lexical_literals():
            if isinstance(result, ox.QuerySolutions):
                body = io.BytesIO(result.serialize(format=ox.QueryResultsFormat.JSON))
                actual = _from_result(Result.parse(body, format="json"), lossy_csv=test.result.suffix == ".csv")
            elif isinstance(result, ox.QueryBoolean):
                actual = Answer("boolean", boolean=bool(result))
            else:
                actual = _from_graph(Graph().parse(data=ox.serialize(result, format=ox.RdfFormat.N_TRIPLES), format="nt"))
    except (SyntaxError, OSError):  # pyoxigraph cannot run it either
        return ENGINE
    return ENDPOINT_BUG if judge(expected, actual, text)[0] else ENGINE


BASELINE_WRITE = "KG_W3C_BASELINE"  # set to "write" to record the current run as the baseline


def baseline_problems(tally: Tally, path: Path, section: str) -> list[str]:
    """How this run falls short of the recorded baseline: fewer passes, another test selection, or new failures.

    With KG_W3C_BASELINE=write in the environment, the run is recorded instead (when the endpoint got better).
    """
    recorded = json.loads(path.read_text()) if path.is_file() else {}
    if os.environ.get(BASELINE_WRITE) == "write":
        recorded[section] = {
            "total": len(tally.outcomes),
            "passed": tally.passed,
            "not_applicable": tally.not_applicable,
            "known_failures": {o.name: f"{o.cause or 'unknown'}: {o.reason[:160]}" for o in tally.outcomes if o.verdict == FAILED},
        }
        path.write_text(json.dumps(recorded, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return []
    if section not in recorded:
        return [f"no {section!r} baseline in {path}: run once with {BASELINE_WRITE}=write"]
    base = recorded[section]
    problems = []
    if len(tally.outcomes) != base["total"]:
        problems.append(f"{len(tally.outcomes)} tests selected, the baseline has {base['total']}: the manifests or the selection changed")
    if tally.passed < base["passed"]:
        problems.append(f"{tally.passed} tests pass, fewer than the baseline's {base['passed']}")
    new = [o for o in tally.outcomes if o.verdict == FAILED and o.name not in base["known_failures"]]
    if new:
        problems.append("tests outside the baseline's known failures fail:\n" + "\n".join(f"  {o.name}: {o.reason}" for o in new))
    return problems


def baseline_note(tally: Tally, path: Path, section: str) -> str:
    recorded = json.loads(path.read_text()).get(section, {}) if path.is_file() else {}
    if recorded and tally.passed > recorded["passed"]:
        return f"{tally.passed} pass, more than the baseline's {recorded['passed']}: record it with {BASELINE_WRITE}=write"
    return ""


def check_baseline(results, baseline, suite: str, capsys) -> list[str]:
    """Print the suite's report (past pytest's capture) and return what breaks the recorded baseline."""
    with capsys.disabled():
        print("\n" + results.report())
        note = baseline_note(results, baseline, suite)
        if note:
            print(note)
    return baseline_problems(results, baseline, suite)
