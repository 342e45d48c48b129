import re

import pytest


NOTE = {"title": "Geothermal wells for the heat network", "challenge": "Coal must leave district heating.",
        "what_was_done": "Two deep geothermal wells were drilled.", "domains": ["energy"], "levers": ["technology"]}


@pytest.fixture
def creds(indexed):
    accounts = indexed.accounts
    return {"hel": accounts.add("hel", "pilot", "Helsinki"),
            "dun": accounts.add("dun", "pilot", "Communauté Urbaine de Dunkerque"),
            "team": accounts.add("team", "matching"), "root": accounts.add("root", "admin")}


def bearer(creds, who):
    return {"Authorization": f"Bearer {creds[who].token}"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, creds, who):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": who, "password": creds[who].password, "csrf_token": token,
                                           "next": "/notes/new"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def test_api_publish_edit_delete_with_a_token(client, creds):
    created = client.post("/api/notes", json=NOTE, headers=bearer(creds, "hel"))
    assert created.status_code == 201
    note = created.json()
    assert note["id"].startswith("note-") and note["city"] == "Helsinki"
    hits = client.get("/api/search", params={"q": "geothermal wells", "k": 1}).json()["results"]
    assert hits[0]["doc_id"] == note["id"]
    etag = client.get(f"/api/notes/{note['id']}").headers["etag"]
    updated = client.put(f"/api/notes/{note['id']}", json={**NOTE, "title": "Deep geothermal"},
                         headers={**bearer(creds, "hel"), "If-Match": etag})
    assert updated.status_code == 200 and updated.json()["version"] == 2 and updated.headers["etag"] == '"2"'
    assert client.delete(f"/api/notes/{note['id']}", headers=bearer(creds, "hel")).json()["deleted"] is True
    assert client.get(f"/api/docs/{note['id']}").status_code == 404
    assert client.post(f"/api/notes/{note['id']}/restore", headers=bearer(creds, "root")).status_code == 200
    versions = client.get(f"/api/notes/{note['id']}").json()["versions"]
    assert [v["action"] for v in versions] == ["create", "edit", "delete", "restore"]


