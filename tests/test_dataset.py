"""The dataset for harvesters: VoID + DCAT-AP that conform and count right, dumps that match their description,
a sitemap that lists every page, robots.txt, and dumps written with an on-disk build (and not by a failed one)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS, VOID

from kg.publish import dumps as dump_files
from kg.config import ROOT
from kg.namespaces import ID
from server import create_app
from server.dataset import views as dataset_view

from .conftest import FIXTURES, select

SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance"
DCAT_AP = SHARED / "dcat-ap" / "3.0.1" / "html-shacl"
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: rdflib's closed DCAT warns on DCAT 3 terms
SPDX = Namespace("http://spdx.org/rdf/terms#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SCHEMA_SAMEAS = URIRef("https://schema.org/sameAs")
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
DATASET = URIRef("https://w3id.org/cohesion-kg/dataset")
CATALOG = URIRef("https://w3id.org/cohesion-kg/catalog")


def shapes(*paths: Path) -> Graph:
    """Third-party shapes read in place; missing, the test is skipped with the reason, except on CI."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        reason = f"conformance shapes missing: {', '.join(map(str, missing))} (see ../shared/conformance/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    g = Graph()
    for p in paths:
        g.parse(p)
    return g


def results(data: Graph, shapes_graph: Graph) -> dict[str, list[str]]:
    """SHACL results by severity (Violation, Warning, Info), each as 'focus path: message'."""
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
    found: dict[str, list[str]] = {}
    for r in report.subjects(RDF.type, SH.ValidationResult):
        severity = str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1]
        found.setdefault(severity, []).append(
            f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)}: {report.value(r, SH.resultMessage)}"
        )
    return found


@pytest.fixture(scope="module")
def void_graph(app) -> Graph:
    r = app.test_client().get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    return Graph().parse(data=r.data, format="turtle")


def graph_subsets(g: Graph) -> list:
    """The subsets that are named graphs (the others are linksets)."""
    return [s for s in g.objects(DATASET, VOID.subset) if (s, RDF.type, VOID.Linkset) not in g]


def figure(g: Graph, predicate, node=DATASET) -> int:
    values = list(g.objects(node, predicate))
    assert len(values) == 1, f"{node} has {len(values)} values of {predicate}"
    return int(values[0])


# --- Conformance ---------------------------------------------------------------------------------------------


def test_description_conforms_to_the_dcat_ap_shapes(void_graph):
    found = results(void_graph, shapes(DCAT_AP / "shapes.ttl", DCAT_AP / "range.ttl"))
    assert found == {}, "\n".join(sum(found.values(), []))


def test_description_meets_the_dcat_ap_recommendations_it_can(void_graph):
    """The recommended shapes only warn. What remains is said here: the EU country IRIs of dct:spatial carry no
    bounding box or centroid (the KG has no coordinates for them) and the publisher has no ADMS type."""
    found = results(void_graph, shapes(DCAT_AP / "shapes_recommended.ttl"))
    assert set(found) <= {"Warning"}
    unexplained = [w for w in found.get("Warning", []) if not (
        w.startswith("http://publications.europa.eu/resource/authority/country/") and ("bbox" in w or "centroid" in w)
        or w.startswith("https://w3id.org/cohesion-kg/catalog#publisher http://purl.org/dc/terms/type")
    )]
    assert unexplained == []


def test_description_conforms_to_the_void_and_sd_shapes(client, void_graph):
    sd_void = shapes(SHARED / "void-sd" / "sd-void-shacl.ttl")
    found = results(void_graph, sd_void)
    assert found == {}, "\n".join(sum(found.values(), []))
    # The endpoint is the same node in both documents: merged, they still conform.
    sd = client.get("/sparql", headers={"Accept": "text/turtle"})
    merged = void_graph + Graph().parse(data=sd.data, format="turtle")
    found = results(merged, sd_void)
    assert found == {}, "\n".join(sum(found.values(), []))


# --- Statistics ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def union(store) -> set:
    """The union default graph, each triple once, read from the store without SPARQL."""
    return {(q.subject, q.predicate, q.object) for q in store.store.quads_for_pattern(None, None, None, None)}


def test_statistics_equal_counts_made_independently(void_graph, store, union):
    assert figure(void_graph, VOID.triples) == len(union)
    subjects = {s for s, _, _ in union}
    assert figure(void_graph, VOID.distinctSubjects) == len(subjects)
    assert figure(void_graph, VOID.distinctObjects) == len({o for _, _, o in union})
    assert figure(void_graph, VOID.properties) == len({p for _, p, _ in union})
    rdf_type = ox.NamedNode(str(RDF.type))
    classes = {o for _, p, o in union if p == rdf_type}
    assert figure(void_graph, VOID.classes) == len(classes)
    entities = {s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(str(ID))}
    assert figure(void_graph, VOID.entities) == len(entities)
    # Named graphs are the subsets; together they hold every quad of the store.
    graphs = graph_subsets(void_graph)
    assert sum(figure(void_graph, VOID.triples, g) for g in graphs) == len(store)
    assert URIRef("https://w3id.org/cohesion-kg/graph/inferred") in graphs


def test_figures_counted_on_the_union_equal_the_endpoints_aggregates(store):
    """The build counts the whole-KG figures on the dumps' union store; a server in front of a SPARQL store runs
    the aggregates over its default graph. Both must agree, with a triple stated in two graphs and blank nodes."""
    from kg.publish import description, site
    from kg.store.embedded import KGStore

    copy = KGStore.in_memory()
    copy.store.bulk_extend(store.store)
    twice = next(q for q in store.store.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), None, None))
    other = ox.NamedNode("https://w3id.org/cohesion-kg/graph/test-second-statement")
    blank = ox.BlankNode()
    copy.store.extend([ox.Quad(twice.subject, twice.predicate, twice.object, other),
                       ox.Quad(twice.subject, ox.NamedNode(str(SKOS.note)), blank, other),
                       ox.Quad(blank, ox.NamedNode(str(SKOS.note)), ox.Literal("x"), other)])

    def select(text):
        return description.bindings(copy.query(text))

    entities: list[str] = []
    counted = description.compute(select, dump_files.union(copy.store), entities)
    aggregated = description.compute(select)
    assert counted == aggregated
    assert counted.blank_subjects >= 1 and counted.blank_objects >= 1
    assert counted.triples == len(copy) - 1 and counted.quads == len(copy)
    assert entities == sorted(row["s"]["value"] for row in select(site.ENTITIES))


def test_class_and_property_partitions_count_what_sparql_counts(void_graph, store):
    partitions = {
        str(void_graph.value(p, VOID["class"])): int(void_graph.value(p, VOID.entities))
        for p in void_graph.objects(DATASET, VOID.classPartition)
    }
    projects = select(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a ckg:Project }")[0]["n"]
    assert partitions["https://w3id.org/cohesion-kg/ontology/Project"] == int(projects) == 4
    assert len(partitions) == figure(void_graph, VOID.classes)
    by_property = {
        str(void_graph.value(p, VOID.property)): int(void_graph.value(p, VOID.triples))
        for p in void_graph.objects(DATASET, VOID.propertyPartition)
    }
    labels = select(store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { ?s rdfs:label ?o } }")[0]["n"]
    assert by_property["http://www.w3.org/2000/01/rdf-schema#label"] == int(labels)
    assert sum(by_property.values()) == figure(void_graph, VOID.triples)


def test_linksets_to_wikidata_and_eu_countries_count_the_links(void_graph, union):
    linksets = {}
    for ls in void_graph.subjects(RDF.type, VOID.Linkset):
        target = void_graph.value(ls, VOID.objectsTarget)
        key = (str(void_graph.value(target, VOID.uriSpace)), str(void_graph.value(ls, VOID.linkPredicate)))
        linksets[key] = int(void_graph.value(ls, VOID.triples))
        assert void_graph.value(ls, VOID.subjectsTarget) == DATASET
    wikidata = [t for t in union if t[1].value == str(SCHEMA_SAMEAS) and t[2].value.startswith("http://www.wikidata.org/entity/")]
    assert wikidata and linksets[("http://www.wikidata.org/entity/", str(SCHEMA_SAMEAS))] == len(wikidata)
    countries = [t for t in union if t[1].value == str(SKOS.exactMatch) and t[2].value.startswith("http://publications.europa.eu/resource/authority/country/")]
    assert linksets[("http://publications.europa.eu/resource/authority/country/", str(SKOS.exactMatch))] == len(countries) == 22
    assert ("http://metadata.un.org/sdg/", "https://w3id.org/cohesion-kg/ontology/sdg") in linksets
    # A claim's rdf:object may be an unverified QID: a claim is not a link.
    assert not any(p == str(RDF.object) for _, p in linksets)


