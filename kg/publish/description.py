"""The dataset described for harvesters: VoID statistics and a DCAT-AP 3 catalogue, in one graph.

`compute` measures the KG with SPARQL aggregates, once per build (the KG is read-only between builds).
`describe` turns the figures and the build's dumps into RDF for one host: download and endpoint URLs are absolute
on the host that was asked, so the description is right on a development server and in deployment alike.

What is named, and where it dereferences (w3id.org sends the base to this server, see server/pages/iris.py):
- the catalogue <BASE catalog> and the dataset <BASE dataset>: both answer with this document;
- the named graphs, one per source file, are the dataset's VoID subsets under their own graph IRIs;
- linksets, target datasets, publisher, contact point and period are fragments of the dataset or catalogue;
- class and property partitions are blank nodes: figures, not things anyone links to;
- the SPARQL endpoint is the same node as in its service description (<host/sparql>), so the two merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from string import Template

import pyoxigraph as ox

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, VOID, XSD

from kg.publish import dumps as dump_files
from kg.namespaces import BASE, ID, PREFIXES

# DCAT 3 as an open namespace: rdflib's closed DCAT predates dcat:version.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
VOID_EXT = Namespace("http://ldf.fi/void-ext#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
IANA = Namespace("http://www.iana.org/assignments/media-types/")
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(EU + "file-type/")
LANGUAGE = Namespace(EU + "language/")
DATA_THEME = Namespace(EU + "data-theme/")
FREQUENCY = Namespace(EU + "frequency/")
AVAILABILITY = Namespace(EU + "planned-availability/")
COUNTRY = EU + "country/"
LICENCE_TYPE = Namespace("http://purl.org/adms/licencetype/")

CATALOG = URIRef(BASE + "catalog")
DATASET = URIRef(BASE + "dataset")
ONTOLOGY = URIRef(BASE + "ontology")
PUBLISHER = URIRef(f"{CATALOG}#publisher")
CONTACT = URIRef(f"{CATALOG}#contact")
PERIOD = URIRef(f"{DATASET}#period")
PROVENANCE_NODE = URIRef(f"{DATASET}#provenance")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")

# Predicates that name a value rather than link to it: a claim records what a source said (rdf:object may be a
# Wikidata QID that was never verified), and a type is the vocabulary, not a link to another dataset.
NOT_LINKS = {str(RDF.type), str(RDF.subject), str(RDF.predicate), str(RDF.object)}


@dataclass(frozen=True)
class Target:
    """A dataset outside the KG that its resources link to."""

    key: str
    title: str
    uri_space: str
    homepage: str


TARGETS = (
    Target("wikidata", "Wikidata", "http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
    Target("eu-countries", "EU Publications Office: countries and territories", COUNTRY, EU + "country"),
    Target("un-sdg", "United Nations: Sustainable Development Goals", "http://metadata.un.org/sdg/", "http://metadata.un.org/sdg"),
    Target("iso639-1", "Library of Congress: ISO 639-1 languages", "http://id.loc.gov/vocabulary/iso639-1/", "http://id.loc.gov/vocabulary/iso639-1"),
)

# Fixed facts about the dataset, in English and Italian like every label of the KG.
TITLE = {"en": "Cohesion KG", "it": "Cohesion KG"}
DESCRIPTION = {
    "en": "A linked-data knowledge graph of EU-funded projects on social cohesion and integration in cities: who took "
    "part, in which role, where, when and funded by what, with every fact traced to the document it comes from "
    "and conflicting claims kept side by side with their sources.",
    "it": "Un grafo di conoscenza in linked data sui progetti finanziati dall'UE per la coesione sociale e "
    "l'integrazione nelle città: chi ha partecipato, con quale ruolo, dove, quando e con quali fondi, con ogni "
    "fatto ricondotto al documento da cui proviene e le affermazioni in conflitto affiancate alle loro fonti.",
}
CATALOG_TITLE = {"en": "Cohesion KG data catalogue", "it": "Catalogo dei dati di Cohesion KG"}
CATALOG_DESCRIPTION = {
    "en": "The Cohesion KG dataset, its downloadable dumps and its SPARQL endpoint.",
    "it": "Il dataset Cohesion KG, i suoi dump scaricabili e il suo endpoint SPARQL.",
}
SERVICE_TITLE = {"en": "Cohesion KG SPARQL endpoint", "it": "Endpoint SPARQL di Cohesion KG"}
SERVICE_DESCRIPTION = {
    "en": "Read-only SPARQL 1.1 endpoint over the whole KG; the default graph is the union of its named graphs.",
    "it": "Endpoint SPARQL 1.1 in sola lettura su tutto il grafo; il grafo predefinito è l'unione dei grafi nominati.",
}
PROVENANCE = {
    "en": "Compiled by hand from public sources and reviewed in pull requests. Each source file is a named graph; "
    "every resource cites the source documents it was taken from (dct:source); the OWL RL closure is kept in "
    "its own graph.",
    "it": "Compilato a mano da fonti pubbliche e revisionato nelle pull request. Ogni file sorgente è un grafo "
    "nominato; ogni risorsa cita i documenti da cui è tratta (dct:source); la chiusura OWL RL è in un grafo a sé.",
}
DUMP_DESCRIPTION = {
    True: {
        "en": "Every named graph of the KG (one per source file, plus the inferred triples), as N-Quads, gzipped.",
        "it": "Tutti i grafi nominati del KG (uno per file sorgente, più le triple inferite), in N-Quads, compressi con gzip.",
    },
    False: {
        "en": "The union of the KG's named graphs, each triple once, as {title}, gzipped.",
        "it": "L'unione dei grafi nominati del KG, ogni tripla una volta, in {title}, compressa con gzip.",
    },
}
THEMES = {  # EU data themes, with their labels in the authority table
    "SOCI": {"en": "Population and society", "it": "Popolazione e società"},
    "REGI": {"en": "Regions and cities", "it": "Regioni e città"},
}
LANGUAGES = {"ENG": {"en": "English", "it": "inglese"}, "ITA": {"en": "Italian", "it": "italiano"}}
LICENCES = {"https://creativecommons.org/licenses/by/4.0/": "Creative Commons Attribution 4.0 International"}


@dataclass
class Statistics:
    """Figures about the default graph the endpoint queries (the union of the named graphs, each triple once)."""

    triples: int
    entities: int  # distinct IRIs under the uriSpace (id/) that are subjects: the KG's own things
    classes: int
    properties: int
    distinct_subjects: int
    distinct_objects: int
    literals: int
    iri_subjects: int
    blank_subjects: int
    blank_objects: int
    class_partitions: list[tuple[str, int]] = field(default_factory=list)  # class, instances
    property_partitions: list[tuple[str, int, int, int]] = field(default_factory=list)  # property, triples, subjects, objects
    graphs: list[tuple[str, int]] = field(default_factory=list)  # named graph, triples
    linksets: list[tuple[str, str, int]] = field(default_factory=list)  # target key, predicate, triples
    examples: list[str] = field(default_factory=list)
    license: str | None = None
    publisher: str | None = None
    countries: list[str] = field(default_factory=list)  # EU authority country IRIs of the KG's countries
    keywords: list[tuple[str, str]] = field(default_factory=list)  # theme labels: text, language
    period: tuple[dict, dict] | None = None  # earliest project start, latest project end (SPARQL JSON terms)

    @property
    def quads(self) -> int:
        return sum(n for _, n in self.graphs)

    @property
    def vocabularies(self) -> list[str]:
        terms = [c for c, _ in self.class_partitions] + [p for p, *_ in self.property_partitions]
        return sorted({_namespace(t) for t in terms})


# The endpoint's default graph is the union of the named graphs, where two source files may state one triple: the
# whole-KG figures count each triple once through EACH_TRIPLE_ONCE. A store whose default graph is a set of triples
# already (kg.publish.dumps.union) is counted with the plain pattern, EACH_TRIPLE.
EACH_TRIPLE_ONCE = "{ SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
EACH_TRIPLE = "{ ?s ?p ?o }"
TOTALS = Template("""
SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects) (COUNT(DISTINCT ?entity) AS ?entities) (COUNT(DISTINCT ?literal) AS ?literals)
       (COUNT(DISTINCT ?iriSubject) AS ?iriSubjects) (COUNT(DISTINCT ?blankSubject) AS ?blankSubjects)
       (COUNT(DISTINCT ?blankObject) AS ?blankObjects)
