"""The W3C reconciliation service at /reconcile (server/discovery/reconcile.py, matching in kg/discovery/reconcile.py)
on the curated KG: every response validates against the community group's JSON Schemas, in 0.2 (the default,
OpenRefine 3's) and in the 1.0 draft (asked for with its media type); errors are clear; a small spreadsheet of
partner names is reconciled and extended as OpenRefine does it.

The schemas are read where they are published beside the project (../shared/conformance/reconciliation)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from kg.config import ROOT
from kg.discovery import index as discovery_index
from kg.discovery.reconcile import Query, Reconciler
from kg.discovery.search import SearchIndex

SCHEMAS = ROOT.parent / "shared" / "conformance" / "reconciliation"
SPREADSHEET = Path(__file__).parent / "fixtures" / "reconcile" / "partners.csv"
V10_MEDIA = "application/reconciliation.v1+json"
V10 = {"Accept": V10_MEDIA}
ID = "https://w3id.org/cohesion-kg/id/"
CKG = "https://w3id.org/cohesion-kg/ontology/"
ORGANISATION, CITY = CKG + "Organisation", CKG + "City"
PALERMO = ID + "organisation/city-of-palermo"


def _schemas(version: str) -> dict:
    folder = SCHEMAS / version / "schemas"
    if not folder.is_dir():
        message = f"the reconciliation JSON Schemas are not at {SCHEMAS} (../shared beside the project)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    loaded = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s, default_specification=_draft7()))
                                         for s in loaded.values() if "$id" in s)
    return {name: Draft7Validator(schema, registry=registry) for name, schema in loaded.items()}


def _draft7():
    from referencing.jsonschema import DRAFT7

    return DRAFT7


@pytest.fixture(scope="module")
def v02():
    return _schemas("0.2")


@pytest.fixture(scope="module")
def v10():
    return _schemas("1.0-draft")


def valid(validators: dict, name: str, instance) -> None:
    errors = sorted(validators[name].iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def form(client, path: str, **fields):
    return client.post(path, data={k: json.dumps(v) for k, v in fields.items()})


# --- Manifest and version negotiation ------------------------------------------------------------------------------

def test_manifest_is_0_2_by_default_and_lists_both_versions(client, v02):
    response = client.get("/reconcile")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    manifest = response.get_json()
    valid(v02, "manifest", manifest)
    assert manifest["versions"] == ["0.2", "1.0-draft"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {ORGANISATION, CITY}


def test_manifest_in_the_1_0_draft_when_its_media_type_is_asked_for(client, v10):
    response = client.get("/reconcile", headers=V10)
    assert response.mimetype == V10_MEDIA
    manifest = response.get_json(force=True)
    valid(v10, "manifest", manifest)
    assert manifest["suggest"] == {"entity": True, "type": True, "property": True}
    assert manifest["standardizedScore"] is True
    # A client that prefers the draft but takes JSON gets the draft; one that takes anything gets 0.2.
    assert "identifierSpace" not in client.get("/reconcile", headers={"Accept": f"{V10_MEDIA}, application/json;q=0.5"}).get_json(force=True)
    assert "identifierSpace" in client.get("/reconcile", headers={"Accept": "*/*"}).get_json()


def test_an_accept_header_naming_neither_version_is_406(client):
    response = client.get("/reconcile", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert V10_MEDIA in response.get_data(as_text=True)


def test_jsonp_wraps_the_0_2_manifest(client, v02):
    response = client.get("/reconcile?callback=jQuery123_456")
    assert response.mimetype == "application/javascript"
    body = response.get_data(as_text=True)
    assert body.startswith("jQuery123_456(") and body.endswith(");")
    valid(v02, "manifest", json.loads(body[len("jQuery123_456("):-2]))
    assert client.get("/reconcile?callback=alert(1)//").status_code == 400


def test_the_manifests_view_and_preview_urls_lead_to_our_pages(client):
    manifest = client.get("/reconcile").get_json()
    view = manifest["view"]["url"].replace("{{id}}", PALERMO)
    response = client.get(view)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/id/organisation/city-of-palermo")
    page = client.get(response.headers["Location"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Palermo" in page.get_data(as_text=True)
    preview = client.get(manifest["preview"]["url"].replace("{{id}}", PALERMO))
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "City of Palermo" in preview.get_data(as_text=True)
    draft = client.get("/reconcile", headers=V10).get_json(force=True)
    assert client.get(draft["view"]["url"].replace("{id}", PALERMO)).status_code == 303
    assert client.get("/reconcile/view?id=" + ID + "organisation/nothing-here").status_code == 404


# --- Reconciliation queries ----------------------------------------------------------------------------------------

QUERIES_02 = {
    "q0": {"query": "Comune di Palermo", "type": ORGANISATION, "type_strict": "should"},
    "q1": {"query": "CESIE", "type": ORGANISATION, "properties": [{"pid": CKG + "country", "v": "IT"}]},
    "q2": {"query": "Torino", "type": [CITY], "limit": 3},
    "q3": {"query": "Palermo", "properties": [{"pid": "city", "v": {"id": ID + "city/palermo", "name": "Palermo"}}]},
}


def test_a_0_2_batch_by_form_and_by_query_parameter(client, v02):
    valid(v02, "reconciliation-query-batch", QUERIES_02)
    for response in (form(client, "/reconcile", queries=QUERIES_02),
                     client.get("/reconcile", query_string={"queries": json.dumps(QUERIES_02)})):
        assert response.status_code == 200
        results = response.get_json()
        valid(v02, "reconciliation-result-batch", results)
        assert set(results) == set(QUERIES_02)
        first = results["q0"]["result"][0]
        assert (first["id"], first["match"]) == (PALERMO, True)
        assert 0 <= first["score"] <= 100
        assert first["type"] == [{"id": ORGANISATION, "name": "Organisation"}]
        assert results["q1"]["result"][0]["id"] == ID + "organisation/cesie"
        assert {"id": "country", "name": "Same country", "value": True} in results["q1"]["result"][0]["features"]
        assert [c["id"] for c in results["q2"]["result"]] == [ID + "city/turin"]
        assert all(len(r["result"]) <= 5 for r in results.values())


def test_a_1_0_batch_posted_to_match(client, v10):
    batch = {"queries": [
        {"type": ORGANISATION, "conditions": [{"matchType": "name", "propertyValue": "Comune di Palermo"}]},
        {"conditions": [{"matchType": "name", "propertyValue": "CESIE"},
                        {"matchType": "property", "propertyId": CKG + "country", "propertyValue": "Italia", "required": True}]},
        {"type": CITY, "limit": 2, "conditions": [{"matchType": "id", "propertyValue": ID + "city/palermo"}]},
        {"type": ORGANISATION, "conditions": [{"matchType": "name", "propertyValue": "CESIE"},
                                              {"matchType": "property", "propertyId": "country", "propertyValue": "FR", "required": True}]},
    ]}
    valid(v10, "reconciliation-query-batch", batch)
    response = client.post("/reconcile/match", json=batch)
    assert response.status_code == 200
    results = response.get_json()
    valid(v10, "reconciliation-result-batch", results)
    first = [r["candidates"][0]["id"] if r["candidates"] else None for r in results["results"]]
    assert first == [PALERMO, ID + "organisation/cesie", ID + "city/palermo", None]


def test_constraints_move_scores_and_decide_the_match(app):
    index = SearchIndex(discovery_index.path_in(app.config["KG_BACKEND"].folder))
    reconciler = Reconciler(index)
    plain = reconciler.reconcile(Query("CESIE", ("organisation",)))[0]
    elsewhere = reconciler.reconcile(Query("CESIE", ("organisation",), ["Germany"]))[0]
    assert plain.iri == elsewhere.iri == ID + "organisation/cesie"
    assert plain.match and not elsewhere.match
    assert elsewhere.score < plain.score and elsewhere.features["country"] is False
    # A city asked for by its municipality's name, and a municipality by its city's.
    assert reconciler.reconcile(Query("Stadt Berlin", ("city",)))[0].iri == ID + "city/berlin"
    assert reconciler.reconcile(Query("Berlin", ("organisation",)))[0].iri == ID + "organisation/city-of-berlin"
    assert reconciler.reconcile(Query("Universty of Turin", ("organisation",)))[0].iri == ID + "organisation/university-of-turin"
    assert reconciler.reconcile(Query("Comune di Vipiteno", ("organisation",))) == [] or \
        not reconciler.reconcile(Query("Comune di Vipiteno", ("organisation",)))[0].match


# --- Suggest, preview, data extension ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["0.2", "1.0-draft"])
def test_suggest_services(client, v02, v10, version):
    schemas, headers = (v02, {}) if version == "0.2" else (v10, V10)
    entity = client.get("/reconcile/suggest/entity", query_string={"prefix": "Paler", "type": ORGANISATION}, headers=headers)
    assert entity.status_code == 200
    valid(schemas, "suggest-entities-response", entity.get_json(force=True))
    assert PALERMO in [r["id"] for r in entity.get_json(force=True)["result"]]
    by_id = client.get("/reconcile/suggest/entity", query_string={"prefix": PALERMO}, headers=headers).get_json(force=True)
    assert [r["id"] for r in by_id["result"]] == [PALERMO]
    types = client.get("/reconcile/suggest/type", query_string={"prefix": "org"}, headers=headers).get_json(force=True)
    valid(schemas, "suggest-types-response", types)
    assert [t["id"] for t in types["result"]] == [ORGANISATION]
    properties = client.get("/reconcile/suggest/property", query_string={"prefix": "coun"}, headers=headers).get_json(force=True)
    valid(schemas, "suggest-properties-response", properties)
    assert [p["id"] for p in properties["result"]] == [CKG + "country"]
    assert len(client.get("/reconcile/suggest/property?prefix=", headers=headers).get_json(force=True)["result"]) == 6


def test_preview_and_flyout(client):
    response = client.get("/reconcile/preview", query_string={"id": ID + "organisation/cesie"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "CESIE" in html and "Palermo" in html and "<script" not in html
    flyout = client.get("/reconcile/flyout/entity", query_string={"id": ID + "organisation/cesie", "callback": "cb"})
    assert flyout.get_data(as_text=True).startswith("cb(")
    assert client.get("/reconcile/preview?id=" + ID + "organisation/nobody").status_code == 404
    assert client.get("/reconcile/preview").status_code == 400


@pytest.mark.parametrize("version", ["0.2", "1.0-draft"])
def test_propose_properties(client, v02, v10, version):
    schemas, headers = (v02, {}) if version == "0.2" else (v10, V10)
    response = client.get("/reconcile/extend/propose", query_string={"type": ORGANISATION}, headers=headers)
    assert response.status_code == 200
    proposal = response.get_json(force=True)
    valid(schemas, "data-extension-property-proposal", proposal)
    assert proposal["type"] == ORGANISATION
    assert [p["name"] for p in proposal["properties"]] == ["Country", "City", "Projects", "Roles", "Programme", "Coordinates"]
    city = client.get("/reconcile/extend/propose", query_string={"type": CITY, "limit": 2}).get_json()
    assert len(city["properties"]) == 2


def test_extend_in_both_versions(client, v02, v10):
    query = {"ids": [PALERMO, ID + "city/palermo"],
             "properties": [{"id": p} for p in ("country", "city", "projects", "roles", "programme", "coordinates")]
             + [{"id": CKG + "partnerIn", "settings": {"limit": 1}}]}
    valid(v02, "data-extension-query", query)
    old = form(client, "/reconcile", extend=query)
    assert old.status_code == 200
    rows = old.get_json()
    valid(v02, "data-extension-response", rows)
    palermo = rows["rows"][PALERMO]
    assert palermo["country"] == [{"str": "Italy"}]
    assert palermo["city"] == [{"id": ID + "city/palermo", "name": "Palermo"}]
    assert ID + "project/conet" in [p["id"] for p in palermo["projects"]]
    assert len(palermo[CKG + "partnerIn"]) == 1
    assert palermo["roles"] and palermo["programme"]
    # Coordinates as the index holds them (the curated KG's cities have none; the imported ones do).
    place = SearchIndex(discovery_index.path_in(client.application.config["KG_BACKEND"].folder)).entity(ID + "city/palermo")
    expected = [{"str": f"{place.lat},{place.long}"}] if place.lat is not None else []
    assert rows["rows"][ID + "city/palermo"]["coordinates"] == expected
    assert {"id": "projects", "name": "Projects", "type": {"id": CKG + "Project", "name": "Project"}} in rows["meta"]
    new = client.post("/reconcile/extend", json=query, headers=V10)
    assert new.status_code == 200
    valid(v10, "data-extension-response", new.get_json())
    assert [r["id"] for r in new.get_json()["rows"]] == query["ids"]


# --- Errors and CORS ------------------------------------------------------------------------------------------------------

def test_bad_json_is_a_400_that_names_the_field(client):
    response = client.post("/reconcile", data={"queries": '{"q0": {"query": "CESIE"'})
    assert response.status_code == 400
    message = response.get_data(as_text=True)
    assert message.startswith("queries: not valid JSON") and "column" in message
    assert client.post("/reconcile/match", data="{", content_type="application/json").status_code == 400
    assert "extend" in form(client, "/reconcile", extend=["not", "an", "object"]).get_data(as_text=True)


@pytest.mark.parametrize("queries, words", [
    ({"q0": {"query": "CESIE", "type": CKG + "Spaceship"}}, ["queries: q0: type", "Spaceship"]),
    ({"q0": {"query": "CESIE", "properties": [{"pid": "colour", "v": "red"}]}}, ["q0: properties[0]", "colour"]),
    ({"q0": {"query": "CESIE", "limit": -1}}, ["q0", "limit"]),
    ({"q0": {"query": "CESIE", "properties": [{"pid": "country", "v": "Atlantis"}]}}, ["Atlantis"]),
    (["CESIE"], ["queries"]),
])
def test_bad_queries_are_400s_naming_what_and_where(client, queries, words):
    response = form(client, "/reconcile", queries=queries)
    assert response.status_code == 400
    message = response.get_data(as_text=True)
    assert all(w in message for w in words), message


def test_unknown_types_and_too_many_queries(client):
    assert client.get("/reconcile/extend/propose", query_string={"type": "Q5"}).status_code == 400
    assert client.get("/reconcile/suggest/entity", query_string={"prefix": "x", "type": "Q5"}).status_code == 400
    batch = {f"q{i}": {"query": "CESIE"} for i in range(101)}
    response = form(client, "/reconcile", queries=batch)
    assert response.status_code == 413
    assert "101" in response.get_data(as_text=True) and "100" in response.get_data(as_text=True)
    too_many = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "CESIE"}]}] * 101}
    assert client.post("/reconcile/match", json=too_many).status_code == 413
    unsupported = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "CESIE", "matchQualifier": "skos:exactMatch"}]}]}
    assert "matchQualifier" in client.post("/reconcile/match", json=unsupported).get_data(as_text=True)


def test_cors_on_every_route(client):
    origin = {"Origin": "https://openrefine.example"}
    for path in ("/reconcile", "/reconcile/suggest/entity?prefix=Pa", "/reconcile/preview?id=" + PALERMO,
                 "/reconcile/extend/propose?type=" + ORGANISATION):
        assert client.get(path, headers=origin).headers.get("Access-Control-Allow-Origin") == "*", path
    preflight = client.options("/reconcile/match", headers={**origin, "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == "*"
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")


# --- A spreadsheet, round trip ---------------------------------------------------------------------------------------------

def test_a_spreadsheet_of_partners_reconciled_then_extended(client, v02):
    """What OpenRefine does with a column of partner names (and country, city columns as properties): batches of
    10 queries, then the matched cells extended with country and projects."""
    with SPREADSHEET.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    matched = {}
    for start in range(0, len(rows), 10):
        chunk = rows[start:start + 10]
        queries = {}
        for i, row in enumerate(chunk):
            properties = [{"pid": CKG + "country", "v": row["country"]}] if row["country"] else []
            properties += [{"pid": CKG + "basedIn", "v": row["city"]}] if row["city"] else []
            queries[f"q{i}"] = {"query": row["partner"], "type": ORGANISATION, "type_strict": "should",
                                "properties": properties}
        valid(v02, "reconciliation-query-batch", queries)
        results = form(client, "/reconcile", queries=queries).get_json()
        valid(v02, "reconciliation-result-batch", results)
        for i, row in enumerate(chunk):
            found = results[f"q{i}"]["result"]
            matched[row["partner"]] = found[0]["id"] if found and found[0]["match"] else ""
    assert matched == {row["partner"]: row["expected"] for row in rows}
    ids = [i for i in matched.values() if i]
    extended = form(client, "/reconcile", extend={"ids": ids, "properties": [{"id": "country"}, {"id": "projects"}]}).get_json()
    valid(v02, "data-extension-response", extended)
    by_partner = {name: extended["rows"][iri] for name, iri in matched.items() if iri}
    assert by_partner["CESIE"]["country"] == [{"str": "Italy"}]
    assert all(cells["projects"] for cells in by_partner.values()), "every matched partner took part in a project"
