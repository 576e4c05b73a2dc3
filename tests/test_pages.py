"""Dereferenceable IRIs: the home page, a page for people and RDF for machines at every KG IRI (issue 4)."""

from __future__ import annotations

import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from kg.config import ROOT
from kg.namespaces import BASE
from server.pages import describe
from server.sparql.backend import BackendError
from server.pages.iris import local_path

from .conftest import select

CKG = Namespace(BASE + "ontology/")
SCHEMA = Namespace("https://schema.org/")
CONET = BASE + "id/project/conet"
RDF_FORMS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Other engineers' routes: while they are stubs they may answer 404, never 5xx.
OTHERS = ("/sparql", "/queries", "/network", "/dumps", "/.well-known", "/sitemap", "/vendor")


class Links(HTMLParser):
    """The href of every <a> and <link>, the text of every table row by table id, and embedded JSON-LD."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.jsonld: list[str] = []
        self._table = self._cell = self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("id") or f"table-{len(self.tables)}", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._script = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "script" and self._script is not None:
            self.jsonld.append("".join(self._script))
            self._script = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self._script.append(data)


def text_of(html: str) -> str:
    """What a reader sees, roughly: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split()).replace("&#39;", "'")


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def html_of(client, path: str, **headers) -> str:
    r = client.get(path, headers={"Accept": BROWSER, **headers})
    assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


@pytest.fixture(scope="module")
def kg_iris(store) -> list[str]:
    """Every IRI under the KG's base that the store mentions, as subject or object."""
    rows = select(store, f"""
        SELECT DISTINCT ?x WHERE {{ {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }}
          FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}")) }}""")
    return sorted(r["x"] for r in rows)


# --- The home page and every link from it ----------------------------------------------------------------------

def test_home_page_counts_things_and_links_to_the_rest_of_the_site(client, store):
    html = html_of(client, "/")
    counts = {r["c"]: r["n"] for r in select(store, """
        SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { VALUES ?c { ckg:Project ckg:Organisation ckg:City ckg:Country } ?x a ?c }
        GROUP BY ?c""")}
    triples = select(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]["n"]
    text = text_of(html)
    assert f"{int(triples):,} triples" in text
    for cls, label in ((CKG.Project, "projects"), (CKG.Organisation, "organisations"), (CKG.City, "cities"), (CKG.Country, "countries")):
        assert f"{counts[str(cls)]} {label}" in text
    hrefs = set(parsed(html).hrefs)
    assert {"/sparql", "/queries", "/network", "/dumps/", "/.well-known/void", "/sitemap.xml", "/ontology"} <= hrefs
    projects = [r["p"] for r in select(store, "SELECT ?p WHERE { ?p a ckg:Project }")]
    assert projects and {local_path(p) for p in projects} <= hrefs


def test_every_internal_link_answers_without_a_server_error(client):
    """Walk from the home page through every local link of every HTML page."""
    seen, queue, pages = {"/"}, deque(["/"]), 0
    while queue:
        path = queue.popleft()
        r = client.get(path, headers={"Accept": BROWSER})
        assert r.status_code < 500, (path, r.status_code)
        if r.status_code == 404 and path.startswith(OTHERS):
            continue
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        # RDF forms are fetched, not parsed; a page in the other language (?lang=) links to the same resources.
        if r.mimetype != "text/html" or path.startswith(OTHERS) or "?" in path:
            continue
        pages += 1
        for href in parsed(r.get_data(as_text=True)).hrefs:
            url = urlsplit(urljoin(path, href))
            if url.scheme or url.netloc:
                continue  # the rest of the Web
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.path.startswith("/sparql") and url.query:
                continue  # queries run by link are the endpoint's business
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert pages > 400  # every project, organisation, city, ... is reachable from the home page


# --- Every IRI in every form -----------------------------------------------------------------------------------

def test_every_kg_iri_dereferences_as_a_page(client, kg_iris):
    assert len(kg_iris) > 500
    for iri in kg_iris:
        r = client.get(local_path(iri), headers={"Accept": BROWSER})
        assert r.status_code == 200, (iri, r.status_code)
        assert r.mimetype == "text/html"
        assert "Accept" in r.vary and "Accept-Language" in r.vary
        assert r.headers["Content-Location"] == local_path(iri) + ".html"
        assert f"<code>{iri}</code>" in r.get_data(as_text=True)


