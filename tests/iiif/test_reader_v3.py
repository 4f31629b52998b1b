"""Presentation 3.0 read into the model: handwritten documents covering the vocabulary."""

from __future__ import annotations

import copy

import pytest

from iiif.model import AnnotationPage, Box, Collection, Manifest
from iiif.reader import read

CTX = "http://iiif.io/api/presentation/3/context.json"
BASE = "https://example.org/iiif/m1"
CANVAS = f"{BASE}/canvas/1"


def painting(ident: str, body: object, target: object = CANVAS) -> dict:
    return {"id": ident, "type": "Annotation", "motivation": "painting", "body": body, "target": target}


IMAGE = {
    "id": f"{BASE}/img1/full/max/0/default.jpg", "type": "Image", "format": "image/jpeg", "width": 4000, "height": 2000,
    "service": [
        {"@id": f"{BASE}/img1", "@type": "ImageService2", "profile": "http://iiif.io/api/image/2/level2.json"},
        {"id": f"{BASE}/img1", "type": "ImageService3", "profile": "level1", "width": 4000, "height": 2000},
    ],
}

MANIFEST = {
    "@context": CTX,
    "id": f"{BASE}/manifest",
    "type": "Manifest",
    "label": {"en": ["Picture"], "de": ["Bild"]},
    "summary": {"en": ["<p>A <i>picture</i></p>"]},
    "metadata": [{"label": {"en": ["Date"]}, "value": {"none": ["1890"]}}],
    "rights": "http://creativecommons.org/licenses/by/4.0/",
    "requiredStatement": {"label": {"en": ["Attribution"]}, "value": {"en": ["Provided by Example"]}},
    "provider": [{"id": "https://example.org/about", "type": "Agent", "label": {"en": ["Example"]},
                  "homepage": [{"id": "https://example.org/", "type": "Text"}],
                  "logo": [{"id": "https://example.org/logo.png", "type": "Image"}]}],
    "thumbnail": [{"id": f"{BASE}/thumb.jpg", "type": "Image"}],
    "homepage": [{"id": "https://example.org/m1.html", "type": "Text"}],
    "service": [{"id": f"{BASE}/search", "type": "SearchService2"}],
    "services": [{"id": "https://example.org/auth", "type": "AuthAccessService2", "profile": "active"}],
    "navDate": "2019-06-24T00:00:00Z",
    "partOf": [{"id": "https://example.org/collection", "type": "Collection"}],
    "behavior": ["paged"],
    "items": [{
        "id": CANVAS, "type": "Canvas", "width": 2000, "height": 1000, "label": {"none": ["p. 1"]},
        "items": [{"id": f"{CANVAS}/page/p1", "type": "AnnotationPage",
                   "items": [painting(f"{CANVAS}/anno/image", IMAGE)]}],
        "annotations": [
            {"id": f"{CANVAS}/page/p2", "type": "AnnotationPage", "items": [
                {"id": f"{CANVAS}/anno/tag", "type": "Annotation", "motivation": "tagging",
                 "body": {"type": "TextualBody", "value": "Gänseliesel-Brunnen", "language": "de", "format": "text/plain"},
                 "target": f"{CANVAS}#xywh=265,661,1260,1239"},
                {"id": f"{CANVAS}/anno/comment", "type": "Annotation", "motivation": "commenting",
                 "body": {"type": "Choice", "items": [
                     {"type": "TextualBody", "value": "Koto with a cover", "language": "en"},
                     {"type": "TextualBody", "value": "袋に収められた琴", "language": "ja"}]},
                 "target": f"{CANVAS}#xywh=percent:10,10,20,20"},
                {"id": f"{CANVAS}/anno/svg", "type": "Annotation", "motivation": ["describing"],
                 "body": [{"type": "TextualBody", "value": "a triangle", "purpose": "describing"},
                          {"type": "TextualBody", "value": "triangle", "purpose": "tagging"}],
                 "target": {"type": "SpecificResource", "source": {"id": CANVAS, "type": "Canvas"},
                            "selector": {"type": "SvgSelector",
                                         "value": "<svg><polygon points='10,10 110,10 60,90'/></svg>"}}},
            ]},
            {"id": f"{CANVAS}/page/remote", "type": "AnnotationPage"},
        ],
    }],
    "annotations": [{"id": f"{BASE}/page/manifest-level", "type": "AnnotationPage"}],
}


def read_manifest(doc: dict) -> tuple[Manifest, list]:
    result = read(doc)
    assert result.type == "Manifest" and result.version == 3
    return result.resource, result.problems


