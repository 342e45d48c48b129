import pytest

from search_app.middleware import SECURITY_HEADERS


def test_health(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["documents"] == 4 and body["model"] == "fake-64"
    assert body["query_runtime"] == "python"  # the fake; the real model reports e.g. "onnxruntime int8"


def test_search_has_the_cli_shape(client):
    body = client.get("/api/search", params={"q": "coal district heating", "k": 2}).json()
    assert body["query"] == "coal district heating" and body["mode"] == "hybrid"
    assert [r["doc_id"] for r in body["results"]][0] == "heat" and len(body["results"]) == 2
    assert {"doc_id", "title", "kind", "city", "country", "domains", "score", "snippet"} <= set(body["results"][0])


def test_search_filters_are_exact(client):
    body = client.get("/api/search", params={"q": "coal district heating", "country": "France"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["bus"]
    body = client.get("/api/search", params={"q": "heating", "kind": "workshop_output", "mode": "keyword"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["visit"]


@pytest.mark.parametrize(
    "params, says",
    [
        ({"q": "x" * 1001}, "at most 1000"),
        ({"q": "heat", "k": 0}, "k must be"),
        ({"q": "heat", "k": 101}, "k must be"),
        ({"q": "heat", "domain": "space"}, "unknown domain"),
        ({"q": "heat", "lever": "magic"}, "unknown lever"),
        ({"q": "heat", "kind": "essay"}, "unknown kind"),
        ({"q": "heat", "mode": "fuzzy"}, "unknown mode"),
        ({"q": "   "}, "empty"),
    ],
)
def test_bad_search_requests_get_422_saying_what_to_change(client, params, says):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422 and says in response.json()["detail"]


@pytest.mark.parametrize("params", [{}, {"q": "heat", "k": "ten"}])
def test_missing_or_mistyped_parameters_are_422(client, params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("q", ["NEAR(", '"', "*", "-coal", "热 供暖 héat", "\x01\x02 heat", "a" * 1000])
def test_odd_queries_never_500(client, q):
    assert client.get("/api/search", params={"q": q}).status_code in (200, 422)


def test_documents_and_similar(client):
    doc = client.get("/api/docs/heat").json()
    assert doc["title"] == "Phasing coal out of district heating" and doc["body"].startswith("## Challenge")
    similar = client.get("/api/docs/heat/similar", params={"k": 2}).json()
    assert similar["doc_id"] == "heat" and len(similar["results"]) == 2
    assert client.get("/api/docs/missing").status_code == 404
    assert client.get("/api/docs/missing/similar").json()["detail"] == "no document has the id 'missing'"
    assert client.get("/api/docs/heat/similar", params={"k": 500}).status_code == 422


def test_cities(client):
    cities = {c["city"]: c for c in client.get("/api/cities").json()["cities"]}
    assert cities["Helsinki"]["documents"] == 2 and cities["Oulu"]["role"] == "twin"


def test_openapi_documents_the_api_and_docs_page_uses_local_assets(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/docs/{doc_id}", "/api/docs/{doc_id}/similar", "/api/cities", "/healthz"} <= set(paths)
    page = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize("path", ["/", "/?q=heat", "/api/search?q=heat", "/doc/heat", "/doc/nope", "/healthz"])
def test_security_headers_everywhere(client, path):
    headers = client.get(path).headers
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_partners_api(client):
    body = client.post("/api/partners", json={"challenge": "coal district heating", "country": "Finland"}).json()
    assert body["challenge"] == "coal district heating" and body["weak_match"] is False
    first = body["suggestions"][0]
    assert first["city"] == "Helsinki" and "same country: Finland" in first["reasons"]
    assert "heat" in {e["doc_id"] for e in first["evidence"]} and all(e["passage"] for e in first["evidence"])
    weak = client.post("/api/partners", json={"challenge": "xqzzv"}).json()
    assert weak["weak_match"] is True and weak["suggestions"] == []


@pytest.mark.parametrize("body", [{}, {"challenge": ""}, {"challenge": "x" * 5000}, {"challenge": "heat", "k": 0},
                                  {"challenge": "heat", "population": -1}, {"challenge": "heat", "domains": ["space"]},
                                  {"challenge": 42}])
def test_bad_partner_requests_are_422(client, body):
    response = client.post("/api/partners", json=body)
    assert response.status_code == 422 and response.json()["detail"]


def test_keep_alive_connections_are_recycled_so_workers_share_the_load(client):
    from search_app.middleware import RecycleConnections

    responses = [client.get("/healthz") for _ in range(RecycleConnections.RESPONSES)]
    assert [r.headers.get("connection") for r in responses[:-1]] == [None] * (len(responses) - 1)
    assert responses[-1].headers["connection"] == "close"
    assert client.get("/healthz").headers.get("connection") is None  # a new connection counts afresh
