"""kg.reasoning.rules: what its SPARQL rules write equals owlrl's closure restricted to those rules.

For each data set and mode, with M what materialise wrote and O what kg.reasoning.reference.closure keeps of owlrl's:
  (a) M is within O: no rule concludes what owlrl does not;
  (b) nothing in O that one of the rules derives, in one step, from the asserted triples and M is missing
      from M (so M is closed under the rules wherever owlrl agrees a conclusion holds);
and what O has beyond M (the rules left out) is of the kinds the module's docstring names and touches nothing
the KG's queries read.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg.build import load_sources
from kg.config import Paths
from kg.sources.load import discover, load_files, union
from kg.namespaces import BASE, CKG, INFERRED_GRAPH
from kg.reasoning.reference import TRIVIAL_TYPES, InconsistentKG, Inference, closure
from kg.reasoning.rules import materialise
from kg.store.embedded import KGStore

from .conftest import FIXTURES

MODES = [Inference.RDFS, Inference.OWLRL]
TOY = "https://w3id.org/cohesion-kg/id/test/"


#################################################################
# The rules of kg.reasoning.rules, applied one step at a time, naively, on an rdflib graph
#################################################################


class Rules:
    """The rules, read naively off `premises`: an independent spelling of them, to classify owlrl's conclusions."""

    def __init__(self, premises: Graph, owl: bool):
        self.g, self.owl = premises, owl

    def up_classes(self, c) -> set:
        found = set(self.g.objects(c, RDFS.subClassOf))
        if self.owl:
            found |= set(self.g.objects(c, OWL.equivalentClass)) | set(self.g.subjects(OWL.equivalentClass, c))
        return found

    def up_properties(self, p) -> set:
        found = set(self.g.objects(p, RDFS.subPropertyOf))
        if self.owl:
            found |= set(self.g.objects(p, OWL.equivalentProperty)) | set(self.g.subjects(OWL.equivalentProperty, p))
        return found

    def derives(self, triple) -> str | None:
        """The name of a rule that concludes `triple` from the premises in one step; None if none does."""
        s, p, o = triple
        g = self.g
        if p == RDF.type:
            if any(o in self.up_classes(c) for c in g.objects(s, RDF.type)):
                return "cax-sco"
            if any((q, RDFS.domain, o) in g for q in g.predicates(s, None)):
                return "prp-dom"
            if any((q, RDFS.range, o) in g for q in g.predicates(None, s)):
                return "prp-rng"
            return None
        if p == RDFS.subClassOf:
            if any(o in self.up_classes(x) for x in self.up_classes(s)):
                return "scm-sco"
            if self.owl and ((s, OWL.equivalentClass, o) in g or (o, OWL.equivalentClass, s) in g):
                return "scm-eqc1"
        if p == RDFS.subPropertyOf:
            if any(o in self.up_properties(x) for x in self.up_properties(s)):
                return "scm-spo"
            if self.owl and ((s, OWL.equivalentProperty, o) in g or (o, OWL.equivalentProperty, s) in g):
                return "scm-eqp1"
        if self.owl and p == OWL.equivalentClass and (s, RDFS.subClassOf, o) in g and (o, RDFS.subClassOf, s) in g:
            return "scm-eqc2"
        if self.owl and p == OWL.equivalentProperty and (s, RDFS.subPropertyOf, o) in g and (o, RDFS.subPropertyOf, s) in g:
            return "scm-eqp2"
        if self.owl and p in (RDFS.domain, RDFS.range):
            if any((c, RDFS.subClassOf, o) in g for c in g.objects(s, p)):
                return "scm-dom1" if p == RDFS.domain else "scm-rng1"
            if any((q, p, o) in g for q in g.objects(s, RDFS.subPropertyOf)):
                return "scm-dom2" if p == RDFS.domain else "scm-rng2"
        if any(p in self.up_properties(q) for q in g.predicates(s, o)):
            return "prp-spo1"
        if not self.owl:
            return None
        for q in g.predicates(o, s):
            if (q, OWL.inverseOf, p) in g or (p, OWL.inverseOf, q) in g:
                return "prp-inv"
            if q == p and (p, RDF.type, OWL.SymmetricProperty) in g:
                return "prp-symp"
        if (p, RDF.type, OWL.TransitiveProperty) in g and any((x, p, o) in g for x in g.objects(s, p)):
            return "prp-trp"
        for chain in g.objects(p, OWL.propertyChainAxiom):
            reached = {s}
            for link in Collection(g, chain):
                reached = {y for x in reached for y in g.objects(x, link)}
            if o in reached:
                return "prp-spo2"
        return None