def test_v3_descriptive_properties():
    m, problems = read_manifest(MANIFEST)
    assert problems == []
    assert m.label == {"en": ["Picture"], "de": ["Bild"]}
    assert m.summary == {"en": ["<p>A <i>picture</i></p>"]}
    assert (m.metadata[0].label, m.metadata[0].value) == ({"en": ["Date"]}, {"none": ["1890"]})
    assert m.rights == "http://creativecommons.org/licenses/by/4.0/"
    assert m.required_statement.value == {"en": ["Provided by Example"]}
    [agent] = m.provider
    assert (agent.id, agent.label, agent.homepage, agent.logo) == (
        "https://example.org/about", {"en": ["Example"]}, ["https://example.org/"], ["https://example.org/logo.png"])
    assert m.thumbnail == [f"{BASE}/thumb.jpg"] and m.homepage == ["https://example.org/m1.html"]
    assert m.services == [{"id": f"{BASE}/search", "type": "SearchService2", "profile": None},
                          {"id": "https://example.org/auth", "type": "AuthAccessService2", "profile": "active"}]
    assert m.nav_date == "2019-06-24T00:00:00Z" and m.part_of == ["https://example.org/collection"]
    assert m.annotation_refs == [f"{BASE}/page/manifest-level"]


def test_v3_canvas_image_prefers_image_api_3():
    m, _ = read_manifest(MANIFEST)
    [canvas] = m.canvases
    assert (canvas.id, canvas.width, canvas.height, canvas.label) == (CANVAS, 2000, 1000, {"none": ["p. 1"]})
    [image] = canvas.images
    assert image.annotation_id == f"{CANVAS}/anno/image"
    assert (image.service.version, image.service.level, image.service.width) == (3, 1, 4000)


def test_v3_embedded_and_referenced_annotations():
    m, _ = read_manifest(MANIFEST)
    canvas = m.canvases[0]
    assert canvas.annotation_refs == [f"{CANVAS}/page/remote"]
    tag, comment, svg = canvas.annotations
    assert tag.motivations == ["tagging"] and tag.tags == ["Gänseliesel-Brunnen"] and tag.texts == {}
    assert tag.bodies[0].type == "Tag" and tag.bodies[0].language == "de"
    assert tag.targets[0].box == Box(265, 661, 1260, 1239)
    assert comment.texts == {"en": ["Koto with a cover"], "ja": ["袋に収められた琴"]}
    assert comment.targets[0].box == Box(200, 100, 400, 200)  # percent of the 2000x1000 canvas
    assert svg.texts == {"none": ["a triangle"]} and svg.tags == ["triangle"]
    assert svg.targets[0].polygon == [(10, 10), (110, 10), (60, 90)]
    assert svg.targets[0].box == Box(10, 10, 100, 80)
    assert svg.targets[0].selector == "SvgSelector"


def test_v3_specific_resource_body_and_choice():
    doc = copy.deepcopy(MANIFEST)
    page = doc["items"][0]["items"][0]
    page["items"] = [
        painting(f"{CANVAS}/anno/region", {
            "id": f"{CANVAS}/body/b1", "type": "SpecificResource",
            "source": {"id": f"{BASE}/big.jpg", "type": "Image", "width": 3536, "height": 4999},
            "selector": {"type": "ImageApiSelector", "region": "1768,2423,1768,2080"}}),
        painting(f"{CANVAS}/anno/choice", {"type": "Choice", "items": [
            {"id": f"{BASE}/natural.jpg", "type": "Image", "label": {"en": ["Natural"]}},
            {"id": f"{BASE}/xray.jpg", "type": "Image", "label": {"en": ["X-Ray"]}}]},
            target=f"{CANVAS}#xywh=0,0,1000,500"),
    ]
    m, problems = read_manifest(doc)
    assert problems == []
    region, choice = m.canvases[0].images
    assert region.id == f"{BASE}/big.jpg" and region.source_box == Box(1768, 2423, 1768, 2080)
    assert choice.id == f"{BASE}/natural.jpg" and choice.target_box == Box(0, 0, 1000, 500)
    assert [a.id for a in choice.alternatives] == [f"{BASE}/xray.jpg"]


def test_v3_audio_canvas_gives_warning_not_error():
    doc = {"@context": CTX, "id": f"{BASE}/audio", "type": "Manifest", "label": {"en": ["Audio"]},
           "items": [{"id": CANVAS, "type": "Canvas", "duration": 1985.024,
                      "items": [{"id": f"{CANVAS}/p", "type": "AnnotationPage", "items": [
                          painting(f"{CANVAS}/a", {"id": f"{BASE}/a.mp4", "type": "Sound", "format": "audio/mp4"})]}]}]}
    result = read(doc)
    m = result.resource
    assert m.canvases[0].duration == pytest.approx(1985.024) and m.canvases[0].images == []
    assert {p.severity for p in result.problems} == {"warning"}
    assert any("still images only" in p.what for p in result.problems)


