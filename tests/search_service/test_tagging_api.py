"""The tagging endpoints through the Flask test client: /api/tag, /api/vocabularies and
reviews of machine annotations; API keys on writes; JSON errors for bad input."""

from __future__ import annotations

import hashlib
import io
from typing import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from connector.catalog.schema import RegionRow
from loupe_tagging.machine_tags import Proposal, replace_proposals
from loupe_tagging.vocabulary import MAX_INLINE_LABELS

KEY = "curator-secret"
LABELS = ["Annunciation", "sunflowers", "horse", "portrait", "skull"]


def jpeg(size: tuple[int, int] = (64, 48), fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 30).convert("RGB").save(out, fmt)
    return out.getvalue()


def error_of(response, status: int) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    return response.get_json()["error"]


@pytest.fixture
def reading_app(make_app, label_cache):  # noqa: ANN001, ANN201
    """An app over the session's indexed demo, for requests that write nothing."""
    return make_app(max_upload_bytes=50_000, label_cache=label_cache)


@pytest.fixture
def keyed_app(private_settings, label_cache) -> Iterator:  # noqa: ANN001
    """An app with an API key over a private copy of the indexed demo (it writes)."""
    from search_service.app import create_app
    from search_service.services import Services

    settings = private_settings.replace(api_keys=KEY, max_upload_bytes=50_000)
    services = Services(settings, label_cache=label_cache, index_role="test tagging api")
    app = create_app(settings, services=services)
    yield app
    services.close()


def put(client, key: str, labels, api_key: str | None = KEY):  # noqa: ANN001, ANN201
    headers = {"X-API-Key": api_key} if api_key else {}
    return client.put(f"/api/vocabularies/{key}", json={"labels": labels}, headers=headers)


# --- POST /api/tag ---------------------------------------------------------------------------


def test_tag_an_upload_with_an_inline_vocabulary(reading_app) -> None:  # noqa: ANN001
    form = {"image": (io.BytesIO(jpeg()), "photo.jpg"), "vocabulary": "\n".join(LABELS), "top_k": "3"}
    response = reading_app.test_client().post("/api/tag", data=form, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [x["label"] for x in body["labels"]] and len(body["labels"]) == 3
    assert {x["label"] for x in body["labels"]} <= set(LABELS)
    scores = [x["score"] for x in body["labels"]]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001
    assert body["vocabulary"]["name"] == "inline" and body["vocabulary"]["size"] == len(LABELS)
    assert body["model"] == "loupe-tiny" and body["model_version"].startswith("loupe-tiny/")
    assert "softmax" in body["score"]


def test_tag_a_reference_uses_its_collections_list(keyed_app, indexed_demo) -> None:  # noqa: ANN001
    client = keyed_app.test_client()
    assert put(client, "demo", LABELS).status_code == 201
    reference = {"manifest": indexed_demo.manifest("leonardo-annunciation"),
                 "canvas": indexed_demo.canvas("leonardo-annunciation"), "xywh": "0,100,776,591"}
    response = client.post("/api/tag", json={"reference": reference, "top_k": 5})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["vocabulary"]["name"] == "demo" and {x["label"] for x in body["labels"]} == set(LABELS)
    assert body["reference"]["xywh"] == [0, 100, 776, 591]
    named = client.post("/api/tag", json={"reference": reference, "vocabulary": ["lily", "ship"], "top_k": 1})
    assert [x["label"] for x in named.get_json()["labels"]][0] in ("lily", "ship")


@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "missing_image"),
    ({"url": "http://example.org/a.jpg"}, 400, "url_not_allowed"),
    ({"reference": {"canvas": "https://example.org/nope"}}, 404, "unknown_canvas"),
    ({"image_base64": "", "vocabulary": ["a"]}, 400, "invalid_image"),
    ({"reference": {"canvas": "x"}, "top_k": 0}, 400, "invalid_parameter"),
    ({"reference": {"canvas": "x"}, "vocabulary": [f"l{i}" for i in range(MAX_INLINE_LABELS + 1)]}, 400,
     "invalid_parameter"),
    ({"reference": {"canvas": "x"}, "vocabulary": "no-such-list"}, 404, "unknown_vocabulary"),
    ({"reference": {"canvas": "x"}, "colour": "red"}, 400, "unknown_parameter"),
])
def test_tag_bad_input_is_a_json_error(reading_app, body: dict, status: int, code: str) -> None:  # noqa: ANN001
    assert error_of(reading_app.test_client().post("/api/tag", json=body), status)["code"] == code


