"""Checks that SHACL cannot express well, reported as validation results like the shapes' own.

- dangling-iri: an IRI of ours (under id/) used as an object but the subject of no triple: a link to nothing.
- duplicate-entity: two IRIs with the same English label and the same class of ours: probably one thing twice.
- shared-wikidata-link: two resources with schema:sameAs to the same Wikidata entity, which names one thing.
- ill-typed-literal, bad-language-tag: a literal whose lexical form is not valid for its datatype, or whose
  language tag is not BCP 47, found while the files were loaded (kg.sources.literals) and placed at the
  literal's own line and column.

Each check scans the asserted triples (ontology + data, before reasoning: an inferred `x a ckg:Organisation`
must not make a dangling link look described) with rdflib's triple indexes and dicts, not SPARQL, so the
three together cost a few milliseconds on the KG and stay linear in its size.

A result is named by the check's IRI under https://w3id.org/cohesion-kg/checks/ (in `Result.shape`, and as
sh:sourceShape and sh:sourceConstraintComponent in the raw report), its component is the check's name, and it
points at the file and line of the triple at fault.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from kg.namespaces import BASE, CKG, ID, SCHEMA
from kg.sources.literals import ILL_TYPED, LANGUAGE_TAG
from kg.validation.formats import short
from kg.validation.placement import Origin
from kg.validation.results import Report, Result, show

CHECKS = Namespace(BASE + "checks/")

WIKIDATA_ENTITY = re.compile(r"^https?://(?:www\.)?wikidata\.org/(?:entity|wiki)/(Q[1-9][0-9]*)$")
# "Did you mean" costs a fuzzy match against every described IRI of the same kind: it is offered for the first
# SUGGESTIONS dangling IRIs, and only among kinds of at most SUGGESTION_POOL IRIs.
SUGGESTIONS = 100
SUGGESTION_POOL = 20_000


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # "Violation" or "Warning", as in SHACL
    label: str
    comment: str

    @property
    def iri(self) -> URIRef:
        return CHECKS[self.name]


DANGLING_IRI = Check(
    "dangling-iri",
    "Violation",
    "dangling IRI",
    "An IRI under https://w3id.org/cohesion-kg/id/ is used as an object but no triple describes it: a link to nothing.",
)
DUPLICATE_ENTITY = Check(
    "duplicate-entity",
    "Warning",
    "duplicate entity",
    "Two IRIs have the same English label (ignoring case and spacing) and the same class of the Cohesion KG "
    "ontology: probably one thing described twice. A warning, since a name alone does not prove identity.",
)
SHARED_WIKIDATA_LINK = Check(
    "shared-wikidata-link",
    "Violation",
    "shared Wikidata link",
    "Two resources link with schema:sameAs to the same Wikidata entity, which names one thing: one link is wrong, "
    "or the two resources are one.",
)
ILL_TYPED_LITERAL = Check(
    "ill-typed-literal",
    "Violation",
    "ill-typed literal",
    "A literal whose lexical form is not valid for its XSD datatype (\"abc\"^^xsd:integer, \"2019-02-31\"^^xsd:date): "
    "queries comparing or sorting it fail, and reasoners stop on it.",
)
BAD_LANGUAGE_TAG = Check(
    "bad-language-tag",
    "Violation",
    "malformed language tag",
    "A literal whose language tag is not a well-formed BCP 47 tag (RFC 5646), such as @it-toolongsubtag: "
    "other RDF tools refuse the file.",
)
ALL = (DANGLING_IRI, DUPLICATE_ENTITY, SHARED_WIKIDATA_LINK)  # what find() runs on the asserted graph
LITERAL_CHECKS = (ILL_TYPED_LITERAL, BAD_LANGUAGE_TAG)  # what the load finds (kg.sources.literals), one file at a time


@dataclass(frozen=True)
class Finding:
    """One result of a check: `(focus, path, value)` is the asserted triple at fault."""

    check: Check
    focus: URIRef
    path: URIRef
    value: Node
    message: str
    place: tuple[str, int, int] | None = None  # file, line, column, when the finding was made where it is written


def literal_findings(files) -> list[Finding]:
    """The bad literals the load found in `files` (kg.sources.load.LoadedFile), as findings at their places."""
    checks = {ILL_TYPED: ILL_TYPED_LITERAL, LANGUAGE_TAG: BAD_LANGUAGE_TAG}
    return [
        Finding(checks[b.problem], b.subject, b.predicate, b.literal, b.message, (b.file, b.line, b.column))
        for f in files
        for b in f.bad_literals
    ]


def find(graph: Graph) -> list[Finding]:
    """Run every check on the asserted triples of ontology and data."""
    return dangling_iris(graph) + duplicate_entities(graph) + shared_wikidata_links(graph)


def dangling_iris(graph: Graph) -> list[Finding]:
    ours = str(ID)
    subjects: set[Node] = set()
    uses: dict[URIRef, list[tuple[Node, URIRef]]] = defaultdict(list)
    for s, p, o in graph:
        subjects.add(s)
        if isinstance(o, URIRef) and o.startswith(ours):
            uses[o].append((s, p))
    dangling = sorted(o for o in uses if o not in subjects)
    return dangling_findings(dangling, uses, _by_kind(subjects) if dangling else {})


def dangling_findings(dangling: list[URIRef], uses, described: dict[str, list[str]]) -> list[Finding]:
    """One finding per link to each dangling IRI, the first SUGGESTIONS of them with a close IRI of the same kind
    to suggest; the same for both engines (kg.validation.checks_store gathers `uses` with SPARQL)."""
    findings = []
    for number, target in enumerate(dangling):
        hint = did_you_mean(target, described) if number < SUGGESTIONS else None
        # A blank node has no line to point at and no IRI to name; what links to it is checked in its turn.
        for s, p in sorted((s, p) for s, p in uses[target] if isinstance(s, URIRef)):
            message = f"links to {short(target)}, which nothing in the KG describes (no triple has it as subject)"
            findings.append(Finding(DANGLING_IRI, s, p, target, message + (f"; did you mean {short(hint)}?" if hint else "")))
    return findings


def duplicate_entities(graph: Graph) -> list[Finding]:
    ours = str(CKG)
    classes: dict[Node, set[URIRef]] = defaultdict(set)
    for s, o in graph.subject_objects(RDF.type):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and o.startswith(ours):
            classes[s].add(o)
    groups: dict[tuple[URIRef, str], dict[URIRef, Literal]] = defaultdict(dict)  # (class, label) -> {entity: label}
    for s, label in graph.subject_objects(RDFS.label):
        if s in classes and isinstance(label, Literal) and _english(label):
            for cls in classes[s]:
                groups[(cls, normalised_label(label))].setdefault(s, label)
    return duplicate_findings(twins(groups))


def twins(groups: dict) -> dict:
    """entity -> {other: (class, label)} for every group {(class, normalised label): {entity: label}} of two or
    more entities (any term types: kg.checks_sparql groups plain strings)."""
    found: dict = defaultdict(dict)
    for (cls, _), members in sorted(groups.items()):
        if len(members) > 1:
            for m, label in members.items():
                for other in members:
                    if other != m:
                        found[m].setdefault(other, (cls, label))
    return found


def duplicate_findings(twins: dict[URIRef, dict[URIRef, tuple[URIRef, Literal]]]) -> list[Finding]:
    findings = []
    for entity in sorted(twins):
        others = sorted(twins[entity])
        cls, label = twins[entity][others[0]]
        message = (
            f'has the same English label ("{label}") and class ({short(cls)}) as {", ".join(short(o) for o in others)}: '
            "if they are one thing, keep one IRI; if not, give them labels that tell them apart"
        )
        findings.append(Finding(DUPLICATE_ENTITY, entity, RDFS.label, label, message))
    return findings


def shared_wikidata_links(graph: Graph) -> list[Finding]:
    holders: dict[str, dict[URIRef, URIRef]] = defaultdict(dict)  # QID -> {resource: its sameAs IRI}
    for s, o in graph.subject_objects(SCHEMA.sameAs):
        m = WIKIDATA_ENTITY.match(str(o)) if isinstance(o, URIRef) else None
        if m and isinstance(s, URIRef):
            holders[m.group(1)].setdefault(s, o)
    return wikidata_findings(holders)


def wikidata_findings(holders: dict[str, dict[URIRef, URIRef]]) -> list[Finding]:
    """A finding for each resource whose Wikidata entity (QID -> {resource: its sameAs IRI}) another one shares."""
    findings = []
    for qid, links in sorted(holders.items()):
        if len(links) < 2:
            continue
        for s in sorted(links):
            others = ", ".join(short(o) for o in sorted(links) if o != s)
            message = (
                f"shares its Wikidata entity {qid} with {others}: a Wikidata entity names one thing, so one of the "
                "links is wrong or the resources are one"
            )
            findings.append(Finding(SHARED_WIKIDATA_LINK, s, SCHEMA.sameAs, links[s], message))
    return findings


def merge(report: Report, findings: list[Finding], graph: Graph, origin: Origin) -> Report:
    """The report with the findings added: as Results (sorted with the rest) and as sh:ValidationResult
    resources in its raw SHACL report graph, whose sh:conforms turns false on a violation."""
    dataset_graphs = {ctx.identifier: ctx for ctx in origin.dataset.graphs()}
    return add_findings(report, findings, lambda triple: _place(origin, dataset_graphs, triple),
                        lambda node: _english_label(graph, node))


def add_findings(report: Report, findings: list[Finding], place, label) -> Report:
    """merge's work for any store: `place(triple)` gives (file, line) of a finding's triple, `label(node)` the
    label of its focus node (kg.checks_sparql calls this with the store's answers). A finding that knows its
    place (a literal, placed at load) keeps it."""
    if not findings:
        return report
    raw = report.graph
    node = next(raw.subjects(RDF.type, SH.ValidationReport), None)
    if node is None:
        node = BNode()
        raw.add((node, RDF.type, SH.ValidationReport))
        raw.add((node, SH.conforms, Literal(True)))
    raw.bind("ckgcheck", CHECKS)
    for check in {f.check for f in findings}:
        raw.add((check.iri, RDFS.label, Literal(check.label, lang="en")))
        raw.add((check.iri, RDFS.comment, Literal(check.comment, lang="en")))
    results = list(report.results)
    for f in findings:
        r = BNode()
        raw.add((node, SH.result, r))
        for p, o in (
            (RDF.type, SH.ValidationResult),
            (SH.focusNode, f.focus),
            (SH.resultPath, f.path),
            (SH.value, f.value),
            (SH.resultSeverity, SH[f.check.severity]),
            (SH.sourceShape, f.check.iri),
            (SH.sourceConstraintComponent, f.check.iri),
            (SH.resultMessage, Literal(f.message, lang="en")),
        ):
            raw.add((r, p, o))
        file, line, column = f.place or (*place((f.focus, f.path, f.value)), 0)
        results.append(
            Result(
                file=file,
                line=line,
                focus=show(f.focus),
                severity=f.check.severity,
                path=str(f.path),
                value=_n3(f.value) if isinstance(f.value, Literal) else str(f.value),
                shape=str(f.check.iri),
                component=f.check.name,
                message=f.message,
                label=label(f.focus),
                column=column,
            )
        )
    if any(f.check.severity == "Violation" for f in findings):
        raw.set((node, SH.conforms, Literal(False)))
    return Report(sorted(set(results)), raw)


def _n3(literal: Literal) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdflib warns when it writes an ill-typed number: reporting it is our point
        return literal.n3()


def _place(origin: Origin, graphs: dict, triple) -> tuple[str, int]:
    """The file and line of the subject in the file that asserts `triple` (the focus node's own file otherwise)."""
    holding = {g for g in origin.graphs if g in graphs and triple in graphs[g]}
    return origin.place_in(triple[0], holding) if holding else origin(triple[0])


def normalised_label(label: Literal) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(label)).casefold().split())


