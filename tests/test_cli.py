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
def built_store(disk_build, disk_store):
    """A real on-disk build in a temporary folder, made by `kg build` (the session's, in conftest.py)."""
    assert "built " in disk_build.stdout
    return disk_store


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


# Exit codes (issue 14, defect 2): 1 means "the data does not conform" to a CI pipeline, so a bug of ours must
# not exit 1; it exits 3 with one line, and the traceback only when asked for with --debug.
RUN_AGAIN = "run again with --debug for the traceback"


@pytest.fixture()
def failing_stats(monkeypatch):
    """`kg stats` made to fail as a bug would, deep in a call; main() builds its parser after the patch."""
    import kg.cli.stats

    def run(args):
        def deep():
            raise RuntimeError("boom in deep()")

        deep()

    monkeypatch.setattr(kg.cli.stats, "run", run)


def test_an_internal_error_exits_3_with_one_line_and_no_traceback(failing_stats, capsys):
    from kg.cli import main

    assert main(["stats"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"kg: internal error (RuntimeError: boom in deep()); {RUN_AGAIN}"]


def test_an_internal_error_with_debug_prints_the_traceback(failing_stats, capsys):
    from kg.cli import main

    assert main(["--debug", "stats"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in deep" in err and err.rstrip().endswith("RuntimeError: boom in deep()")


def test_an_internal_error_of_the_real_command_exits_3(kg_cmd, tmp_path):
    # End to end, through `python -m kg.cli`: a sitecustomize breaks `kg stats` before main() runs it.
    (tmp_path / "sitecustomize.py").write_text(
        "import kg.cli.stats\n"
        "def run(args):\n"
        "    raise ZeroDivisionError('planted')\n"
        "kg.cli.stats.run = run\n"
    )
    done = kg_cmd("stats", env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [f"kg: internal error (ZeroDivisionError: planted); {RUN_AGAIN}"]
    done = kg_cmd("--debug", "stats", env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 3
    assert "Traceback (most recent call last)" in done.stderr and "ZeroDivisionError: planted" in done.stderr


def test_an_os_error_is_unreadable_input_not_violations(monkeypatch, capsys):
    import kg.cli.stats
    from kg.cli import main

    def run(args):
        raise PermissionError(13, "Permission denied", "/no/write/here")

    monkeypatch.setattr(kg.cli.stats, "run", run)
    assert main(["stats"]) == 2
    assert capsys.readouterr().err == "kg: error: /no/write/here: Permission denied\n"


def _kg_error_classes() -> set[type]:
    """Every KGError class kg defines, its modules imported first so that none is missed."""
    import importlib
    import pkgutil

    import kg
    from kg.errors import KGError

    for module in pkgutil.walk_packages(kg.__path__, "kg."):
        if not module.name.endswith(".__main__"):  # that one runs the command
            importlib.import_module(module.name)
    found, todo = set(), [KGError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_only_non_conforming_data_has_exit_code_1():
    from kg.errors import KGError, ValidationFailed
    from kg.reasoning.reference import InconsistentKG

    codes = {f"{c.__module__}.{c.__qualname__}": c.exit_code for c in _kg_error_classes()}
    assert codes.pop(f"{ValidationFailed.__module__}.ValidationFailed") == 1
    assert codes.pop(f"{InconsistentKG.__module__}.InconsistentKG") == 1
    assert codes.pop(f"{KGError.__module__}.KGError") == 2
    assert {name: code for name, code in codes.items() if code != 2} == {}
    assert len(codes) >= 10  # InputError, SourceSyntaxError, QueryError, StoreError, ... were all found


@pytest.mark.parametrize("code", [1, 2])
def test_a_kg_error_exits_with_its_own_code_and_one_line(monkeypatch, capsys, code):
    import kg.cli.stats
    from kg.cli import main
    from kg.errors import InputError
    from kg.reasoning.reference import InconsistentKG

    error = InconsistentKG("Disjoint classes") if code == 1 else InputError("no such thing", "somewhere.ttl")

    def run(args):
        raise error

    monkeypatch.setattr(kg.cli.stats, "run", run)
    assert main(["stats"]) == code
    assert capsys.readouterr().err == f"kg: error: {error}\n"
