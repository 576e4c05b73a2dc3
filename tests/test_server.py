"""The SPARQL endpoint's protocol basics (the full conformance suite is the SPARQL endpoint issue's)."""

from __future__ import annotations

import json

QUERY = "SELECT ?p WHERE { ?p a ckg:Project }"


def test_get_query_defaults_to_sparql_json(client):
    r = client.get("/sparql", query_string={"query": QUERY})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    assert len(r.get_json()["results"]["bindings"]) == 4
    assert "Accept" in r.headers["Vary"]


def test_post_form_and_direct(client):
    form = client.post("/sparql", data={"query": QUERY})
    direct = client.post("/sparql", data=QUERY, content_type="application/sparql-query")
    assert form.status_code == direct.status_code == 200
    assert form.get_json() == direct.get_json()


def test_content_negotiation_with_q_values(client):
    r = client.get("/sparql", query_string={"query": QUERY}, headers={"Accept": "application/sparql-results+xml;q=0.5, text/csv"})
    assert r.mimetype == "text/csv"
    r = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { project:conet ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert r.mimetype == "text/turtle"
    r = client.get("/sparql", query_string={"query": QUERY}, headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_malformed_query_is_400_with_position(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n ?s ?p }"})
    assert r.status_code == 400
    assert r.get_data(as_text=True).startswith("query line 2 column")


def test_wrong_content_type_is_415_and_update_is_refused(client):
    assert client.post("/sparql", data="x", content_type="text/plain").status_code == 415
    r = client.post("/sparql", data="INSERT DATA { <a:b> <a:c> <a:d> }", content_type="application/sparql-update")
    assert r.status_code == 403 and "read-only" in r.get_data(as_text=True)


def test_health_reports_the_store(client):
    body = json.loads(client.get("/health").data)
    assert body["status"] == "ok" and body["triples"] > 1000


def test_one_accept_parser_one_etag_rule_one_cache():
    """Each HTTP concern lives in one module of server/http; no other module of the server redoes it."""
    from pathlib import Path

    import server

    root = Path(server.__file__).parent
    # hashlib makes ETags, and the ids of shared views (a content address, not a tag of an answer).
    owners = {"accept_mimetypes": ["http/negotiation.py"], "set_etag": ["http/etag.py"], "if_none_match": ["http/etag.py"],
              "OrderedDict": ["http/cache.py"], "hashlib": ["http/etag.py", "shared_views.py"]}
    for needle, owner in owners.items():
        found = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "node_modules" not in p.parts
                       and needle in p.read_text(encoding="utf-8"))
        assert found == owner, f"{needle} in {found}"
