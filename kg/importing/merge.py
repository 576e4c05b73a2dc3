"""After reconciliation has given two descriptions of one thing the same IRI: one participation per project and
organisation, one label per language, and where sources disagree on a value that can only have one, the
curated (or first) value stays asserted and every competing value becomes a ckg:Claim in a ckg:Contradiction,
the pattern docs/data-model.md describes for the seeds."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from kg.importing.mapping import dataset_iri
from kg.namespaces import CKG, ID

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCT_ALTERNATIVE = "http://purl.org/dc/terms/alternative"
DCT_SOURCE = "http://purl.org/dc/terms/source"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"

# Names: a second name in the same language is a variant (dct:alternative), not a disagreement.
NAMES = {RDFS_LABEL, SKOS_PREF}
# Properties the shapes allow once per resource: a second value is a disagreement between sources.
SINGLE = {str(CKG[p]) for p in ("acronym", "startDate", "endDate", "country", "basedIn", "totalBudget",
                                "euContribution", "inProject", "participant", "partOfProgramme")} | {
    WGS + "lat", WGS + "long", "http://www.opengis.net/ont/geosparql#hasGeometry"}

INPROJECT, PARTICIPANT = str(CKG.inProject), str(CKG.participant)
# Compared as pyoxigraph terms: reading .value off every quad of a few hundred thousand costs seconds.
_PAIR_NODES = {NamedNode(INPROJECT): INPROJECT, NamedNode(PARTICIPANT): PARTICIPANT}
_WATCHED = {NamedNode(p) for p in SINGLE | NAMES}
_DCT_SOURCE_NODE = NamedNode(DCT_SOURCE)


def _rename(quads: Iterable[Quad], renamed: dict[str, str]) -> list[Quad]:
    nodes = {NamedNode(k): NamedNode(v) for k, v in renamed.items()}
    out = []
    for q in quads:
        s = nodes.get(q.subject, q.subject)
        o = nodes.get(q.object, q.object) if isinstance(q.object, NamedNode) else q.object
        out.append(Quad(s, q.predicate, o, q.graph_name) if s is not q.subject or o is not q.object else q)
    return out


def _pairs(quads) -> dict[str, dict[str, str]]:
    pairs: dict[str, dict[str, str]] = defaultdict(dict)
    for q in quads:
        p = _PAIR_NODES.get(q.predicate)
        if p is not None:
            pairs[q.subject.value][p] = q.object.value
    return pairs


def merge_participations(curated: list, imported: dict[str, list[Quad]]) -> dict[str, list[Quad]]:
    """A participation is its project and organisation: once reconciliation has made two sources' (or a source's
    and the curated KG's) project and organisation the same, their participations become one, under the curated
    IRI or the first source's."""
    key_of: dict[tuple, str] = {}
    result = {}
    for source, quads in [("kg", curated), *imported.items()]:
        pairs = _pairs(quads)
        renamed = {}
        for p in sorted(pairs):
            key = (pairs[p].get(INPROJECT), pairs[p].get(PARTICIPANT))
            if None in key:
                continue
            known = key_of.setdefault(key, p)
            if known != p:
                renamed[p] = known
        if source != "kg":
            result[source] = _rename(quads, renamed) if renamed else quads
    return result


def _slug(iri: str) -> str:
    return iri[len(str(ID)):].replace("/", "-") if iri.startswith(str(ID)) else hashlib.sha1(iri.encode()).hexdigest()[:12]


def _short(predicate: str) -> str:
    return predicate.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _shout(literal) -> bool:
    text = literal.value
    return text.isupper() and len(text) > 4


