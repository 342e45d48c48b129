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
    updated = client.put(f"/api/notes/{note['id']}", json={**NOTE, "title": "Deep geothermal"}, headers=bearer(creds, "hel"))
    assert updated.status_code == 200 and updated.json()["version"] == 2
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
    edit = client.put(f"/api/notes/{target}", json={**NOTE, "title": "Changed"}, headers=headers)
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
    assert "Writing as <strong>Helsinki</strong>" in form
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