WHERE {
  $triples
  BIND (IF(isIRI(?s) && STRSTARTS(STR(?s), STR(id:)), ?s, ?none) AS ?entity)
  BIND (IF(isIRI(?s), ?s, ?none) AS ?iriSubject)
  BIND (IF(isBlank(?s), ?s, ?none) AS ?blankSubject)
  BIND (IF(isLiteral(?o), ?o, ?none) AS ?literal)
  BIND (IF(isBlank(?o), ?o, ?none) AS ?blankObject)
}""")
# On a set of triples in memory, the distinct terms read into Python and sorted out there cost half of TOTALS.
SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"
OBJECTS = "SELECT DISTINCT ?o WHERE { ?s ?p ?o }"
CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER isIRI(?class) } GROUP BY ?class ORDER BY ?class"
PROPERTIES = Template("""
SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
WHERE { $triples }
GROUP BY ?p ORDER BY ?p""")
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
# Links go from the KG's own things to IRIs elsewhere; grouped by namespace here, matched to TARGETS in Python.
LINKS = Template("""
SELECT ?p ?ns (COUNT(*) AS ?n) WHERE {
  $triples
  FILTER (isIRI(?o) && STRSTARTS(STR(?s), STR(id:)) && !STRSTARTS(STR(?o), STR(id:)))
  BIND (REPLACE(STR(?o), "[^/#]+$$", "") AS ?ns)
} GROUP BY ?p ?ns""")
EXAMPLES = "SELECT ?s WHERE { ?s a ckg:Project } ORDER BY ?s LIMIT 3"
ONTOLOGY_FACTS = """
SELECT ?license ?publisher WHERE {
  ?o a owl:Ontology . OPTIONAL { ?o dct:license ?license } OPTIONAL { ?o dct:publisher ?publisher }
} LIMIT 1"""
COUNTRIES = """
SELECT DISTINCT ?eu WHERE {
  ?c a ckg:Country ; skos:exactMatch ?eu
  FILTER STRSTARTS(STR(?eu), "http://publications.europa.eu/resource/authority/country/")
} ORDER BY ?eu"""
KEYWORDS = """
SELECT DISTINCT ?label WHERE { ?t a ckg:Theme ; skos:prefLabel ?label FILTER (lang(?label) IN ("en", "it")) }
ORDER BY ?label"""
PERIODS = "SELECT ?start ?end WHERE { ?p a ckg:Project OPTIONAL { ?p ckg:startDate ?start } OPTIONAL { ?p ckg:endDate ?end } }"


def compute(select, union: ox.Store | None = None, entities: list[str] | None = None) -> Statistics:
    """Measure the KG. `select(text)` runs a SELECT with the KG's prefixes and returns SPARQL JSON bindings
    ({variable: {"type", "value", "xml:lang"/"datatype"}}), as server.sparql.backend.Backend.select and
    `bindings` below give. With `union`, a store whose default graph holds each triple of the KG once
    (kg.publish.dumps.union), the whole-KG figures are counted there: at 1M triples in 11 s, where the same
    aggregates over the endpoint's default graph take 35 s (their DISTINCT over the union of the graphs) and took
    110 s at 1.2M before. That count also fills `entities` (when given) with the KG's own subject IRIs, sorted: the
    sitemap's pages."""
    if union is None:
        stats, namespace_links = _measure(select, EACH_TRIPLE_ONCE)
    else:
        stats, namespace_links = _measure(_selecting(union), EACH_TRIPLE, _totals(union, entities))
    stats.graphs = [(r["g"]["value"], _int(r, "n")) for r in select(GRAPHS)]  # the named graphs: never the union's
    links: dict[tuple[str, str], int] = {}
    for (predicate, namespace), n in namespace_links.items():
        target = next((t for t in TARGETS if namespace.startswith(t.uri_space)), None)
        if target is not None and predicate not in NOT_LINKS:
            links[(target.key, predicate)] = links.get((target.key, predicate), 0) + n
    stats.linksets = sorted((key, predicate, n) for (key, predicate), n in links.items())
    stats.examples = [r["s"]["value"] for r in select(EXAMPLES)]
    facts = select(ONTOLOGY_FACTS)
    if facts:
        stats.license = facts[0].get("license", {}).get("value")
        stats.publisher = facts[0].get("publisher", {}).get("value")
    stats.countries = [r["eu"]["value"] for r in select(COUNTRIES)]
    stats.keywords = [(r["label"]["value"], r["label"].get("xml:lang", "")) for r in select(KEYWORDS)]
    stats.period = _period(select(PERIODS))
    return stats


