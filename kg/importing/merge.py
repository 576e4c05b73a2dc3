"""After reconciliation has given two descriptions of one thing the same IRI: one participation per project and
organisation, one label per language, and where sources disagree on a value that can only have one, the
curated (or first) value stays asserted and every competing value becomes a ckg:Claim in a ckg:Contradiction,
the pattern docs/data-model.md describes for the seeds."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable

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
    WGS + "lat", WGS + "long", "http://www.opengis.net/ont/geosparql#hasGeometry",
    # A geometry is minted from its GeoNames id by the curated data and by URBACT's table alike; where the two
    # read GeoNames at different times, its point is a disagreement like the city's lat and long.
    "http://www.opengis.net/ont/geosparql#asWKT"}

HAS_GEOMETRY = "http://www.opengis.net/ont/geosparql#hasGeometry"
_AS_WKT_NODE = NamedNode("http://www.opengis.net/ont/geosparql#asWKT")
_POINT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*", re.I)

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
    for q in curated:
        if q.predicate in _WATCHED:
            curated_values[_key(q)].append(q.object)
    curated_sources = _documents(curated)
    # Every value each source gives, in source order.
    given: dict[tuple, dict] = defaultdict(dict)
    for source, quads in imported.items():
        for q in quads:
            if q.predicate in _WATCHED:
                given[_key(q)].setdefault(q.object, source)
    rank = {source: i for i, source in enumerate(imported)}
    points = _kept_points(curated, imported, curated_values, given, rank)
    drop: set[tuple] = set()
    extra: dict[str, list[Quad]] = defaultdict(list)
    for key, values in given.items():
        subject, predicate, _ = key
        kept = curated_values.get(key, [])
        distinct = sorted((v for v in values if v not in kept), key=lambda v: (rank[values[v]], str(v)))
        if not distinct or (not kept and len(values) == 1):
            continue
        if not kept:
            # No curated value: the first source's, preferring a name not written in capitals, and for a
            # latitude or longitude the one of the geometry kept (two organisations that are one keep one point).
            # Within a source, by the value's N-Triples text: the quads come in no particular order.
            point = points.get(subject, {}).get(predicate)
            ordered = sorted(values, key=lambda v: (_shout(v) if predicate in NAMES else False,
                                                    point is not None and not _same_number(v, point),
                                                    rank[values[v]], str(v)))
            kept = [ordered[0]]
            distinct = ordered[1:]
        for value in distinct:
            source = values[value]
            drop.add((subject, predicate, value))
            if predicate in NAMES:
                extra[source].append(Quad(NamedNode(subject), NamedNode(DCT_ALTERNATIVE), value, _graph(source)))
        if predicate in NAMES:
            continue
        _contradiction(subject, predicate, kept, key in curated_values, distinct, values,
                       curated_sources.get(subject, set()), extra)
    dropped = {(NamedNode(s), NamedNode(p), o) for s, p, o in drop}
    return _rewritten(imported, (lambda source, q: (q.subject, q.predicate, q.object) in dropped) if dropped else None,
                      extra)


def _kept_points(curated: list, imported: dict[str, list[Quad]], curated_values: dict, given: dict,
                 rank: dict) -> dict[str, dict[str, str]]:
    """For each subject whose sources give it several geometries, the latitude and longitude of the geometry
    that stays asserted (the curated one, else the first source's), read off its WKT "POINT(long lat)": a
    subject's lat, long and geometry are one choice, not three."""
    chosen = {}
    for (subject, predicate, _), values in given.items():
        if predicate != HAS_GEOMETRY or (len(values) < 2 and (subject, predicate, None) not in curated_values):
            continue
        kept = curated_values.get((subject, predicate, None)) or sorted(values, key=lambda v: (rank[values[v]], str(v)))
        chosen[kept[0].value] = subject
    points: dict[str, dict[str, str]] = {}
    for quads in (curated, *imported.values()):
        for q in quads:
            if q.predicate == _AS_WKT_NODE and q.subject.value in chosen:
                found = _POINT.fullmatch(q.object.value)
                if found:
                    points.setdefault(chosen[q.subject.value], {WGS + "long": found.group(1), WGS + "lat": found.group(2)})
    return points


def _same_number(value, text: str) -> bool:
    try:
        return Decimal(value.value) == Decimal(text)
    except (InvalidOperation, AttributeError):
        return False


def _key(q: Quad) -> tuple:
    language = q.object.language if isinstance(q.object, Literal) and q.predicate.value in NAMES else None
    return q.subject.value, q.predicate.value, language


def _contradiction(subject: str, predicate: str, kept: list, kept_is_curated: bool, competing: list, given: dict,
                   curated_docs: set[str], extra: dict[str, list[Quad]]) -> None:
    first_source = given[competing[0]]
    graph = _graph(first_source)
    name = f"import-{_slug(subject)}-{_short(predicate).lower()}"
    out = extra[first_source]
    docs = set()
    claims = []
    for value in [*kept, *competing]:
        if kept_is_curated and value in kept:
            sources, said = sorted(curated_docs), "the curated KG"
        else:
            sources, said = [dataset_iri(given[value])], f"the import of {given[value]}"
        docs.update(sources)
        claim, quads = _claim_quads(name, subject, predicate, value, sources, said, graph, shown=value.value)
        claims.append(claim)
        out += quads
    asserted = ", ".join(v.value for v in kept)
    whose = "the curated KG's value" if kept_is_curated else f"the first source's, {given[kept[0]]}, as the KG has none"
    others = "; ".join(f"{v.value} ({given[v]})" for v in competing)
    out += _contradiction_quads(name, subject, f"{_short(predicate)} of {_slug(subject)}: sources disagree",
                                f"Asserted: {asserted} ({whose}). Imported: {others}.", claims, docs, graph)


# ----------------------------------------------------------------------------------------------------------
# Facts that hold across properties: one coordinator per project, a project's dates in order

ROLE = str(CKG.role)
_ROLE_NODE, _INPROJECT_NODE = NamedNode(ROLE), NamedNode(INPROJECT)
COORDINATOR, PARTNER = NamedNode(f"{ID}role/coordinator"), NamedNode(f"{ID}role/partner")
START, END = NamedNode(str(CKG.startDate)), NamedNode(str(CKG.endDate))


def _claim_quads(name: str, subject: str, predicate: str, value, sources: list[str], said: str,
                 graph: NamedNode, key: str | None = None, shown: str | None = None) -> tuple[NamedNode, list[Quad]]:
    # `key` (default: the value, as _contradiction names its claims) makes the IRI: one claim, one IRI, however
    # many contradictions cite it.
    digest = hashlib.sha1((str(value) if key is None else key).encode()).hexdigest()[:10]
    claim = NamedNode(f"{ID}claim/{name}-{digest}")
    a = NamedNode(RDF + "type")
    quads = [Quad(claim, a, NamedNode(str(CKG.Claim)), graph),
             Quad(claim, NamedNode(RDFS_LABEL), Literal(f"{_short(predicate)} of {_slug(subject)} is "
                                                        f"{_shown(value) if shown is None else shown} ({said})", language="en"), graph),
             Quad(claim, NamedNode(RDF + "subject"), NamedNode(subject), graph),
             Quad(claim, NamedNode(RDF + "predicate"), NamedNode(predicate), graph),
             Quad(claim, NamedNode(RDF + "object"), value, graph)]
    quads += [Quad(claim, NamedNode(DCT_SOURCE), NamedNode(d), graph) for d in sources]
    return claim, quads


def _shown(value) -> str:
    return _slug(value.value) if isinstance(value, NamedNode) else value.value


def _contradiction_quads(name: str, about: str, label: str, comment: str, claims: list[NamedNode],
                         sources: set[str], graph: NamedNode) -> list[Quad]:
    contradiction = NamedNode(f"{ID}contradiction/{name}")
    return [Quad(contradiction, NamedNode(RDF + "type"), NamedNode(str(CKG.Contradiction)), graph),
            Quad(contradiction, NamedNode(RDFS_LABEL), Literal(label, language="en"), graph),
            Quad(contradiction, NamedNode(RDFS_COMMENT), Literal(comment, language="en"), graph),
            Quad(contradiction, NamedNode(str(CKG.about)), NamedNode(about), graph),
            *(Quad(contradiction, NamedNode(str(CKG.hasClaim)), c, graph) for c in claims),
            *(Quad(contradiction, NamedNode(DCT_SOURCE), NamedNode(d), graph) for d in sorted(sources))]


def _documents(curated: list) -> dict[str, set[str]]:
    """The documents the curated KG cites for each subject (dct:source), by the subject's IRI."""
    cited: dict[str, set[str]] = defaultdict(set)
    for q in curated:
        if q.predicate == _DCT_SOURCE_NODE:
            cited[q.subject.value].add(q.object.value)
    return cited


def _rewritten(imported: dict[str, list[Quad]], dropped: Callable[[str, Quad], bool] | None,
               extra: dict[str, list[Quad]]) -> dict[str, list[Quad]]:
    """Each source's quads in their order, but those `dropped(source, quad)` leaves out (None: none), then the
    quads `extra` adds for that source."""
    return {source: ([q for q in quads if not dropped(source, q)] if dropped else list(quads)) + extra[source]
            for source, quads in imported.items()}


def _graph(source: str) -> NamedNode:
    return NamedNode(f"https://w3id.org/cohesion-kg/graph/import/{source}")


def settle_coordinators(curated: list, imported: dict[str, list[Quad]]) -> dict[str, list[Quad]]:
    """A project has one coordinator. Where sources name different ones (URBACT's lead city and keep.eu's lead
    partner, when reconciliation could not make them one organisation), the curated KG's coordinator stays
    asserted, else the one of the first source in the manifest (the programme's own publication before the
    aggregators). Every other one stays a participation as a partner (a lead partner is a partner of its
    project in every programme's terms) and its coordinator role becomes a ckg:Claim, beside the asserted
    one's, in a ckg:Contradiction about the project."""
    project_of: dict[NamedNode, NamedNode] = {}
    roles: dict[NamedNode, set] = defaultdict(set)
    said: dict[NamedNode, list[str]] = defaultdict(list)       # participation -> who says it coordinates
    curated_docs = _documents(curated)
    for source, quads in [("kg", curated), *imported.items()]:
        for q in quads:
            if q.predicate == _INPROJECT_NODE:
                project_of[q.subject] = q.object
            elif q.predicate == _ROLE_NODE:
                roles[q.subject].add(q.object)
                if q.object == COORDINATOR and source not in said[q.subject]:
                    said[q.subject].append(source)
    rank = {source: i for i, source in enumerate(["kg", *imported])}
    coordinators: dict[NamedNode, list[NamedNode]] = defaultdict(list)
    for participation, sources in said.items():
        if participation in project_of:
            coordinators[project_of[participation]].append(participation)
    demoted: set[tuple] = set()
    extra: dict[str, list[Quad]] = defaultdict(list)
    for project, found in sorted(coordinators.items(), key=lambda pf: pf[0].value):
        if len(found) < 2:
            continue
        found.sort(key=lambda p: (min(rank[s] for s in said[p]), p.value))
        kept, others = found[0], found[1:]
        if not any(s != "kg" for p in others for s in said[p]):
            continue        # the curated KG's own coordinators are its curators' to settle, not an import's
        name = f"import-{_slug(project.value)}-coordinator"
        first_other = min((s for p in others for s in said[p] if s != "kg"), key=rank.__getitem__)
        graph = _graph(first_other)
        claims, docs = [], set()
        for participation in found:
            for source in said[participation]:
                sources = (sorted(curated_docs.get(participation.value, ())) if source == "kg"
                           else [dataset_iri(source)])
                who = "the curated KG" if source == "kg" else f"the import of {source}"
                claim, quads = _claim_quads(name, participation.value, ROLE, COORDINATOR, sources, who, graph,
                                            key=f"{participation.value} {source}")
                claims.append(claim)
                docs.update(sources)
                extra[first_other] += quads
        for participation in others:
            for source in said[participation]:
                if source != "kg":
                    demoted.add((participation, source))
            if roles[participation] <= {COORDINATOR} and any(s != "kg" for s in said[participation]):
                source = min((s for s in said[participation] if s != "kg"), key=rank.__getitem__)
                extra[source].append(Quad(participation, _ROLE_NODE, PARTNER, _graph(source)))
        whose = ("the curated KG's" if "kg" in said[kept]
                 else f"that of the first source, {said[kept][0]}")
        named = "; ".join(f"{_slug(p.value)} ({', '.join(said[p])})" for p in others)
        extra[first_other] += _contradiction_quads(
            name, project.value, f"coordinator of {_slug(project.value)}: sources disagree",
            f"Asserted coordinator: {_slug(kept.value)} ({whose}). Also named coordinator: {named}; that "
            f"participation stays, as a partner unless it has another role.", claims, docs, graph)
    return _rewritten(imported, (lambda source, q: q.predicate == _ROLE_NODE and q.object == COORDINATOR
                                 and (q.subject, source) in demoted) if demoted else None, extra)


def settle_date_order(curated: list, imported: dict[str, list[Quad]]) -> dict[str, list[Quad]]:
    """A project's asserted start and end can come from two sources (the URBACT table's start year, keep.eu's
    end day) and then be out of order, though each source's own pair is not. The end date that ends before the
    start is no longer asserted; both stay as ckg:Claims with their sources in a ckg:Contradiction."""
    from kg.importing.normalise import ends_before

    curated_docs = _documents(curated)
    dates: dict[NamedNode, dict[NamedNode, list]] = defaultdict(lambda: defaultdict(list))
    for source, quads in [("kg", curated), *imported.items()]:
        for q in quads:
            if q.predicate == START or q.predicate == END:
                dates[q.subject][q.predicate].append((q.object, source))
    drop: set[tuple] = set()
    extra: dict[str, list[Quad]] = defaultdict(list)
    for subject in sorted(dates, key=lambda s: s.value):
        starts, ends = dates[subject].get(START, []), dates[subject].get(END, [])
        for end, end_source in ends:
            if end_source == "kg":
                continue
            late = [(start, s) for start, s in starts
                    if s != end_source and isinstance(end, Literal) and isinstance(start, Literal)
                    and ends_before(end, start)]
            if not late:
                continue
            drop.add((subject, end, end_source))
            name = f"import-{_slug(subject.value)}-dates"
            graph = _graph(end_source)
            claims, docs = [], set()
            for value, predicate, source in [*((s, START, src) for s, src in late), (end, END, end_source)]:
                sources = [dataset_iri(source)] if source != "kg" else sorted(curated_docs[subject.value])
                # Named as resolve_conflicts names the claims of one property: the start a source gives
                # may already be a claim there.
                claim_name = f"import-{_slug(subject.value)}-{_short(predicate.value).lower()}"
                claim, quads = _claim_quads(claim_name, subject.value, predicate.value, value, sources,
                                            "the curated KG" if source == "kg" else f"the import of {source}", graph)
                claims.append(claim)
                docs.update(sources)
                extra[end_source] += quads
            starts_text = ", ".join(f"{v.value} ({s})" for v, s in late)
            extra[end_source] += _contradiction_quads(
                name, subject.value, f"dates of {_slug(subject.value)}: sources disagree",
                f"Asserted start: {starts_text}. The end date {end.value} ({end_source}) is before it, so it is "
                f"not asserted.", claims, docs, graph)
    return _rewritten(imported, lambda source, q: q.predicate == END and (q.subject, q.object, source) in drop, extra)

