"""An import run on an invented source: outputs, skipped sources, idempotency, atomic writes, the manifest's
checks, pins and the sources listing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.importing import run as run_module
from kg.importing.manifest import load_manifest
from kg.importing.run import import_sources, list_sources
from tests.importing.project_copy import project_root

TINY = Path(__file__).parent / "fixtures" / "tiny"
MANIFEST = """\
sources:
  tiny:
    title: Tiny invented programme
    publisher: Nobody
    licence: CC0
    download: https://example.org/tiny
    mapping: imports/mappings/tiny.yaml
    files:
      projects: {path: inputs/projects.csv, format: csv, delimiter: ";"}
      partners: {path: inputs/partners.csv, format: csv, delimiter: ";"}
  absent:
    title: A source whose file is not there
    publisher: Nobody
    licence: CC0
    download: https://example.org/absent
    mapping: imports/mappings/tiny.yaml
    files:
      main: {path: inputs/absent.csv, format: csv}
"""


@pytest.fixture
def root(tmp_path):
    root = project_root(tmp_path, MANIFEST)
    shutil.copy(TINY / "mapping.yaml", root / "imports" / "mappings" / "tiny.yaml")
    (root / "inputs").mkdir()
    for name in ("projects.csv", "partners.csv"):
        shutil.copy(TINY / name, root / "inputs" / name)
    return root


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix in (".nq", ".csv")}


def test_an_import_writes_the_graph_rejects_summary_and_decisions_and_skips_a_source_without_its_file(root):
    outcome = import_sources(None, root=root, alternate_names=None)
    out = root / "var" / "imported"
    assert outcome.skipped == {"absent": "file not present: inputs/absent.csv"}
    assert sorted(p.name for p in out.iterdir()) == [
        "decisions.csv", "reference.nq", "review.csv", "tiny.json", "tiny.nq", "tiny.rejects.csv"]
    nq = (out / "tiny.nq").read_text(encoding="utf-8")
    assert "<https://w3id.org/cohesion-kg/graph/import/tiny> .\n" in nq
    assert "<https://w3id.org/cohesion-kg/id/source/dataset-tiny> <https://schema.org/url> <https://example.org/tiny>" in nq
    rejects = (out / "tiny.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == 1 + 4
    assert rejects[1].startswith("tiny,inputs/partners.csv,,3,country,Atlantis,")
    summary = json.loads((out / "tiny.json").read_text(encoding="utf-8"))
    assert summary["rows"] == {"projects": 3, "partners": 5} and summary["rows_rejected"] == 4
    assert summary["files"][0]["path"] == "inputs/projects.csv" and len(summary["files"][0]["sha256"]) == 64
    # Countries the curated KG lacks come with English and Italian names; those it has are not repeated.
    reference = (out / "reference.nq").read_text(encoding="utf-8")
    assert "/id/country/de>" not in reference and "/id/programme/interreg-v>" in reference


def test_importing_the_same_files_twice_gives_byte_identical_output(root, tmp_path):
    import_sources(["tiny"], root=root, alternate_names=None)
    first = _outputs(root / "var" / "imported")
    import_sources(["tiny"], root=root, out=tmp_path / "again", alternate_names=None)
    assert _outputs(tmp_path / "again") == first


def test_another_copy_of_the_files_can_be_imported_from_a_folder(root, tmp_path):
    other = tmp_path / "download"
    other.mkdir()
    shutil.copy(TINY / "projects.csv", other / "projects.csv")
    (other / "partners.csv").write_text("project;partner;country;lead;town\nP1;Only Partner;DE;Yes;Arden\n",
                                        encoding="utf-8")
    outcome = import_sources(["tiny"], inputs={"tiny": other}, root=root, alternate_names=None)
    assert outcome.imported["tiny"].rows == {"projects": 3, "partners": 1}
    nq = (root / "var" / "imported" / "tiny.nq").read_text(encoding="utf-8")
    assert "tiny-only-partner" in nq and "tiny-mill-museum" not in nq


def test_a_failed_import_leaves_the_previous_one_untouched(root, monkeypatch):
    import_sources(["tiny"], root=root, alternate_names=None)
    before = _outputs(root / "var" / "imported")
    (root / "inputs" / "partners.csv").write_text("project;partner;country;lead;town\n", encoding="utf-8")

    def broken(decisions, path):
        raise OSError("disk full")

    monkeypatch.setattr(run_module.rec, "write_review", broken)
    with pytest.raises(OSError, match="disk full"):
        import_sources(["tiny"], root=root, alternate_names=None)
    assert _outputs(root / "var" / "imported") == before
    assert not [p for p in (root / "var" / "imported").iterdir() if ".tmp-" in p.name]


def test_an_unknown_source_is_an_input_error_naming_the_manifest(root):
    with pytest.raises(InputError, match="no source 'nope'"):
        import_sources(["nope"], root=root)


def test_a_mistake_in_the_manifest_names_its_line(root):
    (root / "imports" / "sources.yaml").write_text(MANIFEST.replace("format: csv,", "format: csvx,", 1))
    with pytest.raises(InputError) as e:
        load_manifest(root)
    assert e.value.where == "imports/sources.yaml:9"


def test_a_pinned_decision_is_obeyed(root):
    pins = root / "imports" / "decisions" / "pinned.csv"
    pins.write_text("kind,candidate,target,note\n"
                    "city,https://w3id.org/cohesion-kg/id/city/tiny-it-lucca,https://w3id.org/cohesion-kg/id/city/palermo,"
                    "invented pin for the test\n", encoding="utf-8")
    outcome = import_sources(["tiny"], root=root, alternate_names=None)
    decision = next(d for d in outcome.decisions if d.candidate.iri.endswith("city/tiny-it-lucca"))
    assert decision.status == "pinned" and decision.target.endswith("city/palermo")
    nq = (root / "var" / "imported" / "tiny.nq").read_text(encoding="utf-8")
    assert "city/tiny-it-lucca>" not in nq


def test_list_sources_says_what_is_present_and_what_the_last_import_read(root):
    import_sources(["tiny"], root=root, alternate_names=None)
    statuses = {s.name: s for s in list_sources(root)}
    assert statuses["tiny"].present and statuses["tiny"].rows == 8 and statuses["tiny"].last_import
    assert statuses["tiny"].licence == "CC0"
    assert not statuses["absent"].present and statuses["absent"].missing == ["inputs/absent.csv"]
    assert statuses["absent"].rows is None