def test_painted_text_becomes_an_annotation():
    doc = copy.deepcopy(MANIFEST)
    doc["items"][0]["items"][0]["items"].append(
        painting(f"{CANVAS}/anno/text", {"type": "TextualBody", "value": "Caption", "language": "en"}, f"{CANVAS}#xywh=1,2,3,4"))
    m, problems = read_manifest(doc)
    assert problems == []
    assert len(m.canvases[0].images) == 1
    text = m.canvases[0].annotations[0]  # canvas items are read before its annotations
    assert text.motivations == ["painting"] and text.texts == {"en": ["Caption"]}


def test_annotation_without_target_on_a_canvas_gets_the_canvas():
    doc = copy.deepcopy(MANIFEST)
    del doc["items"][0]["annotations"][0]["items"][0]["target"]
    m, problems = read_manifest(doc)
    tag = m.canvases[0].annotations[0]
    assert tag.targets[0].source == CANVAS and tag.targets[0].box is None
    assert [p.where for p in problems] == ["items[0].annotations[0].items[0]"]


def test_duplicate_ids_are_reported():
    doc = copy.deepcopy(MANIFEST)
    doc["items"][0]["items"][0]["id"] = CANVAS
    _, problems = read_manifest(doc)
    assert any("already used" in p.what and p.where == "items[0].items[0]" for p in problems)


def test_presentation_4_read_best_effort_with_warning():
    doc = copy.deepcopy(MANIFEST)
    doc["@context"] = "http://iiif.io/api/presentation/4/context.json"
    doc["items"].append({"id": f"{BASE}/timeline", "type": "Timeline", "duration": 10})
    result = read(doc)
    assert result.type == "Manifest" and result.version == 4
    assert len(result.resource.canvases) == 1
    assert any("draft" in p.what for p in result.problems)
    assert any("Timeline" in p.what for p in result.problems)


def test_v3_collection_with_embedded_manifest_and_paging():
    embedded = copy.deepcopy(MANIFEST)
    del embedded["@context"]
    doc = {"@context": CTX, "id": "https://example.org/collection", "type": "Collection",
           "label": {"en": ["All"]}, "total": 3, "next": "https://example.org/collection?page=2",
           "items": [{"id": "https://example.org/m0", "type": "Manifest", "label": {"en": ["Zero"]},
                      "thumbnail": [{"id": "https://example.org/t0.jpg", "type": "Image"}]},
                     {"id": "https://example.org/sub", "type": "Collection"},
                     embedded,
                     {"id": "https://example.org/c1", "type": "Canvas"}]}
    result = read(doc)
    c: Collection = result.resource
    assert result.type == "Collection"
    assert [(r.id, r.type) for r in c.members] == [("https://example.org/m0", "Manifest"),
                                                   ("https://example.org/sub", "Collection"),
                                                   (f"{BASE}/manifest", "Manifest")]
    assert c.members[0].thumbnail == ["https://example.org/t0.jpg"]
    assert [m.id for m in c.embedded_manifests] == [f"{BASE}/manifest"]
    assert c.embedded_manifests[0].canvases[0].images[0].service.version == 3
    assert (c.total, c.next) == (3, "https://example.org/collection?page=2")
    assert [p.where for p in result.problems] == ["items[3]"]


def test_annotation_collection_with_embedded_first_page():
    doc = {"@context": CTX, "id": "https://example.org/ac", "type": "AnnotationCollection",
           "label": {"en": ["OCR"]}, "total": 2,
           "first": {"id": "https://example.org/ac/p1", "type": "AnnotationPage",
                     "next": "https://example.org/ac/p2",
                     "items": [{"id": "https://example.org/ac/a1", "type": "Annotation", "motivation": "supplementing",
                                "body": {"type": "TextualBody", "value": "word"}, "target": f"{CANVAS}#xywh=1,1,5,5"}]}}
    result = read(doc)
    page: AnnotationPage = result.resource
    assert result.type == "AnnotationCollection" and result.problems == []
    assert (page.id, page.next, page.label) == ("https://example.org/ac", "https://example.org/ac/p2", {"en": ["OCR"]})
    assert page.annotations[0].texts == {"none": ["word"]}


def test_annotation_page_part_of_and_next():
    doc = {"@context": CTX, "id": "https://example.org/ac/p1", "type": "AnnotationPage",
           "partOf": [{"id": "https://example.org/ac", "type": "AnnotationCollection"}],
           "next": "https://example.org/ac/p2", "items": []}
    page = read(doc).resource
    assert (page.part_of, page.next, page.annotations) == ("https://example.org/ac", "https://example.org/ac/p2", [])


