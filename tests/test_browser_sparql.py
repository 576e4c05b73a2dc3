"""The SPARQL editor page in headless Chromium: YASGUI loads from node_modules, shows the examples, runs them."""

from __future__ import annotations

from server.sparql import EXAMPLES

from .browser import screenshot


def test_yasgui_opens_every_example_and_runs_them(live_server, page):
    page.goto(live_server + "/sparql", wait_until="networkidle")
    page.wait_for_selector(".yasqe .CodeMirror")
    tabs = page.locator(".tabsList .tab")
    assert [tabs.nth(i).inner_text().strip(" ✖\n") for i in range(tabs.count())] == [title for title, _ in EXAMPLES]
    for i, (title, body) in enumerate(EXAMPLES[:2]):
        tabs.nth(i).click()
        editor = page.locator(".tabPanel.active .CodeMirror")
        assert body.splitlines()[0] in editor.evaluate("e => e.CodeMirror.getValue()")
        page.locator(".tabPanel.active .yasqe_queryButton").click()
        # Drawn first in the view that fits the results (server/static/views.js), then as the table.
        page.wait_for_selector(".tabPanel.active .yasr_results > *", timeout=15000)
        page.locator(".tabPanel.active .yasr_btn.select_table").click()
        page.wait_for_selector(".tabPanel.active .yasr table tbody tr", timeout=15000)
        assert page.locator(".tabPanel.active .yasr table tbody tr").count() > 1
        screenshot(page, f"sparql-editor-{i + 1}")
    assert page.console_errors == []
