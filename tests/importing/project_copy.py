"""A throwaway project root for import runs: the KG's curated data and the importer's reference file copied from
the project, plus whatever manifest, mappings and (invented) input files a test writes."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def project_root(tmp: Path, manifest: str = "sources: {}\n") -> Path:
    root = tmp / "project"
    shutil.copytree(PROJECT / "data", root / "data")
    (root / "imports" / "mappings").mkdir(parents=True)
    (root / "imports" / "decisions").mkdir()
    shutil.copy(PROJECT / "imports" / "reference.ttl", root / "imports" / "reference.ttl")
    (root / "imports" / "decisions" / "pinned.csv").write_text("kind,candidate,target,note\n", encoding="utf-8")
    (root / "imports" / "sources.yaml").write_text(manifest, encoding="utf-8")
    return root