def test_content_state_annotation():
    doc = {"@context": CTX, "id": "https://example.org/cs", "type": "Annotation", "motivation": ["contentState"],
           "target": {"id": f"{CANVAS}#xywh=1528,3024,344,408", "type": "Canvas",
                      "partOf": [{"id": f"{BASE}/manifest", "type": "Manifest"}]}}
    result = read(doc)
    assert result.type == "AnnotationPage" and result.problems == []
    [ann] = result.resource.annotations
    assert ann.motivations == ["contentState"]
    assert (ann.targets[0].source, ann.targets[0].box, ann.targets[0].manifest) == (
        CANVAS, Box(1528, 3024, 344, 408), f"{BASE}/manifest")


def test_manifest_without_items_says_why():
    result = read({"@context": CTX, "id": "https://example.org/empty", "type": "Manifest", "label": {"en": ["x"]}})
    assert result.resource.canvases == []
    assert any(p.severity == "error" and "canvas" in p.what for p in result.problems)


def test_body_given_as_a_uri_for_linking():
    doc = {"@context": CTX, "id": "https://example.org/p", "type": "AnnotationPage", "items": [
        {"id": "https://example.org/a", "type": "Annotation", "motivation": "linking",
         "body": "https://example.org/elsewhere", "target": CANVAS}]}
    [ann] = read(doc).resource.annotations
    assert (ann.bodies[0].type, ann.bodies[0].id, ann.bodies[0].purpose) == ("SpecificResource", "https://example.org/elsewhere", "linking")


def test_annotations_on_an_image_layer_are_mapped_to_canvas_units():
    # The X-ray layer is 4000x2000 pixels painted over the 2000x1000 canvas: image pixels halve.
    xray = {"id": f"{BASE}/xray.jpg", "type": "Image", "width": 4000, "height": 2000,
            "service": [{"id": f"{BASE}/xray", "type": "ImageService3", "profile": "level1"}],
            "annotations": [{"id": f"{BASE}/xray/page", "type": "AnnotationPage", "items": [
                {"id": f"{BASE}/xray/a1", "type": "Annotation", "motivation": "tagging",
                 "body": {"type": "TextualBody", "value": "skulls"},
                 "target": {"type": "SpecificResource", "source": f"{BASE}/xray",
                            "selector": {"type": "ImageApiSelector", "region": "800,400,200,100"}}},
                {"id": f"{BASE}/xray/a2", "type": "Annotation", "motivation": "tagging",
                 "body": {"type": "TextualBody", "value": "outline"},
                 "target": {"type": "SpecificResource", "source": f"{BASE}/xray.jpg",
                            "selector": {"type": "SvgSelector", "value": "<svg><polygon points='0,0 400,0 400,200'/></svg>"}}},
            ]}]}
    doc = copy.deepcopy(MANIFEST)
    doc["items"][0]["items"][0]["items"] = [painting(f"{CANVAS}/anno/choice", {"type": "Choice", "items": [IMAGE, xray]})]
    m, problems = read_manifest(doc)
    assert problems == []
    region, outline = m.canvases[0].annotations[:2]
    assert region.tags == ["skulls"]
    assert (region.targets[0].source, region.targets[0].box) == (CANVAS, Box(400, 200, 100, 50))
    assert outline.targets[0].polygon == [(0, 0), (200, 0), (200, 100)]
    assert outline.targets[0].box == Box(0, 0, 200, 100)


def test_v2_layer_is_an_annotation_collection():
    doc = {"@context": "http://iiif.io/api/presentation/2/context.json", "@id": "https://example.org/layer/ocr",
           "@type": "sc:Layer", "label": "OCR", "otherContent": ["https://example.org/list/1", "https://example.org/list/2"]}
    result = read(doc)
    assert result.type == "AnnotationCollection" and result.version == 2
    assert (result.resource.id, result.resource.next, result.resource.label) == (
        "https://example.org/layer/ocr", "https://example.org/list/1", {"none": ["OCR"]})
    assert any("only the first" in p.what for p in result.problems)


def test_v3_collection_with_embedded_first_page():
    doc = {"@context": CTX, "id": "https://example.org/c", "type": "Collection", "label": {"en": ["Paged"]},
           "first": {"id": "https://example.org/c?page=1", "type": "CollectionPage", "next": "https://example.org/c?page=2",
                     "items": [{"id": "https://example.org/m1", "type": "Manifest"}]}}
    c = read(doc).resource
    assert (c.first, c.next) == ("https://example.org/c?page=1", "https://example.org/c?page=2")
    assert [r.id for r in c.members] == ["https://example.org/m1"]
