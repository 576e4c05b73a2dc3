"""Reasoning over the store with SPARQL: the entailments the KG relies on, written into the inferred graph.

owlrl applies every rule to every triple, round after round, over an rdflib graph, and its time grows faster than
the data (2.6 s for 10k triples, 94 s for 100k). Here the rules are composed before any instance is read, so that
each conclusion comes from one SELECT over what the sources state:

  terms       the hierarchies, domains, ranges, inverses, characteristics and chains are read with two small
              SELECTs and closed in Python (rdfs5/rdfs11, scm-sco, scm-spo, scm-eqc1/2, scm-eqp1/2,
              scm-dom1/2, scm-rng1/2); what that says about the KG's own terms is written.
  properties  per property, one SELECT copies to it every triple that entails it through the closed hierarchy,
              inverses and symmetry at once (rdfs7/prp-spo1, prp-eqp1/2, prp-inv1/2, prp-symp), so no
              conclusion waits for another to be written.
  chains      per view of a chain (prp-spo2) or transitive property (prp-trp), one SELECT whose links are
              property paths over everything that entails them, other chains spelt out inside; repeated only
              while a result feeds a link (a second round only where chains build on chains).
  types       per class a domain or range gives (rdfs2/prp-dom, rdfs3/prp-rng), one SELECT over the subjects
              or objects of every property entailing it; then per class, one SELECT over the instances of its
              subclasses (rdfs9/cax-sco, cax-eqc1/2), which thereby sees those types too.

What is written follows kg.reasoning.reference.closure: only statements about the KG's own IRIs (under BASE), no reflexive
tautologies, no owl:Thing/rdfs:Resource, nothing any graph already states; and, unlike it, nothing whose object
is a blank node, which a remote store could only take as a new node (the KG mints none: GUIDE.md). Its filter of owlrl's re-spelt
literals does not apply: these rules copy terms, they never rebuild a literal. Each SELECT answers with the
resources only (the property or class concluded is its own), as the cost at a million triples is mostly
turning solutions into Python objects and writing them.

The store is anything with `select(text)` (solutions mapping a variable to a pyoxigraph term or None, over the
union of its graphs) and `add_quads(quads)`: KGStore, or a remote SPARQL server's. The queries are plain SPARQL
1.1 (no update) and no blank node ever goes into one (VALUES cannot hold them), so that both behave alike.

OWL RL rules left out (tests/test_reason_sparql.py compares with owlrl on the real data, the fixtures and
generated data): owl:sameAs and everything it carries (eq-*, prp-fp, prp-ifp, prp-key), class expressions
(cls-*: intersections, unions, restrictions, hasValue, oneOf), the tautologies scm-cls (C rdfs:subClassOf
owl:Thing, and the domains and ranges owl:Thing that follow) and rdf1 (p a rdf:Property), datatype rules. The
ontology uses none of them to derive anything a query reads; its two owl:FunctionalProperty give owl:sameAs only
where a participation has two projects or participants, which the shapes reject. Consistency under the
disjointness axioms (cax-dw, cax-adc) is checked after the types, as owlrl does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.namespaces import BASE, INFERRED_GRAPH
from kg.reasoning.reference import InconsistentKG, Inference

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"

TYPE = ox.NamedNode(RDF + "type")
SUB_CLASS = ox.NamedNode(RDFS + "subClassOf")
SUB_PROPERTY = ox.NamedNode(RDFS + "subPropertyOf")
DOMAIN = ox.NamedNode(RDFS + "domain")
RANGE = ox.NamedNode(RDFS + "range")
EQUIVALENT_CLASS = ox.NamedNode(OWL + "equivalentClass")
EQUIVALENT_PROPERTY = ox.NamedNode(OWL + "equivalentProperty")
INVERSE = ox.NamedNode(OWL + "inverseOf")
DISJOINT = ox.NamedNode(OWL + "disjointWith")
TRANSITIVE = ox.NamedNode(OWL + "TransitiveProperty")
SYMMETRIC = ox.NamedNode(OWL + "SymmetricProperty")
NIL = ox.NamedNode(RDF + "nil")

# As in kg.reasoning.reference: true of everything, so stating it says nothing.
TRIVIAL = {ox.NamedNode(OWL + "Thing"), ox.NamedNode(RDFS + "Resource"), ox.NamedNode(OWL + "NamedIndividual")}
REFLEXIVE = {ox.NamedNode(OWL + "sameAs"), SUB_CLASS, SUB_PROPERTY, EQUIVALENT_CLASS, EQUIVALENT_PROPERTY}

OURS = f'isIRI(?s) && STRSTARTS(STR(?s), "{BASE}")'
# A conclusion naming a blank node is not written: sent to a SPARQL server it would name a new, unrelated node.
NAMED_OBJECT = "!isBlank(?o)"
# What is stated already is taken out with MINUS over the one property or class concluded, not with FILTER NOT
# EXISTS: Oxigraph reads the right side of a MINUS once and looks solutions up in it, where NOT EXISTS is a query
# per solution; at a million triples that halves the type passes.

SCHEMA_QUERY = f"""SELECT ?s ?p ?o WHERE {{
  {{ VALUES ?p {{ {SUB_CLASS} {SUB_PROPERTY} {DOMAIN} {RANGE} {EQUIVALENT_CLASS} {EQUIVALENT_PROPERTY} {INVERSE} {DISJOINT} }}
    ?s ?p ?o }}
  UNION
  {{ VALUES ?o {{ {TRANSITIVE} {SYMMETRIC} }} ?s {TYPE} ?o BIND ({TYPE} AS ?p) }}
}}"""

# RDF lists are read whole in one query: blank node labels mean nothing across the result sets of a remote server.
LISTS_QUERY = f"""SELECT ?owner ?kind ?list ?cell ?first ?rest WHERE {{
  {{ ?owner <{OWL}propertyChainAxiom> ?list BIND ("chain" AS ?kind) }}
  UNION
  {{ ?owner {TYPE} <{OWL}AllDisjointClasses> ; <{OWL}members> ?list BIND ("disjoint" AS ?kind) }}
  ?list <{RDF}rest>* ?cell .
  ?cell <{RDF}first> ?first ; <{RDF}rest> ?rest .
}}"""


@dataclass(frozen=True)
class Summary:
    triples: int  # added to the graph
    by_rule: dict[str, int]  # terms, properties, chains, transitive, domains and ranges, superclasses
    rounds: int  # of chains and transitive properties; 1 when no result of one feeds another
    timings: dict[str, float] = field(default_factory=dict)  # seconds, by the same names


@dataclass
class Schema:
    """What the store says about classes and properties, closed under the hierarchies.

    A view of a property is what one of its triples entails, with its direction: (q, False) for `s q o` and
    (q, True) for `o q s`.
    """

    statements: set[tuple]  # the (s, p, o) the schema query found, to write only what is new
    super_classes: dict  # class -> itself and every superclass (rdfs11/scm-sco, with equivalence both ways)
    super_properties: dict  # property -> itself and every superproperty (rdfs5/scm-spo)
    stated_domains: dict  # property -> the domains stated for it
    stated_ranges: dict
    domains: dict  # property -> the domains of it and its superproperties, with every superclass (scm-dom1/2)
    ranges: dict
    views: dict  # property -> every view a triple of it entails, itself (p, False) included
    sources: dict  # property -> every (p, flipped) whose triples entail it: the views turned round
    chains: list  # (property, [link properties])
    transitive: set
    disjoint: list  # sets of pairwise disjoint classes


def materialise(
    store, graph: str = INFERRED_GRAPH, mode: Inference = Inference.OWLRL, vocabulary: str | None = None
) -> Summary:
    """Add to named graph `graph` of `store` what `mode`'s rules (OWL RL or RDFS, restricted as the module says)
    entail from the store's triples and no graph states yet. Raises InconsistentKG (after writing) when, in OWL
    RL, something is an instance of two disjoint classes.

    With `vocabulary` (a namespace, such as CKG), only the conclusions whose property, or for a type whose
    class, is in it are written (and the statements about terms): what the KG's own queries read, without the
    copies into the aligned vocabularies that make most of the closure. Everything is still derived from
    everything; only what is written is cut."""
    if mode is Inference.NONE:
        return Summary(0, {}, 0)
    owl = mode is Inference.OWLRL
    keep = _usable if vocabulary is None else lambda term: _usable(term) and term.value.startswith(vocabulary)
    target = ox.NamedNode(str(graph))
    timings, counts = defaultdict(float), defaultdict(int)

    def add(rule: str, quads: list) -> int:
        t = time.perf_counter()
        store.add_quads(quads)
        timings[rule] += time.perf_counter() - t
        counts[rule] += len(quads)
        return len(quads)

    def derive(rule: str, jobs: list[tuple[str, str]]) -> list[int]:
        """Add the conclusions of each job, (a triple pattern over ?s and ?o, a SELECT DISTINCT of ?s [?o]), all
        derived from the store as it was before any is added (the store evaluates them side by side); how many
        each added."""
        t = time.perf_counter()
        added = store.add_constructed([f"CONSTRUCT {{ {conclusion} }} WHERE {{ {{ {text} }} }}" for conclusion, text in jobs],
                                      str(graph)) if jobs else []
        timings[rule] += time.perf_counter() - t
        counts[rule] += sum(added)
        return added

    t = time.perf_counter()
    schema = read_schema(store, owl)
    timings["schema"] = time.perf_counter() - t
    add("terms", [ox.Quad(s, p, o, target) for s, p, o in term_statements(schema, owl)])

    # Every property's query reads the closed hierarchy at once: none needs another's conclusions.
    stated = _stated(store, schema.sources)
    jobs = [(f"?s {q} ?o", property_query(schema, q, check=q in stated)) for q in sorted(filter(keep, schema.sources), key=str)]
    derive("properties", [job for job in jobs if job[1]])

    # Chains and transitive properties: every view of each, repeated while a result feeds one of them (a round
    # reads what the rounds before it added).
    composed = [(prop, "chains", _chain_pattern(schema, prop, links)) for prop, links in schema.chains]
    composed += [(prop, "transitive", _transitive_pattern(schema, prop)) for prop in sorted(schema.transitive, key=str)]
    feeding = {p for prop, _, _ in composed for link in _links(schema, prop) for p, _ in schema.sources.get(link, ())}
    rounds = 0
    while composed:
        rounds += 1
        fed = False
        for rule in ("chains", "transitive"):
            jobs, conclusions = [], []
            for prop, kind, pattern in composed:
                if kind != rule:
                    continue
                for q, flipped in sorted(schema.views[prop], key=str):
                    if keep(q):
                        jobs.append((f"?s {q} ?o", _conclusion_query(pattern, q, flipped)))
                        conclusions.append(q)
                if not any(flipped for _, flipped in schema.views[prop]):
                    for r in _roots(schema, prop, False, keep):
                        jobs.append((f"?s {TYPE} {r}", _orphan_query(pattern, r)))
                        conclusions.append(None)
            fed |= any(n and q in feeding for q, n in zip(conclusions, derive(rule, jobs)))
        if not fed:
            break

    # Domains and ranges, then superclasses (which read the types the first added), each from the closed schema.
    derive("domains and ranges", [(f"?s {TYPE} {r}", root_type_query(r, as_subject, as_object))
                                  for r, (as_subject, as_object) in sorted(_root_properties(schema, keep).items(), key=lambda kv: str(kv[0]))])
    derive("superclasses", [(f"?s {TYPE} {t_}", superclass_query(t_, subclasses))
                            for t_, subclasses in sorted(_subclasses(schema).items(), key=lambda kv: str(kv[0])) if keep(t_)])

    if owl:
        t = time.perf_counter()
        found = inconsistencies(store, schema)
        timings["consistency"] = time.perf_counter() - t
        if found:
            raise InconsistentKG("the OWL RL closure is inconsistent: " + "; ".join(found))
    return Summary(sum(counts.values()), dict(counts), rounds, dict(timings))


def inconsistencies(store, schema: Schema, limit: int = 20) -> list[str]:
    """Things that are instances of two disjoint classes (cax-dw, cax-adc), as messages; run after the types
    are materialised, since most types that clash are inferred."""
    found = []
    for classes in schema.disjoint:
        named = [c for c in classes if _usable(c)]
        if len(named) < 2:
            continue
        text = f"""SELECT ?x (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes) WHERE {{
  VALUES ?c {{ {_terms(named)} }} ?x {TYPE} ?c
}} GROUP BY ?x HAVING (COUNT(DISTINCT ?c) > 1) ORDER BY ?x LIMIT {limit}"""
        for row in store.select(text):
            names = [f"<{c}>" for c in sorted(row["classes"].value.split())]
            # owlrl's wording, which users and tests already know
            found.append(f"Disjoint classes {', '.join(names[:-1])} and {names[-1]} have a common individual {row['x']}")
    return found[:limit]


#################################################################
# The schema, closed in Python
#################################################################


def read_schema(store, owl: bool = True) -> Schema:
    """The hierarchies and property axioms the store states, in any graph, closed. In RDFS mode only the
    RDFS vocabulary counts, as in owlrl's RDFS semantics."""
    statements = {(r["s"], r["p"], r["o"]) for r in store.select(SCHEMA_QUERY)}
    up_class, up_property = defaultdict(set), defaultdict(set)
    domain, range_, inverse = defaultdict(set), defaultdict(set), defaultdict(set)
    symmetric, transitive, disjoint = set(), set(), []
    for s, p, o in statements:
        if p == SUB_CLASS:
            up_class[s].add(o)
        elif p == SUB_PROPERTY:
            up_property[s].add(o)
        elif p == DOMAIN:
            domain[s].add(o)
        elif p == RANGE:
            range_[s].add(o)
        elif not owl:
            continue
        elif p == EQUIVALENT_CLASS:
            up_class[s].add(o)
            up_class[o].add(s)
        elif p == EQUIVALENT_PROPERTY:
            up_property[s].add(o)
            up_property[o].add(s)
        elif p == INVERSE:
            inverse[s].add(o)
            inverse[o].add(s)
        elif p == DISJOINT:
            disjoint.append({s, o})
        elif o == SYMMETRIC:
            symmetric.add(s)
        elif o == TRANSITIVE:
            transitive.add(s)

    chains = []
    if owl:
        for kind, owner, members in _read_lists(store):
            if kind == "chain" and len(members) > 1 and all(map(_usable, (owner, *members))):
                chains.append((owner, members))
            elif kind == "disjoint" and len(members) > 1:
                disjoint.append(set(members))

    super_classes = _up_closure(up_class)
    super_properties = _up_closure(up_property)
    properties = set(up_property) | {q for qs in up_property.values() for q in qs}
    properties |= set(domain) | set(range_) | set(inverse) | symmetric | transitive
    properties |= {p for owner, links in chains for p in (owner, *links)}

    def classes_of(axioms: dict, p) -> set:
        # scm-dom2/scm-rng2: a property has the domains of its superproperties; scm-dom1/scm-rng1: and theirs.
        stated = {c for q in super_properties.get(p, {p}) for c in axioms.get(q, ())} if owl else axioms.get(p, set())
        return {d for c in stated for d in super_classes.get(c, {c})}

    domains = {p: classes_of(domain, p) for p in properties}
    ranges = {p: classes_of(range_, p) for p in properties}
    views = {p: _views(p, super_properties, inverse, symmetric) for p in properties}
    sources = defaultdict(set)
    for p, seen in views.items():
        for q, flipped in seen:
            sources[q].add((p, flipped))
    return Schema(
        statements, super_classes, super_properties, dict(domain), dict(range_), domains, ranges, views,
        dict(sources), chains, transitive, disjoint,
    )


