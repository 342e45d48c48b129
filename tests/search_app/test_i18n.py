"""Which language a request is answered in, and the switch that changes it."""

from datetime import UTC, datetime

import pytest

from search_app import i18n
from tests.search_app.test_notes import csrf_of, login


@pytest.mark.parametrize("header, expected", [
    ("sv-SE,sv;q=0.9,en;q=0.5", "sv"), ("el-GR", "el"), ("ja, pt-BR;q=0.4", "pt"), ("ja", "en"), (None, "en"),
    ("de;q=0.2, fi;q=0.8", "fi"), ("pl;q=0, ro", "ro"), ("x" * 2000, "en"), ("sv;q=abc, nl", "nl"),
])
def test_accept_language_is_read_by_preference(header, expected):
    assert i18n.negotiate(header) == expected


def test_the_account_comes_first_then_the_cookie_then_the_header_and_the_api_reads_the_header_alone():
    assert i18n.choose("pl", "sv", "el") == "pl"
    assert i18n.choose(None, "sv", "el") == "sv"
    assert i18n.choose(None, "tlh", "el") == "el"  # a cookie naming no language of ours is passed over
    assert i18n.choose("pl", "sv", None, api=True) == "en"
    assert i18n.choose("pl", "sv", "el", api=True) == "el"


def test_dates_and_numbers_follow_the_language():
    i18n.use("sv")
    assert i18n.when("2026-12-07T14:07:33Z") == "7 dec. 2026 14:07 UTC"
    assert i18n.number(1234.5) == "1\xa0234,5"
    i18n.use("en")
    assert i18n.when("2026-12-07T14:07:33Z") == "Dec 7, 2026 2:07\u202fPM UTC"  # CLDR's narrow space
    assert i18n.when("not a time") == "not a time"
    now = datetime(2026, 12, 7, 17, 7, tzinfo=UTC)
    assert i18n.ago("2026-12-07T14:07:33Z", now) == "3 hours ago"
    i18n.use("pl")
    assert i18n.ago("2026-12-07T14:07:33Z", now) == "3 godziny temu"


def test_a_page_says_its_language_and_the_switch_keeps_the_choice(client):
    page = client.get("/", headers={"Accept-Language": "el-GR,el;q=0.9"})
    assert '<html lang="el">' in page.text and page.headers["content-language"] == "el"
    assert "Accept-Language" in page.headers["vary"]
    switched = client.get("/language", params={"lang": "sv", "back": "/cities"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/cities"
    assert "lang=sv" in switched.headers["set-cookie"]
    page = client.get("/cities", headers={"Accept-Language": "el"})  # the cookie, kept by the client, wins
    assert '<html lang="sv">' in page.text


@pytest.mark.parametrize("next_page", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_switch_goes_back_only_to_a_page_of_this_site(client, next_page):
    answer = client.get("/language", params={"lang": "fi", "back": next_page}, follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_the_switch_refuses_a_language_it_does_not_have(client):
    answer = client.get("/language", params={"lang": "tlh"})
    assert answer.status_code == 422 and "is not a language of this interface" in answer.text


def test_a_logged_in_account_keeps_its_choice(client, creds, indexed):
    login(client, creds, "oulu")
    token = csrf_of(client.get("/account").text)
    answer = client.post("/language", data={"lang": "pl", "back": "/account", "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert indexed.accounts.get("oulu").language == "pl"
    client.cookies.delete("lang")
    assert '<html lang="pl">' in client.get("/account").text  # the account's choice, without the cookie


def test_the_api_answers_in_english_unless_asked(client):
    english = client.get("/api/docs/no-such-document")
    assert english.status_code == 404 and english.headers["content-language"] == "en"


def test_the_api_speaks_the_language_accept_language_asks_for(client, creds):
    from kb.messages import translate

    token = {"Authorization": f"Bearer {creds['hel'].token}"}
    english = client.post("/api/notes", json={"challenge": "Coal must go."}, headers=token)
    swedish = client.post("/api/notes", json={"challenge": "Coal must go."},
                          headers={**token, "Accept-Language": "sv-SE,sv;q=0.9"})
    assert english.status_code == swedish.status_code == 422
    assert "title: Give the title." in english.json()["detail"]  # the English contract, unchanged
    assert f"title: {translate('Give the title.', 'sv')}" in swedish.json()["detail"]
    assert swedish.headers["content-language"] == "sv"


def test_the_note_form_says_what_to_correct_in_the_readers_language(client, creds):
    from kb.messages import translate

    login(client, creds, "hel")
    client.cookies.set("lang", "el")
    form = client.get("/notes/new")
    answer = client.post("/notes/new", data={"challenge": "Coal must go.", "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 422 and '<html lang="el">' in answer.text
    assert translate("Give the title.", "el") in answer.text and "Give the title." not in answer.text


def test_each_text_of_a_page_is_marked_with_its_own_language(client, creds, indexed):
    """A Greek note with an English report: the page is Greek to a Greek reader, the note's own
    sections are Greek, the report's English, each snippet its passage's; the Greek filter finds it."""
    import re

    from kb.notes import Notes
    from tests.kb.test_extract import docx_bytes
    from tests.kb.test_notes import GREEK, REPORT

    note = Notes(indexed).create(indexed.accounts.get("hel"), {**GREEK, "language": ""},
                                 uploads=[("report.docx", docx_bytes(lambda d: d.add_paragraph(REPORT)))])
    client.cookies.set("lang", "el")
    page = client.get(f"/doc/{note.id}").text
    assert '<html lang="el">' in page and f'<h1 lang="el">{GREEK["title"]}</h1>' in page
    body = page.split('<div class="body" lang="el">', 1)[1].split("</article>", 1)[0]
    english = re.findall(r'<div lang="en">(.*?)</div>', body, re.S)
    assert english and "heat pumps" in english[0] and "Αντλίες" not in "".join(english)
    results = client.get("/", params={"q": "heat pumps waste water", "language": "el"}).text
    assert f'href="/doc/{note.id}' in results
    languages = set(re.findall(r'<p class="passage" lang="([a-z]+)"', results))
    assert languages and languages <= {"el", "en"}
    assert all(code in {"el", "en", "sv", "de", "fr", "es", "it", "pl", "pt", "nl", "fi", "ro", "da", "nb", "cs",
                        "hu", "sk", "sl", "hr", "lt", "lv", "et", "bg", "ga", "mt", "tr", "sr", "sq", "is", "mk"}
               for code in re.findall(r'lang="([^"]*)"', results)), "every lang attribute names a language"
