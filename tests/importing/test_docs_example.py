"""docs/importing.md's worked example, run as written: a new publisher's export added with a manifest entry and a
mapping file, no Python change, imports and conforms to the shapes together with the KG."""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import Dataset, Graph

from kg.importing.run import import_sources
from tests.importing.project_copy import PROJECT, project_root

DOC = PROJECT / "docs" / "importing.md"
BLOCK = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)


def _blocks() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))


def test_the_docs_give_the_three_files_of_the_example():
    assert set(_blocks()) == {"downloads/urban-labs.csv", "imports/sources.yaml", "imports/mappings/urban-labs.yaml"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = project_root(tmp_path_factory.mktemp("example"))
    for path, text in _blocks().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    outcome = import_sources(["urban-labs"], root=root, alternate_names=None)
    return root, outcome


def test_the_new_source_imports_every_row(imported):
    root, outcome = imported
    summary = outcome.imported["urban-labs"]
    assert summary.rows == {"rows": 4} and summary.rows_rejected == 0 and summary.rejects == 0
    entities = summary.entities
    assert entities["https://w3id.org/cohesion-kg/ontology/Project"] == 2
    assert entities["https://w3id.org/cohesion-kg/ontology/Participation"] == 4
    nq = (root / "var" / "imported" / "urban-labs.nq").read_text(encoding="utf-8")
    assert '"1250000.00"^^<http://www.w3.org/2001/XMLSchema#decimal>' in nq
    assert '"2021-03-15"^^<http://www.w3.org/2001/XMLSchema#date>' in nq


def test_the_imported_example_conforms_to_the_shapes_with_the_kg(imported):
    root, _ = imported
    data = Graph()
    for path in [PROJECT / "ontology" / "cohesion.ttl", *sorted((root / "data").rglob("*.ttl"))]:
        data.parse(path)
    for name in ("urban-labs.nq", "reference.nq"):
        dataset = Dataset()
        dataset.parse(root / "var" / "imported" / name, format="nquads")
        for s, p, o, _ in dataset.quads():
            data.add((s, p, o))
    shapes = Graph().parse(PROJECT / "shapes" / "cohesion.ttl")
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                              allow_warnings=True)
    assert conforms, text


def test_the_new_source_appears_in_the_built_network(imported):
    """Built with the KG (the store engine, as `kg build` does by default), the example's partners are nodes of the
    co-participation network, linked by the project they share."""
    from kg.build import Engine, build
    from kg.config import Paths
    from kg.namespaces import NETWORK_GRAPH
    from kg.reasoning.reference import Inference

    root, _ = imported
    paths = Paths(ontology=PROJECT / "ontology", shapes=PROJECT / "shapes", data=root / "data",
                  imported=root / "var" / "imported", store=root / "var" / "store")
    kg_store = build(paths, Inference.OWLRL, in_memory=True, engine=Engine.STORE, publish=False).store
    rows = list(kg_store.query(f"""
        SELECT DISTINCT ?edge WHERE {{
          GRAPH <{NETWORK_GRAPH}> {{ ?edge ckg:sharedProject ?project }}
          GRAPH <https://w3id.org/cohesion-kg/graph/import/urban-labs> {{ ?project a ckg:Project }}
        }}"""))
    assert rows, "no co-participation edge comes from the example's projects"