def _read_lists(store) -> list[tuple[str, object, list]]:
    cells, heads = {}, {}
    for r in store.select(LISTS_QUERY):
        cells[r["cell"]] = (r["first"], r["rest"])
        heads[(r["kind"].value, r["owner"], r["list"])] = None
    lists = []
    for kind, owner, head in heads:
        members, cell, seen = [], head, set()
        while cell in cells and cell not in seen:
            seen.add(cell)
            first, cell = cells[cell]
            members.append(first)
        if cell == NIL:  # a list cut short or cyclic means nothing
            lists.append((kind, owner, members))
    return lists


def _up_closure(edges: dict) -> dict:
    """Each node mapped to itself and everything reachable from it."""
    closed = {}
    for start in list(edges) + [o for os in list(edges.values()) for o in os]:
        if start in closed:
            continue
        seen, stack = {start}, [start]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        closed[start] = seen
    return closed


def _views(p, super_properties: dict, inverse: dict, symmetric: set) -> set[tuple]:
    """Everything `x p y` entails through subproperties, inverses and symmetry, each as (q, flipped)."""
    seen, stack = {(p, False)}, [(p, False)]
    while stack:
        q, flipped = stack.pop()
        following = [(up, flipped) for up in super_properties.get(q, ())]
        following += [(inv, not flipped) for inv in inverse.get(q, ())]
        if q in symmetric:
            following.append((q, not flipped))
        for view in following:
            if view not in seen:
                seen.add(view)
                stack.append(view)
    return seen