#################################################################
# Running both reasoners on the same data
#################################################################


class Comparison:
    def __init__(self, dataset: Dataset, mode: Inference):
        store = KGStore.in_memory()
        store.add_dataset(dataset)
        # Both sides read the triples from the store: it renames blank nodes as it loads them.
        self.asserted = triples_of(store)
        self.summary = materialise(store, mode=mode)
        self.mine = triples_of(store, ox.NamedNode(str(INFERRED_GRAPH)))
        self.again = materialise(store, mode=mode)
        self.owlrl = closure(self.asserted, mode)
        premises = Graph()
        for t in self.asserted:
            premises.add(t)
        for t in self.mine:
            premises.add(t)
        self.rules = Rules(premises, mode is Inference.OWLRL)

    def unsound(self) -> set:
        return set(self.mine) - set(self.owlrl)

    def missing(self) -> list[tuple[str, tuple]]:
        found = []
        for t in set(self.owlrl) - set(self.mine):
            if isinstance(t[2], BNode):  # never written, by design
                continue
            rule = self.rules.derives(t)
            if rule:
                found.append((rule, t))
        return sorted(found)

    def left_out(self) -> dict[str, list]:
        """What owlrl derives beyond these rules, by kind."""
        kinds: dict[str, list] = {}
        for t in sorted(set(self.owlrl) - set(self.mine)):
            kinds.setdefault(kind_of(t, self.asserted), []).append(t)
        return kinds


def triples_of(store: KGStore, graph=None) -> Graph:
    """The triples of one graph of the store, or of all its graphs, as rdflib terms."""
    found = Graph()
    for q in store.store.quads_for_pattern(None, None, None, graph):
        if graph is not None or q.graph_name != ox.DefaultGraph():
            found.add((_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)))
    return found


def _rdflib(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == str(XSD.string) else URIRef(datatype))


def kind_of(triple, asserted: Graph) -> str:
    """The kind of a triple owlrl derives and kg.reasoning.rules does not, as named in the module's docstring."""
    s, p, o = triple
    if o in TRIVIAL_TYPES:
        return f"tautology: {_n3(p)} owl:Thing"
    if p == RDF.type and o == RDF.Property:
        return "tautology: rdf:type rdf:Property (rdf1)"
    if p == OWL.sameAs:
        return "owl:sameAs (prp-fp, eq-*)"
    if isinstance(o, BNode):
        return "a blank node as object"
    if isinstance(o, Literal) and any(
        str(v) == str(o) and v != o and (q, RDFS.subPropertyOf, p) in asserted for q, v in asserted.predicate_objects(s)
    ):
        return f"owlrl literal artefact: {_n3(p)} re-spelling the value of a subproperty in another language or datatype"
    return f"unexplained: {_n3(p)}"


def _n3(term) -> str:
    for prefix, ns in (("rdf:", str(RDF)), ("rdfs:", str(RDFS)), ("owl:", str(OWL)), ("ckg:", str(CKG)), ("schema:", "https://schema.org/")):
        if str(term).startswith(ns):
            return prefix + str(term)[len(ns):]
    return term.n3()


def show(triples) -> str:
    return "\n".join("  " + " ".join(_n3(x) for x in t) for t in sorted(triples)[:60]) + (
        f"\n  ... and {len(triples) - 60} more" if len(triples) > 60 else ""
    )


def check(comparison: Comparison, allowed_left_out: set[str]):
    unsound = comparison.unsound()
    assert not unsound, f"kg.reasoning.rules concludes {len(unsound)} triples owlrl does not:\n{show(unsound)}"
    missing = comparison.missing()
    assert not missing, f"{len(missing)} triples owlrl concludes and the rules derive are missing:\n" + "\n".join(
        f"  {rule}: {' '.join(_n3(x) for x in t)}" for rule, t in missing[:60]
    )
    asserted_too = set(comparison.mine) & set(comparison.asserted)
    assert not asserted_too, f"written although asserted:\n{show(asserted_too)}"
    assert all(str(s).startswith(BASE) and isinstance(s, URIRef) for s in comparison.mine.subjects())
    assert not any(o in TRIVIAL_TYPES for o in comparison.mine.objects(None, RDF.type))
    assert comparison.again.triples == 0, "a second run added triples: the first stopped short of the fixpoint"
    kinds = comparison.left_out()
    unexpected = {k: v for k, v in kinds.items() if k not in allowed_left_out}
    assert not unexpected, "owlrl derives, beyond the rules, triples of unexpected kinds:\n" + "\n".join(
        f"{k}:\n{show(v)}" for k, v in unexpected.items()
    )
    return kinds


