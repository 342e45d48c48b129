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
    assert re.search(r'<a href="/doc/heat\?s=[\w-]+" translate="no">Phasing coal out of district heating</a>', page)  # its search named
    assert "<mark>coal</mark>" in page
    assert re.search(r'<option value="energy"\s*>Energy \(3\)</option>', page)
    assert "illustrative" in page  # the workshop output is a sample
    assert page.count("<html") == 1
    assert 'id="f-module"' in page and 'id="f-twin"' not in page  # no document here names a twin city
    chosen = client.get("/", params={"q": "coal district heating", "twin": "Oulu"}).text
    assert 'id="f-twin"' in chosen and "No practice matches" in chosen  # a filter in use stays, to be changed


def test_htmx_gets_the_partial_and_the_page_includes_the_same(client):
    partial = client.get("/", params={"q": "coal"}, headers={"HX-Request": "true"}).text
    full = client.get("/", params={"q": "coal"}).text
    assert "<html" not in partial and 'class="cards"' in partial
    count, results = partial.strip().split("\n", 1)  # the count, swapped out of band into #result-count
    assert 'hx-swap-oob="true"' in count and 'id="result-count"' in count
    unnamed = lambda text: re.sub(r'(data-ref="|\?s=)[\w-]+', r"\1", text)  # each search has its own name
    assert unnamed(results.strip()) in unnamed(full) and 'id="result-count"' in full


def test_filters_and_an_empty_result_say_what_to_try(client):
    page = client.get("/", params={"q": "coal district heating", "country": "France"}).text
    results = page.split('<aside id="facets"')[0]  # the partner panel beside them has its own links
    assert '<a href="/doc/bus?s=' in results and '<a href="/doc/heat' not in results
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
    assert '<a href="/cities/Helsinki" translate="no">Helsinki</a>' in page
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
    assert '<a href="/cities/Helsinki" translate="no">Helsinki</a>' in page and "same country: Finland" in page
    assert 'href="/doc/heat"' in page
    bad = client.get("/partners", params={"challenge": "heat", "population": "lots"})
    assert bad.status_code == 422 and "population must be a whole number" in bad.text
    assert client.get("/partners", params={"challenge": "x" * 5000}).status_code == 422
    nothing = client.get("/partners", params={"challenge": "xqzzv"}).text
    assert "Nothing in the knowledge base matches this closely enough to name a partner" in nothing
    home = client.get("/", params={"q": "coal district heating"}).text
    assert "Pilot cities to learn from" in home


def test_explorer_and_its_csv_exports(client):
    page = client.get("/explorer").text  # no document names Oulu: no challenge, no matching pilot
    assert page.count("<svg") == 1 and "No pilot's documented practice matches a twin's challenge yet" in page
    assert "Oulu" in page and "<desc" in page and "The map as a list" in page  # the map's text alternative
    matrix = client.get("/explorer/heatmap.csv")
    assert matrix.headers["content-type"].startswith("text/csv")
    header, *rows = matrix.text.strip().splitlines()
    assert header == "twin" and rows == ["Oulu"]  # no pilot column: none matches
    suggestions = client.get("/explorer/suggestions.csv").text.splitlines()
    assert suggestions[0] == "twin,current pilots,rank,suggested pilot,country,reasons,evidence"
    assert client.get("/explorer/map.csv").text.startswith("city,country,role,lat,lon,paired with")
    assert client.get("/explorer", params={"domain": "space"}).status_code == 422
    picked = client.get("/explorer", params={"twin": "Oulu"}).text
    assert "Pilots for Oulu" in picked


def test_the_matching_team_records_a_pairing_from_the_explorer(client, indexed):
    import re

    indexed.accounts.add("team", "matching")
    credentials = indexed.accounts.reset("team")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "team", "password": credentials.password, "csrf_token": token})
    page = client.get("/explorer").text
    assert "Record a pairing" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = client.post("/explorer/pairings", data={"twin": "Oulu", "pilot": "Helsinki", "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303
    assert "Paired with" in client.get("/cities/Oulu").text and "Helsinki" in client.get("/cities/Oulu").text
    again = client.post("/explorer/pairings", data={"twin": "Oulu", "pilot": "Helsinki", "csrf_token": token})
    assert again.status_code == 422 and "already paired" in again.text


def test_a_city_named_in_documents_but_not_profiled_gets_a_page(client, kb, tmp_path):
    assert client.get("/cities/Kalamata").status_code == 404
    sync(kb, read_corpus(write_corpus(tmp_path / "more", {"k.md": "---\ntitle: Visit\nkind: portal_resource\n---\n"
                                                                   "Officers from Kalamata visited a heat pump plant.\n"},
                                      cities=None)))
    page = client.get("/cities/Kalamata")
    assert page.status_code == 200 and "not one of the cities" in page.text and '/doc/k"' in page.text
    assert client.get("/cities/Atlantis").status_code == 404


def test_a_search_in_another_language_says_which_english_words_it_also_looked_for(client, monkeypatch):
    from kb.embedding.fake import FakeEmbedder

    monkeypatch.setattr(FakeEmbedder, "multilingual", property(lambda self: True))
    page = client.get("/", params={"q": "kol fjärrvärme utan"})
    assert page.status_code == 200 and '<p class="hint" lang="en">Also looked for in English: <em>' in page.text
    assert client.get("/api/search", params={"q": "kol fjärrvärme utan"}).json()["english"]
    assert client.get("/api/search", params={"q": "coal district heating"}).json()["english"] == []