def term_statements(schema: Schema, owl: bool) -> Iterable[tuple]:
    """What the closed hierarchies say about the KG's own terms that the store does not state yet."""
    for super_of, sub, equivalent in (
        (schema.super_classes, SUB_CLASS, EQUIVALENT_CLASS),
        (schema.super_properties, SUB_PROPERTY, EQUIVALENT_PROPERTY),
    ):
        for term, supers in super_of.items():
            if not _ours(term):
                continue
            for up in supers:
                if up == term or not _usable(up):
                    continue
                yield from _new(schema, (term, sub, up))
                if owl and term in super_of.get(up, ()):  # scm-eqc2, scm-eqp2
                    yield from _new(schema, (term, equivalent, up))
    if owl:
        for axioms, predicate in ((schema.domains, DOMAIN), (schema.ranges, RANGE)):
            for p, classes in axioms.items():
                if _ours(p):
                    for c in classes:
                        if _usable(c):
                            yield from _new(schema, (p, predicate, c))


def _new(schema: Schema, triple: tuple) -> Iterable[tuple]:
    if triple not in schema.statements:
        yield triple


def _ours(term) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith(BASE)


def _usable(term) -> bool:
    """A term a conclusion may name: neither a blank node (no query can name one) nor a tautology."""
    return isinstance(term, ox.NamedNode) and term not in TRIVIAL