def test_description_names_endpoint_uri_space_examples_vocabularies_and_licence(void_graph):
    assert void_graph.value(DATASET, VOID.sparqlEndpoint) == URIRef("http://localhost/sparql")
    assert str(void_graph.value(DATASET, VOID.uriSpace)) == str(ID)
    assert URIRef("https://w3id.org/cohesion-kg/id/project/conet") in set(void_graph.objects(DATASET, VOID.exampleResource))
    vocabularies = set(void_graph.objects(DATASET, VOID.vocabulary))
    assert {URIRef("https://w3id.org/cohesion-kg/ontology/"), URIRef("http://www.w3.org/ns/org#")} <= vocabularies
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    for node in (CATALOG, DATASET):
        assert void_graph.value(node, URIRef("http://purl.org/dc/terms/license")) == licence
        titles = {t.language for t in void_graph.objects(node, URIRef("http://purl.org/dc/terms/title"))}
        assert titles == {"en", "it"}
    assert (CATALOG, DCAT.dataset, DATASET) in void_graph
    service = URIRef("http://localhost/sparql")
    assert (CATALOG, DCAT.service, service) in void_graph and (service, DCAT.servesDataset, DATASET) in void_graph


def test_statistics_are_computed_once_per_build(app):
    client = app.test_client()
    client.get("/.well-known/void")
    client.get("/sitemap.xml")
    backend = app.config["KG_BACKEND"]
    calls = []
    original = backend.select
    backend.select = lambda text: calls.append(text) or original(text)
    try:
        for fmt in ("turtle", "ntriples", "html"):
            assert client.get("/.well-known/void", query_string={"format": fmt}).status_code == 200
        client.get("/sitemap.xml")
    finally:
        del backend.select
    assert calls == []


# --- Dumps ---------------------------------------------------------------------------------------------------


def distributions(g: Graph) -> dict[str, dict]:
    out = {}
    for dist in g.objects(DATASET, DCAT.distribution):
        checksum = g.value(dist, SPDX.checksum)
        out[str(g.value(dist, DCAT.downloadURL))] = {
            "bytes": int(g.value(dist, DCAT.byteSize)),
            "sha256": str(g.value(checksum, SPDX.checksumValue)),
            "algorithm": g.value(checksum, SPDX.algorithm),
            "media_type": str(g.value(dist, DCAT.mediaType)),
            "format": str(g.value(dist, URIRef("http://purl.org/dc/terms/format"))),
        }
    return out


