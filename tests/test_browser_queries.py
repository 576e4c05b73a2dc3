"""The catalogue of named queries in headless Chromium: from the list to a query, its form, its results."""

from __future__ import annotations

import pytest

from .browser import screenshot

CRISCO = "https://w3id.org/cohesion-kg/id/project/crisco"


def test_a_named_query_runs_from_its_form_and_shows_the_results(live_server, page):
    # Errors of the page itself; a browser's own request for /favicon.ico is none of its business.
    errors = []
    page.on("console", lambda m: m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/queries")
    page.get_by_role("link", name="Partners of a project").click()
    page.wait_for_url("**/queries/project-partners")
    # The defaults run at once: CoNet's 13 organisations.
    assert page.locator("table.results tbody tr").count() == 13

    page.select_option("#param-project", value=CRISCO)
    page.fill("#param-lang", "it")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/queries/project-partners?*lang=it*")

    rows = page.locator("table.results tbody tr")
    assert rows.count() == 10  # CRISCO's ten partners
    etterbeek = rows.filter(has_text="Comune di Etterbeek")
    assert etterbeek.count() == 1
    assert etterbeek.locator("td").nth(1).inner_text() == "Coordinatore"
    assert etterbeek.get_by_role("link", name="Comune di Etterbeek").get_attribute("href") == "/id/organisation/city-of-etterbeek"
    assert page.locator("#param-project").input_value() == CRISCO  # the form keeps what was asked
    screenshot(page, "named-query")
    assert not errors, errors


def test_the_editor_link_opens_the_bound_query_in_the_sparql_editor(live_server, page):
    page.goto(live_server + "/queries/coordinators?lang=it")
    page.get_by_role("link", name="SPARQL editor").click()
    page.wait_for_selector(".yasqe .CodeMirror")
    text = page.evaluate("() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "named query coordinators" in text and 'VALUES (?lang) { ("it") }' in text