def resolve_conflicts(curated: list, imported: dict[str, list[Quad]]) -> dict[str, list[Quad]]:
    """Keep one value of every single-valued property and one name per language; see the module's docstring."""
    curated_values: dict[tuple, list] = defaultdict(list)
    curated_sources: dict[str, set[str]] = defaultdict(set)
    for q in curated:
        if q.predicate in _WATCHED:
            curated_values[_key(q)].append(q.object)
        elif q.predicate == _DCT_SOURCE_NODE:
            curated_sources[q.subject.value].add(q.object.value)
    # Every value each source gives, in source order.
    given: dict[tuple, dict] = defaultdict(dict)
    for source, quads in imported.items():
        for q in quads:
            if q.predicate in _WATCHED:
                given[_key(q)].setdefault(q.object, source)
    drop: set[tuple] = set()
    extra: dict[str, list[Quad]] = defaultdict(list)
    for key, values in given.items():
        subject, predicate, _ = key
        kept = curated_values.get(key, [])
        distinct = [v for v in values if v not in kept]
        if not distinct or (not kept and len(values) == 1):
            continue
        if not kept:
            # No curated value: the first source's, preferring a name not written in capitals.
            ordered = sorted(values, key=lambda v: (_shout(v) if predicate in NAMES else False,
                                                    list(given[key]).index(v)))
            kept = [ordered[0]]
            distinct = ordered[1:]
        for value in distinct:
            source = values[value]
            drop.add((subject, predicate, value))
            graph = NamedNode(f"https://w3id.org/cohesion-kg/graph/import/{source}")
            if predicate in NAMES:
                extra[source].append(Quad(NamedNode(subject), NamedNode(DCT_ALTERNATIVE), value, graph))
        if predicate in NAMES:
            continue
        _contradiction(subject, predicate, kept, key in curated_values, distinct, values,
                       curated_sources.get(subject, set()), extra)
    dropped = {(NamedNode(s), NamedNode(p), o) for s, p, o in drop}
    result = {}
    for source, quads in imported.items():
        result[source] = ([q for q in quads if (q.subject, q.predicate, q.object) not in dropped] if dropped
                          else list(quads)) + extra[source]
    return result


def _key(q: Quad) -> tuple:
    language = q.object.language if isinstance(q.object, Literal) and q.predicate.value in NAMES else None
    return q.subject.value, q.predicate.value, language


def _contradiction(subject: str, predicate: str, kept: list, kept_is_curated: bool, competing: list, given: dict,
                   curated_docs: set[str], extra: dict[str, list[Quad]]) -> None:
    first_source = given[competing[0]]
    graph = NamedNode(f"https://w3id.org/cohesion-kg/graph/import/{first_source}")
    name = f"import-{_slug(subject)}-{_short(predicate).lower()}"
    contradiction = NamedNode(f"{ID}contradiction/{name}")
    out = extra[first_source]
    a = NamedNode(RDF + "type")
    docs = set()
    claims = []
    for value in [*kept, *competing]:
        digest = hashlib.sha1(str(value).encode()).hexdigest()[:10]
        claim = NamedNode(f"{ID}claim/{name}-{digest}")
        claims.append(claim)
        if kept_is_curated and value in kept:
            sources, said = sorted(curated_docs), "the curated KG"
        else:
            sources, said = [dataset_iri(given[value])], f"the import of {given[value]}"
        docs.update(sources)
        out += [Quad(claim, a, NamedNode(str(CKG.Claim)), graph),
                Quad(claim, NamedNode(RDFS_LABEL), Literal(f"{_short(predicate)} of {_slug(subject)} is {value.value}"
                                                           f" ({said})", language="en"), graph),
                Quad(claim, NamedNode(RDF + "subject"), NamedNode(subject), graph),
                Quad(claim, NamedNode(RDF + "predicate"), NamedNode(predicate), graph),
                Quad(claim, NamedNode(RDF + "object"), value, graph)]
        out += [Quad(claim, NamedNode(DCT_SOURCE), NamedNode(d), graph) for d in sources]
    asserted = ", ".join(v.value for v in kept)
    whose = "the curated KG's value" if kept_is_curated else f"the first source's, {given[kept[0]]}, as the KG has none"
    others = "; ".join(f"{v.value} ({given[v]})" for v in competing)
    out += [Quad(contradiction, a, NamedNode(str(CKG.Contradiction)), graph),
            Quad(contradiction, NamedNode(RDFS_LABEL),
                 Literal(f"{_short(predicate)} of {_slug(subject)}: sources disagree", language="en"), graph),
            Quad(contradiction, NamedNode(RDFS_COMMENT),
                 Literal(f"Asserted: {asserted} ({whose}). Imported: {others}.", language="en"), graph),
            Quad(contradiction, NamedNode(str(CKG.about)), NamedNode(subject), graph)]
    out += [Quad(contradiction, NamedNode(str(CKG.hasClaim)), c, graph) for c in claims]
    out += [Quad(contradiction, NamedNode(DCT_SOURCE), NamedNode(d), graph) for d in sorted(docs)]
