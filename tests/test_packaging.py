"""The wheel as pre-commit and `pip install` use it (issue 14, defect 1): built from the sources, installed
non-editable into a fresh virtual environment, and run from a folder outside the checkout. A wheel once lacked
kg's subpackages and the page templates, so the installed `kg validate` died with ModuleNotFoundError, and the
`/vendor/` assets of the pages pointed into a node_modules folder that only a checkout has.

About a minute: one wheel build (pip's isolated build, with setuptools from the package index or pip's cache),
one install, three validations, one build and one served page."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests
import yaml

from kg.config import ROOT

from .live import free_port

# What kg reads at run time besides its code; installed under <prefix>/share/cohesion-kg (kg/config.py).
DATA_FOLDERS = ("ontology", "shapes", "data", "queries", "imports")
# Not sources of the package: left out of the copy the wheel is built from.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    "node_modules", "tests", "bench",
)
VENDOR = re.compile(r'(?:src|href)="(/vendor/[^"]+)"')

INVALID = """\
@prefix ckg: <https://w3id.org/cohesion-kg/ontology/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

# A project with a label and nothing else: no dates, no programme, no participations.
<https://w3id.org/cohesion-kg/id/project/packaging-test> a ckg:Project ;
    rdfs:label "Packaging test"@en .
"""
VALID = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<https://example.org/packaging-test> rdfs:comment "A note no shape is about."@en .
"""
BROKEN = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<https://example.org/packaging-test> rdfs:comment "no final dot"@en
<https://example.org/other> rdfs:comment "x"@en .
"""


class Installed:
    def __init__(self, venv: Path, outside: Path, wheel: Path):
        self.venv, self.outside, self.wheel = venv, outside, wheel
        self.bin = venv / "bin"
        self.site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
        self.share = venv / "share" / "cohesion-kg"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KG_", "COV_CORE_", "PYTHON", "VIRTUAL_ENV"))}
        # As pre-commit runs a hook: the hook's environment first on PATH.
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        self.env = env

    def run(self, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(list(command), cwd=self.outside, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def kg(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(str(self.bin / "kg"), *args)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    # Built from a copy: an in-tree build leaves build/lib behind, whose stale modules a later wheel would carry.
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    modules = ROOT / "server" / "web" / "node_modules"
    assert modules.is_dir(), "server/web/node_modules is missing: run `make setup` (npm ci) before building a wheel"
    (source / "server" / "web" / "node_modules").symlink_to(modules, target_is_directory=True)
    wheels = work / "wheels"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                           str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = wheels.glob("cohesion_kg-*.whl")

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--quiet", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    found = Installed(venv, work / "elsewhere", wheel)
    found.outside.mkdir()
    # The dependencies come from this environment, after the fresh one's own site-packages so that the wheel's
    # kg and server win over the checkout's editable install (whose finder a .pth line does not activate).
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (found.site / "zz-test-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(here)))
    return found


def test_the_installed_kg_is_the_wheel_and_reads_its_own_data(installed):
    done = installed.run(str(installed.bin / "python"), "-c", "import kg, kg.config, server; "
                         "print(kg.__file__); print(server.__file__); print(kg.config.ROOT)")
    assert done.returncode == 0, done.stderr
    kg_file, server_file, root = done.stdout.split()
    assert Path(kg_file).is_relative_to(installed.site)
    assert Path(server_file).is_relative_to(installed.site)
    assert Path(root) == installed.share


def _sources(folder: str) -> list[str]:
    """The files under `folder` a clean checkout has: git's list (tracked, or new and not ignored) where there is
    one, so that what a run or an import leaves behind is not asked of the wheel."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", folder],
                                cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout.split("\n")
        return sorted(name for name in listed if name and (ROOT / name).is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts)


def test_the_wheel_holds_every_module_template_and_data_file(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    code = [n for top in ("kg", "server") for n in _sources(top) if n.endswith(".py")]
    assert "kg/network/__init__.py" in code and "server/app.py" in code
    pages = [n for folder in ("server/templates", "server/static") for n in _sources(folder)]
    assert "server/templates/kinds/project.html" in pages
    missing = [n for n in code + pages if n not in names]
    assert not missing, f"not in the wheel: {missing}"
    data = [n for folder in DATA_FOLDERS for n in _sources(folder)]
    missing = [n for n in data if not (installed.share / n).is_file()]
    assert not missing, f"not installed under share/cohesion-kg (pyproject's data-files): {missing}"


def test_every_vendor_asset_a_template_names_is_in_the_wheel(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    named = set()
    for template in (ROOT / "server" / "templates").rglob("*.html"):
        named |= set(re.findall(r"url_for\('sparql\.vendor', path='([^']+)'\)", template.read_text()))
    assert named, "no template names a /vendor/ asset: this test no longer checks them"
    for path in named:
        assert f"server/web/node_modules/{path}" in names


def test_validate_outside_the_checkout_exits_0_1_and_2(installed):
    done = installed.kg("validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conforms: 0 violations" in done.stdout

    (installed.outside / "invalid.ttl").write_text(INVALID)
    done = installed.kg("validate", "invalid.ttl")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invalid.ttl:5: violation" in done.stdout

    (installed.outside / "broken.ttl").write_text(BROKEN)
    done = installed.kg("validate", "broken.ttl")
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(r"kg: error: broken.ttl:4:\d+: \S", done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_the_pre_commit_hook_runs_from_the_wheel(installed):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (installed.outside / "valid.ttl").write_text(VALID)
    (installed.outside / "invalid.ttl").write_text(INVALID)
    for name in ("valid.ttl", "invalid.ttl"):
        assert re.search(hook["files"], name)
    # As pre-commit runs it: the entry split like a shell would, the staged files appended, the hook's
    # environment first on PATH, in the root of the other repository.
    assert hook["pass_filenames"]
    entry = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    done = installed.run(*entry, "valid.ttl")
    assert done.returncode == 0, done.stdout + done.stderr
    done = installed.run(*entry, "valid.ttl", "invalid.ttl")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invalid.ttl:5: violation" in done.stdout


def test_build_and_serve_the_query_editor_outside_the_checkout(installed):
    link = installed.outside / "store"
    done = installed.kg("build", "--store", str(link))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "built " in done.stdout

    port = free_port()
    server = subprocess.Popen(
        [str(installed.bin / "kg"), "serve", "--store", str(link), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=installed.outside, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert server.poll() is None, "kg serve stopped: " + server.communicate(timeout=10)[0]
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        page = requests.get(base + "/sparql", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200
        assert "yasgui" in page.text.lower()
        assets = VENDOR.findall(page.text)
        assert any(a.endswith("yasgui.min.js") for a in assets), assets
        network = requests.get(base + "/network", headers={"Accept": "text/html"}, timeout=30)
        assert network.status_code == 200
        assets += VENDOR.findall(network.text)
        for asset in assets:
            answer = requests.get(base + asset, timeout=30)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 1000, asset
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert server.returncode == 0, server.communicate(timeout=10)[0]  # README: `kg serve` stopped exits 0
