"""The insights over HTTP: searches logged from the page and the API (a click, a practice kept,
a search refined while typing), the pages, CSVs and JSON for the matching team and admins only."""

import csv
import io
import re

from tests.search_app.test_workspace import bearer, csrf, login
from kb.store.rows import TABLES


def logged(kb) -> list[dict]:
    kb.search_log.flush()
    return sorted((dict(zip(TABLES["searches"], row)) for row in kb.store.table_rows("searches")), key=lambda r: r["id"])


def test_searches_from_the_page_and_the_api_are_logged_with_clicks_and_kept_practices(client, creds, indexed):
    login(client, creds, "oulu")
    first = client.get("/?q=coal", headers={"HX-Request": "true"}).text
    ref = first.split('id="search-ref" hidden data-ref="')[1].split('"')[0]
    page = client.get("/?q=coal+district+heating", headers={"HX-Request": "true", "X-KB-Refines": ref}).text
    ref = page.split('data-ref="')[1].split('"')[0]
    assert f'href="/doc/heat?s={ref}"' in page  # a result names its search
    assert client.get(f"/doc/heat?s={ref}").status_code == 200
    client.post("/workspace/keep", data={"doc_id": "heat", "csrf_token": csrf(client.get("/doc/heat").text)})
    client.cookies.clear()
    client.get("/api/search", params={"q": "free buses"})
    client.get("/api/search", params={"q": "free buses"}, headers=bearer(creds, "team"))
    stale = client.get("/api/search", params={"q": "free buses"}, headers={"Authorization": "Bearer stale"})
    assert stale.status_code == 200  # a public search, answered whatever the token
    rows = logged(indexed)[:3]
    assert [(r["text"], r["role"], r["source"]) for r in rows] == [
        ("coal district heating", "twin", "page"), ("free buses", "anonymous", "api"), ("free buses", "matching", "api")]
    assert rows[0]["clicked"] == 1 and rows[0]["kept"] == 1 and rows[0]["visit"]
    assert rows[1]["visit"] is None and rows[1]["clicked"] is None


def test_the_insights_pages_are_for_the_matching_team_and_admins(client, creds):
    for path in ("/insights", "/insights/gaps", "/insights/replication"):
        assert client.get(path, follow_redirects=False).headers["location"].startswith("/login?next=")
    for path in ("/api/insights/gaps", "/api/insights/reach", "/api/insights/replication"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer(creds, "oulu")).status_code == 403
        assert client.get(path, headers=bearer(creds, "hel")).status_code == 403
        assert client.get(path, headers=bearer(creds, "root")).status_code == 200
    login(client, creds, "oulu")
    assert client.get("/insights/gaps").status_code == 403
    assert 'href="/insights"' not in client.get("/").text  # not in a twin's header


def test_the_matching_team_reads_gaps_asks_pilots_and_downloads_csv(client, creds, indexed):
    for _ in range(2):
        client.get("/api/search", params={"q": "zzqx vlorp"})  # nothing answers it
        client.get("/", params={"q": "coal district heating"})  # nobody opens a result
    indexed.search_log.flush()
    login(client, creds, "team")
    page = client.get("/insights/gaps")
    assert page.status_code == 200 and "“coal district heating”" in page.text and "2 searches" in page.text
    gaps = client.get("/api/insights/gaps", headers=bearer(creds, "team")).json()
    assert [g["searches"] for g in gaps["gaps"]] == [2, 2] and gaps["searches"] == 4
    heat = next(g for g in gaps["gaps"] if g["label"] == "coal district heating")
    assert heat["pilots"][0] == "Helsinki"
    asked = client.post(f"/insights/gaps/{heat['id']}/ask", data={"csrf_token": csrf(page.text)})
    assert "for a case note on “coal district heating”: it is in their inbox" in asked.text
    request = client.get("/api/inbox", headers=bearer(creds, "hel")).json()["events"][0]
    assert request["kind"] == "request"
    login(client, creds, "hel")
    form = client.get(request["link"]).text  # the pilot opens the request: the form, begun
    assert "Twins ask: coal district heating</textarea>" in form
    login(client, creds, "team")
    rows = list(csv.reader(io.StringIO(client.get("/insights/gaps?format=csv").text)))
    assert rows[0][:3] == ["searches", "weak", "label"] and {r[2] for r in rows[1:]} == {"coal district heating", "zzqx vlorp"}
    assert client.get("/insights/gaps?since=yesterday").status_code == 422
    assert client.get("/api/insights/gaps", params={"since": "2026-02-30"},
                      headers=bearer(creds, "team")).json()["detail"].startswith("since: '2026-02-30' is not a date")


def test_replication_and_reach_pages_with_their_charts_tables_and_csv(client, creds, indexed):
    client.post("/api/shortlist", json={"doc_id": "heat"}, headers=bearer(creds, "oulu"))
    client.patch("/api/shortlist/heat", json={"status": "adopting", "note": ""}, headers=bearer(creds, "oulu"))
    client.get("/api/search", params={"q": "heat pumps"}, headers=bearer(creds, "oulu"))
    login(client, creds, "root")
    page = client.get("/insights/replication?by=pilot").text
    assert '<svg' in page and '<a href="/cities/Helsinki">Helsinki</a></th>' in page and "<td>Oulu</td>" in page
    data = client.get("/api/insights/replication", params={"by": "practice"}, headers=bearer(creds, "team")).json()
    assert data["rows"][0]["key"] == "heat" and data["rows"][0]["adopting"] == 1 and data["months"]
    assert client.get("/insights/replication?by=nope").status_code == 422
    assert client.get("/insights/replication?format=csv&by=domain").text.splitlines()[:2] == [
        "domain,label,kept,considering,adopting,dropped,final,twins", "energy,energy,1,0,1,0,0,Oulu"]
    indexed.search_log.flush()
    reach = client.get("/insights").text
    assert "Searches from" in reach and "<svg" in reach and "Twin city 1" in reach
    assert '<ul class="legend"><li><svg' in reach and "</svg> searches</li>" in reach  # names in HTML, not cut
    assert re.search(r'translate="no">W\d\d</text>', reach)  # the week under its bars ("W50", not "6-W50")
    assert client.get("/cities/Helsinki").text.count("Its practices are kept by 1 twin, adopted by 1, in 0 final plans.") == 1
