"""The store engine (`kg build --engine store`, `kg validate --engine store`): sources parsed by Oxigraph into the
store, SPARQL reasoning and SPARQL-compiled validation run there, against the rdflib engine (owlrl, pyshacl) as
the reference. kg.validation.compiled and kg.reasoning.rules are compared with pyshacl and owlrl in their own tests;
these check the wiring: the same reports with the same files and lines, the same build, nothing written on failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import Engine, build
from kg.config import Paths, ROOT
from kg.errors import SourceSyntaxError, ValidationFailed
from kg.namespaces import INFERRED_GRAPH
from kg.reasoning.reference import Inference
from kg.store.builds import DB_DIR
from kg.store.embedded import KGStore

from .conftest import kg_here, linked_data

FIXTURES = ROOT / "tests" / "fixtures"
OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
# One fixture per kind of finding: a class, a datatype, a count, a language, a SHACL-SPARQL constraint, a
# qualified count, a loop in the funding hierarchy, and the three checks SHACL cannot express.
SAMPLE = [
    "invalid/Participation-role.ttl",
    "invalid/StartDate.ttl",
    "invalid/Project-acronym.ttl",
    "invalid/LabelItalian.ttl",
    "invalid/Project-traced.ttl",
    "invalid/Project-oneCoordinator.ttl",
    "invalid/Programme-noCycle.ttl",
    "invalid-checks/dangling-iri.ttl",
    "invalid-checks/duplicate-entity.ttl",
    "invalid-checks/shared-wikidata-link.ttl",
]


def kg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], cwd=ROOT, capture_output=True, text=True)


def _results(report: dict) -> list[tuple]:
    fields = ("file", "line", "focus", "severity", "path", "value", "shape", "component", "message")
    return sorted(tuple(r.get(f) for f in fields) for r in report["results"])


@pytest.mark.parametrize("fixture", SAMPLE)
def test_validate_reports_the_same_on_both_engines(fixture):
    reports, codes = {}, set()
    for engine in ("rdflib", "store"):
        done = kg_here("validate", "--engine", engine, "--format", "json", str(FIXTURES / fixture))
        assert done.returncode in (0, 1), done.stderr  # 0: only warnings
        codes.add(done.returncode)
        reports[engine] = json.loads(done.stdout)
    assert len(codes) == 1 and reports["rdflib"]["results"]
    rdflib, store = _results(reports["rdflib"]), _results(reports["store"])
    assert store == rdflib, "\n".join(
        [f"only rdflib: {r}" for r in rdflib if r not in store] + [f"only store: {r}" for r in store if r not in rdflib]
    )
    assert all(r[0].endswith(Path(fixture).name) and r[1] > 0 for r in store if "fixtures" in r[0])


def _triples(kg_store: KGStore, graph: str) -> set[str]:
    quads = kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    return {str(q.triple) for q in quads if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}


def assert_same_kg(rdflib: KGStore, store: KGStore, inferred: bool = True) -> None:
    """Every graph of the store engine's build is the rdflib engine's; the inferred graph (when `inferred`, else it
    must be absent) lacks only what the SPARQL rules leave out on purpose: the tautologies that every class and
    property relates to owl:Thing (kg/reasoning/rules.py)."""
    expected = rdflib.named_graphs() if inferred else [g for g in rdflib.named_graphs() if g != str(INFERRED_GRAPH)]
    assert store.named_graphs() == expected
    for graph in expected:
        ours, theirs = _triples(store, graph), _triples(rdflib, graph)
        if graph == str(INFERRED_GRAPH):
            assert ours <= theirs, sorted(ours - theirs)[:10]
            left_out = theirs - ours
            assert left_out and all(t.split()[-1] == f"<{OWL_THING}>" for t in left_out), sorted(left_out)[:10]
        else:
            assert ours == theirs, (graph, sorted(ours ^ theirs)[:10])


def test_both_engines_build_the_same_kg(store):
    """The rdflib engine's build is the session's (conftest.py: Inference.OWLRL in memory)."""
    outcome = build(Paths(), Inference.OWLRL, in_memory=True, engine=Engine.STORE)
    assert_same_kg(store, outcome.store)
    assert outcome.report.conforms and outcome.inferred_count == len(_triples(outcome.store, str(INFERRED_GRAPH)))


def test_a_failing_store_build_writes_nothing(tmp_path, monkeypatch, store):
    link = tmp_path / "store"
    paths = Paths(store=link)
    first = build(paths, Inference.NONE, engine=Engine.STORE).info.id
    # What the first build wrote on disk is the KG: the rdflib engine's graphs, without a closure.
    assert_same_kg(store, KGStore.open(link), inferred=False)
    data = linked_data(tmp_path / "data")
    (data / "broken.ttl").symlink_to(FIXTURES / "invalid" / "Participation-role.ttl")
    with pytest.raises(ValidationFailed) as failed:
        build(Paths(data=data, store=link), Inference.NONE, engine=Engine.STORE)
    assert failed.value.report.count("Violation") == 2
    assert KGStore.open(link).info.id == first
    assert sorted(p.name for p in (tmp_path / "stores").iterdir()) == [first]  # no half-made build left


def test_a_syntax_error_names_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "unterminated .\n')
    with pytest.raises(SourceSyntaxError) as e:
        build(Paths(data=tmp_path, store=tmp_path / "store"), Inference.NONE, engine=Engine.STORE)
    assert str(e.value).startswith("bad.ttl:2:") or ":2:" in str(e.value)
    assert not (tmp_path / "store").exists()
    done = kg("validate", "--engine", "store", str(bad))
    assert done.returncode == 2 and "bad.ttl:2:" in done.stderr and "Traceback" not in done.stderr


def _published(build: Path) -> dict[str, bytes]:
    """Every file a build published, by its path in the build folder, with the build's id taken out (the network
    files name it); the discovery index by its SQL content, as SQLite's bytes may differ for the same rows; the
    dumps by their sorted lines without blank nodes, whose labels each parse draws anew, and their manifest by
    the statements each file holds."""
    import gzip
    import sqlite3

    files = {}
    for path in sorted(build.rglob("*")):
        relative = str(path.relative_to(build))
        if not path.is_file() or relative.startswith(DB_DIR) or relative == "build.json":
            continue
        if path.suffix == ".gz":
            files[relative] = b"\n".join(sorted(line for line in gzip.decompress(path.read_bytes()).splitlines() if b"_:" not in line))
        elif path.name == "manifest.json":
            files[relative] = json.dumps([(d["name"], d["statements"]) for d in json.loads(path.read_text())["files"]]).encode()
        elif path.suffix == ".sqlite":
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                files[relative] = "\n".join(db.iterdump()).encode()
        else:
            files[relative] = path.read_bytes().replace(build.name.encode(), b"BUILD")
    return files


def test_publishing_in_worker_processes_writes_what_one_process_writes(disk_store, tmp_path, kg_cmd):
    """The session's build published with a worker per CPU (KG_BUILD_WORKERS unset); the same with one, in the
    build's own process, writes the same files byte for byte."""
    link = tmp_path / "store"
    done = kg_cmd("build", "--store", str(link), env={"KG_BUILD_WORKERS": "1"})
    assert done.returncode == 0, done.stderr
    parallel, serial = _published(disk_store.resolve()), _published(link.resolve())
    assert len(parallel) > 10 and sorted(parallel) == sorted(serial)
    assert [name for name in parallel if parallel[name] != serial[name]] == []


def test_a_bad_number_of_build_workers_is_one_line(tmp_path, kg_cmd):
    done = kg_cmd("build", "--store", str(tmp_path / "store"), env={"KG_BUILD_WORKERS": "two"})
    assert done.returncode == 2 and "KG_BUILD_WORKERS: must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr
