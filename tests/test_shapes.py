"""Every shape has a failing fixture that proves it fires; the real data conforms."""

from __future__ import annotations

import json
import re

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from kg.config import ROOT
from kg.namespaces import SHAPES

from .conftest import FIXTURES, kg_here

INVALID = FIXTURES / "invalid"


def shape_names() -> list[str]:
    g = Graph().parse(ROOT / "shapes" / "cohesion.ttl")
    names = {str(s)[len(str(SHAPES)):] for t in (SH.PropertyShape, SH.SPARQLConstraint) for s in g.subjects(RDF.type, t)}
    return sorted(n for n in names if n)


def warning_shapes() -> set[str]:
    g = Graph().parse(ROOT / "shapes" / "cohesion.ttl")
    return {str(s)[len(str(SHAPES)):] for s in g.subjects(SH.severity, SH.Warning)}


def test_every_shape_has_a_failing_fixture():
    missing = [n for n in shape_names() if not (INVALID / f"{n}.ttl").is_file()]
    assert not missing, f"shapes without a fixture in tests/fixtures/invalid/: {missing}"


def test_no_fixture_names_a_shape_that_does_not_exist():
    names = set(shape_names())
    assert {p.stem for p in INVALID.glob("*.ttl")} <= names


def fail_on(name: str) -> str:
    return "warning" if name in warning_shapes() else "violation"


# `kg validate FIXTURE` run in this process (conftest.kg_here): the command's own code and output, without a new
# interpreter per fixture; test_the_command_prints_what_runs_here_print holds the two to the same bytes.
@pytest.mark.parametrize("name", shape_names())
def test_shape_fires_on_its_fixture(name):
    fixture = INVALID / f"{name}.ttl"
    if not fixture.is_file():
        pytest.fail(f"no fixture for {name}")
    done = kg_here("validate", str(fixture.relative_to(ROOT)), "--format", "json", "--fail-on", fail_on(name))
    assert done.returncode == 1, done.stdout + done.stderr
    results = json.loads(done.stdout)["results"]
    fired = [r for r in results if r["shape"] == str(SHAPES[name])]
    assert fired, f"{name} did not fire; got {[r['shape'] for r in results]}"
    # The result points at the fixture, on the line where the offending node is described.
    assert fired[0]["file"] == str(fixture.relative_to(ROOT))
    assert fired[0]["line"] > 0
    assert fired[0]["message"]


@pytest.mark.parametrize("name", shape_names())
def test_fixture_text_report_is_readable(name):
    fixture = INVALID / f"{name}.ttl"
    if not fixture.is_file():
        pytest.skip("covered by test_every_shape_has_a_failing_fixture")
    done = kg_here("validate", str(fixture.relative_to(ROOT)), "--fail-on", "warning")
    assert done.returncode == 1
    rel = str(fixture.relative_to(ROOT))
    assert re.search(rf"^  {re.escape(rel)}:\d+: (violation|warning): ", done.stdout, re.M), done.stdout
    assert f"shapes/{name}" in done.stdout or f"{name} (" in done.stdout
    verdict = r"(does not conform|conforms, but warnings fail this run \(--fail-on warning\))"
    assert re.search(rf"^{verdict}: \d+ violations?, \d+ warnings?, \d+ info$", done.stdout, re.M), done.stdout


# The real command on a violation and on a warning, in each format the tests above read.
@pytest.mark.parametrize("name", ["Project-oneCoordinator", "LabelItalian"])
def test_the_command_prints_what_runs_here_print(kg_cmd, name):
    assert name in shape_names()
    rel = str((INVALID / f"{name}.ttl").relative_to(ROOT))
    for args in (("--format", "json", "--fail-on", fail_on(name)), ("--fail-on", "warning")):
        done, here = kg_cmd("validate", rel, *args), kg_here("validate", rel, *args)
        assert done.returncode == here.returncode == 1, done.stdout + done.stderr
        assert (done.stdout, done.stderr) == (here.stdout, here.stderr)


def test_real_data_conforms_without_warnings():
    done = kg_here("validate", "--format", "json", "--fail-on", "warning")
    report = json.loads(done.stdout)
    assert report["results"] == [], json.dumps(report["results"][:5], indent=2)
    assert done.returncode == 0