#################################################################
# The instance rules: one SELECT per property or class concluded, each answering with the resources only
#################################################################


def _stated(store, properties) -> set:
    """The properties some graph has a triple of: only for those can a conclusion be there already."""
    candidates = [p for p in properties if _usable(p)]
    if not candidates:
        return set()
    text = f"SELECT ?p WHERE {{ VALUES ?p {{ {_terms(candidates)} }} FILTER EXISTS {{ ?s ?p ?o }} }}"
    return {row[0] for row in store.select(text)}


def property_query(schema: Schema, q, check: bool = True) -> str | None:
    """`?s q ?o` for every triple of another property that entails it, in its direction (rdfs7, prp-inv1/2,
    prp-symp, prp-eqp1/2, all through the closed hierarchy at once)."""
    branches = [
        f"{{ ?o {p} ?s }}" if flipped else f"{{ ?s {p} ?o }}"
        for p, flipped in sorted(schema.sources.get(q, ()), key=str)
        if _usable(p) and (p, flipped) != (q, False)
    ]
    if not branches or not _usable(q):
        return None
    return f"""SELECT DISTINCT ?s ?o WHERE {{
  {" UNION ".join(branches)}
  FILTER ({OURS} && {NAMED_OBJECT}{" && ?s != ?o" if q in REFLEXIVE else ""})
  {f"MINUS {{ ?s {q} ?o }}" if check else ""}
}}"""