def test_tag_upload_limits(reading_app) -> None:  # noqa: ANN001
    client = reading_app.test_client()

    def upload(data: bytes):  # noqa: ANN202
        return client.post("/api/tag", data={"image": (io.BytesIO(data), "x.jpg")}, content_type="multipart/form-data")

    assert error_of(upload(b""), 400)["code"] == "invalid_image"
    assert error_of(upload(jpeg(fmt="GIF")), 415)["code"] == "unsupported_media_type"
    assert error_of(upload(b"\xff" * 60_000), 413)["code"] == "upload_too_large"
    assert error_of(client.post("/api/tag", data=b"abc", content_type="text/plain"), 415)


# --- vocabularies ----------------------------------------------------------------------------


def test_vocabularies_read_and_write(keyed_app, indexed_demo) -> None:  # noqa: ANN001
    client = keyed_app.test_client()
    listed = client.get("/api/vocabularies").get_json()["vocabularies"]
    assert [v["key"] for v in listed] == ["default"] and listed[0]["size"] > 100
    default = client.get("/api/vocabularies/default").get_json()
    assert {"label": "Annunciation", "language": "en"} in default["labels"]
    assert error_of(client.get("/api/vocabularies/demo"), 404)["code"] == "unknown_vocabulary"

    created = put(client, "demo", ["lily", {"label": "ange", "language": "fr"}])
    assert created.status_code == 201 and created.get_json()["key"] == "demo"
    assert put(client, "demo", LABELS).status_code == 200
    assert [t["label"] for t in client.get("/api/vocabularies/demo").get_json()["labels"]] == LABELS
    from connector.catalog.keys import uri_key

    by_collection = client.get(f"/api/vocabularies/{uri_key(indexed_demo.collection_url)}").get_json()
    assert by_collection["key"] == "demo"  # the source's own collection is the source
    text = client.put("/api/vocabularies/all", data="lily\nskull\n", content_type="text/plain",
                      headers={"Authorization": f"Bearer {KEY}"})
    assert text.status_code == 201 and text.get_json()["size"] == 2
    assert {v["key"] for v in client.get("/api/vocabularies").get_json()["vocabularies"]} == {"default", "demo", "all"}
    assert client.delete("/api/vocabularies/all", headers={"X-API-Key": KEY}).status_code == 200

    assert error_of(put(client, "default", LABELS), 409)["code"] == "read_only_vocabulary"
    assert error_of(put(client, "no-such-source", LABELS), 404)["code"] == "unknown_collection"
    assert error_of(put(client, "demo", []), 400)["code"] == "invalid_vocabulary"
    assert error_of(put(client, "demo", ["x" * 500]), 400)["field"] == "labels"
    wrong_type = client.put("/api/vocabularies/demo", data=b"\x00", content_type="application/octet-stream",
                            headers={"X-API-Key": KEY})
    assert error_of(wrong_type, 415)


def test_writes_need_an_api_key(keyed_app, private_settings) -> None:  # noqa: ANN001
    client = keyed_app.test_client()
    assert error_of(put(client, "demo", LABELS, api_key=None), 401)["code"] == "missing_api_key"
    assert error_of(put(client, "demo", LABELS, api_key="wrong"), 401)["code"] == "invalid_api_key"
    review = client.post("/api/machine-annotations/1/review", json={"decision": "accepted"})
    assert error_of(review, 401)["code"] == "missing_api_key"
    assert "Access-Control-Allow-Origin" not in review.headers  # writes get no CORS

    from search_service.app import create_app
    from search_service.services import Services

    services = Services(private_settings.replace(api_keys=""), catalog=keyed_app.extensions["loupe"].catalog,
                        index_role="unused")
    keyless = create_app(services.settings, services=services).test_client()
    assert error_of(put(keyless, "demo", LABELS), 403)["code"] == "api_keys_not_configured"
    assert keyless.get("/api/vocabularies").status_code == 200  # reads stay open


# --- reviews ---------------------------------------------------------------------------------


