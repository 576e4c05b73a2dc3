"""Hostile requests: every bad request gets the right 4xx with a clear message, never a 5xx or a traceback.

tests/fixtures/hostile/requests.json is the corpus, one entry per request:
  name, method, path (may carry a raw query string, %FF included), and optionally
  params   query-string parameters; form   form fields (POSTed urlencoded); body   raw bytes (POSTed as is);
  headers; status; message (a fragment of the body); content_type (the expected mimetype);
  absent   fragments that must not be in the body (file contents, unescaped markup);
  max_seconds   how long the answer may take.
A parameter, field or body is a string or a list of pieces: a string, or [string, count] repeated count times.
The body's backslash escapes are decoded (\\xff is the byte 0xFF), so invalid UTF-8 can be written in JSON.

The fuzz tests below send random text, bytes, token soup and header values, and only ask for no 5xx.
"""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "hostile" / "requests.json").read_text())
TRACEBACK_MARKS = ("Traceback", 'File "')


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return "".join(piece if isinstance(piece, str) else piece[0] * piece[1] for piece in value)


def _request(entry: dict) -> dict:
    kwargs = {"method": entry["method"], "headers": entry.get("headers", {})}
    if "params" in entry:
        kwargs["query_string"] = {k: _text(v) for k, v in entry["params"].items()}
    if "form" in entry:
        kwargs["data"] = {k: _text(v) for k, v in entry["form"].items()}
    if "body" in entry:
        kwargs["data"] = codecs.escape_decode(_text(entry["body"]).encode("utf-8"))[0]
    return kwargs


def _assert_no_traceback(body: str) -> None:
    for mark in TRACEBACK_MARKS:
        assert mark not in body, body[:2000]


def test_the_corpus_is_well_formed():
    names = [e["name"] for e in CORPUS]
    assert len(names) == len(set(names)), "entry names must be unique"
    for e in CORPUS:
        assert {"name", "method", "path", "status"} <= set(e), e


@pytest.mark.parametrize("entry", CORPUS, ids=[e["name"] for e in CORPUS])
def test_hostile_request(client, entry):
    started = time.monotonic()
    r = client.open(entry["path"], **_request(entry))
    elapsed = time.monotonic() - started
    body = r.get_data().decode("utf-8", "replace")
    assert r.status_code == entry["status"], body[:2000]
    assert entry.get("message", "") in body
    _assert_no_traceback(body)
    if "content_type" in entry:
        assert r.mimetype == entry["content_type"]
    for fragment in entry.get("absent", []):
        assert fragment not in body
    if "max_seconds" in entry:
        assert elapsed < entry["max_seconds"]


# --- Fuzzing -------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def fuzz_client(store):
    # A short timeout: random token soup can make a cartesian product, which must end as a 503, quickly.
    from server import create_app

    app = create_app({"KG_STORE": store, "TESTING": True, "QUERY_TIMEOUT": 2.0, "CACHE_BYTES": 0})
    yield app.test_client()
    app.config["KG_BACKEND"].close()


def _check(r) -> None:
    body = r.get_data().decode("utf-8", "replace")
    # A query that outlasts the timeout is the one 5xx a client may cause; it says so.
    if r.status_code == 503 and "ran longer than" in body:
        return
    assert r.status_code < 500, body[:2000]
    _assert_no_traceback(body)