def _links(schema: Schema, prop) -> list:
    for owner, links in schema.chains:
        if owner == prop:
            return links
    return [prop]


def _path(schema: Schema, link, expanding: frozenset = frozenset()) -> str:
    """A property path matching every pair the link property holds between: the triples that entail it, and
    the chains and transitive properties that entail it spelt out as paths, so that a result of theirs counts
    even where it is never written (its subject is not ours). A property inside its own definition is left to
    the next round."""
    steps = {("^" if flipped else "") + str(p) for p, flipped in schema.sources.get(link, ()) if _usable(p)}
    for prop, links in schema.chains:
        if prop not in expanding:
            inner = expanding | {prop}
            path = "/".join(_path(schema, step, inner) for step in links)
            steps |= {("^" if flipped else "") + f"({path})" for q, flipped in schema.views[prop] if q == link}
    for prop in schema.transitive - expanding:
        path = _path(schema, prop, expanding | {prop}) + "+"
        steps |= {("^" if flipped else "") + f"({path})" for q, flipped in schema.views[prop] if q == link}
    return "(" + "|".join(sorted(steps)) + ")"


def _chain_pattern(schema: Schema, prop, links: list) -> str:
    """A graph pattern binding ?x and ?y to every pair the chain property holds between (prp-spo2)."""
    nodes = ["?x", *(f"?m{i}" for i in range(1, len(links))), "?y"]
    inside = frozenset({prop})
    return " ".join(f"{nodes[i]} {_path(schema, link, inside)} {nodes[i + 1]} ." for i, link in enumerate(links))