def test_review_machine_annotations(keyed_app) -> None:  # noqa: ANN001
    services = keyed_app.extensions["loupe"]
    catalog = services.catalog
    with catalog.session() as s:
        person = s.scalars(select(RegionRow).where(RegionRow.made_by == "person")).first()
    replace_proposals(catalog, "loupe-tiny", "loupe-tiny/random-seed0", [person.canvas_id],
                      [Proposal(person.canvas_id, None, "lily", 0.4)])
    with catalog.session() as s:
        machine = s.scalar(select(RegionRow.id).where(RegionRow.made_by == "machine"))
    client = keyed_app.test_client()
    headers = {"X-API-Key": KEY}
    url = f"/api/machine-annotations/{machine}/review"
    done = client.post(url, json={"decision": "accepted"}, headers=headers)
    assert done.status_code == 200, done.get_json()
    answer = done.get_json()
    assert answer["reviewed_at"].endswith("Z")
    assert answer | {"created_at": None, "reviewed_at": None} == {
        "id": machine, "canvas_id": person.canvas_id, "motivation": "tagging", "xywh": None, "tags": ["lily"],
        "made_by": "machine", "model": "loupe-tiny", "model_version": "loupe-tiny/random-seed0",
        "confidence": 0.4, "review": "accepted", "created_at": None,
        "reviewed_by": hashlib.sha256(KEY.encode()).hexdigest()[:12], "reviewed_at": None, "corrected_from": None}
    assert KEY not in done.get_data(as_text=True)  # a fingerprint, never the key
    assert client.post(url, json={"decision": "rejected"}, headers=headers).get_json()["review"] == "rejected"
    assert error_of(client.post(url, json={"decision": "maybe"}, headers=headers), 400)["field"] == "decision"
    assert error_of(client.post(url, json={}, headers=headers), 400)
    extra = error_of(client.post(url, json={"decision": "accepted", "comment": "x"}, headers=headers), 400)
    assert extra["code"] == "unknown_parameter" and extra["field"] == "comment"
    assert error_of(client.post("/api/machine-annotations/999999/review", json={"decision": "accepted"},
                                headers=headers), 404)["code"] == "unknown_annotation"
    person_url = f"/api/machine-annotations/{person.id}/review"
    assert error_of(client.post(person_url, json={"decision": "accepted"}, headers=headers), 409)


@pytest.mark.parametrize("body, field", [
    ({"decision": "accepted", "label": ""}, "label"),
    ({"decision": "accepted", "label": "x" * 201}, "label"),
    ({"decision": "accepted", "label": 7}, "label"),
    ({"decision": "accepted", "xywh": [1, 2, 3]}, "xywh"),
    ({"decision": "accepted", "xywh": "1,2,3,4"}, "xywh"),
    ({"decision": "accepted", "xywh": [1, 2, 0, 4]}, "xywh"),
    ({"decision": "accepted", "xywh": [1, 2, 1e9, 4]}, "xywh"),  # past the canvas
    ({"decision": "rejected", "label": "lily"}, "label"),  # only an acceptance is corrected
])
def test_a_correction_that_cannot_be_stored_is_refused(keyed_app, body, field) -> None:  # noqa: ANN001
    catalog = keyed_app.extensions["loupe"].catalog
    with catalog.session() as s:
        canvas_id = s.scalars(select(RegionRow.canvas_id)).first()
    replace_proposals(catalog, "loupe-tiny", "t", [canvas_id], [Proposal(canvas_id, (10, 10, 50, 40), "lily", 0.4)])
    with catalog.session() as s:
        machine = s.scalar(select(RegionRow.id).where(RegionRow.made_by == "machine"))
    response = keyed_app.test_client().post(f"/api/machine-annotations/{machine}/review", json=body,
                                            headers={"X-API-Key": KEY})
    assert error_of(response, 400)["field"] == field
    with catalog.session() as s:
        row = s.get(RegionRow, machine)
        assert (row.review, row.tags, row.w, row.reviewed_by) == ("proposed", ["lily"], 50, None)