@pytest.mark.parametrize("media_type", RDF_FORMS)
def test_every_kg_iri_dereferences_as_rdf_that_describes_it(client, store, kg_iris, media_type):
    subjects = {r["s"] for r in select(store, f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{BASE}")) }}')}
    for iri in kg_iris:
        r = client.get(local_path(iri), headers={"Accept": media_type})
        assert r.status_code == 200, (iri, r.status_code, r.get_data(as_text=True)[:300])
        assert r.mimetype == media_type
        assert "Accept" in r.vary
        graph = Graph().parse(data=r.data, format=RDF_FORMS[media_type])
        if iri in subjects:
            assert (URIRef(iri), None, None) in graph, iri
        else:  # known only as an object (the ontology's version IRI): the triples that use it
            assert (None, None, URIRef(iri)) in graph, iri


def test_the_description_holds_inferred_triples_and_labels_of_linked_things(client):
    graph = Graph().parse(data=client.get("/id/project/conet", headers={"Accept": "text/turtle"}).data, format="turtle")
    conet, berlin = URIRef(CONET), URIRef(BASE + "id/organisation/city-of-berlin")
    assert (conet, CKG.hasPartner, berlin) in graph  # inferred from the participations
    assert (conet, RDF.type, SCHEMA.Project) in graph  # inferred from the class hierarchy
    assert (berlin, RDFS.label, Literal("City of Berlin", lang="en")) in graph
    assert not set(graph.predicates(berlin)) - {RDFS.label}  # of linked things, only their labels


def test_unknown_iris_are_404_for_people_and_programs(client):
    for path in ("/id/project/nothing-here", "/id/nothing", "/ontology/NoSuchTerm", "/id/project/nothing-here.ttl"):
        page = client.get(path, headers={"Accept": BROWSER})
        assert page.status_code == 404 and page.mimetype == "text/html", path
        assert "Not found" in page.get_data(as_text=True)
        text = client.get(path, headers={"Accept": "text/turtle"})
        assert text.status_code == 404 and text.mimetype == "text/plain", path
    assert "nothing about <https://w3id.org/cohesion-kg/id/project/nothing-here>" in text.get_data(as_text=True).replace(".ttl", "")


def test_a_path_that_is_no_iri_is_a_400_not_a_query(client):
    for path in ("/id/project/a%3Eb", "/id/project/a%20b", '/id/project/a"b', "/id/project/a%7Bb%7D"):
        r = client.get(path, headers={"Accept": "text/turtle"})
        assert r.status_code == 400, path
        assert "not a valid IRI" in r.get_data(as_text=True)


def test_checked_refuses_what_could_break_out_of_an_iri():
    assert describe.checked(CONET) == CONET
    for bad in ("a>b", "a b", "a\nb", "a{b", "a\\b", "a`b", "a^b", "a|b", 'a"b', "a<b"):
        with pytest.raises(describe.NotAnIRI):
            describe.fill("ASK { <THIS> ?p ?o }", bad)


# --- Content negotiation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    ("application/rdf+xml;q=0.5, text/turtle", "text/turtle"),
    ("application/rdf+xml, text/turtle;q=0.5", "application/rdf+xml"),
    ("text/*", "text/html"),
    ("*/*", "text/html"),
    (BROWSER, "text/html"),
    ("application/n-triples;q=0.9, text/html;q=0.1", "application/n-triples"),
    ('application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"', "application/ld+json"),
    (None, "text/turtle"),
])
def test_content_negotiation_follows_q_values_and_wildcards(client, accept, expected):
    r = client.get("/id/project/conet", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert r.mimetype == expected
    assert "Accept" in r.vary


def test_406_names_what_is_offered(client):
    r = client.get("/id/project/conet", headers={"Accept": "image/png"})
    assert r.status_code == 406
    body = r.get_data(as_text=True)
    for media_type in ["text/html", *RDF_FORMS]:
        assert media_type in body


def test_extensions_and_format_parameter_give_one_form_without_negotiation(client):
    for ext, media_type in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
                            ("rdf", "application/rdf+xml"), ("html", "text/html")):
        r = client.get(f"/id/project/conet.{ext}", headers={"Accept": "image/png"})
        assert r.status_code == 200 and r.mimetype == media_type, ext
        assert "Accept" not in r.vary
        by_param = client.get(f"/id/project/conet?format={ext}")
        assert by_param.status_code == 200 and by_param.mimetype == media_type, ext
    assert client.get("/id/project/conet?format=turtle").mimetype == "text/turtle"
    r = client.get("/id/project/conet?format=pdf")
    assert r.status_code == 400 and "ttl" in r.get_data(as_text=True)