@pytest.mark.parametrize("name, parse_format", [
    ("cohesion-kg.nq.gz", ox.RdfFormat.N_QUADS),
    ("cohesion-kg.nt.gz", ox.RdfFormat.N_TRIPLES),
    ("cohesion-kg.ttl.gz", ox.RdfFormat.TURTLE),
])
def test_each_dump_matches_its_description(client, void_graph, store, union, name, parse_format):
    url = f"http://localhost/dumps/{name}"
    described = distributions(void_graph)[url]
    assert url in {str(u) for u in void_graph.objects(DATASET, VOID.dataDump)}
    r = client.get(urlsplit(url).path)
    assert r.status_code == 200 and r.mimetype == "application/gzip"
    assert int(r.headers["Content-Length"]) == len(r.data) == described["bytes"]
    assert hashlib.sha256(r.data).hexdigest() == described["sha256"]
    assert described["algorithm"] == SPDX.checksumAlgorithm_sha256
    assert r.headers["ETag"] == f'"{described["sha256"]}"'
    assert client.get(urlsplit(url).path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    statements = list(ox.parse(gzip.decompress(r.data), parse_format))
    if parse_format.supports_datasets:  # every quad, in its named graph
        assert len(statements) == len(store) == sum(figure(void_graph, VOID.triples, g) for g in graph_subsets(void_graph))
        assert len({q.graph_name for q in statements}) == len(store.named_graphs())
    else:  # the union, each triple once
        assert len(set(statements)) == len(statements) == figure(void_graph, VOID.triples) == len(union)
    assert described["media_type"] == "http://www.iana.org/assignments/media-types/" + parse_format.media_type
    assert described["format"].startswith("http://publications.europa.eu/resource/authority/file-type/RDF_")


def test_turtle_dump_reads_in_rdflib_too(client, void_graph):
    r = client.get("/dumps/cohesion-kg.ttl.gz")
    g = Graph().parse(data=gzip.decompress(r.data), format="turtle")
    assert len(g) == figure(void_graph, VOID.triples)
    assert g.namespace_manager.store.namespace("project") == URIRef("https://w3id.org/cohesion-kg/id/project/")


def test_dumps_listing_for_people(client, void_graph):
    r = client.get("/dumps/", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    for url, d in distributions(void_graph).items():
        name = url.rsplit("/", 1)[-1]
        assert f'href="/dumps/{name}"' in page and d["sha256"] in page and f"{d['bytes']:,}" in page
    sums = client.get("/dumps/SHA256SUMS").get_data(as_text=True)
    assert sorted(sums.splitlines()) == sorted(f"{d['sha256']}  {u.rsplit('/', 1)[-1]}" for u, d in distributions(void_graph).items())


@pytest.mark.parametrize("path", ["/dumps/nope.nq.gz", "/dumps/..%2Fbuild.json", "/dumps/manifest.json", "/sitemap-7.xml"])
def test_unknown_files_are_404_without_traceback(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "Traceback" not in r.get_data(as_text=True)


# --- Negotiation and URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept, mimetype, rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("*/*", "text/turtle", "turtle"),
    (None, "text/turtle", "turtle"),
])
def test_void_in_every_rdf_format(client, void_graph, accept, mimetype, rdflib_format):
    r = client.get("/.well-known/void", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.mimetype == mimetype
    assert "Accept" in r.headers["Vary"]
    assert len(Graph().parse(data=r.data, format=rdflib_format)) == len(void_graph)


def test_browsers_get_a_page_and_links_to_each_format(client):
    r = client.get("/.well-known/void", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "cohesion-kg.nq.gz" in page and "/.well-known/void?format=jsonld" in page
    r = client.get("/.well-known/void", query_string={"format": "jsonld"})
    assert r.mimetype == "application/ld+json" and json.loads(r.data)


def test_bad_format_and_nothing_acceptable(client):
    r = client.get("/.well-known/void", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.get_data(as_text=True)
    assert client.get("/.well-known/void", query_string={"format": "pdf"}).status_code == 400


def test_void_is_cacheable_per_build(client):
    r = client.get("/.well-known/void")
    assert r.headers["ETag"] and r.headers["Last-Modified"] and "max-age" in r.headers["Cache-Control"]
    assert client.get("/.well-known/void", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    other = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert other.headers["ETag"] != r.headers["ETag"]


def test_urls_are_absolute_on_the_host_asked(client):
    r = client.get("/.well-known/void", base_url="https://kg.example.org")
    g = Graph().parse(data=r.data, format="turtle")
    assert g.value(DATASET, VOID.sparqlEndpoint) == URIRef("https://kg.example.org/sparql")
    downloads = [str(u) for u in g.objects(None, DCAT.downloadURL)]
    assert len(downloads) == 3 and all(u.startswith("https://kg.example.org/dumps/") for u in downloads)
    assert "localhost" not in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/catalog", "/dataset"])
def test_catalog_and_dataset_iris_lead_to_their_description(client, path):
    r = client.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/.well-known/void")


def test_issued_and_modified_are_the_build_time(app, void_graph):
    created = app.config["KG_BACKEND"].created
    modified = void_graph.value(DATASET, URIRef("http://purl.org/dc/terms/modified"))
    assert isinstance(modified, Literal) and datetime.fromisoformat(str(modified)) == created


# --- Sitemap and robots.txt ----------------------------------------------------------------------------------


def locations(client, path: str = "/sitemap.xml") -> tuple[str, list[str]]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "application/xml"
    root = ET.fromstring(r.data)  # well-formed, or this raises
    kind = root.tag.removeprefix(SITEMAP)
    assert root.tag.startswith(SITEMAP) and kind in ("urlset", "sitemapindex")
    child = "url" if kind == "urlset" else "sitemap"
    locs = []
    for entry in root:
        assert entry.tag == SITEMAP + child
        assert {e.tag.removeprefix(SITEMAP) for e in entry} <= {"loc", "lastmod", "changefreq", "priority"}
        loc = entry.findtext(SITEMAP + "loc")
        assert loc and len(loc) < 2048 and loc.startswith("http://localhost/")
        datetime.fromisoformat(entry.findtext(SITEMAP + "lastmod"))  # W3C datetime
        locs.append(loc)
    assert len(locs) <= 50_000 and len(set(locs)) == len(locs)
    return kind, locs


def test_sitemap_lists_every_page_and_each_answers(client, void_graph):
    kind, locs = locations(client)
    assert kind == "urlset"
    pages = [urlsplit(u).path for u in locs]
    for fixed in ("/", "/sparql", "/queries", "/network", "/dumps/", "/dumps/cohesion-kg.nq.gz"):
        assert fixed in pages
    resources = [p for p in pages if p.startswith("/id/")]
    assert len(resources) == figure(void_graph, VOID.entities)
    assert "/id/project/conet" in resources and "/id/organisation/city-of-berlin" in resources
    failing = [p for p in pages if client.get(p, headers={"Accept": "text/html"}).status_code != 200]
    assert failing == [], f"{len(failing)} sitemap locations do not answer 200, e.g. {failing[:5]}"


def test_sitemap_becomes_an_index_past_the_limit(client, monkeypatch):
    _, flat = locations(client)
    monkeypatch.setattr(dataset_view, "SITEMAP_MAX_URLS", 100)
    kind, parts = locations(client)
    assert kind == "sitemapindex" and len(parts) == -(-len(flat) // 100)
    listed = []
    for part in parts:
        part_kind, locs = locations(client, urlsplit(part).path)
        assert part_kind == "urlset" and len(locs) <= 100
        listed += locs
    assert listed == flat
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_query_results(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    lines = r.get_data(as_text=True).splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "Disallow: /sparql?" in lines and "Disallow: /" not in lines


# --- On-disk builds ------------------------------------------------------------------------------------------


def test_build_writes_the_dumps_into_the_build(disk_store):
    folder = disk_store.resolve() / dump_files.DUMPS_DIR
    written = dump_files.read(folder)
    assert written is not None and sorted(d.name for d in written) == sorted(f.name for f in dump_files.FORMATS)
    for d in written:
        data = (folder / d.name).read_bytes()
        assert len(data) == d.bytes and hashlib.sha256(data).hexdigest() == d.sha256
    info = json.loads((disk_store.resolve() / "build.json").read_text())
    quads = next(d for d in written if d.name.endswith(".nq.gz"))
    assert quads.statements == info["triples"]


def test_server_serves_the_dumps_of_the_build(disk_store):
    app = create_app({"KG_STORE_PATH": str(disk_store), "TESTING": True})
    try:
        client = app.test_client()
        sums = client.get("/dumps/SHA256SUMS").get_data(as_text=True)
        folder = disk_store.resolve() / dump_files.DUMPS_DIR
        assert sums == "".join(f"{d.sha256}  {d.name}\n" for d in dump_files.read(folder))
        r = client.get("/dumps/cohesion-kg.nt.gz")
        assert r.status_code == 200 and r.data == (folder / "cohesion-kg.nt.gz").read_bytes()
        with app.test_request_context():  # what the app read for this build, kept from the requests above
            assert dataset_view.published().dumps_folder == folder  # no second copy in a temporary folder
        g = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
        assert results(g, shapes(DCAT_AP / "shapes.ttl", DCAT_AP / "range.ttl")) == {}
    finally:
        app.config["KG_BACKEND"].close()


def test_failed_build_writes_no_dumps(kg_cmd, disk_store, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copy(FIXTURES / "invalid" / "Project-oneCoordinator.ttl", data / "broken.ttl")
    stores = disk_store.resolve().parent
    before = sorted(p.name for p in stores.iterdir())
    done = kg_cmd("build", "--store", str(disk_store), env={"KG_DATA": str(data)})
    assert done.returncode == 1
    assert sorted(p.name for p in stores.iterdir()) == before
    assert not list(stores.rglob("*.partial")) and len(list(stores.rglob(dump_files.MANIFEST))) == len(before)


def test_dump_writing_is_all_or_nothing(store, tmp_path, monkeypatch):
    """A dump folder counts only with its manifest, written last: a failure midway leaves none to serve."""
    write_one, written = dump_files._write_one, []

    def full_after_one(*args, **kwargs):  # the first file written whole, the disk full at the second
        if written:
            raise OSError("disk full")
        written.append(write_one(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(dump_files, "_write_one", full_after_one)
    with pytest.raises(OSError):
        dump_files.write(store, tmp_path / "dumps", dump_files.union(store.store))
    assert written and (tmp_path / "dumps" / written[0].name).is_file()
    assert dump_files.read(tmp_path / "dumps") is None
    monkeypatch.undo()
    assert dump_files.read(tmp_path / "x") is None
    written = dump_files.write(store, tmp_path / "x", dump_files.union(store.store))
    assert dump_files.read(tmp_path / "x") == written


# --- The server only reads what the build published ---------------------------------------------------------


def test_build_publishes_the_figures_and_pages_the_server_serves(disk_store):
    from kg.publish import site

    folder = disk_store.resolve()
    stats = site.read_statistics(folder)
    pages = site.read_pages(folder)
    assert stats is not None and stats.triples > 1000 and ("https://w3id.org/cohesion-kg/ontology/Project", 4) in stats.class_partitions
    assert "/id/project/conet" in pages and "/dumps/cohesion-kg.nq.gz" in pages


def test_the_server_writes_nothing_and_queries_nothing_for_the_dataset(disk_store, monkeypatch):
    """Description, dumps and sitemap come from the build's files: no writer runs, no query reaches the store."""
    from kg.publish import site

    def refuse(*args, **kwargs):
        raise AssertionError("the server tried to write or query for the dataset")

    monkeypatch.setattr(dump_files, "write", refuse)
    monkeypatch.setattr(site, "write", refuse)
    app = create_app({"KG_STORE_PATH": str(disk_store), "TESTING": True})
    try:
        monkeypatch.setattr(app.config["KG_BACKEND"], "select", refuse)
        monkeypatch.setattr(app.config["KG_BACKEND"], "run", refuse)
        client = app.test_client()
        for path in ("/.well-known/void", "/dumps/", "/dumps/SHA256SUMS", "/dumps/cohesion-kg.ttl.gz", "/sitemap.xml"):
            assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 200, path
    finally:
        app.config["KG_BACKEND"].close()


def test_a_store_without_published_dumps_offers_none_rather_than_writing_them(store, monkeypatch, tmp_path):
    monkeypatch.setattr(dump_files, "write", lambda *a, **k: pytest.fail("the server wrote dumps during a request"))
    app = create_app({"KG_STORE": store, "TESTING": True})  # no KG_PUBLISHED: nothing published to read
    try:
        client = app.test_client()
        assert client.get("/dumps/cohesion-kg.nq.gz").status_code == 404
        assert client.get("/dumps/SHA256SUMS").get_data(as_text=True) == ""
        g = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
        assert not list(g.objects(DATASET, VOID.dataDump))
    finally:
        app.config["KG_BACKEND"].close()


def test_dumps_resume_with_ranges(client):
    whole = client.get("/dumps/cohesion-kg.nt.gz").data
    part = client.get("/dumps/cohesion-kg.nt.gz", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == whole[10:20]
