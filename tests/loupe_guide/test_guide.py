"""The guide from IIIF: artworks from canvases, details from annotated regions, texts in every
language present, media from annotation links; curators' overrides through the API (key)."""

from __future__ import annotations

import json

import pytest

from connector.catalog import Catalog
from connector.catalog.store import HarvestedManifest
from iiif.reader import read
from loupe_core.settings import Settings
from loupe_guide import guide_from_catalog, read_overrides

BASE = "https://museum.example/iiif"
KEY = "curator-key-123"


def _manifest(slug: str, label: dict, regions: list[dict], summary: dict | None = None) -> dict:
    canvas = f"{BASE}/canvas/{slug}"
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{BASE}/manifests/{slug}.json",
        "type": "Manifest", "label": label, "summary": summary or {},
        "metadata": [{"label": {"en": ["Artist"], "it": ["Artista"]}, "value": {"none": ["Sandro Botticelli"]}},
                     {"label": {"en": ["Date"]}, "value": {"none": ["1485"]}}],
        "items": [{"id": canvas, "type": "Canvas", "width": 2000, "height": 1000, "items": [{
            "id": f"{canvas}/p", "type": "AnnotationPage", "items": [{
                "id": f"{canvas}/p/1", "type": "Annotation", "motivation": "painting", "target": canvas,
                "body": {"id": f"{BASE}/img/{slug}.jpg", "type": "Image", "format": "image/jpeg",
                         "width": 1000, "height": 500}}]}],
            "annotations": [{"id": f"{canvas}/a", "type": "AnnotationPage", "items": [
                {"id": f"{canvas}/a/{i}", "type": "Annotation", "motivation": r.get("motivation", "commenting"),
                 "body": r["body"], "target": f"{canvas}#xywh={r['xywh']}" if r.get("xywh") else canvas}
                for i, r in enumerate(regions)]}]}],
    }


@pytest.fixture
def catalog_with_guide(settings: Settings):
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    source = catalog.add_source(f"{BASE}/collection.json", "collection", name="museum")
    docs = [
        _manifest("birth-of-venus", {"en": ["The Birth of Venus"], "it": ["La nascita di Venere"]}, [
            {"xywh": "200,100,400,600", "body": [
                {"type": "TextualBody", "value": "Zephyr blows", "language": "en"},
                {"type": "TextualBody", "value": "Zefiro soffia", "language": "it"},
                {"type": "TextualBody", "value": "zephyr", "purpose": "tagging"}]},
            {"xywh": "1200,100,400,800", "body": [
                {"type": "TextualBody", "value": "The goddess on her shell.", "language": "en"},
                {"id": "https://museum.example/audio/venus-en.mp3", "type": "Sound", "format": "audio/mpeg"}]},
            {"body": [{"id": "https://museum.example/video/venus.mp4", "type": "Video"}]},
        ], summary={"en": ["A goddess arrives."], "it": ["Una dea arriva."], "de": ["Eine Göttin kommt."]}),
        _manifest("primavera", {"en": ["Primavera"]}, []),
    ]
    with catalog.session() as s:
        for doc in docs:
            result = read(doc, doc["id"])
            catalog.write_manifest(s, source.id, HarvestedManifest(doc["id"], result.resource, None, None,
                                                                   doc["id"]))
        s.commit()
    yield settings, catalog
    catalog.close()


def test_guide_from_iiif_has_artworks_details_languages_and_media(catalog_with_guide):
    settings, catalog = catalog_with_guide
    guide = guide_from_catalog(catalog, settings.data_dir, "default")
    ids = [i.id for i in guide.items]
    assert ids[0] == "birth-of-venus" and "primavera" in ids
    assert "birth-of-venus__zephyr" in ids  # a detail named by its tag
    venus = guide.item("birth-of-venus")
    assert venus.title == {"en": ["The Birth of Venus"], "it": ["La nascita di Venere"]}
    assert venus.artist == {"none": ["Sandro Botticelli"]}
    assert venus.text["de"] == ["Eine Göttin kommt."]
    assert venus.video == {"none": "https://museum.example/video/venus.mp4"}  # whole-canvas annotation
    zephyr = guide.item("birth-of-venus__zephyr")
    assert zephyr.parent == "birth-of-venus" and zephyr.text == {"en": ["Zephyr blows"], "it": ["Zefiro soffia"]}
    # Canvas 2000 wide painted by a 1000 px image: the box in image pixels is half.
    assert zephyr.full_box == pytest.approx((100, 50, 200, 300))
    goddess = next(i for i in guide.details if i.id != zephyr.id)
    assert goddess.audio == {"en": "https://museum.example/audio/venus-en.mp3"}
    assert guide.languages[:2] == ["en", "it"] and "de" in guide.languages
    # A guide named after a source is that source's manifests; an unknown one is an error.
    assert [i.id for i in guide_from_catalog(catalog, settings.data_dir, "museum").items] == ids
    with pytest.raises(Exception, match="no guide 'nowhere'"):
        guide_from_catalog(catalog, settings.data_dir, "nowhere")


def test_overrides_through_the_api_need_the_key_and_are_checked(catalog_with_guide):
    from search_service.app import create_app
    from search_service.services import Services

    settings, catalog = catalog_with_guide
    settings = settings.replace(api_keys=KEY)
    services = Services(settings, catalog=catalog)
    client = create_app(settings, services=services).test_client()
    url = "/api/admin/lens/default/items/birth-of-venus"
    body = {"title": {"en": ["Venus, arriving"]}, "audio": {"it": "https://museum.example/a/it.mp3"}}
    assert client.put(url, json=body).status_code == 401
    headers = {"X-API-Key": KEY}
    answer = client.put(url, json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["overrides"]["title"] == {"en": ["Venus, arriving"]}
    bad = client.put(url, json={"audio": {"en": "javascript:alert(1)"}}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "audio.en"
    assert client.put(url, json={"colour": "red"}, headers=headers).status_code == 400
    assert client.put("/api/admin/lens/default/items/nothing-here", json=body, headers=headers).status_code == 404
    assert client.put(url, json={"title": None}, headers=headers).get_json()["overrides"] == {
        "audio": {"it": "https://museum.example/a/it.mp3"}}
    stored = json.loads((settings.data_dir / "lens" / "default" / "overrides.json").read_text())
    assert stored["items"]["birth-of-venus"] == read_overrides(settings.data_dir, "default")["birth-of-venus"]
    assert client.get(url, headers=headers).get_json()["overrides"]["audio"]["it"].endswith("it.mp3")