def test_the_page_links_to_every_rdf_form(client):
    html = html_of(client, "/id/project/conet")
    hrefs = parsed(html).hrefs
    for ext, media_type in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"), ("rdf", "application/rdf+xml")):
        assert f'<link rel="alternate" type="{media_type}" href="/id/project/conet.{ext}"' in html
        assert hrefs.count(f"/id/project/conet.{ext}") == 2  # the <link> in the head and the visible link


def test_jsonld_is_compacted_with_the_published_context(client):
    context = client.get("/context.jsonld")
    assert context.status_code == 200 and context.mimetype == "application/ld+json"
    published = context.get_json()["@context"]
    assert published["project"] == BASE + "id/project/" and published["label"]["@container"] == "@language"
    r = client.get("/id/project/conet", headers={"Accept": "application/ld+json"})
    assert '</context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"' in r.headers["Link"]
    doc = r.get_json()
    assert doc["@context"] == published
    conet = next(node for node in doc["@graph"] if node["@id"] == "project:conet")
    assert conet["label"] == {"en": "CoNet – Cohesion Network", "it": "CoNet – Cohesion Network"}
    as_jsonld = Graph().parse(data=r.data, format="json-ld")
    as_ntriples = Graph().parse(data=client.get("/id/project/conet.nt").data, format="nt")
    assert len(as_jsonld) == len(as_ntriples) and (URIRef(CONET), RDF.type, CKG.Project) in as_jsonld


