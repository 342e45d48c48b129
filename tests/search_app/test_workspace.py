"""The workspace over HTTP: the same rules for pages and the API."""

import re

import pytest


def bearer(creds, who):
    return {} if who == "anonymous" else {"Authorization": f"Bearer {creds[who].token}"}


def login(client, creds, who):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": who, "password": creds[who].password, "csrf_token": token})


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_api_keeps_plans_and_shares(client, creds):
    assert client.post("/api/shortlist", json={"doc_id": "heat"}, headers=bearer(creds, "oulu")).status_code == 201
    kept = client.patch("/api/shortlist/heat", json={"status": "adopting", "note": "fits"}, headers=bearer(creds, "oulu"))
    assert kept.json()["status"] == "adopting"
    assert client.get("/api/shortlist", headers=bearer(creds, "oulu")).json()["items"][0]["note"] == "fits"
    saved = client.put("/api/plans/Oulu", json={"sections": {"situation": "Coal."}, "version": 0},
                       headers=bearer(creds, "oulu"))
    assert saved.json() == {"twin": "Oulu", "version": 1}
    stale = client.put("/api/plans/Oulu", json={"sections": {"situation": "Peat."}, "version": 0},
                       headers=bearer(creds, "oulu"))
    assert stale.status_code == 409 and stale.json()["current"]["situation"] == "Coal."
    assert stale.json()["yours"] == {"situation": "Peat."} and stale.json()["version"] == 1
    assert client.get("/api/plans/Oulu", headers=bearer(creds, "hel")).status_code == 403  # not shared yet
    client.post("/api/plans/Oulu/share", json={"shared": True}, headers=bearer(creds, "oulu"))
    assert client.get("/api/plans/Oulu", headers=bearer(creds, "hel")).json()["sections"]["situation"] == "Coal."
    assert client.get("/api/plans/Oulu/export", params={"format": "docx"}, headers=bearer(creds, "team")).status_code == 200
    assert client.get("/api/plans/Oulu", headers=bearer(creds, "dun")).status_code == 403
    assert client.get("/api/plans/Oulu").status_code == 401


STATUS = {  # who -> (read, comment, export, edit, finalise) once the plan is shared
    "oulu": (200, 201, 200, 200, 200), "hel": (200, 201, 200, 403, 403), "dun": (403, 403, 403, 403, 403),
    "team": (200, 201, 200, 403, 403), "root": (200, 201, 200, 403, 403), "anonymous": (401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("who", STATUS)
def test_authorisation_matrix_over_http(client, creds, who):
    owner = bearer(creds, "oulu")
    client.post("/api/shortlist", json={"doc_id": "heat"}, headers=owner)
    client.patch("/api/shortlist/heat", json={"status": "adopting"}, headers=owner)
    client.put("/api/plans/Oulu", json={"sections": {"situation": "Coal."}, "version": 0}, headers=owner)
    client.post("/api/plans/Oulu/share", json={"shared": True}, headers=owner)
    headers = bearer(creds, who)
    codes = (client.get("/api/plans/Oulu", headers=headers).status_code,
             client.post("/api/plans/Oulu/comments", json={"section": "steps", "text": "?"}, headers=headers).status_code,
             client.get("/api/plans/Oulu/export", params={"format": "md"}, headers=headers).status_code,
             client.put("/api/plans/Oulu", json={"sections": {"costs": "x"}, "version": 2}, headers=headers).status_code,
             client.post("/api/plans/Oulu/finalise", headers=headers).status_code)
    assert codes == STATUS[who]


def test_a_twin_keeps_from_the_results_and_writes_the_plan_in_the_page(client, creds):
    login(client, creds, "oulu")
    page = client.get("/", params={"q": "coal district heating"}).text
    assert 'action="/workspace/keep"' in page  # a keep button on each result
    kept = client.post("/workspace/keep", data={"doc_id": "heat", "csrf_token": csrf(page)},
                       headers={"HX-Request": "true"})
    assert "Kept ✓" in kept.text and "<html" not in kept.text
    assert "Kept ✓" in client.get("/doc/heat").text
    workspace = client.get("/workspace").text
    assert "Phasing coal out of district heating" in workspace and "Paired with" in workspace
    editor = client.get("/workspace/plan").text
    version = re.search(r'name="version" id="plan-version" value="(\d+)"', editor).group(1)
    autosave = client.post("/workspace/plan", data={"situation": "Coal heat.", "version": version,
                                                    "csrf_token": csrf(editor)}, headers={"HX-Request": "true"})
    assert "Saved: version 1" in autosave.text
    stale = client.post("/workspace/plan", data={"situation": "Other tab.", "version": version,
                                                 "csrf_token": csrf(editor)}, headers={"HX-Request": "true"})
    assert stale.status_code == 409 and "Other tab." in stale.text and "Coal heat." in stale.text
    preview = client.post("/workspace/plan/preview/situation", data={"situation": "**bold** <script>x</script>"})
    assert "<strong>bold</strong>" in preview.text and "<script>" not in preview.text


def test_others_see_no_keep_button_and_no_workspace(client, creds):
    login(client, creds, "hel")
    assert 'action="/workspace/keep"' not in client.get("/", params={"q": "coal district heating"}).text
    assert client.get("/workspace").status_code == 403


@pytest.mark.parametrize("who, home", [("oulu", "/workspace"), ("hel", "/cities/Helsinki"), ("team", "/explorer"),
                                       ("root", "/admin")])
def test_each_role_lands_on_its_home_after_logging_in(client, creds, who, home):
    """Issue 26: a twin and the matching team landed on the note form with a red refusal."""
    page = client.get("/login").text
    assert all(role in page for role in ("Twin cities", "Pilot cities", "The matching team"))
    hidden_next = re.search(r'name="next" value="([^"]*)"', page).group(1)  # as the form sends it
    response = client.post("/login", data={"username": who, "password": creds[who].password, "csrf_token": csrf(page),
                                           "next": hidden_next}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == home
    assert client.get(home).status_code == 200


def test_logged_out_a_result_says_who_can_keep_it(client, creds):
    page = client.get("/", params={"q": "coal district heating"}).text
    assert 'action="/workspace/keep"' not in page
    assert 'href="/login?next=/%3Fq%3Dcoal%2Bdistrict%2Bheating">Log in as a twin city to keep practices' in page