EXPECTED = {  # who -> (create, edit, delete) status on a Helsinki note
    "anonymous": (401, 401, 401), "hel": (201, 200, 200), "dun": (201, 403, 403),
    "team": (403, 403, 403), "root": (422, 200, 200),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_authorisation_matrix(client, creds, who):
    headers = {} if who == "anonymous" else bearer(creds, who)
    target = client.post("/api/notes", json=NOTE, headers=bearer(creds, "hel")).json()["id"]
    create = client.post("/api/notes", json=NOTE, headers=headers)
    edit = client.put(f"/api/notes/{target}", json={**NOTE, "title": "Changed", "version": 1}, headers=headers)
    delete = client.delete(f"/api/notes/{target}", headers=headers)
    assert (create.status_code, edit.status_code, delete.status_code) == EXPECTED[who]
    assert all("detail" in r.json() for r in (create, edit, delete) if r.status_code >= 400)


def test_an_admin_names_the_city(client, creds):
    response = client.post("/api/notes", json={**NOTE, "city": "Helsinki"}, headers=bearer(creds, "root"))
    assert response.status_code == 201 and response.json()["city"] == "Helsinki"


@pytest.mark.parametrize("body", [{**NOTE, "title": ""}, {**NOTE, "domains": ["space"]}, {**NOTE, "title": "x" * 201},
                                  {**NOTE, "what_was_done": "x" * 50_001}, ["not", "an", "object"]])
def test_invalid_notes_are_422_naming_the_field(client, creds, body):
    response = client.post("/api/notes", json=body, headers=bearer(creds, "hel"))
    assert response.status_code == 422 and response.json()["detail"]


def test_a_bad_token_is_401(client, creds):
    response = client.post("/api/notes", json=NOTE, headers={"Authorization": "Bearer 1.forged"})
    assert response.status_code == 401 and "token" in response.json()["detail"]


def test_session_cookie_flags_and_form_publish(client, creds):
    response = login(client, creds, "hel")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http in tests
    form = client.get("/notes/new").text
    assert "writing as <strong>Helsinki</strong>" in form
    published = client.post("/notes/new", data={**NOTE, "csrf_token": csrf_of(form)}, follow_redirects=False)
    assert published.status_code == 303 and published.headers["location"].startswith("/doc/note-")
    page = client.get(published.headers["location"]).text
    assert "Geothermal wells" in page and "Edit this note" in page


def test_forms_without_the_csrf_token_are_refused(client, creds):
    login(client, creds, "hel")
    assert client.post("/notes/new", data=NOTE).status_code == 403
    assert client.post("/notes/new", data={**NOTE, "csrf_token": "forged"}).status_code == 403
    token = csrf_of(client.get("/login").text)
    assert client.post("/api/notes", json=NOTE).status_code == 403  # cookie alone is not enough for the API
    assert client.post("/api/notes", json=NOTE, headers={"X-CSRF-Token": token}).status_code == 201


def test_login_failures_are_limited(client, creds):
    token = csrf_of(client.get("/login").text)
    codes = [client.post("/login", data={"username": "hel", "password": "guess", "csrf_token": token}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_script_in_every_field_comes_back_escaped(client, creds):
    evil = "<script>alert(1)</script>"
    body = {**NOTE, **{f: f"{f} {evil}" for f in ("title", "challenge", "what_was_done", "results", "transferability")}}
    note = client.post("/api/notes", json=body, headers=bearer(creds, "hel")).json()
    assert note["title"] == f"title {evil}"  # JSON keeps the text as written
    for page in (client.get(f"/doc/{note['id']}").text, client.get("/", params={"q": "script alert"}).text,
                 client.get("/cities/Helsinki").text):
        assert evil not in page and "&lt;script&gt;" in page


def test_anonymous_note_form_redirects_to_login(client):
    response = client.get("/notes/new", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/notes/new"


def test_a_stale_api_edit_is_409_with_both_texts(client, creds):
    note = client.post("/api/notes", json=NOTE, headers=bearer(creds, "hel")).json()
    url, headers = f"/api/notes/{note['id']}", bearer(creds, "hel")
    theirs = client.put(url, json={**NOTE, "results": "Theirs"}, headers={**headers, "If-Match": '"1"'})
    assert theirs.status_code == 200
    stale = client.put(url, json={**NOTE, "results": "Mine"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 409
    body = stale.json()
    assert body["version"] == 2 and body["current"]["results"] == "Theirs" and body["yours"]["results"] == "Mine"
    missing = client.put(url, json={**NOTE, "results": "Mine"}, headers=headers)
    assert missing.status_code == 422 and "If-Match" in str(missing.json()["detail"])
    assert client.get(url).json()["results"] == "Theirs"
    assert client.put(url, json={**NOTE, "results": "Merged", "version": 2}, headers=headers).json()["version"] == 3


def test_the_form_shows_each_error_beside_its_field_and_keeps_what_was_typed(client, creds):
    login(client, creds, "hel")
    form = client.get("/notes/new").text
    assert 'for="title">Title <span class="required"' in form
    sent = {"title": "", "challenge": "Coal heating must end", "what_was_done": "", "start": "soon",
            "indicator_name": ["Heat delivered", ""], "indicator_value": ["lots", ""], "indicator_unit": ["GWh", ""],
            "indicator_year": ["2024", ""], "csrf_token": csrf_of(form)}
    page = client.post("/notes/new", data=sent)
    assert page.status_code == 422
    html = page.text
    assert '<p class="field-error" id="title-error">Give the title.</p>' in html
    assert re.search(r'<input id="title"[^>]*aria-invalid="true" aria-describedby="title-error"', html)
    assert 'id="what_was_done-error">Say what the city did.' in html
    assert 'id="start-error">Give a year or a month' in html
    assert "Give indicator 1 a value as a number" in html and 'value="Heat delivered"' in html
    assert "Coal heating must end</textarea>" in html  # what was typed is kept
    assert 'href="#title"' in html  # the summary links to the field


def test_a_stale_form_edit_shows_both_texts_and_keeps_yours(client, creds):
    note = client.post("/api/notes", json=NOTE, headers=bearer(creds, "hel")).json()
    login(client, creds, "hel")
    form = client.get(f"/notes/{note['id']}/edit").text
    assert 'name="version" value="1"' in form
    client.put(f"/api/notes/{note['id']}", json={**NOTE, "results": "Saved by a colleague"},
               headers={**bearer(creds, "hel"), "If-Match": "1"})
    mine = {**NOTE, "results": "My own results", "version": "1", "csrf_token": csrf_of(form)}
    page = client.post(f"/notes/{note['id']}/edit", data=mine)
    assert page.status_code == 409
    assert "Saved by a colleague" in page.text and "My own results</textarea>" in page.text
    assert 'name="version" value="2"' in page.text  # saving again is a deliberate merge
    again = client.post(f"/notes/{note['id']}/edit", data={**mine, "version": "2"}, follow_redirects=False)
    assert again.status_code == 303 and client.get(f"/api/notes/{note['id']}").json()["results"] == "My own results"


def test_an_account_that_may_not_publish_is_told_before_typing(client, creds):
    login(client, creds, "team")
    page = client.get("/notes/new")
    assert page.status_code == 403 and "publish case notes" in page.text and "<textarea" not in page.text


def test_history_page_lists_versions_and_differences_and_an_admin_restores(client, creds):
    note = client.post("/api/notes", json=NOTE, headers=bearer(creds, "hel")).json()
    client.put(f"/api/notes/{note['id']}", json={**NOTE, "results": "Drilling ends in 2025."},
               headers={**bearer(creds, "root"), "If-Match": "1"})
    page = client.get(f"/notes/{note['id']}/history").text
    assert "<td>hel</td>" in page and "<td>root</td>" in page
    assert "<ins>Drilling ends in 2025.</ins>" in page
    assert "No field differs" in client.get(f"/notes/{note['id']}/history", params={"a": 2, "b": 2}).text
    assert client.get(f"/notes/{note['id']}/history", params={"a": 1, "b": 9}).status_code == 404
    client.delete(f"/api/notes/{note['id']}", headers=bearer(creds, "hel"))
    assert client.get(f"/notes/{note['id']}/history").status_code == 404  # not for everyone once deleted
    login(client, creds, "root")
    assert f'href="/notes/{note["id"]}/history"' in client.get("/cities/Helsinki").text
    history = client.get(f"/notes/{note['id']}/history").text
    restored = client.post(f"/notes/{note['id']}/restore", data={"csrf_token": csrf_of(history)},
                           follow_redirects=False)
    assert restored.status_code == 303 and client.get(f"/doc/{note['id']}").status_code == 200


def test_preview_renders_the_note_as_it_will_read(client, creds):
    login(client, creds, "hel")
    token = csrf_of(client.get("/notes/new").text)
    html = client.post("/notes/preview", data={**NOTE, "results": "**Half** the coal", "indicator_name": "CO2",
                                               "indicator_value": "12", "indicator_unit": "kt", "indicator_year": "",
                                               "csrf_token": token}).text
    assert "<strong>Half</strong>" in html and "<td>CO2</td>" in html


def test_module_is_an_exact_search_filter(client, creds):
    note = client.post("/api/notes", json={**NOTE, "module": "capitalisation"}, headers=bearer(creds, "hel")).json()
    hits = client.get("/api/search", params={"q": "geothermal wells", "module": "capitalisation"}).json()["results"]
    assert [h["doc_id"] for h in hits] == [note["id"]] and hits[0]["module"] == "capitalisation"
    assert client.get("/api/search", params={"q": "wells", "module": "lunch"}).status_code == 422


def two_page_pdf(second_page: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string="<p>Geothermal drilling report, first page.</p>"
                                  f"<p style='page-break-before: always'>{second_page}</p>").write_pdf()


def test_a_pdf_attached_to_a_note_is_found_at_its_page(client, creds, indexed):
    login(client, creds, "hel")
    token = csrf_of(client.get("/notes/new").text)
    pdf = two_page_pdf("The drill reached granite at six kilometres.")
    response = client.post("/notes/new", data={**NOTE, "csrf_token": token},
                           files=[("upload", ("drilling report.pdf", pdf, "application/pdf"))], follow_redirects=False)
    assert response.status_code == 303, response.text
    note_id = response.headers["location"].removeprefix("/doc/")
    hit = client.get("/api/search", params={"q": "drill reached granite kilometres", "k": 1}).json()["results"][0]
    assert (hit["doc_id"], hit["section"], hit["page"]) == (note_id, "drilling report.pdf, page 2", 2)
    assert client.get(f"/files/{hit['file']}").content == pdf
    results = client.get("/", params={"q": "drill reached granite kilometres"}).text
    assert f'href="/files/{hit["file"]}#page=2"' in results
    note = client.get(f"/api/notes/{note_id}").json()
    assert [(a["name"], a["pages"]) for a in note["attachments"]] == [("drilling report.pdf", 2)]
    client.put(f"/api/notes/{note_id}", json={**NOTE, "title": "Renamed", "version": 1}, headers=bearer(creds, "hel"))
    assert client.get(f"/api/notes/{note_id}").json()["attachments"] == note["attachments"]  # kept when not named


def test_a_bad_attachment_is_refused_beside_the_field_and_nothing_is_written(client, creds, indexed):
    import io

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(two_page_pdf("Secret."))))
    writer.encrypt("secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    before = indexed.store.counts()
    login(client, creds, "hel")
    token = csrf_of(client.get("/notes/new").text)
    page = client.post("/notes/new", data={**NOTE, "csrf_token": token},
                       files=[("upload", ("locked.pdf", locked.getvalue(), "application/pdf"))])
    assert page.status_code == 422
    assert re.search(r'id="attachments-error">locked\.pdf is password-protected', page.text), page.text[-3000:]
    assert 'value="Geothermal wells for the heat network"' in page.text
    assert indexed.store.counts() == before


def test_an_accepted_file_stays_attached_while_the_form_is_corrected(client, creds):
    login(client, creds, "hel")
    token = csrf_of(client.get("/notes/new").text)
    pdf = two_page_pdf("Heat exchangers were sized for eighty degrees.")
    page = client.post("/notes/new", data={**NOTE, "title": "", "csrf_token": token},
                       files=[("upload", ("sizing.pdf", pdf, "application/pdf"))])
    assert page.status_code == 422
    ref = re.search(r'name="attachments" value="([^"]+)" checked', page.text).group(1)
    assert ref.endswith("/sizing.pdf")
    done = client.post("/notes/new", data={**NOTE, "attachments": ref, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    hit = client.get("/api/search", params={"q": "heat exchangers eighty degrees", "k": 1}).json()["results"][0]
    assert hit["doc_id"] == done.headers["location"].removeprefix("/doc/") and hit["page"] == 2


def test_files_over_the_limit_get_a_page_saying_what_to_do(client, creds, indexed):
    login(client, creds, "hel")
    token = csrf_of(client.get("/notes/new").text)
    limit = 1_000_000 + 5 * indexed.settings.max_file_bytes
    page = client.post("/notes/new", data={**NOTE, "csrf_token": token},
                       files=[("upload", ("huge.pdf", b"%PDF-1.7 " + b"0" * limit, "application/pdf"))])
    assert page.status_code == 413 and "attach fewer or smaller files" in page.text
    assert page.headers["content-type"].startswith("text/html")
