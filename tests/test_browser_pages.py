"""A project's page in headless Chromium: the partner table and the embedded schema.org JSON-LD are there."""

from __future__ import annotations

import json

from kg.namespaces import BASE

from .browser import screenshot


def test_conet_page_shows_partners_and_embeds_schema_org(live_server, page):
    response = page.goto(live_server + "/id/project/conet", wait_until="networkidle")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "CoNet – Cohesion Network"

    rows = page.locator("#partner-table tbody tr")
    assert rows.count() == 13
    first = rows.nth(0).locator("td")
    assert first.nth(0).inner_text().startswith("City of Berlin")
    assert first.nth(1).inner_text() == "Coordinator"
    assert first.nth(2).inner_text() == "Berlin"
    assert first.nth(3).inner_text() == "Germany"

    embedded = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert embedded["@id"] == BASE + "id/project/conet"
    assert embedded["@type"] == "Project"
    assert len(embedded["member"]) == 13

    # The language switch turns the page Italian and keeps the choice on the links.
    page.get_by_role("link", name="IT", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("#partner-table thead").inner_text().split("\t")[:3] == ["Organizzazione", "Ruolo", "Città"]
    assert page.locator("#partner-table tbody tr").nth(0).locator("td").nth(0).inner_text().startswith("Città di Berlino")
    page.get_by_role("link", name="EN", exact=True).click()
    page.wait_for_load_state("networkidle")

    screenshot(page, "project-conet")
    assert page.console_errors == []
