"""The `kg` command as a user meets it: exit codes, errors with a place, formats, atomic builds."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph

from kg.config import ROOT

from .conftest import FIXTURES

SYNTAX = FIXTURES / "syntax"


@pytest.fixture(scope="module")
def built_store(tmp_path_factory, kg_cmd):
    """A real on-disk build in a temporary folder, made by `kg build`."""
    link = tmp_path_factory.mktemp("kg") / "store"
    done = kg_cmd("build", "--store", str(link))
    assert done.returncode == 0, done.stderr
    assert "built " in done.stdout
    return link


def test_validate_real_data_exits_0(kg_cmd):
    done = kg_cmd("validate")
    assert done.returncode == 0, done.stdout
    assert "conforms: 0 violations" in done.stdout


@pytest.mark.parametrize(
    "fixture, where",
    [("broken.ttl", r"broken.ttl:7:"), ("broken.jsonld", r"broken.jsonld:4:"), ("broken.nt", r"broken.nt:3:"), ("latin1.ttl", r"latin1.ttl:2:")],
)
def test_syntax_errors_exit_2_with_file_line_and_column(kg_cmd, fixture, where):
    done = kg_cmd("validate", str((SYNTAX / fixture).relative_to(ROOT)))
    assert done.returncode == 2
    import re

    assert re.search(rf"kg: error: tests/fixtures/syntax/{where}\d+: \S", done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_exits_2(kg_cmd):
    done = kg_cmd("validate", "no/such/file.ttl")
    assert done.returncode == 2
    assert "no/such/file.ttl: no such file or folder" in done.stderr


def test_unknown_option_exits_2(kg_cmd):
    assert kg_cmd("validate", "--frobnicate").returncode == 2


def test_inconsistent_data_fails_validation_with_owlrl(kg_cmd):
    done = kg_cmd("validate", "--inference", "owlrl", str((FIXTURES / "inconsistent" / "city-is-municipality.ttl").relative_to(ROOT)))
    assert done.returncode == 1
    assert "inconsistent" in done.stderr and "Disjoint classes" in done.stderr


def test_build_writes_a_store_and_stats_describe_it(kg_cmd, built_store):
    done = kg_cmd("stats", "--format", "json", "--store", str(built_store))
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["entities"]["projects"] == 4
    assert figures["inferred_triples"] > 0
    assert figures["network_triples"] > 0
    assert figures["triples"] == figures["asserted_triples"] + figures["inferred_triples"] + figures["network_triples"]
    assert any(g.endswith("/graph/data/projects/conet") for g in figures["graphs"])


def test_build_that_fails_validation_writes_nothing(kg_cmd, built_store, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copy(FIXTURES / "invalid" / "Project-oneCoordinator.ttl", data / "broken.ttl")
    before = built_store.resolve()
    done = kg_cmd("build", "--store", str(built_store), env={"KG_DATA": str(data)})
    assert done.returncode == 1
    assert "nothing was written" in done.stderr
    assert built_store.resolve() == before
    assert not list(before.parent.glob(".*.partial"))
    assert kg_cmd("stats", "--store", str(built_store)).returncode == 0


QUERY = "SELECT ?p ?label WHERE { ?p a ckg:Project ; rdfs:label ?label FILTER(lang(?label) = 'en') } ORDER BY ?label"


def test_query_table(kg_cmd, built_store):
    done = kg_cmd("query", QUERY, "--store", str(built_store))
    assert done.returncode == 0, done.stderr
    assert "project:conet" in done.stdout and "(4 rows)" in done.stdout


def test_query_from_file_in_every_result_format(kg_cmd, built_store, tmp_path):
    rq = tmp_path / "projects.rq"
    rq.write_text(QUERY)
    out = {f: kg_cmd("query", f"@{rq}", "--format", f, "--store", str(built_store)) for f in ("json", "xml", "csv", "tsv")}
    assert all(d.returncode == 0 for d in out.values())
    assert len(json.loads(out["json"].stdout)["results"]["bindings"]) == 4
    assert len(ET.fromstring(out["xml"].stdout).findall(".//{http://www.w3.org/2005/sparql-results#}result")) == 4
    assert len(list(csv.DictReader(io.StringIO(out["csv"].stdout)))) == 4
    assert out["tsv"].stdout.splitlines()[0] == "?p\t?label"


@pytest.mark.parametrize("fmt, rdflib_format", [("turtle", "turtle"), ("ntriples", "nt"), ("rdfxml", "xml"), ("jsonld", "json-ld")])
def test_construct_in_every_graph_format(kg_cmd, built_store, fmt, rdflib_format):
    done = kg_cmd("query", "CONSTRUCT WHERE { project:conet ?p ?o }", "--format", fmt, "--store", str(built_store))
    assert done.returncode == 0, done.stderr
    g = Graph().parse(data=done.stdout, format=rdflib_format)
    assert len(g) > 20


def test_query_syntax_error_names_line_and_column(kg_cmd, built_store):
    done = kg_cmd("query", "SELECT * WHERE {\n  ?s ?p }", "--store", str(built_store))
    assert done.returncode == 2
    assert "kg: error: query line 2 column" in done.stderr


def test_query_format_that_does_not_fit(kg_cmd, built_store):
    done = kg_cmd("query", QUERY, "--format", "turtle", "--store", str(built_store))
    assert done.returncode == 2
    assert "--format" in done.stderr


def test_query_without_a_build(kg_cmd, tmp_path):
    done = kg_cmd("query", QUERY, "--store", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert "run `kg build` first" in done.stderr