def test_a_corrected_acceptance_is_served_as_validated_and_its_proposal_never_comes_back(keyed_app) -> None:  # noqa: ANN001
    catalog = keyed_app.extensions["loupe"].catalog
    with catalog.session() as s:
        person = s.scalars(select(RegionRow).where(RegionRow.made_by == "person")).first()
        canvas_id, canvas_uri = person.canvas_id, person.canvas.uri
    proposals = [Proposal(canvas_id, (10, 10, 50, 40), "book", 0.8), Proposal(canvas_id, (5, 5, 20, 20), "skull", 0.1)]
    replace_proposals(catalog, "test-detector", "v1", [canvas_id], proposals)
    with catalog.session() as s:
        ids = {r.tags[0]: r.id for r in s.scalars(select(RegionRow).where(RegionRow.made_by == "machine"))}
    client = keyed_app.test_client()
    headers = {"X-API-Key": KEY}
    corrected = client.post(f"/api/machine-annotations/{ids['book']}/review", headers=headers,
                            json={"decision": "accepted", "label": "missal", "xywh": [12, 11.5, 48, 40]})
    assert corrected.status_code == 200, corrected.get_json()
    body = corrected.get_json()
    assert (body["tags"], body["xywh"], body["review"]) == (["missal"], [12, 11.5, 48, 40], "accepted")
    assert body["corrected_from"] == {"tags": ["book"], "xywh": [10, 10, 50, 40]}
    rejected = client.post(f"/api/machine-annotations/{ids['skull']}/review", headers=headers,
                           json={"decision": "rejected"})
    assert rejected.status_code == 200

    page = client.get("/iiif/annotations", query_string={"uri": canvas_uri}).get_json()
    mine = {a["id"].rsplit("#region-", 1)[1]: a for a in page["items"] if "#region-" in a["id"]}
    assert str(ids["skull"]) not in mine  # rejected: no longer served
    accepted = mine[str(ids["book"])]
    assert accepted["loupe:review"] == "accepted" and accepted["body"]["value"] == "missal"
    assert accepted["target"]["selector"]["value"] == "xywh=12,12,48,40"  # integers, for Mirador
    assert accepted["generator"]["name"] == "test-detector v1" and accepted["loupe:confidence"] == 0.8  # provenance
    assert accepted["loupe:reviewedBy"]["type"] == "Person"
    assert accepted["modified"].endswith("Z")

    counts = replace_proposals(catalog, "test-detector", "v2", [canvas_id], proposals)  # the model runs again
    assert (counts.proposed, counts.decided) == (0, 2)  # neither the corrected nor the rejected one comes back


def test_openapi_documents_the_tagging_endpoints(client) -> None:  # noqa: ANN001
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/tag", "/api/vocabularies", "/api/vocabularies/{key}",
                 "/api/machine-annotations/{region_id}/review"):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/vocabularies/{key}"]["put"]["security"]
    refs = {v for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
            for r in op.get("responses", {}).values() for v in [r.get("$ref")] if v}
    names = {r.rsplit("/", 1)[1] for r in refs}
    assert names <= set(spec["components"]["responses"])  # every referenced response exists


# --- tagging jobs ----------------------------------------------------------------------------


def test_admin_tag_queues_a_job(keyed_app) -> None:  # noqa: ANN001
    from tests.support.demo import DEMO_NAME

    client = keyed_app.test_client()
    body = {"collection": DEMO_NAME, "vocabulary": LABELS[:2], "top_k": 2, "regions": False}
    assert error_of(client.post("/api/admin/tag", json=body), 401)["code"] == "missing_api_key"
    headers = {"X-API-Key": KEY}
    queued = client.post("/api/admin/tag", json=body, headers=headers)
    assert queued.status_code == 202, queued.get_json()
    job, url = queued.get_json()["job"], queued.get_json()["url"]
    assert (job["kind"], job["state"]) == ("tag", "queued") and queued.headers["Location"] == url
    assert job["params"] == {"collection": DEMO_NAME, "top_k": 2, "regions": False,
                             "vocabulary": {"name": "inline", "labels": [{"label": x} for x in LABELS[:2]]}}
    followed = client.get(url, headers=headers)
    assert followed.status_code == 200 and followed.get_json()["job"]["id"] == job["id"]
    assert "Access-Control-Allow-Origin" not in queued.headers

    def refused(change: dict, status: int):  # noqa: ANN202
        return error_of(client.post("/api/admin/tag", json={"collection": "all", **change}, headers=headers), status)

    assert refused({"collection": "nowhere"}, 404)["field"] == "collection"
    assert refused({"vocabulary": "no-such-list"}, 404)["field"] == "vocabulary"
    assert refused({"vocabulary": []}, 400)["field"] == "vocabulary"
    assert refused({"threshold": 3}, 400)["field"] == "threshold"
    assert refused({"top_k": "many"}, 400)["field"] == "top_k"
    assert refused({"model": "no-such-model"}, 400)["field"] == "model"
    assert refused({"nope": 1}, 400)["code"] == "unknown_parameter"
    assert error_of(client.post("/api/admin/tag", json={}, headers=headers), 400)
    assert error_of(client.post("/api/admin/tag", headers=headers), 400)["code"] == "invalid_json"
