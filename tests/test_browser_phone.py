"""Issue 28 on a phone (390 px), in Chromium: the search page's filters and partner suggestions
are reached from above the results, no page is wider than the screen, the explorer's heatmap
names a tapped cell and its map opens on Europe; at 1366 px the search page keeps its columns."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]
PHONE = {"width": 390, "height": 844}
QUERY = "/?q=district+heating+phase-out"


def _top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_on_a_phone_the_filters_button_above_the_results_shows_the_filters_there(server, browser, shots):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + QUERY)
    first = "section.results li.card"
    toggle = page.locator("button.filters-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-controls") == "facets"
    assert _top(page, "button.filters-toggle") < _top(page, first) < 844
    partners = page.locator(".narrow-tools a.to-partners")  # the partner suggestions, one tap away
    assert partners.is_visible() and _top(page, ".narrow-tools a.to-partners") < _top(page, first)
    assert _top(page, "#f-kind") > _top(page, first)  # closed: the filters wait below the results
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "phone-search.png")

    toggle.click()  # a tap on a phone
    assert toggle.get_attribute("aria-expanded") == "true"
    assert _top(page, "button.filters-toggle") < _top(page, "#f-kind") < _top(page, first)
    assert page.locator("#f-kind").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "phone-search-filters.png")

    page.focus("#f-kind")
    page.select_option("#f-kind", "measure")  # htmx swaps the results: the filters stay open
    page.wait_for_url(lambda url: "kind=measure" in url)
    page.wait_for_selector("#f-kind option[value=measure][selected]", state="attached")
    assert page.locator("button.filters-toggle").get_attribute("aria-expanded") == "true"
    assert _top(page, "#f-kind") < _top(page, first)
    assert page.evaluate("document.activeElement.id") == "f-kind"  # focus kept where it was

    page.locator("button.filters-toggle").focus()
    page.keyboard.press("Enter")  # by keyboard: closed again, the filters back below the results
    assert page.locator("button.filters-toggle").get_attribute("aria-expanded") == "false"
    assert _top(page, "#f-kind") > _top(page, first)
    page.keyboard.press("Space")
    assert page.locator("button.filters-toggle").get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")  # the next stops are the link to the partners, then the filters
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#facets') !== null")

    page.click(".narrow-tools a.to-partners")
    page.wait_for_function("location.hash === '#partners-heading'")
    assert -2 < page.locator("#partners-heading").bounding_box()["y"] < 844  # scrolled to the top
    assert not errors, errors


def test_on_a_wide_screen_the_search_page_keeps_its_columns(server, browser, shots):
    page = browser.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(server + QUERY)
    assert not page.locator("button.filters-toggle").is_visible()
    assert not page.locator(".narrow-tools a.to-partners").is_visible()
    results, facets = page.locator("section.results").bounding_box(), page.locator("#facets").bounding_box()
    partners = page.locator(".partners-panel").bounding_box()
    assert facets["x"] + facets["width"] < results["x"]  # filters in the left column
    assert abs(partners["x"] - facets["x"]) < 2 and partners["y"] > facets["y"]  # the partners below them
    assert facets["y"] == pytest.approx(results["y"], abs=2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(path=shots / "wide-search.png", full_page=True)


def test_on_a_phone_the_explorer_fits_and_a_tapped_cell_names_its_cities(server, browser, shots):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/explorer")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wording = page.locator("section:has(#heatmap-heading) > p").first.inner_text()
    assert "Tap or select a cell" in wording and "Hover" not in wording
    status = page.locator("#heatmap-status")
    assert status.get_attribute("role") == "status" and status.is_visible()

    strong = page.locator("svg.heatmap rect[data-row][fill='#005a32']").first  # the deepest shade
    label = strong.get_attribute("aria-label")
    pilot, twin = label.split(": ")[0].split(" for ")
    strong.click()  # a tap: the heatmap scrolls inside its box, the names show above it
    assert status.inner_text() == label and "strong match" in label
    assert pilot in status.inner_text() and twin in status.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.keyboard.press("ArrowDown")  # by keyboard: arrows move, Enter names
    page.keyboard.press("Enter")
    below = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert status.inner_text() == below and below != label
    assert page.locator("svg.heatmap rect[data-row][tabindex='0']").count() == 1
    page.locator("#heatmap-status").scroll_into_view_if_needed()
    page.screenshot(path=shots / "phone-explorer-heatmap.png")

    map_box = page.locator("svg.europe").bounding_box()  # Europe, whole, within the screen
    assert map_box["x"] >= 0 and map_box["x"] + map_box["width"] <= PHONE["width"]
    dots_inside = page.evaluate("""() => {
      const map = document.querySelector('svg.europe').getBoundingClientRect();
      return [...document.querySelectorAll('svg.europe circle')].filter(c => c.querySelector('title')).map(c => {
        const r = c.getBoundingClientRect();
        return r.left >= map.left && r.right <= map.right && r.top >= map.top && r.bottom <= map.bottom;
      });
    }""")
    assert len(dots_inside) >= 90 and all(dots_inside)  # every pilot and twin shows without scrolling sideways
    page.screenshot(path=shots / "phone-explorer.png", full_page=True)
    assert not errors, errors
