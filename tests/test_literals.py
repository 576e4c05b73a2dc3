"""Ill-typed literals and malformed language tags (issue 14, defect 3): found while each file is loaded
(kg.sources.literals), reported as violations at the literal's own file:line:column by both engines, kept out of
reasoning, and never a crash or a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from kg.build import Engine, build
from kg.config import ROOT, Paths
from kg.errors import SourceSyntaxError, ValidationFailed
from kg.reasoning.reference import Inference
from kg.sources.literals import ILL_TYPED, LANGUAGE_TAG, problem

from .conftest import linked_data

LITERALS = ROOT / "tests" / "fixtures" / "literals"
TURTLE = "tests/fixtures/literals/ill-typed.ttl"
LINES = "tests/fixtures/literals/ill-typed-lines.nt"
# (file, line, column, check) of every bad literal of the two fixtures; the good ones beside them give nothing.
EXPECTED = [
    (LINES, 2, 71, "ill-typed-literal"),
    (LINES, 3, 71, "bad-language-tag"),
    (TURTLE, 5, 19, "ill-typed-literal"),
    (TURTLE, 6, 13, "ill-typed-literal"),
    (TURTLE, 7, 13, "bad-language-tag"),
    (TURTLE, 8, 25, "ill-typed-literal"),
]


def kg(*args: str) -> subprocess.CompletedProcess:
    # The context is the KG's curated data alone: what `kg import` last wrote is no business of these fixtures.
    env = {**os.environ, "KG_IMPORTED": str(ROOT / "tests" / "fixtures" / "literals" / "no-imports")}
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize(
    "literal, expected",
    [
        (Literal("abc", datatype=XSD.integer), ILL_TYPED),
        (Literal("2019-02-31x", datatype=XSD.date), ILL_TYPED),
        (Literal("2019-02-30", datatype=XSD.date), ILL_TYPED),
        (Literal("1,5", datatype=XSD.decimal), ILL_TYPED),
        (Literal("ciao", lang="it-toolongsubtag"), LANGUAGE_TAG),
        (Literal("x", lang="en-a-b"), LANGUAGE_TAG),  # an extension singleton needs a subtag of 2 to 8
        (Literal("42", datatype=XSD.integer), None),
        (Literal("2019-02-28", datatype=XSD.date), None),
        (Literal("hello", lang="en-GB"), None),
        (Literal("你好", lang="zh-Hant-TW"), None),
        (Literal("x", lang="x-private"), None),
        (Literal("plain"), None),
    ],
)
def test_literals_are_judged_by_xsd_and_bcp_47(literal, expected):
    found = problem(literal)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize("engine", ["rdflib", "store"])
def test_every_bad_literal_is_a_violation_at_its_line_and_column(engine):
    done = kg("validate", "--engine", engine, "--no-context", "--format", "json", TURTLE, LINES)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Failed to convert" not in done.stderr
    report = json.loads(done.stdout)
    assert sorted((r["file"], r["line"], r["column"], r["component"]) for r in report["results"]) == EXPECTED
    assert all(r["severity"] == "Violation" for r in report["results"])


def test_both_engines_report_the_same_literals():
    reports = {}
    for engine in ("rdflib", "store"):
        done = kg("validate", "--engine", engine, "--format", "json", TURTLE, LINES)  # with the KG as context
        assert done.returncode == 1, done.stderr
        # Blank nodes are named by each parser in its own way; everything else must agree.
        reports[engine] = sorted(
            tuple(v for k, v in r.items() if k not in ("focus", "label") or not r["focus"].startswith("_:"))
            for r in json.loads(done.stdout)["results"]
        )
    assert reports["store"] == reports["rdflib"]
    assert len(reports["rdflib"]) == len(EXPECTED)


def test_every_literal_check_has_a_fixture():
    from kg.validation.checks import LITERAL_CHECKS

    assert sorted(c.name for c in LITERAL_CHECKS) == sorted({check for *_, check in EXPECTED})


def test_text_and_github_reports_carry_the_column():
    done = kg("validate", "--no-context", "--format", "github", TURTLE)
    assert "::error file=tests/fixtures/literals/ill-typed.ttl,line=5,col=19,title=ill-typed-literal (violation)::" in done.stdout
    done = kg("validate", "--no-context", TURTLE)
    assert f"  {TURTLE}:7:13: violation: \"it-toolongsubtag\" is not a well-formed BCP 47 language tag" in done.stdout


@pytest.mark.parametrize("engine", list(Engine))
def test_a_build_stops_on_bad_literals_before_reasoning_can_fail_on_them(tmp_path, engine):
    """owlrl used to stop on the value (an inconsistent KG), the store on the tag (a syntax error): the build must
    fail with the literal violations as its report, whatever the inference."""
    data = linked_data(tmp_path / "data")
    (data / "bad.ttl").symlink_to(LITERALS / "ill-typed.ttl")
    with pytest.raises(ValidationFailed) as failed:
        build(Paths(data=data, store=tmp_path / "store", imported=tmp_path / "no-imports"), Inference.OWLRL,
              in_memory=True, engine=engine)
    report = failed.value.report
    assert not report.conforms
    found = sorted((r.line, r.column, r.component) for r in report.results if r.file.endswith("ill-typed.ttl"))
    assert found == [(5, 19, "ill-typed-literal"), (6, 13, "ill-typed-literal"), (7, 13, "bad-language-tag"), (8, 25, "ill-typed-literal")]


def test_the_store_engine_still_stops_on_a_real_syntax_error_beside_a_bad_tag():
    """Oxigraph's strict parser refuses a malformed tag; the file is loaded leniently only when the tags are all
    that is wrong, so an invalid IRI further on is still a syntax error at its own place."""
    from kg.sources.load import load_into_store
    from kg.store.embedded import KGStore

    with pytest.raises(SourceSyntaxError) as e:
        load_into_store(KGStore.in_memory(), [LITERALS / "tag-and-syntax-error.ttl"])
    assert (e.value.line, e.value.column) == (4, 14)


def test_a_file_with_only_good_literals_has_none_reported():
    from rdflib import Dataset

    from kg.sources.load import load_file

    loaded = load_file(Dataset(), ROOT / "data" / "projects" / "conet.ttl")
    assert loaded.bad_literals == ()


def test_the_owlrl_closure_leaves_rdflibs_literal_checks_as_they_were():
    """owlrl installs its own lexical conversions globally (its gMonthDay refuses "--11-15"): after a closure in
    the same process, a valid literal must still be valid."""
    from rdflib import XSD, Graph, Literal, URIRef

    from kg.reasoning.reference import Inference, closure

    graph = Graph()
    graph.add((URIRef("https://example.org/a"), URIRef("https://example.org/b"), Literal("1", datatype=XSD.integer)))
    closure(graph, Inference.OWLRL)
    assert not Literal("--11-15", datatype=XSD.gMonthDay).ill_typed
