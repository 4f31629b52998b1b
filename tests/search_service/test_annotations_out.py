"""Loupe's machine annotations per canvas, as IIIF AnnotationPages; and machine tags in Content Search."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from connector.catalog.keys import uri_key
from connector.catalog.schema import CanvasRow, RegionRow
from iiif.validation import validate_v3

SCREAM = "munch-the-scream"


@pytest.fixture
def tagged(private_app, indexed_demo):
    """The private copy with two machine regions on The Scream: one proposed, one rejected."""
    services = private_app.extensions["loupe"]
    canvas_uri = indexed_demo.canvas(SCREAM)
    with services.catalog.session() as s:
        canvas = s.scalar(select(CanvasRow).where(CanvasRow.uri == canvas_uri))
        canvas.regions.append(RegionRow(
            x=100, y=200, w=300, h=250, motivation="tagging", tags=["bridge"], texts={}, made_by="machine",
            model="loupe-tiny", model_version="random-seed0", confidence=0.87, review="proposed",
            created_at=datetime(2026, 5, 1, 12, 0, 0)))
        canvas.regions.append(RegionRow(
            motivation="tagging", tags=["sunset sky"], texts={}, made_by="machine", model="loupe-tiny",
            model_version="random-seed0", confidence=0.41, review="accepted"))
        canvas.regions.append(RegionRow(
            x=0, y=0, w=50, h=50, motivation="tagging", tags=["horse"], texts={}, made_by="machine",
            model="loupe-tiny", model_version="random-seed0", confidence=0.2, review="rejected"))
        s.commit()
    return private_app


def test_a_canvas_page_holds_its_unrejected_machine_annotations(tagged, indexed_demo, v3_schema):
    client = tagged.test_client()
    canvas = indexed_demo.canvas(SCREAM)
    url = f"/iiif/annotations/{uri_key(canvas)}.json"
    page = client.get(url).get_json()
    assert page["id"].endswith(url) and page["type"] == "AnnotationPage"
    assert page["label"] == {"en": ["Loupe machine annotations"]}
    assert [item["body"]["value"] for item in page["items"]] == ["bridge", "sunset sky"]
    box, whole = page["items"]
    assert box["motivation"] == "tagging" and box["body"]["purpose"] == "tagging"
    assert box["generator"]["type"] == "Software" and box["generator"]["name"] == "loupe-tiny random-seed0"
    assert box["loupe:confidence"] == 0.87 and box["created"] == "2026-05-01T12:00:00Z"
    assert box["target"]["selector"]["value"] == "xywh=100,200,300,250"
    assert box["target"]["source"]["partOf"][0]["id"] == indexed_demo.manifest(SCREAM)
    assert "selector" not in whole["target"]  # a tag of the whole canvas
    assert (box["loupe:review"], whole["loupe:review"]) == ("proposed", "accepted")
    assert page["@context"][0].endswith("loupe.jsonld")
    assert validate_v3(page, v3_schema) == []
    assert client.get("/iiif/annotations", query_string={"uri": canvas}).get_json() == page


def test_a_canvas_without_machine_annotations_has_an_empty_valid_page(client, indexed_demo, v3_schema):
    page = client.get(f"/iiif/annotations/{uri_key(indexed_demo.canvas('leonardo-mona-lisa'))}.json").get_json()
    assert page["items"] == [] and validate_v3(page, v3_schema) == []


def test_the_manifest_listing_gives_each_canvas_its_page(tagged, indexed_demo):
    client = tagged.test_client()
    manifest = indexed_demo.manifest(SCREAM)
    listing = client.get(f"/iiif/annotations/manifest/{uri_key(manifest)}.json").get_json()
    assert listing["manifest"] == manifest
    [entry] = listing["canvases"]
    assert entry["canvas"] == indexed_demo.canvas(SCREAM) and entry["machine_annotations"] == 2
    assert entry["annotations"][0]["id"].endswith(f"/iiif/annotations/{uri_key(entry['canvas'])}.json")
    assert client.get("/iiif/annotations/manifest", query_string={"uri": manifest}).get_json() == listing


def test_machine_tags_are_found_by_content_search(tagged, indexed_demo):
    client = tagged.test_client()
    key = uri_key(indexed_demo.manifest(SCREAM))
    found = client.get(f"/iiif/search/2/manifest/{key}", query_string={"q": "bridge"}).get_json()
    assert len(found["items"]) == 1 and found["items"][0]["loupe:confidence"] == 0.87
    tagging = client.get(f"/iiif/search/2/manifest/{key}", query_string={"motivation": "tagging"}).get_json()
    assert len(tagging["items"]) == 2
    assert client.get(f"/iiif/search/2/manifest/{key}", query_string={"q": "horse"}).get_json()["items"] == []
    terms = client.get(f"/iiif/autocomplete/2/manifest/{key}", query_string={"q": "su"}).get_json()["items"]
    assert terms == [{"value": "sunset", "total": 1}]


@pytest.mark.parametrize("url", ["/iiif/annotations/0123456789abcdef.json", "/iiif/annotations?uri=https://x.example/c",
                                 "/iiif/annotations/manifest/0123456789abcdef.json", "/iiif/annotations"])
def test_unknown_canvases_and_manifests(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404) and response.get_json()["error"]["message"]


def test_the_context_a_page_names_is_served_there_and_defines_its_terms(tagged, indexed_demo):
    client = tagged.test_client()
    page = client.get("/iiif/annotations", query_string={"uri": indexed_demo.canvas(SCREAM)}).get_json()
    named = page["@context"][0]
    assert named == "http://localhost/iiif/context/loupe.jsonld"  # this service, not an address nobody serves
    doc = client.get(named.removeprefix("http://localhost")).get_json()
    terms = {key for item in page["items"] for key in item if key.startswith("loupe:")}
    assert terms and terms <= set(doc["@context"])
    assert doc["@context"]["loupe"].startswith("https://")
    assert {item["loupe:review"] for item in page["items"]} <= set(doc["@context"])  # its values too


def test_creators_are_agents(tagged, indexed_demo):
    services = tagged.extensions["loupe"]
    with services.catalog.session() as s:
        s.query(RegionRow).filter(RegionRow.made_by == "machine").update({"creator": "Loupe zero-shot tagging"})
        s.commit()
    page = tagged.test_client().get("/iiif/annotations", query_string={"uri": indexed_demo.canvas(SCREAM)}).get_json()
    assert {str(item["creator"]) for item in page["items"]} == {
        str({"type": "Software", "name": "Loupe zero-shot tagging"})}
