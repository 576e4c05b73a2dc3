"""Result views without a browser: the short URLs of server/shared_views.py (kept, bounded, atomic, surviving a
restart, refusing bad states with a readable 400), the choice of view that server/static/views.js makes for
real named queries (run under node), and the code it offers to copy, run against a live `kg serve`."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from kg.config import ROOT
from kg.namespaces import BASE
from server import create_app
from server import shared_views

from .live import serving
from .system_packages import command

VIEWS_JS = ROOT / "server" / "static" / "views.js"
CITY = BASE + "id/city/"


def app_over(disk_store: Path, views: Path):
    """An app over the session's build on disk whose shared views go to `views`."""
    return create_app({"KG_STORE_PATH": str(disk_store), "TESTING": True, "FOLLOW_INTERVAL": 0,
                       "SHARED_VIEWS": str(views)})


@pytest.fixture()
def views_app(disk_store, tmp_path):
    return app_over(disk_store, tmp_path / "views")


@pytest.fixture(scope="module")
def client(disk_store, tmp_path_factory):
    """For reading results: an app of this module (the session's in-memory KG is not needed here)."""
    return app_over(disk_store, tmp_path_factory.mktemp("views")).test_client()


def fragment(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).fragment, keep_blank_values=True))


# --- Short URLs --------------------------------------------------------------------------------------------------


def test_a_named_query_view_gets_a_short_stable_url_that_leads_back_to_it(views_app, tmp_path):
    client = views_app.test_client()
    state = {"named": "partners-by-country", "params": {"lang": "it", "project": ""}, "view": "chart",
             "options": {"kind": "line"}}
    made = client.post("/v", json=state)
    assert made.status_code == 201, made.get_data(as_text=True)
    ident = made.json["id"]
    assert len(ident) == shared_views.ID_LENGTH and made.json["path"] == f"/v/{ident}"
    assert made.json["url"] == f"http://localhost/v/{ident}"
    # The same view, its fields in another order and an empty parameter more: the same id, nothing new written.
    again = client.post("/v", json={"options": {"kind": "line"}, "view": "chart", "params": {"lang": "it"},
                                    "named": "partners-by-country"})
    assert again.status_code == 200 and again.json["id"] == ident
    assert sorted(p.name for p in (tmp_path / "views").iterdir()) == [f"{ident}.json"]
    # Another view of the same query is another URL.
    assert client.post("/v", json={**state, "view": "table"}).json["id"] != ident

    opened = client.get(f"/v/{ident}")
    assert opened.status_code == 303
    target = urlsplit(opened.headers["Location"])
    assert (target.path, target.query) == ("/queries/partners-by-country", "lang=it")
    assert fragment(opened.headers["Location"]) == {"view": "chart", "view.kind": "line"}
    # The page it leads to runs the query with those parameters (the fragment never reaches the server).
    assert client.get(target.path + "?" + target.query).status_code == 200
    assert client.get(f"/v/{ident}.json").json == {"named": "partners-by-country", "params": {"lang": "it"},
                                                   "view": "chart", "options": {"kind": "line"}}


def test_an_edited_query_survives_the_round_trip_exactly(views_app):
    client = views_app.test_client()
    text = ('PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n# 100% "quoted" & #hash, ünïcode\n'
            'SELECT ?s WHERE { ?s rdfs:label ?l FILTER(REGEX(?l, "^C\\\\w+")) } LIMIT 3')
    made = client.post("/v", json={"query": text, "view": "table"})
    assert made.status_code == 201
    location = client.get(made.json["path"]).headers["Location"]
    assert urlsplit(location).path == "/sparql"
    assert fragment(location) == {"query": text, "view": "table"}
    # Windows line ends are the same query.
    same = client.post("/v", json={"query": text.replace("\n", "\r\n"), "view": "table"})
    assert same.json["id"] == made.json["id"]


