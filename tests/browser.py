"""Headless Chromium for browser tests: Debian's chromium, driven by Playwright, against `kg serve`.

A pytest plugin (loaded by conftest.py). Chromium is a system component: where it is missing and this is root
with apt, it is installed; elsewhere the browser tests skip with the reason, except under CI=true, where a
missing browser fails them (CI must not pass by testing nothing). Screenshots go to var/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.config import ROOT

from .live import serving
from .system_packages import command, unavailable

SCREENSHOTS = ROOT / "var" / "screenshots"
# Chromium's own background traffic is refused on closed networks; WebGL (the network view) needs SwiftShader
# when there is no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]


def chromium() -> str:
    """The chromium executable, installing Debian's package when possible."""
    return command("chromium", "chromium", "chromium-browser")


@pytest.fixture(scope="session")
def live_server(disk_store):
    """Base URL (http://127.0.0.1:PORT) of `kg serve` over the session's build of the real KG (conftest.py)."""
    with serving(disk_store, "--workers", "2") as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser):
    """A fresh page; console errors of the page are collected in page.console_errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    new = context.new_page()
    new.console_errors = []
    new.on("console", lambda m: m.type == "error" and new.console_errors.append(m.text))
    new.on("pageerror", lambda e: new.console_errors.append(str(e)))
    yield new
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
