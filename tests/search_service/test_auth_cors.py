"""API keys on write and admin endpoints; CORS on read endpoints only."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from search_service.auth import require_api_key
from search_service.cors import register_cors
from search_service.errors import register_error_handlers

WRITE_ENDPOINTS = [("post", "/api/admin/index", {}), ("post", "/api/admin/tag", {"collection": "all"}),
                   ("get", "/api/admin/jobs/1", None),
                   ("post", "/api/admin/active-vector", {"vector": "x"})]


@pytest.mark.parametrize("method, path, body", WRITE_ENDPOINTS)
def test_without_configured_keys_write_endpoints_are_403_and_say_how(client, method, path, body):
    response = getattr(client, method)(path, json=body, headers={"X-API-Key": "anything"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "api_keys_not_configured" and "LOUPE_API_KEYS" in error["message"]
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("headers, code", [
    ({}, "missing_api_key"),
    ({"X-API-Key": "wrong"}, "invalid_api_key"),
    ({"Authorization": "Bearer wrong"}, "invalid_api_key"),
    ({"Authorization": "Basic czNjcjN0"}, "missing_api_key"),
])
def test_a_missing_or_wrong_key_is_401(make_app, headers, code):
    client = make_app(api_keys="s3cr3t, other").test_client()
    response = client.post("/api/admin/active-vector", json={"vector": "x"}, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("headers", [{"X-API-Key": "s3cr3t"}, {"Authorization": "Bearer other"}])
def test_a_configured_key_opens_admin_endpoints(private_settings, headers):
    from search_service.app import create_app
    from search_service.services import Services

    settings = private_settings.replace(api_keys="s3cr3t,other")
    services = Services(settings)
    try:
        client = create_app(settings, services=services).test_client()
        response = client.post("/api/admin/index", json={"model": "loupe-tiny"}, headers=headers)
        assert response.status_code == 202, response.get_json()
        job = response.get_json()["job"]
        assert job["kind"] == "index" and job["state"] == "queued" and job["params"] == {"model": "loupe-tiny"}
        assert "Access-Control-Allow-Origin" not in response.headers
        shown = client.get(f"/api/admin/jobs/{job['id']}", headers=headers).get_json()["job"]
        assert shown["id"] == job["id"]
        assert client.get("/api/admin/jobs/999", headers=headers).status_code == 404
        bad = client.post("/api/admin/index", json={"model": "no-such-model"}, headers=headers)
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "model"
        bad = client.post("/api/admin/index", json={"source": "nowhere"}, headers=headers)
        assert bad.status_code == 404 and bad.get_json()["error"]["field"] == "source"
        vector = services.index.active_vector()
        switched = client.post("/api/admin/active-vector", json={"vector": vector}, headers=headers)
        assert switched.status_code == 200 and switched.get_json()["active_vector"] == vector
        missing = client.post("/api/admin/active-vector", json={"vector": "nope__x"}, headers=headers)
        assert missing.status_code == 404
    finally:
        services.close()


def test_require_api_key_on_any_blueprint_marks_it_as_a_write_endpoint(services):
    """What the tagging endpoints do: decorate a view; it then needs a key and gets no CORS."""
    from search_service.services import EXTENSION, Services

    bp = Blueprint("demo_write", __name__)

    @bp.post("/api/things")
    @require_api_key
    def make_thing():
        return {"made": True}, 201

    @bp.get("/api/things")
    def list_things():
        return {"things": []}

    app = Flask("t")
    app.extensions[EXTENSION] = Services(services.settings.replace(api_keys="k"), catalog=services.catalog,
                                         index=services.index)
    register_error_handlers(app)
    register_cors(app)
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.post("/api/things").status_code == 401
    made = client.post("/api/things", headers={"X-API-Key": "k"})
    assert made.status_code == 201 and "Access-Control-Allow-Origin" not in made.headers
    assert client.get("/api/things").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/things", headers={"Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"  # for the GET
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]  # browsers refuse the POST


@pytest.mark.parametrize("path", [
    "/api/search?q=x&limit=1", "/api/health", "/api/status", "/api/models", "/openapi.json",
    "/iiif/services/collection?uri=COLLECTION", "/published/demo/collection.json",
    "/api/search?q=x&limit=0",  # errors of read endpoints too, so that the page can read the message
])
def test_read_endpoints_send_cors_headers(client, indexed_demo, path):
    response = client.get(path.replace("COLLECTION", indexed_demo.collection_url))
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_of_a_read_post_allows_json(client):
    response = client.options("/api/search/image", headers={
        "Origin": "https://viewer.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_of_a_write_endpoint_gets_no_cors(client):
    response = client.options("/api/admin/index", headers={"Origin": "https://evil.example",
                                                           "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers


MUSEUM = "https://viewer.museum.example"
REVIEW = "/api/machine-annotations/999999/review"


def test_review_endpoints_answer_only_the_listed_origins_with_a_key(make_app):
    client = make_app(api_keys="k", review_origins=f"{MUSEUM}/, https://other.example").test_client()
    preflight = client.options(REVIEW, headers={"Origin": MUSEUM, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == MUSEUM and "Origin" in preflight.headers["Vary"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-api-key", "authorization"} <= allowed
    assert "Access-Control-Allow-Credentials" not in preflight.headers  # a key in a header, never cookies

    answer = client.post(REVIEW, json={"decision": "accepted"}, headers={"Origin": MUSEUM, "X-API-Key": "k"})
    assert answer.status_code == 404 and answer.headers["Access-Control-Allow-Origin"] == MUSEUM  # readable there
    refused = client.post(REVIEW, json={"decision": "accepted"}, headers={"Origin": MUSEUM})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == MUSEUM  # still a key

    for origin in ("https://evil.example", "https://viewer.museum.example.evil.example", "null"):
        other = client.options(REVIEW, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in other.headers, origin
        post = client.post(REVIEW, json={"decision": "accepted"}, headers={"Origin": origin, "X-API-Key": "k"})
        assert "Access-Control-Allow-Origin" not in post.headers, origin
    admin = client.options("/api/admin/index", headers={"Origin": MUSEUM, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in admin.headers  # other write endpoints stay closed
    read = client.get("/api/health", headers={"Origin": MUSEUM})
    assert read.headers["Access-Control-Allow-Origin"] == "*"  # reads keep their open CORS


def test_without_review_origins_reviews_get_no_cors(make_app):
    client = make_app(api_keys="k").test_client()
    preflight = client.options(REVIEW, headers={"Origin": MUSEUM, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in client.post(REVIEW, json={"decision": "accepted"},
                                                             headers={"Origin": MUSEUM, "X-API-Key": "k"}).headers
