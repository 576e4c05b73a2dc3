"""Shared fixtures: the real KG built once in memory, an app over it, and a way to run the `kg` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.build import build
from kg.config import ROOT, Paths
from kg.reasoning.reference import Inference

FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = ["tests.browser"]


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
def app(store):
    from server import create_app

    return create_app({"KG_STORE": store, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def kg_cmd():
    """Run the `kg` command as a user would, in the project folder; returns the CompletedProcess."""

    def run(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "kg.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
        )

    return run


def select(store, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT as dicts of plain strings (IRIs and literal values)."""
    from kg.queries.run import run

    result = run(store, query)
    names = [v.value for v in result.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in result]
