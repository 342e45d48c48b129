"""Issue 28: result snippets as plain text (no Markdown marks), the search page's narrow-screen
controls (a Filters button and a link to the partner suggestions above the results), and the
explorer's heatmap cells that a tap or Enter names (static/app.js), in the served HTML. The
layout itself is checked in Chromium: tests/test_browser_phone.py."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kb.documents import markdown_to_plain
from kb.search import plain, snippet
from search_app import create_app
from tests.conftest import DOCS, write_corpus


@pytest.mark.parametrize("markdown, text", [
    ("## Delivery outline\n\n| Time | Item | Who |\n|---|:---:|---|\n| 9:00 | Welcome | Mayor |",
     "Delivery outline Time · Item · Who; 9:00 · Welcome · Mayor;"),
    ("- **Single point of contact** for householders\n- __Neighbourhood__ focus", "Single point of contact for householders Neighbourhood focus"),
    ("# Heading #\n### Sub-heading\ntext", "Heading Sub-heading text"),
    ("> A quote with `code` and ~~struck~~ words", "A quote with code and struck words"),
    ("See [the report](https://example.org/r.pdf) and ![a chart](chart.png) at <https://example.org>.",
     "See the report and a chart at https://example.org."),
    ("1. first\n2) second\n- [x] done\n* starred", "first second done starred"),
    ("<script>alert('x')</script> stays text", "<script>alert('x')</script> stays text"),  # escaped where shown
    ("```\ncode block\n```\n---\nafter the rule", "code block after the rule"),
    ("keep snake_case, 5 * 3, a*b and \\*escaped\\* marks", "keep snake_case, 5 * 3, a*b and *escaped* marks"),
    ("half a table row | cut | here |", "half a table row | cut | here |"),  # not a row: text with bars stays
])
def test_markdown_becomes_one_line_of_plain_text(markdown, text):
    assert markdown_to_plain(markdown) == text


def test_snippets_are_built_from_the_plain_text():
    passage = "## Delivery outline\n\n| Phase | Content | Lead |\n|---|---|---|\n| **Launch** | open the hub | staff |"
    assert plain(passage) == "Delivery outline Phase · Content · Lead; Launch · open the hub · staff;"
    text, marked = snippet(passage, ("hub",))
    assert "|" not in text and "**" not in text and "#" not in text
    assert "<mark>hub</mark>" in marked and "|" not in marked


MARKDOWN_DOC = """\
    ---
    id: agenda
    title: Agenda of the heat pump study visit
    kind: workshop_output
    module: co-creation
    city: Helsinki
    country: Finland
    domains: [energy]
    ---
    ## Programme

    | Time | Item | Who |
    |---|---|---|
    | 9:00 | **Heat pump** plant tour | Helen Oy |
    | 11:00 | Questions on _district heating_ | everyone |

    - Bring **safety shoes**.
    """


def test_the_search_page_shows_snippets_without_markdown(kb, tmp_path):
    from indexer import read_corpus, sync

    report = sync(kb, read_corpus(write_corpus(tmp_path / "corpus", {**DOCS, "agenda.md": MARKDOWN_DOC})))
    assert not report.errors
    with TestClient(create_app(kb), raise_server_exceptions=False) as client:
        page = client.get("/", params={"q": "heat pump plant tour agenda"}).text
    passages = re.findall(r'<p class="passage"[^>]*>(.*?)</p>', page, re.S)
    agenda = [p for p in passages if "plant tour" in re.sub(r"</?mark>", "", p)]
    assert agenda, passages
    assert not re.search(r"\||\*\*|(^|\s)#|_district", agenda[0]), agenda[0]
    assert "Time · Item · Who;" in agenda[0] and "everyone; Bring safety shoes." in agenda[0]


def test_the_search_page_has_a_filters_button_and_a_link_to_the_partners_above_the_results(client):
    page = client.get("/", params={"q": "coal district heating"}).text
    tools, rest = page.split('<section class="results"', 1)
    assert re.search(r'<button type="button" class="filters-toggle" aria-expanded="false" aria-controls="facets" hidden>'
                     r"Filters</button>", tools)
    assert '<a class="to-partners" href="#partners-heading">Pilot cities to learn from</a>' in tools
    assert '<aside id="facets"' in rest and 'id="partners-heading"' in rest.split('<aside id="facets"', 1)[1]
    filtered = client.get("/", params={"q": "coal district heating", "domain": "energy"}).text
    assert "Filters <span class=\"filters-on\">(1)</span></button>" in filtered
    assert "filters-toggle" not in client.get("/").text  # no results, no filters


def test_heatmap_cells_are_one_tab_stop_and_name_their_cities(client, indexed):
    import numpy as np

    from kb.matching import Heatmap
    from search_app.charts import heatmap

    data = Heatmap(("Oulu", "Chalkida"), ("Helsinki", "Dunkerque"), np.array([[0.9, 0.0], [0.2, 0.5]]), {})
    svg = str(heatmap(data))
    cells = re.findall(r"<rect [^>]*data-row[^>]*>", svg)
    assert len(cells) == 4 and sum('tabindex="0"' in c for c in cells) == 1
    assert 'aria-label="Helsinki for Oulu: strong match"' in svg
    assert 'aria-label="Dunkerque for Oulu: no matching practice"' in svg
    assert 'aria-label="Helsinki for Chalkida: weak match"' in svg
    assert 'role="img"' not in svg.split(">", 1)[0]  # a group: its cells are controls
    page = client.get("/explorer").text  # no cell (nothing matches): no status line
    assert 'id="heatmap-status"' not in page and "Tap or select a cell" in page