def test_pages_are_cached_per_build_and_revalidated(client):
    first = client.get("/id/project/conet", headers={"Accept": "text/turtle"})
    assert first.headers["ETag"] and first.headers["Cache-Control"].startswith("public")
    again = client.get("/id/project/conet", headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    html = client.get("/id/project/conet", headers={"Accept": BROWSER})
    assert html.headers["ETag"] != first.headers["ETag"]


# --- What the pages show ---------------------------------------------------------------------------------------

def test_conet_partner_table_lists_partners_with_roles_and_cities(client):
    data = Graph()
    for name in ("projects/conet.ttl", "organisations.ttl", "places/cities.ttl", "vocabularies/roles.ttl"):
        data.parse(ROOT / "data" / name, format="turtle")

    def label(thing):
        return next(str(text) for text in data.objects(thing, RDFS.label) if text.language == "en")

    expected = set()
    for participation in data.objects(URIRef(CONET), CKG.hasParticipation):
        organisation = data.value(participation, CKG.participant)
        city = data.value(organisation, CKG.basedIn)
        roles = ", ".join(sorted(label(r) for r in data.objects(participation, CKG.role)))
        expected.add((label(organisation), roles, label(city) if city else ""))
    assert len(expected) == 13
    rows = parsed(html_of(client, "/id/project/conet")).tables["partner-table"]
    assert rows[0][:3] == ["Organisation", "Role", "City"]
    shown = {(cells[0].rstrip(" ↗"), cells[1], cells[2]) for cells in rows[1:]}
    assert shown == expected
    assert rows[1][0].startswith("City of Berlin") and rows[1][1] == "Coordinator"  # the coordinator first


def test_project_page_shows_funding_hierarchy_sources_and_contradictions(client):
    html = html_of(client, "/id/project/conet")
    text = text_of(html)
    assert ("European Regional Development Fund › URBACT II – The Urban Development Network Programme › "
            "URBACT II Thematic Networks") in text
    assert "21 April 2008 – 20 May 2011" in text
    found = parsed(html)
    assert "/id/source/seed000" in found.hrefs and "/id/contradiction/conet-dates" in found.hrefs
    claims = [row for table, rows in found.tables.items() if table.startswith("table-") for row in rows]
    assert ["CoNet started in October 2008 (CESIE Palermo page)", "start date", "October 2008", "CESIE page on CoNet Palermo"] in claims


@pytest.mark.parametrize(("path", "expected"), [
    ("/id/organisation/city-of-berlin", ["CoNet – Cohesion Network", "Coordinator"]),
    ("/id/city/palermo", ["City of Palermo", "CESIE – European Centre of Studies and Initiatives"]),
    ("/id/country/it", ["Palermo", "City of Turin"]),
    ("/id/programme/erdf", ["URBACT II – The Urban Development Network Programme", "CoNet – Cohesion Network"]),
    ("/id/role/coordinator", ["City of Berlin"]),
    ("/id/participation/conet-cesie", ["CESIE – European Centre of Studies and Initiatives took part in CoNet – Cohesion Network as Partner"]),
    ("/id/claim/conet-start-date-cesie", ["According to CESIE page on CoNet Palermo: CoNet – Cohesion Network — start date — October 2008."]),
    ("/id/contradiction/conet-dates", ["CoNet started on 21 April 2008 (seeds)"]),
    ("/id/source/seed000", ["CoNet – Cohesion Network"]),
    ("/id/theme/social-cohesion", ["CoNet – Cohesion Network"]),
    ("/id/event/conet-alba-iulia-meeting-2010", ["An event of CoNet – Cohesion Network in Alba Iulia, 27 May 2010 – 28 May 2010."]),
    ("/ontology/Project", ["Project", "An EU-funded project carried out by a partnership", "Un progetto finanziato dall'UE",
                           "has participation", "schema:Project"]),
    ("/ontology/hasPartner", ["has participation / participant", "partner in"]),
    ("/ontology", ["Cohesion KG ontology", "Participation", "funded by"]),
    ("/ontology/", ["Cohesion KG ontology"]),
])
def test_kind_pages_show_what_a_reader_looks_for(client, path, expected):
    text = text_of(html_of(client, path))
    for snippet in expected:
        assert snippet in text, (path, snippet)


def test_language_comes_from_lang_parameter_then_accept_language(client):
    english = html_of(client, "/id/organisation/city-of-berlin")
    assert '<html lang="en">' in english and "<h1>City of Berlin</h1>" in english
    italian = html_of(client, "/id/organisation/city-of-berlin", **{"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    assert '<html lang="it">' in italian and "<h1>Città di Berlino</h1>" in italian
    chosen = html_of(client, "/id/organisation/city-of-berlin?lang=it", **{"Accept-Language": "en"})
    assert "<h1>Città di Berlino</h1>" in chosen
    assert 'href="/id/project/conet?lang=it"' in chosen  # the choice carries on through links
    # A text only in English stays, marked as English, on the Italian page.
    assert '<span lang="en">Municipal government of Berlin' in chosen
    assert html_of(client, "/?lang=it").count("Progetti") >= 1


def test_embedded_schema_org_describes_the_page_resource(client):
    for path, schema_type in (("/id/project/conet", SCHEMA.Project), ("/id/organisation/city-of-berlin", SCHEMA.GovernmentOrganization),
                              ("/id/city/berlin", SCHEMA.City), ("/id/country/de", SCHEMA.Country),
                              ("/id/event/conet-alba-iulia-meeting-2010", SCHEMA.Event)):
        scripts = parsed(html_of(client, path)).jsonld
        assert len(scripts) == 1, path
        graph = Graph().parse(data=scripts[0], format="json-ld")
        iri = URIRef(BASE + path.lstrip("/"))
        assert (iri, RDF.type, schema_type) in graph, path
        assert graph.value(iri, SCHEMA.name) is not None, path
    conet = Graph().parse(data=parsed(html_of(client, "/id/project/conet")).jsonld[0], format="json-ld")
    assert len(set(conet.objects(URIRef(CONET), SCHEMA.member))) == 13
    assert (URIRef(BASE + "id/city/berlin"), SCHEMA.sameAs, URIRef("http://www.wikidata.org/entity/Q64")) in Graph().parse(
        data=parsed(html_of(client, "/id/city/berlin")).jsonld[0], format="json-ld")


def test_labels_are_escaped_in_html_and_in_embedded_json(client, monkeypatch):
    crafted = '</script><script>alert("x")</script> & <b>'
    real = describe.labels

    def with_crafted_label(backend, iris):
        found = real(backend, iris)
        found[CONET] = {"en": [crafted]}
        return found

    monkeypatch.setattr(describe, "labels", with_crafted_label)
    html = html_of(client, "/id/project/conet")
    assert crafted not in html and "<script>alert" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    script = parsed(html).jsonld[0]
    assert "</script>" not in script and "\\u003c/script\\u003e" in script
    assert json.loads(script)["name"] == crafted


def test_a_failing_store_gives_an_error_page_not_a_traceback(app, client, monkeypatch):
    backend = app.config["KG_BACKEND"]

    def too_slow(text):
        raise BackendError(503, "the query ran longer than the 30 s limit and was stopped")

    monkeypatch.setattr(backend, "select", too_slow)
    page = client.get("/id/project/conet", headers={"Accept": BROWSER})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "30 s limit" in page.get_data(as_text=True) and page.headers["Retry-After"]
    home = client.get("/", headers={"Accept": "text/plain"})
    assert home.status_code == 503 and home.mimetype == "text/plain"

    def broken(text):
        raise BackendError(400, "query line 1: a bug")

    monkeypatch.setattr(backend, "select", broken)
    page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 500 and "Traceback" not in page.get_data(as_text=True)


def test_named_graph_iris_dereference_to_the_graph_itself(client, store):
    """VoID lists each named graph as a subset under its IRI: following it gives that graph, or a page about it."""
    from rdflib import Dataset, Graph

    graphs = store.graph_sizes()
    conet = "https://w3id.org/cohesion-kg/graph/data/projects/conet"
    assert conet in graphs
    for media_type, rdflib_format in (("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")):
        answer = client.get("/graph/data/projects/conet", headers={"Accept": media_type})
        assert answer.status_code == 200, (media_type, answer.get_data(as_text=True))
        assert answer.headers["Content-Location"].startswith("/graph/data/projects/conet.")
        assert len(Graph().parse(data=answer.get_data(), format=rdflib_format)) == graphs[conet]
    page = client.get("/graph/data/projects/conet", headers={"Accept": "text/html"})
    assert page.status_code == 200 and str(graphs[conet]) in page.get_data(as_text=True)
    assert client.get("/graph/data/projects/nothing", headers={"Accept": "text/turtle"}).status_code == 404


# --- The site's root for programs, and what every page tells them (issue 14, defect 7) ---------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"])
def test_rdf_asked_of_the_root_is_sent_to_the_dataset_description(client, accept):
    r = client.get("/", headers={"Accept": accept})
    assert r.status_code == 303 and r.headers["Location"].endswith("/.well-known/void")
    assert "Accept" in r.headers["Vary"]
    described = client.get(r.headers["Location"], headers={"Accept": accept})
    assert described.status_code == 200 and described.mimetype == accept


def test_the_root_stays_a_page_for_browsers_and_clients_that_state_nothing(client):
    for headers in ({"Accept": BROWSER}, {}, {"Accept": "*/*"}):
        r = client.get("/", headers=headers)
        assert r.status_code == 200 and r.mimetype == "text/html"


@pytest.mark.parametrize("path, described_by", [
    ("/", "/.well-known/void"),
    ("/sparql", "/.well-known/void"),
    ("/queries", "/.well-known/void"),
    ("/queries/coordinators", "/.well-known/void"),
    ("/network", "/.well-known/void"),
    ("/.well-known/void", "/.well-known/void"),
    ("/dumps/", "/.well-known/void"),
    ("/id/project/conet", "/id/project/conet.ttl"),
    ("/ontology", "/ontology.ttl"),
    ("/graph/inferred", "/graph/inferred.ttl"),
    ("/nothing-here", "/.well-known/void"),
])
def test_every_html_page_varies_on_accept_and_names_its_description(client, path, described_by):
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.mimetype == "text/html"
    assert "Accept" in r.headers["Vary"]
    links = [link.strip() for link in r.headers["Link"].split(",")]
    described = [link for link in links if 'rel="describedby"' in link]
    assert len(described) == 1 and described[0].startswith(f"<{described_by}>")
