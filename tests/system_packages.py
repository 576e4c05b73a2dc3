"""System components some tests need (Chromium, Virtuoso): Debian packages, installed by the tests themselves
where they can be (root with apt-get), else the tests skip with the reason; under CI=true a missing component
fails them instead, as CI must not pass by testing nothing."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess

import pytest

from kg.config import ROOT


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: these tests may not be skipped)")
    pytest.skip(reason)


def command(package: str, *names: str, after_install=None) -> str:
    """The path of the first of `names` on PATH, installing Debian's `package` for it when possible;
    `after_install()` runs once the package was installed here (not when it was there already)."""
    found = _which(names)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        unavailable(f"{names[0]} is not installed and cannot be installed here (needs root and apt-get): "
                    f"apt-get install {package}")
    lock = ROOT / "var" / "apt.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:  # test processes must not run apt at once, for one package or two
        fcntl.flock(held, fcntl.LOCK_EX)
        # noninteractive: packages that ask questions (Virtuoso's dba password) take their defaults.
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", package]
        installed = not _which(names)  # else another test process installed it while this one waited
        if installed and subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            done = subprocess.run(install, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                unavailable(f"apt-get install {package} failed: " + done.stderr.strip()[-500:])
        if installed and after_install is not None:
            after_install()
    return _which(names) or unavailable(f"apt-get installed {package} but no {names[0]} command is on PATH")


def _which(names) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)
