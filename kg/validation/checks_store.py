"""The checks SHACL cannot express (kg.validation.checks), run on a store with SPARQL: the same findings and results, with
no rdflib graph of the KG.

kg.validation.checks scans the asserted triples; on a store those are every named graph but the derived ones (the OWL RL
closure and the co-participation network; `derived` names them), so an inferred `x a ckg:Organisation` does not
make a dangling link look described. The queries are standard SPARQL 1.1 (GRAPH ?g, FILTER NOT EXISTS), for the
embedded store and a remote server alike; what the store cannot do (Unicode normalisation, fuzzy matching of
slugs) is done in Python on the few rows the queries return, with kg.validation.checks' own functions.

    find(store) -> [kg.validation.checks.Finding]           the findings, as kg.validation.checks.find gives them
    merge(report, findings, store, place) -> Report   kg.validation.checks.merge for a store: Results and raw SHACL results
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from kg.validation import checks
from kg.validation.checks import SUGGESTION_POOL, SUGGESTIONS, WIKIDATA_ENTITY, Finding, normalised_label
from kg.namespaces import CKG, ID, INFERRED_GRAPH, NETWORK_GRAPH, SCHEMA
from kg.validation.results import Report
from kg.validation.compiled import rdflib_term

DERIVED_GRAPHS = (str(INFERRED_GRAPH), str(NETWORK_GRAPH))

Place = Callable[[tuple], "tuple[str, int]"]  # (subject, predicate, object) -> (file, line) of the subject


def find(store, derived: Iterable[str] = DERIVED_GRAPHS) -> list[Finding]:
    """Every check on the asserted triples of `store` (all its graphs but `derived`)."""
    asserted = _asserted(derived)
    return dangling_iris(store, asserted) + duplicate_entities(store, asserted) + shared_wikidata_links(store, asserted)


def _asserted(derived: Iterable[str]) -> Callable[[str], str]:
    """A FILTER condition keeping graph variable `g` to the asserted graphs."""
    names = ", ".join(f"<{g}>" for g in sorted(derived))
    return (lambda g: f"{g} NOT IN ({names})") if names else (lambda g: "true")


def dangling_iris(store, asserted: Callable[[str], str]) -> list[Finding]:
    # The IRIs of ours used as objects and described nowhere are few: found first, then the triples using them.
    rows = store.select(f"""
        SELECT DISTINCT ?s ?p ?o WHERE {{
          {{ SELECT ?o WHERE {{
              {{ SELECT DISTINCT ?o WHERE {{ GRAPH ?g {{ [] ?used ?o }} FILTER (isIRI(?o) && STRSTARTS(STR(?o), "{ID}") && {asserted("?g")}) }} }}
              FILTER NOT EXISTS {{ GRAPH ?h {{ ?o ?p2 ?o2 }} FILTER ({asserted("?h")}) }}
          }} }}
          GRAPH ?g {{ ?s ?p ?o }}
          FILTER ({asserted("?g")})
        }}""")
    uses: dict[URIRef, set[tuple[URIRef, URIRef]]] = defaultdict(set)
    for row in rows:
        uses[rdflib_term(row["o"])].add((rdflib_term(row["s"]), rdflib_term(row["p"])))
    # As in kg.validation.checks, a target linked to only from blank nodes counts among the dangling (for the hints' budget)
    # but gets no finding: a blank node has no line to point at.
    dangling = sorted(uses)
    described = _described(store, asserted, {str(t).rpartition("/")[0] + "/" for t in dangling[:SUGGESTIONS]})
    return checks.dangling_findings(dangling, uses, described)


def _described(store, asserted: Callable[[str], str], kinds: set[str]) -> dict[str, list[str]]:
    """The described IRIs of each kind ({".../id/city/": [slugs]}), as kg.validation.checks offers "did you mean" from;
    a kind with more than SUGGESTION_POOL of them is left out, as kg.validation.checks leaves it out."""
    found: dict[str, list[str]] = {}
    for kind in sorted(kinds):
        rows = store.select(f"""
            SELECT DISTINCT ?s WHERE {{
              GRAPH ?g {{ ?s ?p ?o }}
              FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{kind}") && !CONTAINS(STRAFTER(STR(?s), "{kind}"), "/") && {asserted("?g")})
            }} LIMIT {SUGGESTION_POOL + 1}""")
        slugs = [row["s"].value[len(kind):] for row in rows]
        if len(slugs) <= SUGGESTION_POOL:
            found[kind] = slugs
    return found


def duplicate_entities(store, asserted: Callable[[str], str]) -> list[Finding]:
    rows = store.select(f"""
        SELECT DISTINCT ?s ?class ?label WHERE {{
          GRAPH ?g {{ ?s a ?class }}
          FILTER (isIRI(?s) && isIRI(?class) && STRSTARTS(STR(?class), "{CKG}") && {asserted("?g")})
          GRAPH ?h {{ ?s <{RDFS.label}> ?label }}
          FILTER (isLiteral(?label) && langMatches(LANG(?label), "en") && {asserted("?h")})
        }}""")
    # Every English label of every entity of ours comes back: kept as plain strings (rdflib terms cost ten times
    # more), terms made only for the duplicates.
    groups: dict[tuple[str, str], dict[str, tuple[str, str]]] = defaultdict(dict)  # (class, label) -> {entity: label}
    for s, cls, label, language in sorted((r["s"].value, r["class"].value, r["label"].value, r["label"].language) for r in rows):
        groups[(cls, normalised_label(label))].setdefault(s, (label, language))
    found = {
        URIRef(entity): {URIRef(other): (URIRef(cls), Literal(text, lang=language)) for other, (cls, (text, language)) in others.items()}
        for entity, others in checks.twins(groups).items()
    }
    return checks.duplicate_findings(found)


def shared_wikidata_links(store, asserted: Callable[[str], str]) -> list[Finding]:
    rows = store.select(f"""
        SELECT DISTINCT ?s ?o WHERE {{
          GRAPH ?g {{ ?s <{SCHEMA.sameAs}> ?o }}
          FILTER (isIRI(?s) && isIRI(?o) && CONTAINS(STR(?o), "wikidata.org/") && {asserted("?g")})
        }}""")
    holders: dict[str, dict[URIRef, URIRef]] = defaultdict(dict)  # QID -> {resource: its sameAs IRI}
    for s, o in sorted((rdflib_term(r["s"]), rdflib_term(r["o"])) for r in rows):
        m = WIKIDATA_ENTITY.match(str(o))
        if m:
            holders[m.group(1)].setdefault(s, o)
    return checks.wikidata_findings(holders)


def merge(report: Report, findings: list[Finding], store, place: Place | None = None) -> Report:
    """kg.validation.checks.merge on a store: the findings added to `report` as Results (labelled from the store, placed by
    `place(triple)`) and as sh:ValidationResult resources in its raw report, whose sh:conforms turns false on a
    violation."""
    if not findings:
        return report
    labels = english_labels(store, {f.focus for f in findings})
    return checks.add_findings(report, findings, place or (lambda triple: ("", 0)), lambda node: labels.get(node, ""))


def english_labels(store, nodes: Iterable, batch: int = 200) -> dict:
    """Each IRI's English label (@en or @en-*) as kg.validation.checks labels a finding: the first in sorted order."""
    iris = sorted(n for n in nodes if isinstance(n, URIRef))
    found: dict = {}
    for start in range(0, len(iris), batch):
        chunk = " ".join(f"<{n}>" for n in iris[start:start + batch])
        rows = store.select(f"""SELECT ?s ?label WHERE {{ VALUES ?s {{ {chunk} }} ?s <{RDFS.label}> ?label
                                FILTER (isLiteral(?label) && langMatches(LANG(?label), "en")) }}""")
        for row in rows:
            s, label = rdflib_term(row["s"]), str(rdflib_term(row["label"]))
            if s not in found or label < found[s]:
                found[s] = label
    return found
