"""Where results point (issue 14, defects 4 and 5): at the line of the statement whose subject is the node, never
at an object-list line that happens to start with the node's name; and each file read once however many results
point into it, in both engines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef

from kg.build import check, check_store, load_sources
from kg.config import ROOT, Paths
from kg.reasoning.reference import Inference
from kg.sources import positions
from kg.sources.load import parse_graph
from kg.store.embedded import KGStore
from kg.validation.placement import Origin, StoreOrigin

FIXTURES = ROOT / "tests" / "fixtures"
PATHS = Paths(imported=ROOT / "tests" / "fixtures" / "literals" / "no-imports")  # the curated data alone as context
ID = "https://w3id.org/cohesion-kg/id/"

OBJECT_LIST_FIRST = """\
@prefix ckg: <https://w3id.org/cohesion-kg/ontology/> .
@prefix project: <https://w3id.org/cohesion-kg/id/project/> .
@prefix organisation: <https://w3id.org/cohesion-kg/id/organisation/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

organisation:zz-holder rdfs:seeAlso
    project:zz-broken ,
    project:zz-other .

project:zz-broken a ckg:Project ;
    rdfs:label "Broken"@en .
"""


@pytest.fixture(scope="module")
def shapes():
    return parse_graph([ROOT / "shapes"])


@pytest.mark.parametrize("engine", ["rdflib", "store"])
def test_a_result_points_at_the_subjects_statement_not_an_object_list_line(tmp_path, shapes, engine):
    data = tmp_path / "object-list.ttl"
    data.write_text(OBJECT_LIST_FIRST)
    paths = PATHS
    if engine == "rdflib":
        _, report, _ = check(load_sources(paths, data=[data], context=False), shapes, Inference.NONE)
    else:
        _, _, report, _ = check_store(KGStore.in_memory(), [paths.ontology, data], shapes, Inference.NONE)
    about = {(r.focus, r.line) for r in report.results if r.focus == f"{ID}project/zz-broken"}
    assert about == {(f"{ID}project/zz-broken", 10)}
    dangling = [r for r in report.results if r.component == "dangling-iri"]
    assert dangling and {r.line for r in dangling} == {6}  # the holder's statement, where the link is


def test_subjects_are_indexed_where_their_statements_begin(tmp_path):
    trig = tmp_path / "mixed.trig"
    trig.write_text(
        '@base <https://example.org/base/> .\n'                     # 1
        'PREFIX ex: <https://example.org/>\n'                       # 2
        '# ex:c ex:p ex:o . (a comment, not a statement)\n'         # 3
        'ex:a ex:p ex:b ,\n'                                        # 4
        '    ex:c ;\n'                                              # 5
        '  ex:q [ ex:r ex:d ] , ( ex:e ex:f ) .\n'                  # 6
        'GRAPH ex:g {\n'                                            # 7
        '  ex:b ex:text """a long string\n'                         # 8
        'ex:d on a line of its own""" .\n'                          # 9
        '  <relative> a ex:Thing }\n'                               # 10
        'ex:h { ex:c ex:p "x"@en . }\n'                             # 11
        '[ ex:p ex:q ] ex:r ex:s .\n'                               # 12
        'ex:dotted.name\\-x ex:p 1.5, 2 .\n'                        # 13
    )
    index = positions.index(trig)
    assert index.subjects == {
        "https://example.org/a": 4,
        "https://example.org/b": 8,
        "https://example.org/base/relative": 10,
        "https://example.org/c": 11,
        "https://example.org/dotted.name-x": 13,
    }
    parsed = Dataset()
    parsed.parse(trig, format="trig", publicID=trig.resolve().as_uri())
    assert {str(s) for s, _, _, _ in parsed.quads((None, None, None, None)) if isinstance(s, URIRef)} == set(index.subjects)


def test_n_triples_are_indexed_by_their_first_term(tmp_path):
    nt = tmp_path / "lines.nq"
    nt.write_text(
        '<https://example.org/a> <https://example.org/p> "x" .\n'
        '<https://example.org/a> <https://example.org/p> <https://example.org/b> <https://example.org/g> .\n'
        '_:b0 <https://example.org/p> <https://example.org/c> .\n'
        '\n'
        '  <https://example.org/b> <https://example.org/p> "\\u00e9" .\n'
        '<https://example.org/\\u00e9> <https://example.org/p> <https://example.org/a> .\n'
    )
    assert positions.index(nt).subjects == {"https://example.org/a": 1, "https://example.org/b": 5, "https://example.org/é": 6}


def test_each_file_is_indexed_once_per_version(tmp_path):
    f = tmp_path / "a.ttl"
    f.write_text("@prefix ex: <https://example.org/> .\nex:a ex:p ex:b .\n")
    first = positions.index(f)
    assert positions.index(f) is first
    f.write_text("@prefix ex: <https://example.org/> .\n\nex:a ex:p ex:b .\n")
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert positions.index(f).line("https://example.org/a") == 3


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """Twenty generated projects (about 2,700 triples) in N-Quads, as `kg synth` writes them."""
    out = tmp_path_factory.mktemp("synth") / "synth.nq"
    done = subprocess.run([sys.executable, "-m", "kg.cli", "synth", "--projects", "20", "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def test_placing_many_results_reads_each_file_once(generated):
    """The old placement rescanned the whole file with regular expressions for every result: quadratic."""
    data = generated
    sources = load_sources(PATHS, data=[data], context=False)
    graphs = {f.graph: f.path for f in sources.files}
    for f in sources.files:
        for declared in f.declared:
            graphs.setdefault(declared, f.path)
    origin = Origin(sources.dataset, graphs)
    subjects = {s for s in sources.union().subjects() if isinstance(s, URIRef) and str(s).startswith(ID)}
    reads = []
    real = Path.read_bytes

    def counting(self):
        reads.append(self)
        return real(self)

    positions.forget()
    try:
        Path.read_bytes = counting
        placed = [origin(s) for s in sorted(subjects)]
    finally:
        Path.read_bytes = real
    assert len(subjects) > 300 and all(line > 0 for _, line in placed)
    assert reads.count(data.resolve()) == 1


def test_the_store_origin_asks_in_batches(generated):
    data = generated
    kg_store = KGStore.in_memory()
    from kg.sources.load import load_into_store

    loaded = load_into_store(kg_store, [data])
    graphs = {g: f.path for f in loaded for g in (f.graph, *f.declared)}

    class Counting:
        def __init__(self):
            self.queries = 0

        def select(self, query):
            self.queries += 1
            return kg_store.select(query)

    counting = Counting()
    origin = StoreOrigin(counting, graphs)
    subjects = sorted({URIRef(q.subject.value) for q in kg_store.store.quads_for_pattern(None, None, None, None)
                       if q.subject.value.startswith(ID)})
    origin.prefetch(subjects)
    asked = counting.queries
    placed = [origin(s) for s in subjects]
    assert counting.queries == asked <= 2 * (len(subjects) // StoreOrigin.BATCH + 1)
    assert all(line > 0 for _, line in placed)
    reference = Origin(load_sources(PATHS, data=[data], context=False).dataset, graphs)
    assert placed == [reference(s) for s in subjects]
