"""The interface in a twin's language, end to end in Chromium: the search, a practice, the note
form with its errors, the workspace and the plan editor in Swedish (chosen with the switch),
Polish (kept in the cookie), Greek (the browser's Accept-Language) and the pseudo-locale, at
390 and 1366 px; on each page `<html lang>` is the language, axe-core finds nothing, nothing is
wider than the screen, and in the pseudo-locale no visible text is left outside the catalogues
but the documents' own (marked with their `lang`) and names (`translate="no"`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from search_app.i18n import PSEUDO
from tests.browsing import account as _account
from tests.browsing import axe as _axe

pytestmark = [pytest.mark.browser, pytest.mark.model]
WIDTHS = {390: 844, 1366: 900}
HOW = {"sv": "switch", "pl": "cookie", "el": "accept-language", PSEUDO: "cookie"}
ENGLISH_NAV = "Search practices"

# Visible text nodes with letters that no catalogue string wraps (⟦…⟧ in the pseudo-locale), outside form fields (what people wrote),
# other than documents' text in its own language and names marked translate="no".
OUTSIDE_CATALOGUES = """() => {
  const page = document.documentElement.lang, found = [];
  const inside = (el, text) => {  // the node starts within a wrapper opened before it
    for (let a = el; a; a = a.parentElement) {
      const full = a.textContent, at = full.indexOf(text), before = full.slice(0, at);
      if (at >= 0 && before.lastIndexOf('⟦') > before.lastIndexOf('⟧')) return true;
      if (a === document.body) return false;
    }
    return false;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.trim(), el = node.parentElement;
    if (!/\\p{L}/u.test(text) || el.closest('script, style, template, textarea, [translate=no], [hidden]')) continue;
    const marked = el.closest('[lang]');
    if ((marked && marked.lang !== page) || !el.getClientRects().length) continue;
    let rest = text;
    if (inside(el, text)) rest = rest.includes('⟧') ? rest.slice(rest.indexOf('⟧') + 1) : '';
    while (/⟦[^⟦⟧]*⟧/.test(rest)) rest = rest.replace(/⟦[^⟦⟧]*⟧/g, '');  // wrappers, innermost first
    if (rest.includes('⟦')) rest = rest.slice(0, rest.indexOf('⟦'));  // a wrapper that goes on after this node
    if (/\\p{L}/u.test(rest)) found.push(text.slice(0, 60) + '  <' + el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + '>');
  }
  return [...new Set(found)];
}"""


@pytest.fixture(scope="module")
def people(browser_data):
    twin = _account(browser_data, "lang-twin", "twin", "Chalkida")
    pilot = _account(browser_data, "lang-pilot", "pilot", "Kalamata")
    subprocess.run([sys.executable, "-m", "kb", "pairings", "add", "Chalkida", "Kalamata", "--data",
                    str(browser_data)], check=True, capture_output=True)
    return {"twin": twin, "pilot": pilot}


def _choose(page, browser, server, language: str) -> None:
    browser.clear_cookies()
    page.set_extra_http_headers({})
    how = HOW[language]
    if how == "cookie":
        browser.add_cookies([{"name": "lang", "value": language, "url": server}])
    elif how == "accept-language":
        page.set_extra_http_headers({"Accept-Language": f"{language}-{language.upper()},{language};q=0.9,en;q=0.5"})
    page.goto(server + "/")
    if how == "switch":
        page.select_option("#interface-language", language)
        page.click("form.language button[type=submit]")
        page.wait_for_load_state()


def _check(page, language: str, width: int, name: str, shots) -> list:
    """What every page must show; the problems found, for one assertion at the end."""
    problems = []
    if page.get_attribute("html", "lang") != language:
        problems.append((name, "html lang", page.get_attribute("html", "lang")))
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width:
        problems.append((name, "wider than the screen", wide))
    if language == PSEUDO:
        problems += [(name, "outside the catalogues", text) for text in page.evaluate(OUTSIDE_CATALOGUES)]
    elif page.locator("header.site nav a[href='/']").inner_text().strip() == ENGLISH_NAV:
        problems.append((name, "the header is still English", ENGLISH_NAV))
    problems += [(name, *v[1:]) for v in _axe(page)]
    page.screenshot(path=shots / f"{language}-{width}-{name}.png", full_page=True)
    return problems


def _log_in(page, server, credentials) -> None:
    page.goto(server + "/login")
    page.fill("#username", credentials["username"])
    page.fill("#password", credentials["password"])
    page.click("form.partners-form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", HOW)
def test_a_twin_and_a_pilot_work_in_their_language(server, browser, people, shots, language, width):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    _choose(page, browser, server, language)
    problems = []

    page.goto(server + "/?q=fj%C3%A4rrv%C3%A4rme+utan+fossila+br%C3%A4nslen")
    page.wait_for_selector("section.results li.card")
    problems += _check(page, language, width, "search", shots)
    page.locator("section.results li.card h3 a").first.click()
    page.wait_for_load_state()
    problems += _check(page, language, width, "practice", shots)

    _log_in(page, server, people["pilot"])
    page.goto(server + "/notes/new")
    page.fill("#challenge", "Coal leaves the district heating network by 2029.")
    page.click("form.note-form button[type=submit]")
    page.wait_for_selector("#error-summary")
    if language != PSEUDO and page.inner_text("#title-error") == "Give the title.":
        problems.append(("note form", "the field's error is English", "Give the title."))
    problems += _check(page, language, width, "note-errors", shots)
    page.click("header.site button.link")  # log out
    page.wait_for_load_state()

    _log_in(page, server, people["twin"])
    page.goto(server + "/workspace")
    problems += _check(page, language, width, "workspace", shots)
    page.goto(server + "/workspace/plan")
    page.wait_for_selector("#plan-form")
    problems += _check(page, language, width, "plan", shots)
    page.click("header.site button.link")
    assert problems == []
