"""The layout is a rule, not a promise: data flows one way through the stages, and no module imports one above it.

Every import is counted, at module level or inside a function, since a late import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a module may import its own stage and the stages before it, never one after it.
STAGES = [
    ("base", ["kg", "kg.config", "kg.errors", "kg.namespaces", "kg.sparql_text"]),
    ("sources", ["kg.sources"]),
    ("importing", ["kg.importing"]),
    ("reasoning", ["kg.reasoning"]),
    ("validation", ["kg.validation"]),
    ("store", ["kg.store"]),
    ("queries", ["kg.queries"]),
    ("network", ["kg.network"]),
    ("publish", ["kg.publish"]),
    ("discovery", ["kg.discovery"]),
    ("synth", ["kg.synth"]),
    ("build", ["kg.build"]),
    ("cli", ["kg.cli"]),
    ("server", ["server"]),
]
RANK = {name: i for i, (name, _) in enumerate(STAGES)}


def stage_of(module: str) -> str | None:
    best = None
    for name, prefixes in STAGES:
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (name, prefix)
    return best[0] if best else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from kg.store import builds`
    return {name for name in found if name.split(".")[0] in ("kg", "server")}


def modules() -> dict[str, Path]:
    return {module_name(p): p for folder in ("kg", "server") for p in (ROOT / folder).rglob("*.py")}


def import_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    for name, path in known.items():
        graph.add_node(name)
        for target in imports_of(path):
            # `from kg.store import builds` names a module; `from kg.store.builds import X` names attributes
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name:
                graph.add_edge(name, target)
    return graph


def test_every_module_belongs_to_a_stage():
    assert [m for m in modules() if stage_of(m) is None] == []


def test_no_stage_imports_a_later_stage():
    upward = [
        f"{source} ({stage_of(source)}) imports {target} ({stage_of(target)})"
        for source, target in import_graph().edges
        if RANK[stage_of(target)] > RANK[stage_of(source)]
    ]
    assert upward == []


def test_kg_never_imports_the_server():
    assert [(s, t) for s, t in import_graph().edges if s.startswith("kg") and t.startswith("server")] == []


def test_no_import_cycles_between_modules():
    graph = import_graph()
    # A package's __init__ importing its own submodules is how packages present themselves, not a cycle of logic.
    for source, target in list(graph.edges):
        if target.startswith(source + "."):
            graph.remove_edge(source, target)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert cycles == []


def test_no_module_imports_a_private_name_from_another_module():
    """The *_sparql twins once reached into their rdflib twins' private helpers: shared code is public."""
    private = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("kg", "server"):
                private += [f"{name}: from {node.module} import {a.name}" for a in node.names
                            if a.name.startswith("_") and a.name != "__version__"]
    assert private == []


@pytest.mark.parametrize("rule", ["the checker finds an upward import", "the checker finds a cycle"])
def test_the_checks_can_fail(rule, tmp_path):
    """The rules above are only worth something if they catch a violation: feed them a made-up graph."""
    graph = nx.DiGraph([("kg.store.embedded", "server.app")] if "upward" in rule else [("kg.a", "kg.b"), ("kg.b", "kg.a")])
    if "upward" in rule:
        assert any(RANK[stage_of(t)] > RANK[stage_of(s)] for s, t in graph.edges)
    else:
        assert [c for c in nx.simple_cycles(graph) if len(c) > 1]
