"""Shared fixtures, each made once per session: the real KG built in memory and an app over it, one `kg build`
on disk (read by every test that needs a build there; a test that changes a build works on a copy), and two ways
to run the `kg` command: a new process, as a user does (kg_cmd, for the end-to-end tests), or this one (kg_here,
for the many runs that check what it reports)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg import cli
from kg.build import build
from kg.config import ROOT, Paths
from kg.reasoning.reference import Inference

FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = ["tests.browser"]

# The suite's KG is the curated one: what `kg import` last wrote under var/imported (after a `make run`) stays out
# of it, and a `kg build` run by a test imports nothing. The import has tests of its own (tests/importing) and the
# grown KG its own session build (tests/test_grown_kg.py), which name their folders explicitly.
os.environ["KG_IMPORTS"] = str(FIXTURES / "no-imports")
os.environ["KG_IMPORTED"] = str(FIXTURES / "no-imports")


@pytest.fixture(scope="session")
def paths() -> Paths:
    return Paths(ontology=ROOT / "ontology", shapes=ROOT / "shapes", data=ROOT / "data", store=ROOT / "var" / "store")


@pytest.fixture(scope="session")
def built(paths):
    """The real KG, loaded, reasoned (OWL RL), validated and stored in memory."""
    return build(paths, Inference.OWLRL, in_memory=True)


@pytest.fixture(scope="session")
def store(built):
    return built.store


@pytest.fixture(scope="session")
def app(built):
    from server import create_app

    return create_app({"KG_STORE": built.store, "KG_PUBLISHED": built.published, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


def run_kg(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The `kg` command as a user runs it, in the project folder by default."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def kg_cmd():
    """Run the `kg` command as a user would, in the project folder; returns the CompletedProcess."""
    return run_kg


# --- One build on disk ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def disk_build(tmp_path_factory) -> subprocess.CompletedProcess:
    """The session's one `kg build` of the real KG (OWL RL) into a temporary store, by the real command: the
    end-to-end build every on-disk test reads. `args` ends with the store link."""
    link = tmp_path_factory.mktemp("disk-build") / "store"
    done = run_kg("build", "--store", str(link))
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="session")
def disk_store(disk_build) -> Path:
    """The link to the session's build on disk. Read it, never build into it: copy it (copy_build) to change it."""
    return Path(disk_build.args[-1])


def copy_build(link: Path, folder: Path) -> Path:
    """A copy of the build behind `link` (its link and stores/ folder) in `folder`; returns the new link. Cheaper
    than a build for tests that kill or replace builds and must not touch the shared one."""
    shutil.copytree(link.parent, folder, symlinks=True, dirs_exist_ok=True)
    return folder / link.name


def linked_data(folder: Path) -> Path:
    """A data folder at `folder` holding the KG's real data files, linked (so each keeps its graph name), for a
    test to add files beside; returns it."""
    for src in (ROOT / "data").rglob("*.ttl"):
        dest = folder / src.relative_to(ROOT / "data")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(src)
    return folder


# --- The command in this process ---------------------------------------------------------------------------------


def kg_here(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`kg ARGS` run by kg.cli.main in this process, as kg_cmd runs it in a new one (same folder, KG_* variables from
    `env`), without a new interpreter's start-up and imports each time: the result as kg_cmd gives it."""
    saved_env = {name: os.environ.get(name) for name in env or {}}
    here = Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(env or {})
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as e:  # argparse: --help, a bad option
                code = e.code if isinstance(e.code, int) else 2
    finally:
        os.chdir(here)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(["kg", *args], code, out.getvalue(), err.getvalue())


def select(store, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT as dicts of plain strings (IRIs and literal values)."""
    from kg.queries.run import run

    result = run(store, query)
    names = [v.value for v in result.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in result]