def _measure(select, triples: str, totals: Statistics | None = None) -> tuple[Statistics, dict[tuple[str, str], int]]:
    """The whole-KG figures by SPARQL aggregates over `triples` (EACH_TRIPLE_ONCE or EACH_TRIPLE); `totals`, when
    counted another way, in place of the TOTALS query."""
    if totals is None:
        row = select(TOTALS.substitute(triples=triples))[0]
        totals = Statistics(
            triples=_int(row, "triples"),
            entities=_int(row, "entities"),
            classes=0,
            properties=_int(row, "properties"),
            distinct_subjects=_int(row, "subjects"),
            distinct_objects=_int(row, "objects"),
            literals=_int(row, "literals"),
            iri_subjects=_int(row, "iriSubjects"),
            blank_subjects=_int(row, "blankSubjects"),
            blank_objects=_int(row, "blankObjects"),
        )
    stats = totals
    stats.class_partitions = [(r["class"]["value"], _int(r, "n")) for r in select(CLASSES)]
    stats.classes = len(stats.class_partitions)
    stats.property_partitions = [
        (r["p"]["value"], _int(r, "n"), _int(r, "subjects"), _int(r, "objects"))
        for r in select(PROPERTIES.substitute(triples=triples))
    ]
    stats.properties = len(stats.property_partitions)
    links = {(r["p"]["value"], r["ns"]["value"]): _int(r, "n") for r in select(LINKS.substitute(triples=triples))}
    return stats, links


