import re

import pytest

from indexer import read_corpus, sync

from tests.conftest import write_corpus


def test_home_without_a_query_invites_one(client):
    page = client.get("/").text
    assert 'id="q"' in page and "district heating phase-out" in page and "/static/htmx.min.js" in page
    assert client.get("/static/htmx.min.js").status_code == 200


def test_home_with_a_query_shows_cards_facets_and_marks(client):
    page = client.get("/", params={"q": "coal district heating"}).text
    assert '<a href="/doc/heat">Phasing coal out of district heating</a>' in page
    assert "<mark>coal</mark>" in page
    assert re.search(r'<option value="energy"\s*>Energy \(3\)</option>', page)
    assert "illustrative" in page  # the workshop output is a sample
    assert page.count("<html") == 1


def test_htmx_gets_the_partial_and_the_page_includes_the_same(client):
    partial = client.get("/", params={"q": "coal"}, headers={"HX-Request": "true"}).text
    full = client.get("/", params={"q": "coal"}).text
    assert "<html" not in partial and 'class="cards"' in partial
    count, results = partial.strip().split("\n", 1)  # the count, swapped out of band into #result-count
    assert 'hx-swap-oob="true"' in count and 'id="result-count"' in count
    assert results.strip() in full and 'id="result-count"' in full


def test_filters_and_an_empty_result_say_what_to_try(client):
    page = client.get("/", params={"q": "coal district heating", "country": "France"}).text
    results = page.split('<aside id="facets"')[0]  # the partner panel beside them has its own links
    assert '<a href="/doc/bus">' in results and '<a href="/doc/heat">' not in results
    empty = client.get("/", params={"q": '"zeppelin hangar"'}).text
    assert "No practice matches" in empty and "removing the quotes" in empty


@pytest.mark.parametrize("params", [{"q": "x" * 1001}, {"q": "heat", "domain": "space"}, {"q": "heat", "mode": "x"}])
def test_bad_page_requests_are_422_with_a_message(client, params):
    response = client.get("/", params=params)
    assert response.status_code == 422 and "Please change your search" in response.text
    partial = client.get("/", params=params, headers={"HX-Request": "true"})
    assert partial.status_code == 422 and "<html" not in partial.text


def test_user_text_is_escaped(client):
    page = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_practice_page_renders_markdown_metadata_and_similar(client):
    page = client.get("/doc/heat").text
    assert "<h2>Challenge</h2>" in page and "Similar practices" in page and '/doc/visit"' in page
    assert '<a href="/cities/Helsinki">Helsinki</a>' in page
    sample = client.get("/doc/visit").text
    assert "This document is <strong>illustrative</strong>" in sample


def test_a_missing_practice_is_a_404_page(client):
    response = client.get("/doc/no-such-practice")
    assert response.status_code == 404 and "No practice has the id" in response.text and "<html" in response.text


def test_markdown_is_sanitised(kb, tmp_path, client):
    body = "# Hi\n<script>alert(1)</script>\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
    sync(kb, read_corpus(write_corpus(tmp_path / "evil", {"evil.md": f"---\ntitle: Evil\nkind: portal_resource\n---\n{body}"},
                                      cities=None)))
    page = client.get("/doc/evil").text
    assert "&lt;script&gt;alert(1)" in page and "<script>alert" not in page
    assert "href=\"javascript" not in page and "<img" not in page


def test_city_pages(client):
    page = client.get("/cities/Helsinki").text
    assert "Pilot city" in page and "656,000" in page and "/doc/heat" in page and "/doc/visit" in page
    assert "Oulu" in client.get("/cities").text
    assert client.get("/cities/Atlantis").status_code == 404


def test_partners_page_and_panel(client):
    page = client.get("/partners", params={"challenge": "coal district heating", "country": "Finland"}).text
    assert '<a href="/cities/Helsinki">Helsinki</a>' in page and "same country: Finland" in page
    assert 'href="/doc/heat"' in page
    bad = client.get("/partners", params={"challenge": "heat", "population": "lots"})
    assert bad.status_code == 422 and "population must be a whole number" in bad.text
    assert client.get("/partners", params={"challenge": "x" * 5000}).status_code == 422
    home = client.get("/", params={"q": "coal district heating"}).text
    assert "Pilot cities to learn from" in home


def test_explorer_and_its_csv_exports(client):
    page = client.get("/explorer").text
    assert page.count("<svg") == 2 and "Similarity between cities" in page and "Oulu" in page
    matrix = client.get("/explorer/similarity.csv")
    assert matrix.headers["content-type"].startswith("text/csv")
    header, *rows = matrix.text.strip().splitlines()
    assert header.startswith("city,") and len(rows) == len(header.split(",")) - 1
    suggestions = client.get("/explorer/suggestions.csv").text.splitlines()
    assert suggestions[0] == "twin,rank,pilot,country,score,reasons,evidence"