def _transitive_pattern(schema: Schema, prop) -> str:
    """Every pair the transitive property holds between (prp-trp). The starts are bound first: Virtuoso
    evaluates no `+` path with both ends open."""
    path = _path(schema, prop, frozenset({prop}))
    return f"{{ SELECT DISTINCT ?x WHERE {{ ?x {path} ?any }} }} ?x {path}+ ?y ."


def _conclusion_query(pattern: str, q, flipped: bool) -> str:
    """`?s q ?o` for each pair of the pattern, the pair turned round when the view is flipped."""
    s, o = ("?y", "?x") if flipped else ("?x", "?y")
    return f"""SELECT DISTINCT ?s ?o WHERE {{
  {{ SELECT DISTINCT ({s} AS ?s) ({o} AS ?o) WHERE {{ {pattern} }} }}
  FILTER ({OURS} && {NAMED_OBJECT}{" && ?s != ?o" if q in REFLEXIVE else ""})
  MINUS {{ ?s {q} ?o }}
}}"""


def _orphan_query(pattern: str, r) -> str:
    """The objects, as instances of `r`, of the pairs whose subject is not ours, for a property no view of
    which puts the object first: such a pair is written nowhere, so the types pass could not see it."""
    return f"""SELECT DISTINCT ?s WHERE {{
  {{ SELECT DISTINCT ?x (?y AS ?s) WHERE {{ {pattern} }} }}
  FILTER ({OURS} && !(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}")))
  MINUS {{ ?s {TYPE} {r} }}
}}"""


def _roots(schema: Schema, p, subject: bool, keep=_usable) -> set:
    """The classes a triple of `p` gives its subject (or object) as stated, before the superclasses, which
    the superclass pass adds. A class that is not written (a blank node, or outside the vocabulary) is
    replaced by those of its superclasses that are: the superclass pass reads only what is written."""
    found = set()
    for q, flipped in schema.views[p]:
        from_domain = subject != flipped
        found |= (schema.stated_domains if from_domain else schema.stated_ranges).get(q, set())
    kept = set()
    for c in found:
        kept |= {c} if keep(c) else {d for d in schema.super_classes.get(c, ()) if keep(d)}
    return kept


def _root_properties(schema: Schema, keep=_usable) -> dict:
    """class -> (properties whose subjects it types, properties whose objects it types)."""
    roots = defaultdict(lambda: (set(), set()))
    for p in schema.views:
        if _usable(p):
            for subject in (True, False):
                for r in _roots(schema, p, subject, keep):
                    roots[r][0 if subject else 1].add(p)
    return roots


def root_type_query(r, as_subject: set, as_object: set) -> str:
    """The resources that a property's domain or range makes instances of `r` (rdfs2/prp-dom, rdfs3/prp-rng)."""
    branches = [f"{{ ?s {p} ?any }}" for p in sorted(as_subject, key=str)]
    branches += [f"{{ ?any {p} ?s }}" for p in sorted(as_object, key=str)]
    return f"""SELECT DISTINCT ?s WHERE {{
  {{ {" UNION ".join(branches)} }}
  MINUS {{ ?s {TYPE} {r} }}
  FILTER ({OURS})
}}"""


def _subclasses(schema: Schema) -> dict:
    """class -> its strict subclasses, for the classes that have some and that a query can name."""
    below = defaultdict(set)
    for c, supers in schema.super_classes.items():
        if _usable(c):
            for up in supers:
                if up != c and _usable(up):
                    below[up].add(c)
    return below


def superclass_query(t, subclasses: set) -> str:
    """The instances of the subclasses of `t` that are not yet instances of it (rdfs9/cax-sco, cax-eqc1/2)."""
    return f"""SELECT DISTINCT ?s WHERE {{
  VALUES ?c {{ {_terms(subclasses)} }}
  ?s {TYPE} ?c .
  MINUS {{ ?s {TYPE} {t} }}
  FILTER ({OURS})
}}"""


def _terms(terms) -> str:
    return " ".join(sorted(str(t) for t in terms))