@pytest.mark.parametrize("body, said", [
    ({"named": "partners-by-country", "view": "pie"}, "field 'view': 'pie' is not a view"),
    ({"view": "table"}, "exactly one of 'query'"),
    ({"query": "SELECT * {}", "named": "coordinators", "view": "table"}, "exactly one of 'query'"),
    ({"named": "no-such-query", "view": "table"}, "no query named 'no-such-query'"),
    ({"named": "partners-by-country", "params": {"colour": "red"}, "view": "chart"}, "parameter 'colour'"),
    ({"named": "cities-in-several-projects", "params": {"min": "two"}, "view": "chart"}, "parameter 'min'"),
    ({"query": "", "view": "table"}, "field 'query'"),
    ({"query": "SELECT * {}", "params": {"a": "b"}, "view": "table"}, "only a named query has parameters"),
    ({"query": "SELECT * {}", "view": "table", "options": ["kind"]}, "field 'options'"),
    ({"query": "SELECT * {}", "view": "table", "colour": "red"}, "unknown field 'colour'"),
    (["not", "an", "object"], "must be a JSON object"),
])
def test_a_state_that_is_no_view_is_refused_with_what_is_wrong(views_app, body, said):
    response = views_app.test_client().post("/v", json=body)
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)


def test_a_body_that_is_not_json_and_a_query_past_the_endpoints_limit_are_refused(views_app):
    client = views_app.test_client()
    response = client.post("/v", data="query=SELECT", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "JSON object" in response.get_data(as_text=True)
    limit = views_app.config["MAX_QUERY_BYTES"]
    response = client.post("/v", json={"query": "#" * (limit + 1), "view": "table"})
    assert response.status_code == 400 and f"({limit} bytes)" in response.get_data(as_text=True)


def test_unknown_and_malformed_ids_are_404(views_app):
    client = views_app.test_client()
    for path in ("/v/abcdefghijkl", "/v/ABCDEFGHIJKL", "/v/..%2f..%2fetc%2fpasswd", "/v/abc", "/v/abcdefghijkl.json"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.get_data(as_text=True)


def test_views_survive_a_restart_and_are_read_by_any_app_on_the_folder(disk_store, views_app):
    ident = views_app.test_client().post("/v", json={"named": "coordinators", "view": "table"}).json["id"]
    restarted = app_over(disk_store, Path(views_app.config["SHARED_VIEWS"]))
    assert restarted.test_client().get(f"/v/{ident}").headers["Location"] == "/queries/coordinators#view=table"


def test_the_folder_is_bounded_and_a_full_one_says_to_use_the_long_url(views_app, monkeypatch, tmp_path):
    client = views_app.test_client()
    monkeypatch.setattr(shared_views, "MAX_VIEWS", 3)
    kept = [client.post("/v", json={"query": f"SELECT * {{}} LIMIT {n}", "view": "table"}) for n in range(3)]
    assert [r.status_code for r in kept] == [201] * 3
    full = client.post("/v", json={"query": "SELECT * {} LIMIT 9", "view": "table"})
    assert full.status_code == 507 and "long) URL" in full.get_data(as_text=True)
    # A view already kept is still answered: its URL costs nothing more.
    assert client.post("/v", json={"query": "SELECT * {} LIMIT 0", "view": "table"}).status_code == 200
    monkeypatch.setattr(shared_views, "MAX_VIEWS", 100)
    monkeypatch.setattr(shared_views, "MAX_FOLDER_BYTES", 300)
    big = client.post("/v", json={"query": "SELECT * {} # " + "x" * 200, "view": "table"})
    assert big.status_code == 507
    folder = tmp_path / "views"
    assert len(list(folder.iterdir())) == 3, "a refused view left a file behind"


def test_a_folder_that_cannot_be_written_gives_507_not_a_traceback(disk_store, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way\n")
    app = app_over(disk_store, blocked / "views")
    response = app.test_client().post("/v", json={"named": "coordinators", "view": "table"})
    assert response.status_code == 507 and "could not be kept" in response.get_data(as_text=True)


def test_a_view_is_written_whole_or_not_at_all(views_app, monkeypatch, tmp_path):
    """A write that fails half-way (the disk full, the process killed before the rename) leaves no view and no
    partial file: readers only ever see a complete file under its final name."""
    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_views.os, "fsync", failing_fsync)
    response = views_app.test_client().post("/v", json={"named": "coordinators", "view": "table"})
    assert response.status_code == 507
    assert list((tmp_path / "views").iterdir()) == []


def test_the_default_folder_is_beside_the_store_link(disk_store):
    app = create_app({"KG_STORE_PATH": str(disk_store), "TESTING": True, "FOLLOW_INTERVAL": 0})
    with app.app_context():
        assert shared_views.folder() == disk_store.parent / "views"


# --- The view views.js chooses, for the real KG's results -------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    return command("nodejs", "node")


def views_js(node: str, function: str, *args):
    """Call one of views.js's pure functions under node with JSON arguments; its JSON result."""
    script = (f"const v = require({json.dumps(str(VIEWS_JS))});"
              "const args = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              f"process.stdout.write(JSON.stringify(v.{function}(...args), (k, x) => x instanceof Map ? [...x] : x));")
    done = subprocess.run([node, "-e", script], input=json.dumps(args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def named_results(client, name: str, **params) -> dict:
    response = client.get(f"/queries/{name}.json", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def run_select(client, text: str) -> dict:
    response = client.post("/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.mark.parametrize("name, params, chosen, offered", [
    ("partners-by-country", {}, "chart", ["table", "chart"]),  # an aggregate: one label column, two counts
    ("co-partner-pairs", {}, "network", ["table", "chart", "network"]),  # organisation pairs, weighted
    ("coordinators", {}, "table", ["table", "map", "network"]),  # cities among four kinds of thing: offered only
    ("project-partners", {}, "table", ["table", "map", "network"]),
    ("fact-provenance", {}, "table", ["table", "network"]),
])
def test_the_view_chosen_for_each_shape(client, node, name, params, chosen, offered):
    results = named_results(client, name, **params)
    assert results["results"]["bindings"], f"{name} has no rows in the curated KG: the test checks nothing"
    assert views_js(node, "detect", results, BASE) == chosen
    assert views_js(node, "available", results, BASE) == offered


def test_pairs_of_labels_with_a_count_are_a_network_too(client, node):
    """The editor's co-partner example names the partners by their labels, with a count and a list."""
    results = run_select(client, "PREFIX ckg: <https://w3id.org/cohesion-kg/ontology/> "
                                 "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                                 "SELECT ?a ?b (COUNT(DISTINCT ?p) AS ?shared) (SAMPLE(?acronym) AS ?one) WHERE { "
                                 "?p ckg:hasPartner ?x, ?y ; ckg:acronym ?acronym FILTER (STR(?x) < STR(?y)) "
                                 '?x rdfs:label ?a . ?y rdfs:label ?b FILTER (lang(?a) = "en" && lang(?b) = "en") } '
                                 "GROUP BY ?a ?b")
    assert views_js(node, "detect", results, BASE) == "network"
    data = views_js(node, "pairs", results, {})
    assert data["weightColumn"] == "shared" and (data["source"], data["target"]) == ("a", "b")
    # Text alone, more than two columns and no number: offered, not chosen.
    texts = run_select(client, 'SELECT ?a ?b ?c WHERE { VALUES (?a ?b ?c) { ("x" "y" "z") } }')
    assert views_js(node, "detect", texts, BASE) == "table"
    assert views_js(node, "available", texts, BASE) == ["table", "network"]


def test_coordinates_and_wkt_points_choose_the_map_and_give_the_places(client, node):
    rows = {"turin": (45.07, 7.69), "berlin": (52.52, 13.405)}
    values = " ".join(f"(<{CITY}{c}> {lat} {long})" for c, (lat, long) in rows.items())
    results = run_select(client, f"SELECT ?city ?lat ?long WHERE {{ VALUES (?city ?lat ?long) {{ {values} }} }}")
    assert views_js(node, "detect", results, BASE) == "map"
    placed = views_js(node, "places", results, BASE)
    assert {(p["iri"], p["lat"], p["long"]) for p in placed["found"]} == {
        (CITY + c, lat, long) for c, (lat, long) in rows.items()}
    wkt = run_select(client, 'PREFIX geo: <http://www.opengis.net/ont/geosparql#> SELECT ?where ?point WHERE { '
                             'VALUES (?where ?point) { ("Turin" "POINT(7.69 45.07)"^^geo:wktLiteral) } }')
    assert views_js(node, "detect", wkt, BASE) == "map"
    assert [(p["label"], p["lat"], p["long"]) for p in views_js(node, "places", wkt, BASE)["found"]] == [("Turin", 45.07, 7.69)]


def test_city_iris_without_coordinates_are_looked_up_with_one_query(client, node):
    results = named_results(client, "project-partners")
    cities = {b["city"]["value"] for b in results["results"]["bindings"] if "city" in b}
    placed = views_js(node, "places", results, BASE)
    assert placed["found"] == [] and {iri for iri, _ in placed["lookup"]} == cities
    text = views_js(node, "lookupQuery", sorted(cities), BASE)
    # The query the map sends is one the endpoint runs (the curated cities have no coordinates: no rows).
    assert run_select(client, text)["head"]["vars"] == ["place", "lat", "long"]
    assert all(f"<{iri}>" in text for iri in cities)


def test_too_many_cities_to_name_are_looked_up_among_all_the_cities(client, node):
    """The grown KG names 1,215 cities in one query's results: their IRIs alone pass the endpoint's 64 KB."""
    many = [f"{CITY}gn-{n}" for n in range(3000)]
    text = views_js(node, "lookupQuery", many, BASE)
    assert len(text) < 1000 and "VALUES" not in text and f"<{BASE}ontology/City>" in text
    assert run_select(client, text)["head"]["vars"] == ["place", "lat", "long"]


def test_the_chart_data_is_the_results(client, node):
    results = named_results(client, "partners-by-country")
    data = views_js(node, "chartData", results, {})
    rows = results["results"]["bindings"]
    assert data["kind"] == "bar" and data["labelColumn"] == "country"
    assert data["labels"] == [r["countryLabel"]["value"] for r in rows]
    assert {d["label"]: d["data"] for d in data["datasets"]} == {
        c: [int(r[c]["value"]) for r in rows] for c in ("organisations", "projects")}
    assert views_js(node, "chartData", results, {"kind": "line"})["kind"] == "line"


def test_a_year_column_makes_a_line_chart_in_time_order(client, node):
    results = run_select(client, "PREFIX ckg: <https://w3id.org/cohesion-kg/ontology/> "
                                 "SELECT ?year (COUNT(?p) AS ?projects) WHERE { ?p a ckg:Project ; ckg:startDate ?d "
                                 "BIND (YEAR(?d) AS ?year) } GROUP BY ?year ORDER BY DESC(?year)")
    assert len(results["results"]["bindings"]) >= 2
    assert views_js(node, "detect", results, BASE) == "chart"
    data = views_js(node, "chartData", results, {})
    assert data["kind"] == "line" and data["labels"] == sorted(data["labels"], key=int)


def test_pairs_add_up_to_weighted_links(client, node):
    results = named_results(client, "co-partner-pairs")
    data = views_js(node, "pairs", results, {})
    rows = results["results"]["bindings"]
    assert data["weightColumn"] == "shared"
    assert len(data["links"]) == len(rows)  # each pair once in the query: each link once
    assert sum(link["weight"] for link in data["links"]) == sum(int(r["shared"]["value"]) for r in rows)
    assert {n["key"] for n in data["nodes"]} == {r[c]["value"] for r in rows for c in ("a", "b")}


def test_the_view_in_the_fragment_reads_back(node):
    text = 'SELECT * WHERE { ?s ?p "a b & c=d #e" }'
    written = views_js(node, "writeFragment", "chart", {"kind": "line", "label": ""}, text)
    assert views_js(node, "readFragment", written) == {"view": "chart", "options": {"kind": "line"}, "query": text}
    assert views_js(node, "readFragment", "#view=pie") == {"view": None, "options": {}, "query": None}


# --- Copy as code, run for real -----------------------------------------------------------------------------------

TRICKY = ('PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n'
          "# a comment with 'single' and \"double\" quotes, a $dollar, a `backtick` and ünïcode\n"
          'SELECT ?s ?label WHERE {\n  ?s rdfs:label ?label .\n  FILTER (REGEX(STR(?label), "^C\\\\w+", "i"))\n}\n'
          'ORDER BY ?s ?label LIMIT 7')


@pytest.fixture(scope="module")
def live(disk_store):
    with serving(disk_store, "--workers", "1") as base:
        yield base


def endpoint_rows(endpoint: str, text: str) -> tuple[list[str], list[dict[str, str]]]:
    response = requests.post(endpoint, data={"query": text}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
    response.raise_for_status()
    results = response.json()
    return results["head"]["vars"], [{k: v["value"] for k, v in b.items()} for b in results["results"]["bindings"]]


def run_python(snippet: str, tmp_path: Path, dump: str) -> object:
    """Run the snippet as a user would (python file.py), then `dump` to read what it made; its JSON."""
    script = tmp_path / "snippet.py"
    script.write_text(snippet + "\n# --- the test reads what the snippet made\nimport json as _json\n"
                      f"print('\\n@@@' + _json.dumps({dump}, default=str))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.rsplit("\n@@@", 1)[1])


def same_value(made, expected: str) -> bool:
    """A cell as pandas read it from the CSV against the endpoint's value: numbers as numbers, empty as NaN."""
    if made is None or (isinstance(made, float) and math.isnan(made)):
        return expected == ""
    if isinstance(made, bool):
        return str(made).lower() == expected
    if isinstance(made, (int, float)):
        return float(expected) == made
    return made == expected


@pytest.fixture(scope="module")
def queries(client):
    """The copied queries: a named query's bound text (what its page offers to copy) and an awkward one."""
    page = client.get("/queries/partners-by-country?lang=it").get_data(as_text=True)
    marker = '<script id="result-data" type="application/json">'
    data = json.loads(page.split(marker, 1)[1].split("</script>", 1)[0])
    return {"named": data["query"], "tricky": TRICKY}


@pytest.mark.parametrize("which", ["named", "tricky"])
def test_the_python_sparqlwrapper_code_gives_the_endpoints_rows(node, live, queries, which, tmp_path):
    endpoint = live + "/sparql"
    snippet = views_js(node, "code", "python", endpoint, queries[which])
    assert f'SPARQLWrapper("{endpoint}")' in snippet
    _, expected = endpoint_rows(endpoint, queries[which])
    assert expected, "the query has no rows: the comparison would prove nothing"
    assert run_python(snippet, tmp_path, "rows") == expected


@pytest.mark.parametrize("which", ["named", "tricky"])
def test_the_pandas_code_gives_the_endpoints_rows(node, live, queries, which, tmp_path):
    endpoint = live + "/sparql"
    snippet = views_js(node, "code", "pandas", endpoint, queries[which])
    columns, expected = endpoint_rows(endpoint, queries[which])
    made = run_python(snippet, tmp_path, '{"columns": list(df.columns), "rows": df.to_dict("records")}')
    assert made["columns"] == columns
    assert len(made["rows"]) == len(expected)
    for got, want in zip(made["rows"], expected):
        assert all(same_value(got[c], want.get(c, "")) for c in columns), (got, want)


@pytest.mark.parametrize("which", ["named", "tricky"])
def test_the_curl_command_gives_the_endpoints_rows(node, live, queries, which):
    endpoint = live + "/sparql"
    snippet = views_js(node, "code", "curl", endpoint, queries[which])
    done = subprocess.run(["bash", "-c", snippet], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    columns, expected = endpoint_rows(endpoint, queries[which])
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert table == [{c: row.get(c, "") for c in columns} for row in expected]


def test_the_r_code_holds_the_query_and_the_endpoint(node, queries):
    """R is not installed here: the code is checked for what it sends, not run."""
    snippet = views_js(node, "code", "r", "http://example.org/sparql", queries["tricky"])
    assert 'POST("http://example.org/sparql", body = list(query = query), encode = "form", accept("text/csv"))' in snippet
    assert 'query <- r"---(' + queries["tricky"] + ')---"' in snippet
    tricky_for_raw = 'SELECT * { ?s ?p ")---" }'
    assert "query <- " + json.dumps(tricky_for_raw) in views_js(node, "code", "r", "http://example.org/sparql", tricky_for_raw)