def _english(label: Literal) -> bool:
    lang = (label.language or "").lower()
    return lang == "en" or lang.startswith("en-")


def _english_label(graph: Graph, node: Node) -> str:
    labels = sorted(str(l) for l in graph.objects(node, RDFS.label) if isinstance(l, Literal) and _english(l))
    return labels[0] if labels else ""


def _by_kind(subjects: set[Node]) -> dict[str, list[str]]:
    """Described IRIs of ours by kind: {".../id/city/": ["berlin", ...]}."""
    kinds: dict[str, list[str]] = defaultdict(list)
    ours = str(ID)
    for s in subjects:
        if isinstance(s, URIRef) and s.startswith(ours):
            kind, _, slug = str(s).rpartition("/")
            kinds[kind + "/"].append(slug)
    return kinds


def did_you_mean(target: URIRef, described: dict[str, list[str]]) -> URIRef | None:
    """The described IRI of the same kind closest to `target` (a typo in a slug), if one is close."""
    kind, _, slug = str(target).rpartition("/")
    pool = described.get(kind + "/", [])
    if not pool or len(pool) > SUGGESTION_POOL:
        return None
    best = difflib.get_close_matches(slug, pool, n=1, cutoff=0.8)  # slugs, not IRIs: the shared base says nothing
    return URIRef(f"{kind}/{best[0]}") if best else None
