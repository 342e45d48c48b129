"""The people working together over HTTP: the inbox and its count, digests, the admin page,
a pairing's meetings, a plan's life (public when final, reopened, the table of actions)."""

import re

from tests.search_app.test_workspace import bearer, csrf, login


def test_the_inbox_over_the_api_and_its_count_in_every_pages_header(client, creds):
    assert client.post("/api/plans/Oulu/share", json={"shared": True}, headers=bearer(creds, "oulu")).json() == {
        "twin": "Oulu", "shared": True, "shared_with": "shared with Helsinki and the matching team"}
    client.post("/api/plans/Oulu/comments", json={"section": "risks", "text": "Peat prices?"},
                headers=bearer(creds, "hel"))
    inbox = client.get("/api/inbox", headers=bearer(creds, "oulu")).json()
    assert inbox["unread"] == 2 and [e["kind"] for e in inbox["events"]] == ["comment", "pairing"]
    assert inbox["events"][0]["actor"] == "hel" and inbox["events"][0]["link"].startswith("/plans/Oulu#comment-")
    login(client, creds, "oulu")
    page = client.get("/cities").text  # any page
    assert re.search(r'href="/inbox" id="inbox-link">Inbox <span class="count" aria-label="2 unread">2</span>', page)
    inbox_page = client.get("/inbox").text
    assert "hel on Oulu&#39;s plan (Risks and mitigations): “Peat prices?”" in inbox_page
    event = inbox["events"][0]["id"]
    opened = client.post(f"/inbox/open/{event}", data={"csrf_token": csrf(inbox_page)}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == inbox["events"][0]["link"]
    assert client.get("/api/inbox", headers=bearer(creds, "oulu")).json()["unread"] == 1
    marked = client.post("/api/inbox/read", json={}, headers=bearer(creds, "oulu")).json()
    assert marked["unread"] == 0 and all(e["read"] for e in marked["events"])
    assert "aria-label=\"0 unread\"" not in client.get("/inbox").text
    client.cookies.clear()
    assert client.get("/api/inbox").status_code == 401
    assert client.post("/api/inbox/read", json={"ids": ["x"]}, headers=bearer(creds, "oulu")).status_code == 422


def test_a_pilot_sees_the_plans_shared_with_it_and_what_twins_keep_on_its_home(client, creds):
    client.post("/api/shortlist", json={"doc_id": "heat"}, headers=bearer(creds, "oulu"))
    client.post("/api/plans/Oulu/share", json={"shared": True}, headers=bearer(creds, "oulu"))
    assert [p["twin"] for p in client.get("/api/plans", headers=bearer(creds, "hel")).json()["plans"]] == ["Oulu"]
    assert client.get("/api/plans", headers=bearer(creds, "dun")).json()["plans"] == []
    login(client, creds, "hel")
    home = client.get("/cities/Helsinki").text
    assert 'href="/notes/new">Publish a case note</a>' in home and 'href="/plans/Oulu">Oulu\'s replication plan' in home
    assert "kept by 1 twin: Oulu" in home


def test_a_digest_is_chosen_on_the_account_page(client, creds):
    login(client, creds, "hel")
    page = client.get("/account").text
    assert "sends no mail" in page  # no KB_SMTP_URL here
    bad = client.post("/account", data={"csrf_token": csrf(page), "email": "nope", "frequency": "daily"})
    assert bad.status_code == 422 and "email: give the address" in bad.text and 'value="nope"' in bad.text
    client.post("/account", data={"csrf_token": csrf(page), "email": "energy@hel.fi", "frequency": "weekly"})
    assert client.get("/api/account/digest", headers=bearer(creds, "hel")).json() == {
        "email": "energy@hel.fi", "frequency": "weekly", "sent_at": None, "last_event": 0}
    assert client.put("/api/account/digest", json={"email": "", "frequency": "hourly"},
                      headers=bearer(creds, "hel")).status_code == 422


def test_only_the_matching_team_and_admins_open_the_admin_page(client, creds):
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=/admin"
    login(client, creds, "hel")
    assert client.get("/admin").status_code == 403
    assert client.post("/api/cities", json={"name": "Lund", "country": "Sweden", "role": "twin"},
                       headers=bearer(creds, "hel")).status_code == 403
    client.cookies.clear()
    login(client, creds, "team")
    page = client.get("/admin").text
    assert "Add a city" in page and 'id="users-heading"' not in page  # the accounts are for admins
    refused = client.post("/admin/cities", data={"csrf_token": csrf(page), "name": "", "country": "Sweden"})
    assert refused.status_code == 422 and "name: the city" in refused.text


def test_a_pairings_meetings_are_recorded_from_its_page(client, creds):
    login(client, creds, "hel")
    page = client.get("/pairings/Oulu/Helsinki").text
    assert "No meeting recorded yet" in page and "Record a meeting" in page
    bad = client.post("/pairings/Oulu/Helsinki/meetings", data={"csrf_token": csrf(page), "kind": "workshop",
                                                                 "date": "tomorrow", "module": "co-creation"})
    assert bad.status_code == 422 and "date: the day" in bad.text and "record: say" in bad.text
    done = client.post("/pairings/Oulu/Helsinki/meetings", follow_redirects=False, data={
        "csrf_token": csrf(page), "kind": "site-visit", "date": "2026-10-02", "module": "co-creation",
        "participants": "Oulu energy team", "record": "Saw the heat pumps."})
    assert done.status_code == 303 and "#meeting-" in done.headers["location"]
    assert "Saw the heat pumps." in client.get("/cities/Oulu").text
    api = client.get("/api/pairings/Oulu/Helsinki/meetings").json()["meetings"]
    assert [m["kind"] for m in api] == ["site-visit"]
    assert client.post("/api/pairings/Oulu/Helsinki/meetings", headers=bearer(creds, "dun"), json={
        "kind": "workshop", "date": "2026-11-01", "module": "co-creation", "record": "x"}).status_code == 403
    assert client.get("/api/pairings/Oulu/Communauté Urbaine de Dunkerque/meetings").status_code == 404
    assert [e["kind"] for e in client.get("/api/inbox", headers=bearer(creds, "oulu")).json()["events"]][0] == "meeting"


def test_the_plan_editor_edits_the_actions_as_rows_and_a_final_plan_is_public(client, creds, indexed):
    owner = bearer(creds, "oulu")
    client.post("/api/shortlist", json={"doc_id": "heat"}, headers=owner)
    client.patch("/api/shortlist/heat", json={"status": "adopting", "note": ""}, headers=owner)
    login(client, creds, "oulu")
    editor = client.get("/workspace/plan").text
    assert "What to write here" in editor and 'name="step_action"' in editor and "Stakeholders and governance" in editor
    saved = client.post("/workspace/plan", data={
        "csrf_token": csrf(editor), "version": "0", "situation": "Peat heat.",
        "step_action": ["Feasibility study", ""], "step_owner": ["Energy dept", ""], "step_start": ["2027-01", ""],
        "step_end": ["2027-06", ""], "step_budget": ["EUR 80,000", ""], "step_indicator": ["Study approved", ""],
        "steps_notes": "Then procurement."}, follow_redirects=False)
    assert saved.status_code == 303
    steps = client.get("/api/plans/Oulu", headers=owner).json()["sections"]["steps"]
    assert "| Feasibility study | Energy dept | 2027-01 | 2027-06 | EUR 80,000 | Study approved |" in steps
    assert steps.count("\n|") == 2 and "Then procurement." in steps  # the empty row left out
    assert 'value="Feasibility study"' in client.get("/workspace/plan").text
    client.post("/api/plans/Oulu/finalise", headers=owner).raise_for_status()
    client.cookies.clear()
    anonymous = client.get("/plans/Oulu")
    assert anonymous.status_code == 200 and "Peat heat." in anonymous.text and "final: a public document" in anonymous.text
    assert client.get("/api/plans/Oulu").json()["comments"] == []
    reopened = client.post("/api/plans/Oulu/reopen", headers=bearer(creds, "team")).json()
    assert reopened["final"] is False
    assert client.get("/plans/Oulu", follow_redirects=False).status_code == 303  # to the login page again
    assert client.post("/api/plans/Oulu/reopen", headers=bearer(creds, "team")).status_code == 409


def test_a_kept_practice_is_saved_in_place(client, creds):
    client.post("/api/shortlist", json={"doc_id": "heat"}, headers=bearer(creds, "oulu"))
    login(client, creds, "oulu")
    page = client.get("/workspace").text
    assert page.count('class="card kept-item"') == 1 and '<span class="tag">Energy</span>' in page
    saved = client.post("/workspace/shortlist/heat", data={"csrf_token": csrf(page), "status": "adopting", "note": "x"},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 200 and saved.text.strip() == (
        '<span id="saved-heat" class="saved" role="status">Saved: adopting</span>')
    plain = client.post("/workspace/shortlist/heat", data={"csrf_token": csrf(page), "status": "considering"},
                        follow_redirects=False)
    assert plain.headers["location"] == "/workspace?saved=heat#kept-heat"
    assert "Saved: considering" in client.get(plain.headers["location"]).text


def test_a_meeting_keeps_its_files_by_the_notes_rules(client, creds, tmp_path):
    import weasyprint

    minutes = weasyprint.HTML(string="<p>Minutes of the site visit.</p>").write_pdf()
    login(client, creds, "hel")
    page = client.get("/pairings/Oulu/Helsinki").text
    form = {"csrf_token": csrf(page), "kind": "site-visit", "date": "2026-10-02", "module": "co-creation",
            "record": "Saw the heat pumps."}
    bad = client.post("/pairings/Oulu/Helsinki/meetings", data=form,
                      files=[("upload", ("minutes.pdf", b"not a pdf at all", "application/pdf"))])
    assert bad.status_code == 422 and "files: " in bad.text and "minutes.pdf" in bad.text
    assert client.get("/api/pairings/Oulu/Helsinki/meetings").json()["meetings"] == []  # nothing written
    done = client.post("/pairings/Oulu/Helsinki/meetings", data=form, follow_redirects=False,
                       files=[("upload", ("minutes.pdf", minutes, "application/pdf"))])
    assert done.status_code == 303
    meeting = client.get("/api/pairings/Oulu/Helsinki/meetings").json()["meetings"][0]
    assert len(meeting["files"]) == 1 and meeting["files"][0].endswith("/minutes.pdf")
    served = client.get(f"/files/{meeting['files'][0]}")
    assert served.status_code == 200 and served.content == minutes
    client.cookies.clear()
    anonymous = client.post("/pairings/Oulu/Helsinki/meetings", data=form,
                            files=[("upload", ("minutes.pdf", minutes, "application/pdf"))])
    assert anonymous.status_code == 403 and "record its meetings" in anonymous.text


def test_the_language_filter_offers_any_language_or_only_the_querys(client):
    page = client.get("/", params={"q": "hur fasar man ut kolet ur fjärrvärmen"}).text
    assert '<option value="">Any language</option>' in page
    assert '<option value="sv" >Only mine: Svenska (0)</option>' in page
