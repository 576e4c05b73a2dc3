"""The search box on every page, in headless Chromium against `kg serve`: typing shows suggestions as you type,
the arrow keys and Enter (or a click) reach the entity, and Enter without a choice opens the full results."""

from __future__ import annotations

from .browser import screenshot


def test_typing_shows_suggestions_and_reaches_the_entity(live_server, page):
    page.goto(live_server + "/queries", wait_until="networkidle")
    box = page.locator("form.site-search input[name=q]")
    box.click()
    box.press_sequentially("torin", delay=40)
    options = page.locator("form.site-search ul.suggestions li")
    options.first.wait_for(state="visible", timeout=5000)
    texts = options.all_inner_texts()
    assert texts[0].startswith("Turin"), texts
    assert "city · Italy" in texts[0]
    screenshot(page, "search-suggestions")
    box.press("ArrowDown")
    assert page.locator("form.site-search ul.suggestions li.active").count() == 1
    with page.expect_navigation():
        box.press("Enter")
    assert page.url == live_server + "/id/city/turin"
    assert page.locator("h1").inner_text() == "Turin"
    assert page.console_errors == []


def test_a_click_on_a_suggestion_and_enter_without_one(live_server, page):
    page.goto(live_server + "/", wait_until="networkidle")
    box = page.locator("form.site-search input[name=q]")
    box.fill("malmo st")
    option = page.locator("form.site-search ul.suggestions li", has_text="City of Malmö")
    option.wait_for(state="visible", timeout=5000)
    with page.expect_navigation():
        option.click()
    assert page.url == live_server + "/id/organisation/city-of-malmo"

    box = page.locator("form.site-search input[name=q]")
    box.fill("palermo")
    page.locator("form.site-search ul.suggestions li").first.wait_for(state="visible", timeout=5000)
    with page.expect_navigation():  # no suggestion chosen: the form goes to the results page
        box.press("Enter")
    assert page.url.startswith(live_server + "/search?q=palermo")
    hits = page.locator("ol.hits li.hit a.label")
    assert hits.first.inner_text() == "Palermo"
    assert hits.count() >= 3
    assert page.console_errors == []