#################################################################
# Data sets
#################################################################


@pytest.fixture(scope="module")
def real():
    return load_sources(Paths()).dataset


TAUTOLOGIES = {f"tautology: {p} owl:Thing" for p in ("rdfs:subClassOf", "rdfs:domain", "rdfs:range")}
# What owlrl derives beyond the rules, by mode: nothing else may turn up.
LEFT_OUT = {
    Inference.OWLRL: TAUTOLOGIES | {"a blank node as object"},
    Inference.RDFS: {
        "a blank node as object",
        "tautology: rdf:type rdf:Property (rdf1)",
        "owlrl literal artefact: schema:alternateName re-spelling the value of a subproperty in another language or datatype",
    },
}


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_on_the_real_data_the_rules_agree_with_owlrl(real, mode):
    comparison = Comparison(real, mode)
    kinds = check(comparison, LEFT_OUT[mode])
    assert comparison.summary.triples > 2000
    # Nothing left out names a term of ours: what the queries read (ckg: types and properties) is all there.
    for kind, triples in kinds.items():
        ours = [t for t in triples if str(t[1]).startswith(str(CKG)) or (t[1] == RDF.type and str(t[2]).startswith(str(CKG)))]
        assert not ours, f"{kind}:\n{show(ours)}"


# The fixtures whose data is inconsistent under OWL RL once the ontology sees it (each breaks the disjointness
# of two classes through a domain or range), and the one that is meant to be.
INCONSISTENT = {
    "invalid/Contradiction-claim.ttl", "invalid/Event-location.ttl", "invalid/Municipality-governs.ttl",
    "invalid/Organisation-basedIn.ttl", "invalid/Output-project.ttl", "invalid/Participation-participant.ttl",
    "invalid/Project-participation.ttl", "inconsistent/city-is-municipality.ttl",
}


def fixture_files(consistent: bool | None = None) -> list[Path]:
    """Every fixture that is RDF that parses; only the consistent ones, or only the others, when asked."""
    found = discover([FIXTURES / f for f in ("invalid", "invalid-checks", "network", "inconsistent")])
    if consistent is None:
        return found
    return [f for f in found if (f.relative_to(FIXTURES).as_posix() not in INCONSISTENT) == consistent]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_on_every_fixture_the_rules_agree_with_owlrl(paths, mode):
    # Without the real data (its own test has it): owlrl's time grows faster than the data.
    dataset = Dataset()
    load_files(dataset, [paths.ontology, *fixture_files(True if mode is Inference.OWLRL else None)])
    check(Comparison(dataset, mode), LEFT_OUT[mode])


def test_on_the_inconsistent_fixtures_both_find_the_same_individuals_in_disjoint_classes(paths):
    dataset = Dataset()
    load_files(dataset, [paths.ontology, paths.data, *fixture_files(False)])
    with pytest.raises(InconsistentKG) as theirs:
        closure(union(dataset), Inference.OWLRL)
    store = KGStore.in_memory()
    store.add_dataset(dataset)
    with pytest.raises(InconsistentKG, match="Disjoint classes .* have a common individual") as ours:
        materialise(store, mode=Inference.OWLRL)
    individual = re.compile(r"common individual <?([^ >;]+)")
    found = set(individual.findall(str(ours.value)))
    assert found == set(individual.findall(str(theirs.value)))
    assert len(found) == len(INCONSISTENT)


def generated(n: int, seed: int = 3) -> str:
    """Projects under the real ontology, stated in every way the rules must fill in: one side of each inverse
    only, types left to domains and ranges, participations as blank nodes, an external partner."""
    rnd = random.Random(seed)
    orgs = ["Municipality", "PublicAgency", "Foundation", "University", "Company", "Association"]
    lines = []
    for i in range(n):
        p = f"project:g{i}"
        if i % 2:
            lines.append(f"{p} a ckg:Project .")
        lines.append(f'{p} ckg:acronym "G{i}" ; ckg:nativeName "G{i}"@it ; ckg:fundedBy programme:level{i % 3} .')
        for k in range(3):
            part, org = f"participation:g{i}-{k}", f"organisation:g{(i * 3 + k) % (n + 2)}"
            way = rnd.randrange(4)
            if way == 0:
                lines.append(f"{p} ckg:hasParticipation {part} .")
            elif way == 1:
                lines.append(f"{part} ckg:inProject {p} .")
            elif way == 2:
                lines.append(f"{p} ckg:hasParticipation {part} . {part} ckg:inProject {p} ; a ckg:Participation .")
            else:
                part = f"_:b{i}x{k}"
                lines.append(f"{p} ckg:hasParticipation {part} .")
            lines.append(f"{part} ckg:participant {org} ; ckg:role role:partner .")
            if rnd.random() < 0.5:
                lines.append(f"{org} a ckg:{rnd.choice(orgs)} ; ckg:basedIn city:c{i % 5} .")
        lines.append(f"event:g{i} ckg:eventOf {p} ; ckg:location city:c{i % 5} ." if i % 2 else f"{p} ckg:hasEvent event:g{i} .")
        lines.append(f"{p} ckg:hasOutput output:g{i} ." if i % 3 else f"output:g{i} ckg:outputOf {p} .")
        if i % 4 == 0:
            lines.append(f"<http://example.org/partner/{i}> ckg:partnerIn {p} .")
    lines.append("programme:level2 ckg:partOfProgramme programme:level1 . programme:level1 ckg:partOfProgramme programme:level0 .")
    lines.append("programme:level0 a ckg:Fund .")
    return PREFIXES + "\n".join(lines)


