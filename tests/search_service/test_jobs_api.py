"""The job endpoints, for every job kind: queue (``POST /api/admin/<kind>``), list, show,
cancel and retry; the same checks as the command line; keys required; JSON errors."""

from __future__ import annotations

from typing import Iterator

import pytest

from training_worker.kinds import JOB_KINDS

KEY = "jobs-secret"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture
def client(private_settings) -> Iterator:
    from search_service.app import create_app
    from search_service.services import Services

    settings = private_settings.replace(api_keys=KEY)
    services = Services(settings, index_role="test jobs api")
    yield create_app(settings, services=services).test_client()
    services.close()


@pytest.mark.parametrize("kind", list(JOB_KINDS))
def test_every_kind_has_an_endpoint_that_needs_a_key_and_checks_its_fields(client, kind):
    url = f"/api/admin/{kind}"
    assert client.post(url, json={}).status_code == 401
    unknown = client.post(url, json={"no_such_field": 1}, headers=HEADERS)
    assert unknown.status_code == 400
    assert unknown.get_json()["error"] == {"code": "unknown_parameter", "field": "no_such_field",
                                           "message": unknown.get_json()["error"]["message"]}
    assert "known:" in unknown.get_json()["error"]["message"]
    wrong_model = client.post(url, json={"model": 7, **_required(kind)}, headers=HEADERS)
    assert wrong_model.status_code == 400 and wrong_model.get_json()["error"]["field"] == "model"
    not_an_object = client.post(url, data="[1]", content_type="application/json", headers=HEADERS)
    assert not_an_object.status_code == 400 and not_an_object.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("kind", list(JOB_KINDS))
def test_the_openapi_schema_of_each_kind_comes_from_its_parameters(client, kind):
    spec = client.get("/openapi.json").get_json()
    body = spec["paths"][f"/api/admin/{kind}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == JOB_KINDS[kind].params.json_schema()


def _required(kind: str) -> dict:
    return {name: "all" for name in JOB_KINDS[kind].params.json_schema().get("required", [])}


def test_queue_list_show_cancel_and_retry_a_job(client):
    queued = client.post("/api/admin/index", json={"activate": True}, headers=HEADERS)
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()["job"]
    assert (job["kind"], job["state"], job["params"]) == ("index", "queued", {"activate": True})
    assert queued.headers["Location"] == f"/api/admin/jobs/{job['id']}"

    listed = client.get("/api/admin/jobs?kind=index&state=queued", headers=HEADERS).get_json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert client.get("/api/admin/jobs?state=done", headers=HEADERS).get_json()["error"]["field"] == "state"
    assert client.get("/api/admin/jobs?limit=0", headers=HEADERS).status_code == 400

    cancelled = client.post(f"/api/admin/jobs/{job['id']}/cancel", headers=HEADERS)
    assert cancelled.status_code == 200 and cancelled.get_json()["job"]["state"] == "cancelled"
    again = client.post(f"/api/admin/jobs/{job['id']}/cancel", headers=HEADERS)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "job_conflict"

    retried = client.post(f"/api/admin/jobs/{job['id']}/retry", headers=HEADERS)
    assert retried.status_code == 202
    assert retried.get_json()["job"]["state"] == "queued" and retried.get_json()["job"]["attempts"] == 2
    shown = client.get(f"/api/admin/jobs/{job['id']}", headers=HEADERS).get_json()["job"]
    assert shown["state"] == "queued" and any("attempt 2" in line for line in shown["log"])


@pytest.mark.parametrize("path", ["/api/admin/jobs/9223372036854775808", "/api/admin/jobs/99999/cancel",
                                  "/api/admin/jobs/99999999999999999999999/retry"])
def test_unknown_and_huge_job_ids_are_404_json(client, path):
    response = client.get(path, headers=HEADERS) if path.endswith("8") else client.post(path, headers=HEADERS)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_job"


def test_references_to_nothing_are_404_naming_the_field(client):
    source = client.post("/api/admin/index", json={"source": "nowhere"}, headers=HEADERS)
    assert source.status_code == 404 and source.get_json()["error"]["code"] == "unknown_source"
    collection = client.post("/api/admin/tag", json={"collection": "nowhere"}, headers=HEADERS)
    assert collection.status_code == 404 and collection.get_json()["error"]["field"] == "collection"