def _totals(union: ox.Store, entities: list[str] | None) -> Statistics:
    """TOTALS on a set of triples, from its distinct subjects and objects."""
    subjects = [row[0] for row in union.query(SUBJECTS)]
    objects = [row[0] for row in union.query(OBJECTS)]
    iri_subjects = [s.value for s in subjects if isinstance(s, ox.NamedNode)]
    own = sorted(s for s in iri_subjects if s.startswith(str(ID)))
    if entities is not None:
        entities[:] = own
    return Statistics(
        triples=len(union),
        entities=len(own),
        classes=0,
        properties=0,
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        literals=sum(1 for o in objects if isinstance(o, ox.Literal)),
        iri_subjects=len(iri_subjects),
        blank_subjects=len(subjects) - len(iri_subjects),
        blank_objects=sum(1 for o in objects if isinstance(o, ox.BlankNode)),
    )


def _selecting(store: ox.Store):
    """`select` on a pyoxigraph store, as compute's callers give it."""
    return lambda text: bindings(store.query(text, prefixes=PREFIXES))


def binding(term) -> dict:
    """A pyoxigraph term as a SPARQL JSON results binding."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    found = {"type": "literal", "value": term.value}
    if term.language:
        found["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        found["datatype"] = term.datatype.value
    return found


def bindings(solutions) -> list[dict[str, dict]]:
    """Solutions as SPARQL JSON bindings: {variable: binding}, unbound variables left out."""
    names = [v.value for v in solutions.variables]
    return [{n: binding(s[n]) for n in names if s[n] is not None} for s in solutions]


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _int(row: dict, name: str) -> int:
    return int(row[name]["value"]) if name in row else 0


def _period(rows: list[dict]) -> tuple[dict, dict] | None:
    """Earliest start and latest end. Dates come as xsd:date, gYearMonth or gYear, which SPARQL cannot order
    together; their ISO forms all start with the year, so comparing the text orders them."""
    starts = [r["start"] for r in rows if "start" in r]
    ends = [r["end"] for r in rows if "end" in r]
    if not starts or not ends:
        return None
    return min(starts, key=lambda t: t["value"]), max(ends, key=lambda t: t["value"])


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def describe(stats: Statistics, dumps: list[dump_files.Dump], site: str, build_id: str, modified: datetime) -> Graph:
    """The VoID description and the DCAT-AP catalogue as one graph. `site` is this server's root URL, with a
    final slash (Flask's request.host_url); `modified` is when the build was made."""
    g = Graph(bind_namespaces="core")  # only the prefixes the description uses, not rdflib's long default list
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD),
                       ("spdx", SPDX), ("skos", SKOS), ("sd", SD), ("dcatap", DCATAP), ("void-ext", VOID_EXT),
                       ("formats", FORMATS)):
        g.bind(prefix, ns)
    when = Literal(modified.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    endpoint = URIRef(site + "sparql")
    home = URIRef(site)

    _catalog(g, when, home, endpoint, stats)
    _dataset(g, stats, when, home, endpoint, build_id)
    _statistics(g, stats)
    _service(g, endpoint, home)
    for dump in dumps:
        _distribution(g, dump, site, when, stats)
    _agents(g, stats, home)
    _referenced_things(g, stats)
    return g


def _texts(g: Graph, node, predicate, texts: dict[str, str]) -> None:
    for lang, text in texts.items():
        g.add((node, predicate, Literal(text, lang=lang)))


def _catalog(g: Graph, when: Literal, home: URIRef, endpoint: URIRef, stats: Statistics) -> None:
    g.add((CATALOG, RDF.type, DCAT.Catalog))
    _texts(g, CATALOG, DCTERMS.title, CATALOG_TITLE)
    _texts(g, CATALOG, DCTERMS.description, CATALOG_DESCRIPTION)
    g.add((CATALOG, DCTERMS.publisher, PUBLISHER))
    g.add((CATALOG, DCAT.dataset, DATASET))
    g.add((CATALOG, DCAT.service, endpoint))
    g.add((CATALOG, FOAF.homepage, home))
    g.add((CATALOG, DCTERMS.issued, when))
    g.add((CATALOG, DCTERMS.modified, when))
    g.add((CATALOG, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    for code in LANGUAGES:
        g.add((CATALOG, DCTERMS.language, LANGUAGE[code]))
    if stats.license:
        g.add((CATALOG, DCTERMS.license, URIRef(stats.license)))
    for country in stats.countries:
        g.add((CATALOG, DCTERMS.spatial, URIRef(country)))


def _dataset(g: Graph, stats: Statistics, when: Literal, home: URIRef, endpoint: URIRef, build_id: str) -> None:
    d = DATASET
    g.add((d, RDF.type, DCAT.Dataset))
    g.add((d, RDF.type, VOID.Dataset))
    _texts(g, d, DCTERMS.title, TITLE)
    _texts(g, d, DCTERMS.description, DESCRIPTION)
    g.add((d, DCTERMS.identifier, Literal(str(DATASET))))
    g.add((d, DCAT.version, Literal(build_id)))
    g.add((d, DCTERMS.issued, when))
    g.add((d, DCTERMS.modified, when))
    g.add((d, DCTERMS.publisher, PUBLISHER))
    g.add((d, DCAT.contactPoint, CONTACT))
    g.add((d, DCAT.landingPage, home))
    g.add((d, DCTERMS.conformsTo, ONTOLOGY))
    g.add((d, DCTERMS.accrualPeriodicity, FREQUENCY.IRREG))
    g.add((d, DCTERMS.provenance, PROVENANCE_NODE))
    if stats.license:
        g.add((d, DCTERMS.license, URIRef(stats.license)))
    for code in LANGUAGES:
        g.add((d, DCTERMS.language, LANGUAGE[code]))
    for code in THEMES:
        g.add((d, DCAT.theme, DATA_THEME[code]))
    for text, lang in stats.keywords:
        g.add((d, DCAT.keyword, Literal(text, lang=lang or None)))
    for country in stats.countries:
        g.add((d, DCTERMS.spatial, URIRef(country)))
    if stats.period:
        start, end = stats.period
        g.add((d, DCTERMS.temporal, PERIOD))
        g.add((PERIOD, RDF.type, DCTERMS.PeriodOfTime))
        g.add((PERIOD, DCAT.startDate, _literal(start)))
        g.add((PERIOD, DCAT.endDate, _literal(end)))
    # VoID: where the data is and how it is named.
    g.add((d, VOID.sparqlEndpoint, endpoint))
    g.add((d, VOID.uriSpace, Literal(str(ID))))
    for example in stats.examples:
        g.add((d, VOID.exampleResource, URIRef(example)))
    for ns in stats.vocabularies:
        g.add((d, VOID.vocabulary, URIRef(ns)))
    for name in ("N-Quads", "N-Triples", "Turtle"):
        g.add((d, VOID.feature, FORMATS[name]))


def _literal(term: dict) -> Literal:
    datatype = term.get("datatype")
    return Literal(term["value"], datatype=URIRef(datatype) if datatype else None)


def _statistics(g: Graph, stats: Statistics) -> None:
    d = DATASET
    g.add((d, VOID.triples, Literal(stats.triples)))
    g.add((d, VOID.entities, Literal(stats.entities)))
    g.add((d, VOID.classes, Literal(stats.classes)))
    g.add((d, VOID.properties, Literal(stats.properties)))
    g.add((d, VOID.distinctSubjects, Literal(stats.distinct_subjects)))
    g.add((d, VOID.distinctObjects, Literal(stats.distinct_objects)))
    g.add((d, VOID_EXT.distinctLiterals, Literal(stats.literals)))
    g.add((d, VOID_EXT.distinctIRIReferenceSubjects, Literal(stats.iri_subjects)))
    g.add((d, VOID_EXT.distinctBlankNodeSubjects, Literal(stats.blank_subjects)))
    g.add((d, VOID_EXT.distinctBlankNodeObjects, Literal(stats.blank_objects)))
    for cls, n in stats.class_partitions:
        part = BNode()
        g.add((d, VOID.classPartition, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(n)))
    for prop, n, subjects, objects in stats.property_partitions:
        part = BNode()
        g.add((d, VOID.propertyPartition, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(n)))
        g.add((part, VOID.distinctSubjects, Literal(subjects)))
        g.add((part, VOID.distinctObjects, Literal(objects)))
    # Each named graph is a subset: a harvester can tell the closure and each source file apart.
    for name, n in stats.graphs:
        graph = URIRef(name)
        g.add((d, VOID.subset, graph))
        g.add((graph, RDF.type, VOID.Dataset))
        g.add((graph, VOID.triples, Literal(n)))
    targets = {t.key: t for t in TARGETS}
    for key in sorted({key for key, _, _ in stats.linksets}):
        target = targets[key]
        node = URIRef(f"{DATASET}#target-{key}")
        g.add((node, RDF.type, VOID.Dataset))
        g.add((node, DCTERMS.title, Literal(target.title, lang="en")))
        g.add((node, VOID.uriSpace, Literal(target.uri_space)))
        g.add((node, FOAF.homepage, URIRef(target.homepage)))
    for key, predicate, n in stats.linksets:
        prefix, _, local = g.namespace_manager.compute_qname(predicate)
        linkset = URIRef(f"{DATASET}#links-{key}-{prefix}-{local}")
        g.add((d, VOID.subset, linkset))
        g.add((linkset, RDF.type, VOID.Linkset))
        g.add((linkset, VOID.linkPredicate, URIRef(predicate)))
        g.add((linkset, VOID.subjectsTarget, d))
        g.add((linkset, VOID.objectsTarget, URIRef(f"{DATASET}#target-{key}")))
        g.add((linkset, VOID.triples, Literal(n)))


def _service(g: Graph, endpoint: URIRef, home: URIRef) -> None:
    g.add((endpoint, RDF.type, DCAT.DataService))
    _texts(g, endpoint, DCTERMS.title, SERVICE_TITLE)
    _texts(g, endpoint, DCTERMS.description, SERVICE_DESCRIPTION)
    g.add((endpoint, DCAT.endpointURL, endpoint))
    # GET /sparql without a query answers with the SPARQL service description.
    g.add((endpoint, DCAT.endpointDescription, endpoint))
    g.add((endpoint, DCAT.servesDataset, DATASET))
    g.add((endpoint, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    g.add((endpoint, DCTERMS.publisher, PUBLISHER))
    g.add((endpoint, DCAT.contactPoint, CONTACT))
    g.add((endpoint, DCAT.landingPage, endpoint))
    for code in THEMES:
        g.add((endpoint, DCAT.theme, DATA_THEME[code]))
    for keyword in ("SPARQL", "linked data"):
        g.add((endpoint, DCAT.keyword, Literal(keyword, lang="en")))


def _distribution(g: Graph, dump: dump_files.Dump, site: str, when: Literal, stats: Statistics) -> None:
    fmt = dump.format
    url = URIRef(site + "dumps/" + dump.name)
    dist = URIRef(BASE + "dumps/" + dump.name)
    g.add((DATASET, DCAT.distribution, dist))
    g.add((DATASET, VOID.dataDump, url))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCTERMS.title, Literal(f"{TITLE['en']} ({fmt.title}, gzip)", lang="en")))
    g.add((dist, DCTERMS.title, Literal(f"{TITLE['it']} ({fmt.title}, gzip)", lang="it")))
    for lang, text in DUMP_DESCRIPTION[fmt.graphs].items():
        g.add((dist, DCTERMS.description, Literal(text.format(title=fmt.title), lang=lang)))
    g.add((dist, DCAT.accessURL, url))
    g.add((dist, DCAT.downloadURL, url))
    g.add((dist, DCAT.mediaType, IANA[fmt.media_type]))
    g.add((dist, DCAT.compressFormat, IANA["application/gzip"]))
    g.add((dist, DCTERMS.format, FILE_TYPE[fmt.file_type]))
    g.add((dist, DCAT.byteSize, Literal(dump.bytes, datatype=XSD.nonNegativeInteger)))
    checksum = BNode()
    g.add((dist, SPDX.checksum, checksum))
    g.add((checksum, RDF.type, SPDX.Checksum))
    g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
    g.add((dist, DCTERMS.issued, when))
    g.add((dist, DCTERMS.modified, when))
    g.add((dist, DCATAP.availability, AVAILABILITY.AVAILABLE))
    if stats.license:
        g.add((dist, DCTERMS.license, URIRef(stats.license)))
    for media_type in (fmt.media_type, "application/gzip"):
        g.add((IANA[media_type], RDF.type, DCTERMS.MediaType))
    g.add((FILE_TYPE[fmt.file_type], RDF.type, DCTERMS.MediaTypeOrExtent))
    g.add((FILE_TYPE[fmt.file_type], SKOS.inScheme, URIRef(EU + "file-type")))


def _agents(g: Graph, stats: Statistics, home: URIRef) -> None:
    name = stats.publisher or TITLE["en"]
    g.add((PUBLISHER, RDF.type, FOAF.Agent))
    g.add((PUBLISHER, FOAF.name, Literal(name)))
    g.add((PUBLISHER, FOAF.homepage, home))
    g.add((CONTACT, RDF.type, VCARD.Organization))
    g.add((CONTACT, RDF.type, VCARD.Kind))
    g.add((CONTACT, VCARD.fn, Literal(name)))
    g.add((CONTACT, VCARD.hasURL, home))


def _referenced_things(g: Graph, stats: Statistics) -> None:
    """The classes DCAT-AP expects of the resources the description points to (its range shapes check them),
    with the controlled vocabulary each comes from."""
    g.add((ONTOLOGY, RDF.type, DCTERMS.Standard))
    g.add((ONTOLOGY, DCTERMS.title, Literal("Cohesion KG ontology", lang="en")))
    g.add((SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard))
    g.add((SPARQL_PROTOCOL, DCTERMS.title, Literal("SPARQL 1.1 Protocol", lang="en")))
    for node in set(g.objects(None, DCAT.landingPage)) | set(g.objects(None, FOAF.homepage)):
        g.add((node, RDF.type, FOAF.Document))
    g.add((PROVENANCE_NODE, RDF.type, DCTERMS.ProvenanceStatement))
    _texts(g, PROVENANCE_NODE, RDFS.label, PROVENANCE)
    g.add((FREQUENCY.IRREG, RDF.type, DCTERMS.Frequency))
    g.add((FREQUENCY.IRREG, SKOS.inScheme, URIRef(EU + "frequency")))
    _concept(g, AVAILABILITY.AVAILABLE, EU + "planned-availability", {"en": "available", "it": "disponibile"})
    scheme = URIRef(EU + "data-theme")
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCTERMS.title, Literal("Data theme", lang="en")))
    for code, labels in THEMES.items():
        _concept(g, DATA_THEME[code], str(scheme), labels)
    for code, labels in LANGUAGES.items():
        g.add((LANGUAGE[code], RDF.type, DCTERMS.LinguisticSystem))
        g.add((LANGUAGE[code], SKOS.inScheme, URIRef(EU + "language")))
        _texts(g, LANGUAGE[code], RDFS.label, labels)
    for country in stats.countries:
        g.add((URIRef(country), RDF.type, DCTERMS.Location))
        g.add((URIRef(country), SKOS.inScheme, URIRef(EU + "country")))
    if stats.license:
        licence = URIRef(stats.license)
        g.add((licence, RDF.type, DCTERMS.LicenseDocument))
        if stats.license in LICENCES:
            g.add((licence, RDFS.label, Literal(LICENCES[stats.license], lang="en")))
            g.add((licence, DCTERMS.type, LICENCE_TYPE.Attribution))
            _concept(g, LICENCE_TYPE.Attribution, str(LICENCE_TYPE["1.0"]), {"en": "Attribution"})


def _concept(g: Graph, node: URIRef, scheme: str, labels: dict[str, str]) -> None:
    g.add((node, RDF.type, SKOS.Concept))
    g.add((node, SKOS.inScheme, URIRef(scheme)))
    _texts(g, node, SKOS.prefLabel, labels)