PREFIXES = "".join(
    f"@prefix {k}: <{v}> .\n"
    for k, v in {
        "ckg": str(CKG), "rdfs": str(RDFS), "owl": str(OWL), "t": TOY,
        **{kind: f"{BASE}id/{kind}/" for kind in ("project", "participation", "organisation", "role", "programme", "city", "event", "output")},
    }.items()
)


def dataset_of(paths, *texts: str) -> Dataset:
    dataset = Dataset()
    load_files(dataset, [paths.ontology])
    for n, text in enumerate(texts):
        dataset.graph(URIRef(f"{BASE}graph/test/{n}")).parse(data=text, format="turtle")
    return dataset


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_on_generated_data_the_rules_agree_with_owlrl(paths, mode):
    comparison = Comparison(dataset_of(paths, generated(30)), mode)
    check(comparison, LEFT_OUT[mode])
    if mode is Inference.OWLRL:
        partners = set(comparison.mine.subject_objects(CKG.hasPartner))
        assert (URIRef(f"{BASE}id/project/g0"), URIRef("http://example.org/partner/0")) in partners
        assert any(isinstance(o, URIRef) for _, o in partners)


def test_on_synthetic_data_the_rules_agree_with_owlrl(paths):
    from kg.synth import generator as synth
    chunks: list[str] = []
    synth.generate(chunks.append, synth.projects_for(2500), seed=5)
    dataset = dataset_of(paths)
    dataset.parse(data="".join(chunks), format="nquads")
    comparison = Comparison(dataset, Inference.OWLRL)
    check(comparison, LEFT_OUT[Inference.OWLRL])
    assert comparison.summary.by_rule["chains"] > 0


# Rules our ontology does not use yet, on an ontology of their own: transitivity through an external node,
# symmetry, equivalent classes and properties, a chain over a chain's result, inverses of subproperties.
TOY_ONTOLOGY = """
t:ancestorOf a owl:TransitiveProperty ; owl:inverseOf t:descendantOf .
t:parentOf rdfs:subPropertyOf t:ancestorOf ; owl:inverseOf t:childOf ; rdfs:domain t:Parent .
t:grandparentOf owl:propertyChainAxiom ( t:parentOf t:parentOf ) .
t:greatGrandparentOf owl:propertyChainAxiom ( t:grandparentOf t:parentOf ) ; rdfs:range t:Descendant .
t:uncleOf owl:propertyChainAxiom ( t:siblingOf t:parentOf ) .
t:siblingOf a owl:SymmetricProperty ; rdfs:subPropertyOf t:relativeOf .
t:knows a owl:SymmetricProperty ; rdfs:domain t:Person .
t:friendOf owl:equivalentProperty t:knows .
t:Person owl:equivalentClass t:Human .
t:Human rdfs:subClassOf t:Agent .
t:Parent rdfs:subClassOf t:Person .
t:headOf rdfs:subPropertyOf t:worksFor . t:worksFor rdfs:range t:Organisation ; rdfs:domain t:Employee .
t:Employee rdfs:subClassOf t:Person .
t:hires rdfs:range <http://example.org/Worker> . <http://example.org/Worker> rdfs:subClassOf t:Person .
t:Agent rdfs:subClassOf <http://example.org/Being> . t:relativeOf rdfs:subPropertyOf <http://example.org/related> .
"""
TOY_DATA = """
<http://example.org/adam> t:parentOf t:a .
t:a t:parentOf t:b . t:c t:childOf t:b . t:d t:childOf t:c .
t:b t:siblingOf t:e . t:f t:childOf t:e .
t:x t:friendOf t:y . t:y t:headOf t:org . t:z a t:Human . t:org t:hires t:w .
"""


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_on_rules_the_ontology_does_not_use_yet_the_rules_agree_with_owlrl(paths, mode):
    comparison = Comparison(dataset_of(paths, PREFIXES + TOY_ONTOLOGY + TOY_DATA), mode)
    check(comparison, LEFT_OUT[mode])
    t = lambda name: URIRef(TOY + name)
    expected = {(t("a"), t("greatGrandparentOf"), t("d")), (t("b"), t("uncleOf"), t("f")), (t("d"), t("descendantOf"), URIRef("http://example.org/adam"))}
    expected |= {(t("y"), t("knows"), t("x")), (t("x"), RDF.type, t("Agent")), (t("org"), RDF.type, t("Organisation"))}
    expected |= {(t("w"), RDF.type, t("Agent"))}
    if mode is Inference.OWLRL:
        assert expected <= set(comparison.mine), show(expected - set(comparison.mine))
        assert comparison.summary.rounds == 2  # grand-parents feed a chain: a second round makes sure of the fixpoint
    else:
        assert not expected & set(comparison.mine) - {(t("org"), RDF.type, t("Organisation")), (t("w"), RDF.type, t("Agent"))}


