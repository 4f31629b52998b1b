"""The search API over the indexed demo collection (tiny random model, real Qdrant local storage).

With random weights a text search finds nothing meaningful, so text tests check shapes,
filters and paging; image tests rely on near-identical pixels giving near-identical
embeddings, which holds for any fixed model, random or not.
"""

from __future__ import annotations

import base64
import csv
import io

import pytest
from PIL import Image

from iiif.validation import validate_v3
from iiif.writers.content_state import decode_content_state
from tests.support.demo import DEMO_FOLDER

RESULT_KEYS = {"id", "score", "kind", "xywh", "manifest", "canvas", "label", "texts", "view", "thumbnail",
               "content_state", "viewer", "source", "collection", "rights", "date", "year", "similar"}


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def _upload(client, data: bytes, **fields):
    form = {"image": (io.BytesIO(data), "upload.jpg"), **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/search/image", data=form, content_type="multipart/form-data")


def _regions() -> list[dict]:
    with open(DEMO_FOLDER / "regions.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- text ----------------------------------------------------------------------------------


def test_text_search_gives_complete_results(client, indexed_demo):
    body = client.get("/api/search?q=a+ship+in+a+storm&limit=7").get_json()
    assert body["model"] == "loupe-tiny" and body["vector"] == indexed_demo.vector
    assert body["query"]["type"] == "text" and body["query"]["text"] == "a ship in a storm"
    results = body["results"]
    assert len(results) == 7 and body["next_cursor"] and body["next"].endswith(body["next_cursor"])
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        assert set(r) == RESULT_KEYS
        assert r["kind"] in ("image", "region", "view")
        assert r["manifest"]["id"].startswith(indexed_demo.collection_url.rsplit("/", 1)[0])
        assert r["manifest"]["label"] and r["canvas"]["label"] and r["label"]
        assert len(r["xywh"]) == 4 and r["xywh"][2] > 0
        # The demo is a level-0 static server: a listed size of the whole image for an image,
        # a region cut by Loupe from its own copy for a region or a view.
        if r["kind"] == "image":
            assert r["thumbnail"].startswith(r["canvas"]["id"].replace("/canvas/", "/images/") + "/full/")
        else:
            assert r["thumbnail"].startswith("http://localhost/thumbnails/")
        state = decode_content_state(r["content_state"])
        assert state["motivation"] == ["contentState"]
        assert state["target"]["partOf"][0]["id"] == r["manifest"]["id"]
        assert state["target"]["id"].startswith(r["canvas"]["id"])
        assert r["similar"].endswith(f"/api/similar/{r['id']}")
        assert r["viewer"] is None  # no viewer_url configured


def test_region_thumbnails_from_a_level_0_server_show_the_region(client):
    region = _results(client.get("/api/search?q=detail&kind=region&limit=1"))[0]
    x, y, w, h = region["xywh"]
    url = region["thumbnail"]
    assert url.endswith(f"/{round(x)},{round(y)},{round(w)},{round(h)}.jpg")
    answer = client.get(url.removeprefix("http://localhost"))
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    picture = Image.open(io.BytesIO(answer.data))
    assert max(picture.size) <= 300 and abs(picture.width / picture.height - w / h) < 0.05  # the region, not the image
    assert answer.headers["Access-Control-Allow-Origin"] == "*"  # viewers on other sites show it
    again = client.get(url.removeprefix("http://localhost"), headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    whole = client.get(url.rsplit("/", 1)[0].removeprefix("http://localhost") + "/full.jpg")
    assert whole.status_code == 200
    assert Image.open(io.BytesIO(whole.data)).size != picture.size


@pytest.mark.parametrize("path, status", [
    ("/thumbnails/0123456789abcdef/0123456789abcdef/full.jpg", 404),
    ("/thumbnails/MANIFEST/CANVAS/1,2,0,4.jpg", 400),
    ("/thumbnails/MANIFEST/CANVAS/999999,999999,10,10.jpg", 400),  # off the image
    ("/thumbnails/MANIFEST/CANVAS/https:%2F%2Fevil.example%2Fx.jpg", 404),  # never a URL
])
def test_thumbnail_requests_that_name_nothing_in_the_catalog(client, indexed_demo, path, status):
    from connector.catalog.keys import uri_key

    slug = "munch-the-scream"
    path = path.replace("MANIFEST", uri_key(indexed_demo.manifest(slug))).replace("CANVAS", uri_key(indexed_demo.canvas(slug)))
    response = client.get(path)
    assert response.status_code == status and response.get_json()["error"]["message"]


def test_the_viewer_link_carries_the_content_state(make_app):
    client = make_app(viewer_url="https://viewer.example.org/mirador.html").test_client()
    r = _results(client.get("/api/search?q=portrait&limit=1"))[0]
    assert r["viewer"].startswith("https://viewer.example.org/mirador.html?iiif-content=")
    assert r["content_state"] in r["viewer"]


def test_a_region_result_is_labelled_with_its_annotation_text(client):
    results = _results(client.get("/api/search?q=detail&kind=region&limit=50"))
    assert results and all(r["kind"] == "region" for r in results)
    assert all(r["label"].startswith("Detail:") for r in results)


# --- image: upload, duplicate, crop ------------------------------------------------------


@pytest.mark.parametrize("slug", ["munch-the-scream", "leonardo-annunciation", "vermeer-girl-with-a-pearl-earring"])
def test_an_exact_duplicate_finds_its_canvas_first(client, indexed_demo, demo_jpeg, slug):
    results = _results(_upload(client, demo_jpeg(slug), limit=5))
    assert results[0]["canvas"]["id"] == indexed_demo.canvas(slug)
    assert results[0]["kind"] == "image" and results[0]["score"] > 0.999


def test_a_duplicate_sent_as_base64_json_finds_its_canvas_first(client, indexed_demo, demo_jpeg):
    data = "data:image/jpeg;base64," + base64.b64encode(demo_jpeg("munch-the-scream")).decode()
    results = _results(client.post("/api/search/image", json={"image_base64": data, "limit": 3}))
    assert results[0]["canvas"]["id"] == indexed_demo.canvas("munch-the-scream")


@pytest.mark.parametrize("row", _regions(), ids=lambda row: f"{row['slug']}:{row['bbox_xyxy']}")
def test_a_crop_of_an_annotated_detail_finds_its_canvas_in_the_top_3(client, indexed_demo, row):
    x0, y0, x1, y1 = (int(v) for v in row["bbox_xyxy"].split(","))
    with Image.open(DEMO_FOLDER / f"{row['slug']}.jpg") as im:
        crop = im.convert("RGB").crop((x0, y0, x1, y1))
    buf = io.BytesIO()
    crop.save(buf, "PNG")
    results = _results(_upload(client, buf.getvalue(), limit=3))
    assert indexed_demo.canvas(row["slug"]) in [r["canvas"]["id"] for r in results]


def test_a_reference_region_finds_its_own_region_first(client, indexed_demo):
    canvas = indexed_demo.canvas("botticelli-birth-of-venus")
    body = {"reference": {"manifest": indexed_demo.manifest("botticelli-birth-of-venus"), "canvas": canvas,
                          "xywh": "634,76,528,536"}, "limit": 3}
    response = client.post("/api/search/image", json=body)
    results = _results(response)
    assert results[0]["canvas"]["id"] == canvas and results[0]["kind"] == "region"
    assert results[0]["xywh"] == [634, 76, 528, 536] and results[0]["score"] > 0.99
    assert response.get_json()["query"]["reference"]["xywh"] == [634, 76, 528, 536]


def test_a_reference_to_a_whole_canvas_without_manifest_finds_the_image(client, indexed_demo):
    canvas = indexed_demo.canvas("van-gogh-the-starry-night")
    results = _results(client.post("/api/search/image", json={"reference": {"canvas": canvas}, "limit": 1}))
    assert results[0]["canvas"]["id"] == canvas and results[0]["kind"] == "image"


@pytest.mark.parametrize("reference, status, field", [
    ({"canvas": "https://nowhere.example/canvas/1"}, 404, "reference.canvas"),
    ({"canvas": "CANVAS", "manifest": "https://nowhere.example/manifest"}, 404, "reference.canvas"),
    ({"canvas": "CANVAS", "xywh": "1,2,3"}, 400, "reference.xywh"),
    ({"canvas": "CANVAS", "xywh": "a,b,c,d"}, 400, "reference.xywh"),
    ({"canvas": "CANVAS", "xywh": [0, 0, 0, 10]}, 400, "reference.xywh"),
    ({"canvas": "CANVAS", "xywh": "pct:10,10,20,20"}, 400, "reference.xywh"),
    ({"canvas": "CANVAS", "xywh": "5000,5000,10,10"}, 400, "reference.xywh"),
    ({"canvas": "CANVAS", "colour": "red"}, 400, "reference.colour"),
    ({"manifest": "M"}, 400, "reference.canvas"),
    ("CANVAS", 400, "reference"),
])
def test_bad_references_are_refused_clearly(client, indexed_demo, reference, status, field):
    canvas = indexed_demo.canvas("munch-the-scream")
    if isinstance(reference, dict):
        reference = {k: (canvas if v == "CANVAS" else v) for k, v in reference.items()}
    response = client.post("/api/search/image", json={"reference": reference})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]


# --- composed and similar ------------------------------------------------------------------


def test_composed_search_uses_the_documented_zero_shot_baseline(client, indexed_demo):
    reference = {"canvas": indexed_demo.canvas("munch-the-scream")}
    body = client.post("/api/search/composed", json={"reference": reference, "text": "at night",
                                                     "text_weight": 0.3, "limit": 5}).get_json()
    assert body["query"]["method"] == "zero-shot-weighted-sum" and body["query"]["text_weight"] == 0.3
    assert len(body["results"]) == 5
    # Weight 0 is the image alone: the same ranking as the image search.
    alone = _results(client.post("/api/search/composed", json={"reference": reference, "text": "at night",
                                                               "text_weight": 0, "limit": 5}))
    by_image = _results(client.post("/api/search/image", json={"reference": reference, "limit": 5}))
    assert [r["id"] for r in alone] == [r["id"] for r in by_image]


def test_composed_search_from_an_upload_or_a_result(client, indexed_demo, demo_jpeg):
    form = {"image": (io.BytesIO(demo_jpeg("munch-the-scream")), "s.jpg"), "text": "in winter", "text_weight": "0.1",
            "limit": "2"}
    results = _results(client.post("/api/search/composed", data=form, content_type="multipart/form-data"))
    assert results[0]["canvas"]["id"] == indexed_demo.canvas("munch-the-scream")
    point = results[0]["id"]
    body = client.post("/api/search/composed", json={"point_id": point, "text": "x", "text_weight": 0.0}).get_json()
    assert body["results"][0]["id"] == point


@pytest.mark.parametrize("body, field", [
    ({"reference": {"canvas": "C"}, "text": "", "text_weight": 0.5}, "text"),
    ({"reference": {"canvas": "C"}, "text": "x", "text_weight": 1.5}, "text_weight"),
    ({"reference": {"canvas": "C"}, "text": "x", "text_weight": "heavy"}, "text_weight"),
    ({"text": "x"}, "reference"),
    ({"reference": {"canvas": "C"}, "point_id": "0e0f8a5c-2f4b-5c1e-9d1e-1a2b3c4d5e6f", "text": "x"}, "reference"),
])
def test_composed_search_refuses_bad_input(client, indexed_demo, body, field):
    if "reference" in body:
        body = {**body, "reference": {"canvas": indexed_demo.canvas("munch-the-scream")}}
    response = client.post("/api/search/composed", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_similar_to_a_result_starts_with_the_result(client):
    first = _results(client.get("/api/search?q=a+garden&limit=1"))[0]
    results = _results(client.get(f"/api/similar/{first['id']}?limit=4"))
    assert results[0]["id"] == first["id"] and results[0]["score"] > 0.999 and len(results) == 4


def test_similar_to_an_unknown_or_malformed_id(client):
    response = client.get("/api/similar/0e0f8a5c-2f4b-5c1e-9d1e-1a2b3c4d5e6f")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_point"
    response = client.get("/api/similar/not-an-id")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "point_id"


# --- filters, paging, one per canvas -----------------------------------------------------------


def test_filters_restrict_results(client, indexed_demo):
    manifest = indexed_demo.manifest("leonardo-annunciation")
    results = _results(client.get("/api/search", query_string={"q": "angel", "manifest": manifest, "limit": 50}))
    assert results and {r["manifest"]["id"] for r in results} == {manifest}
    assert {r["kind"] for r in results} == {"image", "region", "view"}
    results = _results(client.get("/api/search", query_string={"q": "angel", "manifest": manifest, "kind": "region,image",
                                                               "limit": 50}))
    assert {r["kind"] for r in results} == {"image", "region"}
    assert len([r for r in results if r["kind"] == "image"]) == 1


def test_source_collection_rights_and_year_filters(client, indexed_demo):
    everything = _results(client.get("/api/search?q=x&limit=100&kind=image"))
    assert len(everything) == 30
    by_source = _results(client.get("/api/search?q=x&limit=100&kind=image&source=demo"))
    assert len(by_source) == 30
    by_id = _results(client.get(f"/api/search?q=x&limit=100&kind=image&source={indexed_demo.source_id}"))
    assert len(by_id) == 30
    assert _results(client.get("/api/search?q=x&kind=image&source=elsewhere")) == []
    assert len(_results(client.get("/api/search", query_string={
        "q": "x", "kind": "image", "limit": 100, "collection": indexed_demo.collection_url}))) == 30
    rights = {r["rights"] for r in everything if r["rights"]}
    some = sorted(rights)[0]
    filtered = _results(client.get("/api/search", query_string={"q": "x", "kind": "image", "limit": 100, "rights": some}))
    assert filtered and all(r["rights"] == some for r in filtered)
    dated = _results(client.get("/api/search?q=x&kind=image&limit=100&year_from=1900&year_to=1920"))
    assert dated and all(1900 <= r["year"] <= 1920 for r in dated)
    assert len(dated) < 30


def test_pages_are_disjoint_and_cover_the_results(client):
    seen: list[str] = []
    url = "/api/search?q=a+river&limit=4&kind=image"
    for _ in range(3):
        body = client.get(url).get_json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"].split("localhost", 1)[1]
    assert len(seen) == len(set(seen)) == 12
    one_go = [r["id"] for r in _results(client.get("/api/search?q=a+river&limit=12&kind=image"))]
    assert seen == one_go


def test_a_cursor_of_another_query_or_garbage_is_refused(client):
    cursor = client.get("/api/search?q=a+river&limit=2").get_json()["next_cursor"]
    for url in (f"/api/search?q=a+lake&limit=2&cursor={cursor}",
                f"/api/search?q=a+river&limit=2&kind=image&cursor={cursor}",
                "/api/search?q=a+river&limit=2&cursor=bm9wZQ"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["error"] == {"code": "invalid_cursor", "message": response.get_json()["error"][
            "message"], "field": "cursor"}


def test_one_result_per_canvas_across_pages(client):
    first = client.get("/api/search?q=a+face&limit=10&one_per_canvas=true").get_json()
    second = client.get(f"/api/search?q=a+face&limit=10&one_per_canvas=true&cursor={first['next_cursor']}").get_json()
    canvases = [r["canvas"]["id"] for r in first["results"] + second["results"]]
    assert len(canvases) == 20 and len(set(canvases)) == 20
    plain = _results(client.get("/api/search?q=a+face&limit=40"))
    assert len({r["canvas"]["id"] for r in plain}) < 40  # without the option a canvas repeats


# --- IIIF form -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["format", "accept"])
def test_results_as_a_iiif_annotation_page_validate(client, v3_schema, how):
    if how == "format":
        response = client.get("/api/search?q=a+ship&limit=5&format=iiif")
    else:
        response = client.get("/api/search?q=a+ship&limit=5", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    page = response.get_json()
    assert page["type"] == "AnnotationPage" and len(page["items"]) == 5
    assert page["@context"][0] == "http://iiif.io/api/search/2/context.json"
    assert "cursor=" in page["next"]["id"]
    for item in page["items"]:
        assert item["motivation"] == "highlighting"
        assert item["target"]["source"]["partOf"][0]["type"] == "Manifest"
        assert item["target"]["selector"]["value"].startswith("xywh=")
    assert validate_v3(page, v3_schema) == []
    json_response = client.get("/api/search?q=a+ship&limit=5").get_json()
    assert [i["id"].rsplit("#", 1)[1] for i in page["items"]] == [r["id"] for r in json_response["results"]]


def test_an_image_search_in_iiif_form(client, indexed_demo, demo_jpeg, v3_schema):
    data = base64.b64encode(demo_jpeg("munch-the-scream")).decode()
    page = client.post("/api/search/image?format=iiif", json={"image_base64": data, "limit": 2}).get_json()
    assert page["items"][0]["target"]["source"]["id"] == indexed_demo.canvas("munch-the-scream")
    assert validate_v3(page, v3_schema) == []


# --- invalid parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("query, field", [
    ("q=x&limit=0", "limit"), ("q=x&limit=101", "limit"), ("q=x&limit=ten", "limit"),
    ("q=x&kind=painting", "kind"), ("q=x&year_from=early", "year_from"), ("q=x&one_per_canvas=maybe", "one_per_canvas"),
    ("q=x&colour=red", "colour"), ("q=", "q"), ("limit=3", "q"), ("q=x&format=xml", "format"),
    ("q=x&manifest=", "manifest"), ("q=" + "x" * 1001, "q"), ("q=x&url=http://example.org/a.jpg", "url"),
])
def test_invalid_parameters_answer_400_with_the_field(client, query, field):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400 and response.is_json
    error = response.get_json()["error"]
    assert error["field"] == field and error["code"] and error["message"]


def test_year_range_backwards_is_refused(client):
    response = client.get("/api/search?q=x&year_from=1900&year_to=1800")
    assert response.status_code == 400 and "year" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ({"reference": {"canvas": "C"}, "filters": {"kind": "sculpture"}}, "kind"),
    ({"reference": {"canvas": "C"}, "filters": {"kind": 3}}, "filters.kind"),
    ({"reference": {"canvas": "C"}, "filters": {"shape": "round"}}, "filters.shape"),
    ({"reference": {"canvas": "C"}, "filters": "kind=region"}, "filters"),
    ({"reference": {"canvas": "C"}, "kind": "region"}, "kind"),
    ({"reference": {"canvas": "C"}, "limit": "5"}, "limit"),
    ({"reference": {"canvas": "C"}, "limit": 1000}, "limit"),
    ({"reference": {"canvas": "C"}, "one_per_canvas": "yes"}, "one_per_canvas"),
    ({}, "image"),
])
def test_invalid_json_search_bodies_answer_400(client, indexed_demo, body, field):
    if "reference" in body:
        body = {**body, "reference": {"canvas": indexed_demo.canvas("munch-the-scream")}}
    response = client.post("/api/search/image", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_a_post_that_is_neither_json_nor_a_form_is_415(client):
    response = client.post("/api/search/image", data=b"\xff\xd8\xff", content_type="image/jpeg")
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "unsupported_media_type"


def test_malformed_json_is_400(client):
    response = client.post("/api/search/image", data=b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_unknown_routes_and_methods_answer_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/search")
    assert response.status_code == 405 and response.is_json and "GET" in response.headers["Allow"]


# --- not ready -------------------------------------------------------------------------------------


def test_missing_weights_for_the_active_vector_answer_503_with_where_to_put_them(private_app, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    index = private_app.extensions["loupe"].index
    index.ensure_vector("mobileclip2-s0__dfndr2b", 512)
    index.set_active("mobileclip2-s0__dfndr2b")
    response = private_app.test_client().get("/api/search?q=zzqx+qqzx")  # no catalog text has these words
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "model_weights_missing" and "MobileCLIP2-S0" in error["message"]
    assert "LOUPE_MODEL_PATH" in error["message"]
    # Words of the catalog are still found, by the text ranker alone.
    found = private_app.test_client().get("/api/search?q=venus").get_json()
    assert found["rankers"] == ["text"] and "Venus" in found["results"][0]["label"]


def test_an_empty_index_answers_503_saying_to_index_first(tmp_path):
    from loupe_core.settings import Settings
    from search_service.app import create_app
    from search_service.services import Services

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path / "var", model="loupe-tiny")
    services = Services(settings)
    try:
        client = create_app(settings, services=services).test_client()
        response = client.get("/api/search?q=x")
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "index_unavailable"
        assert "loupe index" in response.get_json()["error"]["message"]
        assert client.get("/api/status").get_json()["index"]["vectors"] == {}
    finally:
        services.close()