SOUP = st.sampled_from([
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "SERVICE",
    "SILENT", "BIND", "VALUES", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "PREFIX", "BASE", "FROM", "NAMED",
    "LOAD", "INSERT", "DELETE", "DATA", "CLEAR", "AS", "a", "*", ".", ";", ",", "{", "}", "(", ")", "[", "]", "?s",
    "?p", "?o", "$x", "<http://example.org/x>", "<file:///etc/passwd>", "<>", "<", ">", "ckg:Project", "rdfs:label",
    "nope:x", ":", "_:b", '"text"', "'x'@en", '"""long', '"1"^^xsd:integer', "1", "-1", "1e400", "99999999999999999999",
    "&&", "||", "!", "=", "COUNT(*)", "#", "\n", "\\", "\u00e9", "\ufffd", "\x00",
])
QUERY_TEXT = st.one_of(st.text(max_size=200), st.lists(SOUP, max_size=24).map(" ".join))
HEADER_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
MEDIA_TYPES = st.one_of(
    HEADER_VALUE,
    st.sampled_from(["application/sparql-query", "application/x-www-form-urlencoded", "application/sparql-update",
                     "text/plain", "multipart/form-data", "application/sparql-query; charset=latin1", ""]),
)
ACCEPT = st.one_of(
    HEADER_VALUE,
    st.sampled_from(["*/*", "text/html", "text/csv", "application/sparql-results+json;q=0", "text/turtle, */*;q=0.1", ""]),
)


@FUZZ
@given(query=QUERY_TEXT, accept=ACCEPT, fmt=st.one_of(st.none(), st.text(max_size=20)), graph=st.one_of(st.none(), st.text(max_size=40)))
def test_fuzz_sparql_get(fuzz_client, query, accept, fmt, graph):
    params = {"query": query}
    if fmt is not None:
        params["format"] = fmt
    if graph is not None:
        params["default-graph-uri"] = graph
    _check(fuzz_client.get("/sparql", query_string=params, headers={"Accept": accept}))


@FUZZ
@given(body=st.one_of(st.binary(max_size=300), QUERY_TEXT.map(lambda t: t.encode("utf-8"))), content_type=MEDIA_TYPES, accept=ACCEPT)
def test_fuzz_sparql_post(fuzz_client, body, content_type, accept):
    _check(fuzz_client.post("/sparql", data=body, headers={"Content-Type": content_type, "Accept": accept}))


@FUZZ
@given(raw=st.binary(max_size=200))
def test_fuzz_sparql_raw_query_string(fuzz_client, raw):
    # Percent-encoded arbitrary bytes: invalid UTF-8, NULs, separators, all in the query string itself.
    _check(fuzz_client.get("/sparql?query=" + quote(raw, safe="")))


@FUZZ
@given(path=st.text(max_size=60), raw=st.binary(max_size=30), accept=ACCEPT, fmt=st.one_of(st.none(), st.text(max_size=10)))
def test_fuzz_id_paths(fuzz_client, path, raw, accept, fmt):
    url = "/id/" + quote(path.encode("utf-8", "surrogatepass") + raw, safe="/")
    _check(fuzz_client.get(url, query_string={"format": fmt} if fmt is not None else {}, headers={"Accept": accept}))


NETWORK_NAMES = st.one_of(st.sampled_from(["kind", "format", "programme", "fund", "country", "from", "to", "lang"]), st.text(max_size=10))
VALUES = st.one_of(st.text(max_size=40), st.sampled_from(["organisation", "city", "html", "json", "1990", "2020", "programme:erdf", "99999999999999999999"]))


@FUZZ
@given(params=st.lists(st.tuples(NETWORK_NAMES, VALUES), max_size=4), accept=ACCEPT)
def test_fuzz_network(fuzz_client, params, accept):
    _check(fuzz_client.get("/network", query_string=params, headers={"Accept": accept}))


QUERY_NAMES = ["coordinators", "co-partner-pairs", "organisation-search", "events-in-period", "projects-by-funding", "project-partners"]
QUERY_PARAMS = st.one_of(st.sampled_from(["min", "lang", "text", "from", "to", "fund", "programme", "project", "goal"]), st.text(max_size=10))


@FUZZ
@given(
    name=st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=20)),
    ext=st.sampled_from(["", ".csv", ".json", ".xml", ".tsv", ".exe"]),
    params=st.lists(st.tuples(QUERY_PARAMS, VALUES), max_size=4),
)
def test_fuzz_named_queries(fuzz_client, name, ext, params):
    _check(fuzz_client.get("/queries/" + quote(name.encode("utf-8", "surrogatepass"), safe="") + ext, query_string=params))