def test_rdfs_knows_no_disjointness(paths):
    dataset = Dataset()
    load_files(dataset, [paths.ontology, FIXTURES / "inconsistent"])
    store = KGStore.in_memory()
    store.add_dataset(dataset)
    assert materialise(store, mode=Inference.RDFS).triples > 0


def test_what_the_queries_read_about_types_and_links_is_materialised(real):
    store = KGStore.in_memory()
    store.add_dataset(real)
    materialise(store)
    ask = lambda text: store.query(text)
    assert ask("ASK { organisation:city-of-turin a ckg:Organisation }")
    assert ask("ASK { project:conet ckg:hasPartner organisation:city-of-berlin . organisation:city-of-berlin ckg:partnerIn project:conet }")
    assert ask("ASK { ?level a ckg:FundingProgramme FILTER NOT EXISTS { GRAPH ?g { ?level a ckg:FundingProgramme } FILTER (?g != <%s>) } }" % INFERRED_GRAPH)


TERM_PREDICATES = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass, OWL.equivalentProperty}


@pytest.mark.parametrize("data, vocabulary", [("generated", str(CKG)), ("toy", TOY)])
def test_with_a_vocabulary_what_is_written_is_the_full_closure_cut_to_it(paths, data, vocabulary):
    text = generated(30) if data == "generated" else PREFIXES + TOY_ONTOLOGY + TOY_DATA
    dataset = dataset_of(paths, text)
    found = {}
    for cut in (None, vocabulary):
        store = KGStore.in_memory()
        store.add_dataset(dataset)
        materialise(store, vocabulary=cut)
        # Blank nodes are renamed by each store's loading; none should be written when cut.
        found[cut] = {tuple(BNode("b") if isinstance(x, BNode) else x for x in t)
                      for t in triples_of(store, ox.NamedNode(str(INFERRED_GRAPH)))}

    def kept(t):
        s, p, o = t
        return p in TERM_PREDICATES or str(o if p == RDF.type else p).startswith(vocabulary)

    expected = {t for t in found[None] if kept(t)}
    assert found[vocabulary] == expected, (
        f"written beyond the cut:\n{show(found[vocabulary] - expected)}\nmissing:\n{show(expected - found[vocabulary])}"
    )
    assert len(expected) < len(found[None])


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_over_a_sparql_server_the_same_triples_are_written(paths, tmp_path, kind):
    from kg.store.remote import RemoteStore

    from .servers import oxigraph_server, virtuoso_server

    local = KGStore.in_memory()
    local.add_dataset(dataset_of(paths, generated(30), PREFIXES + TOY_ONTOLOGY + TOY_DATA))
    with (oxigraph_server if kind == "oxigraph" else virtuoso_server)(tmp_path) as server:
        remote = RemoteStore(server.url, kind=kind, user=server.user, password=server.password)
        for g in local.named_graphs():
            remote.load_graph(g, local.store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        theirs, ours = materialise(remote), materialise(local)
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"
        written = lambda store: {tuple("_:b" if isinstance(x, ox.BlankNode) else str(x) for x in row) for row in store.query(query)}
        assert written(remote) == written(local)
        assert theirs.by_rule == ours.by_rule and theirs.rounds == ours.rounds
        assert materialise(remote).triples == 0
