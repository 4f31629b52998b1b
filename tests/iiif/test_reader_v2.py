"""Presentation 2.0/2.1 read into the model: handwritten documents covering the vocabulary."""

from __future__ import annotations

import copy

from iiif.model import Annotation, AnnotationPage, Box, Collection, Manifest
from iiif.reader import read

CTX = "http://iiif.io/api/presentation/2/context.json"
BASE = "https://example.org/iiif/book1"
CANVAS1 = f"{BASE}/canvas/p1"
CANVAS2 = f"{BASE}/canvas/p2"
MIRADOR2_SVG = ('<svg xmlns="http://www.w3.org/2000/svg"><path xmlns="http://www.w3.org/2000/svg" '
                'd="M100,200h150v100h-150z" fill="#00bfff" fill-opacity="0" stroke-width="1"/></svg>')

# Mirador 2's own annotation format: two bodies, two motivations, oa:Choice of selectors.
MIRADOR2_ANNOTATION = {
    "@context": CTX,
    "@id": f"{BASE}/annotation/m2-1",
    "@type": "oa:Annotation",
    "motivation": ["oa:commenting", "oa:tagging"],
    "resource": [
        {"@type": "dctypes:Text", "format": "text/html", "chars": "<p>The fountain</p>"},
        {"@type": "oa:Tag", "chars": "fountain"},
    ],
    "on": [{
        "@type": "oa:SpecificResource",
        "full": CANVAS2,
        "selector": {"@type": "oa:Choice",
                     "default": {"@type": "oa:FragmentSelector", "value": "xywh=99,199,152,102"},
                     "item": {"@type": "oa:SvgSelector", "value": MIRADOR2_SVG}},
        "within": {"@id": f"{BASE}/manifest", "@type": "sc:Manifest"},
    }],
}

MANIFEST = {
    "@context": CTX,
    "@id": f"{BASE}/manifest",
    "@type": "sc:Manifest",
    "label": [{"@value": "Livre 1", "@language": "fr"}, {"@value": "Book 1", "@language": "en"}],
    "description": "A <b>book</b>.",
    "metadata": [{"label": "Author", "value": [{"@value": "Anne", "@language": "en"}, {"@value": "Anne", "@language": "fr"}]}],
    "attribution": "Provided by Example Organization",
    "license": ["https://creativecommons.org/licenses/by/4.0/"],
    "logo": {"@id": "https://example.org/logo.png"},
    "related": "https://example.org/book1.html",
    "thumbnail": {"@id": f"{BASE}/thumb.jpg"},
    "service": {"@context": "http://iiif.io/api/search/0/context.json", "@id": f"{BASE}/search",
                "profile": "http://iiif.io/api/search/0/search"},
    "navDate": "1856-01-01T00:00:00Z",
    "within": "https://example.org/collection/top",
    "sequences": [{
        "@type": "sc:Sequence",
        "canvases": [
            {
                "@id": CANVAS1, "@type": "sc:Canvas", "label": "p. 1", "width": 1000, "height": 1500,
                "images": [{
                    "@id": f"{BASE}/annotation/p1-image", "@type": "oa:Annotation", "motivation": "sc:painting",
                    "resource": {
                        "@id": f"{BASE}/page1/full/full/0/default.jpg", "@type": "dctypes:Image",
                        "format": "image/jpeg", "width": 2000, "height": 3000,
                        "service": {"@context": "http://iiif.io/api/image/2/context.json",
                                    "@id": f"{BASE}/page1/", "profile": "http://iiif.io/api/image/2/level1.json"},
                    },
                    "on": CANVAS1,
                }],
                "otherContent": [f"{BASE}/list/p1-a", {"@id": f"{BASE}/list/p1-b", "@type": "sc:AnnotationList"}],
            },
            {
                "@id": CANVAS2, "@type": "sc:Canvas", "label": "p. 2", "width": 1000, "height": 1500,
                "images": [{
                    "@type": "oa:Annotation", "motivation": "sc:painting",
                    "resource": {"@id": f"{BASE}/page2.jpg", "@type": "dctypes:Image", "width": 1000, "height": 1500},
                    "on": CANVAS2,
                }],
                "otherContent": [{"@id": f"{BASE}/list/p2", "@type": "sc:AnnotationList",
                                  "resources": [MIRADOR2_ANNOTATION]}],
            },
        ],
    }],
}


def read_manifest(doc: dict) -> tuple[Manifest, list]:
    result = read(doc)
    assert result.type == "Manifest" and result.version == 2
    assert isinstance(result.resource, Manifest)
    return result.resource, result.problems


def test_v2_manifest_descriptive_properties_upgraded():
    m, problems = read_manifest(MANIFEST)
    assert problems == []
    assert m.id == f"{BASE}/manifest" and m.version == 2
    assert m.label == {"fr": ["Livre 1"], "en": ["Book 1"]}
    assert m.summary == {"none": ["A <b>book</b>."]}
    assert m.metadata[0].label == {"none": ["Author"]} and m.metadata[0].value == {"en": ["Anne"], "fr": ["Anne"]}
    assert m.required_statement.label == {"none": ["Attribution"]}
    assert m.required_statement.value == {"none": ["Provided by Example Organization"]}
    assert m.rights == "https://creativecommons.org/licenses/by/4.0/"
    assert m.provider[0].logo == ["https://example.org/logo.png"]
    assert m.homepage == ["https://example.org/book1.html"]
    assert m.thumbnail == [f"{BASE}/thumb.jpg"]
    assert m.services == [{"id": f"{BASE}/search", "type": None, "profile": "http://iiif.io/api/search/0/search"}]
    assert m.nav_date == "1856-01-01T00:00:00Z"
    assert m.part_of == ["https://example.org/collection/top"]


def test_v2_canvases_images_and_services():
    m, _ = read_manifest(MANIFEST)
    assert [c.id for c in m.canvases] == [CANVAS1, CANVAS2]
    c1 = m.canvases[0]
    assert (c1.label, c1.width, c1.height) == ({"none": ["p. 1"]}, 1000, 1500)
    [image] = c1.images
    assert (image.id, image.width, image.height, image.format) == (f"{BASE}/page1/full/full/0/default.jpg", 2000, 3000, "image/jpeg")
    assert image.annotation_id == f"{BASE}/annotation/p1-image"
    assert image.target_box is None and image.source_box is None
    assert (image.service.id, image.service.version, image.service.level) == (f"{BASE}/page1", 2, 1)


def test_v2_other_content_references_and_embedded_lists():
    m, _ = read_manifest(MANIFEST)
    assert m.canvases[0].annotation_refs == [f"{BASE}/list/p1-a", f"{BASE}/list/p1-b"]
    assert m.canvases[0].annotations == []
    assert m.canvases[1].annotation_refs == []
    [ann] = m.canvases[1].annotations
    assert ann.id == f"{BASE}/annotation/m2-1"


def test_mirador2_annotation_read_fully():
    m, _ = read_manifest(MANIFEST)
    ann: Annotation = m.canvases[1].annotations[0]
    assert ann.motivations == ["commenting", "tagging"]
    assert ann.texts == {"none": ["<p>The fountain</p>"]}
    assert ann.bodies[0].format == "text/html"
    assert ann.tags == ["fountain"]
    assert ann.bodies[1].type == "Tag"
    [target] = ann.targets
    assert target.source == CANVAS2 and target.manifest == f"{BASE}/manifest"
    assert target.selector == "Choice"
    assert target.box == Box(99, 199, 152, 102)
    assert target.polygon == [(100, 200), (250, 200), (250, 300), (100, 300)]
    # The SVG is kept as its sanitised geometry (iiif.svg_sanitiser): the same shape.
    assert target.svg == MIRADOR2_SVG.replace(' xmlns="http://www.w3.org/2000/svg" d=', ' d=')


def test_single_v2_annotation_document():
    result = read(MIRADOR2_ANNOTATION)
    assert result.type == "AnnotationPage" and result.version == 2
    page: AnnotationPage = result.resource
    assert page.id is None and [a.id for a in page.annotations] == [f"{BASE}/annotation/m2-1"]
    assert result.problems == []


def test_v2_annotation_list_document_with_motivation_vocabulary():
    doc = {
        "@context": CTX, "@id": f"{BASE}/list/p1", "@type": "sc:AnnotationList", "within": f"{BASE}/layer/1",
        "resources": [
            {"@type": "oa:Annotation", "motivation": "sc:painting",
             "resource": {"@type": "cnt:ContentAsText", "chars": "Top of page", "language": "en"},
             "on": f"{CANVAS1}#xywh=225,70,750,150"},
            {"@type": "oa:Annotation", "motivation": "oa:identifying",
             "resource": "http://www.wikidata.org/entity/Q42", "on": CANVAS1},
            {"@type": "oa:Annotation", "motivation": "oa:linking",
             "resource": {"@id": "https://example.org/elsewhere", "@type": "dctypes:Text", "format": "text/html"},
             "on": CANVAS1},
        ],
    }
    result = read(doc)
    assert result.type == "AnnotationPage" and result.problems == []
    page = result.resource
    assert page.id == f"{BASE}/list/p1" and page.part_of == f"{BASE}/layer/1"
    painting, identifying, linking = page.annotations
    assert painting.motivations == ["painting"] and painting.texts == {"en": ["Top of page"]}
    assert painting.targets[0].box == Box(225, 70, 750, 150)
    assert identifying.motivations == ["identifying"]
    assert (identifying.bodies[0].type, identifying.bodies[0].id) == ("SpecificResource", "http://www.wikidata.org/entity/Q42")
    assert identifying.bodies[0].purpose == "identifying"
    assert (linking.bodies[0].type, linking.bodies[0].id, linking.bodies[0].format) == ("Text", "https://example.org/elsewhere", "text/html")


def test_v2_choice_of_images_with_no_image_option():
    doc = copy.deepcopy(MANIFEST)
    canvas = doc["sequences"][0]["canvases"][0]
    canvas["images"].append({
        "@type": "oa:Annotation", "motivation": "sc:painting",
        "resource": {"@type": "oa:Choice",
                     "default": {"@id": f"{BASE}/detail.jpg", "@type": "dctypes:Image", "label": "Color", "width": 173, "height": 173},
                     "item": [{"@id": f"{BASE}/detail-gray.jpg", "@type": "dctypes:Image", "label": "Greyscale"}, "rdf:nil"]},
        "on": f"{CANVAS1}#xywh=400,400,173,173",
    })
    m, problems = read_manifest(doc)
    assert problems == []
    base, detail = m.canvases[0].images
    assert detail.id == f"{BASE}/detail.jpg" and detail.label == {"none": ["Color"]}
    assert detail.target_box == Box(400, 400, 173, 173)
    assert [a.id for a in detail.alternatives] == [f"{BASE}/detail-gray.jpg"]
    assert detail.alternatives[0].target_box == Box(400, 400, 173, 173)


def test_v2_specific_resource_image_with_image_api_selector():
    doc = copy.deepcopy(MANIFEST)
    doc["sequences"][0]["canvases"][0]["images"][0]["resource"] = {
        "@id": f"{BASE}/page1/pct:10,10,50,50/full/0/default.jpg", "@type": "oa:SpecificResource",
        "full": {"@id": f"{BASE}/page1/full/full/0/default.jpg", "@type": "dctypes:Image", "width": 2000, "height": 3000},
        "selector": {"@type": "iiif:ImageApiSelector", "region": "pct:10,10,50,50"},
    }
    m, problems = read_manifest(doc)
    assert problems == []
    [image] = m.canvases[0].images
    assert image.id == f"{BASE}/page1/full/full/0/default.jpg"
    assert image.source_box == Box(200, 300, 1000, 1500)


def test_v2_collection_lists():
    doc = {"@context": CTX, "@id": "https://example.org/top", "@type": "sc:Collection", "label": "Top",
           "collections": [{"@id": "https://example.org/sub", "@type": "sc:Collection", "label": "Sub"}],
           "manifests": [{"@id": "https://example.org/m1", "@type": "sc:Manifest", "label": "M1"},
                         {"@id": " https://example.org/m2 ", "@type": "sc:Manifest"}],
           "members": [{"@id": "https://example.org/m3", "@type": "sc:Manifest"},
                       {"@id": "https://example.org/sub2", "@type": "sc:Collection"}]}
    result = read(doc)
    c: Collection = result.resource
    assert result.type == "Collection" and result.problems == []
    assert [(r.id, r.type) for r in c.members] == [
        ("https://example.org/sub", "Collection"), ("https://example.org/m1", "Manifest"),
        ("https://example.org/m2", "Manifest"), ("https://example.org/m3", "Manifest"),
        ("https://example.org/sub2", "Collection")]
    assert c.members[1].label == {"none": ["M1"]}


def test_v2_collection_paging_top_and_page():
    top = {"@context": CTX, "@id": "https://example.org/collection/top", "@type": "sc:Collection",
           "label": "Paged", "total": 9316290, "first": "https://example.org/collection/c1",
           "last": "https://example.org/collection/c9316"}
    result = read(top)
    c = result.resource
    assert result.problems == []
    assert (c.first, c.next, c.total, c.members) == ("https://example.org/collection/c1", None, 9316290, [])

    page = {"@context": CTX, "@id": "https://example.org/collection/c1", "@type": "sc:Collection",
            "label": "Page 1", "within": "https://example.org/collection/top", "startIndex": 0,
            "next": "https://example.org/collection/c2",
            "manifests": [{"@id": "https://example.org/m1", "@type": "sc:Manifest", "label": "M1"}]}
    c = read(page).resource
    assert c.next == "https://example.org/collection/c2" and [r.id for r in c.members] == ["https://example.org/m1"]


def test_v2_collection_with_embedded_first_page():
    doc = {"@context": CTX, "@id": "https://example.org/top", "@type": "sc:Collection", "label": "Top",
           "first": {"@id": "https://example.org/p1", "@type": "sc:Collection",
                     "manifests": [{"@id": "https://example.org/m1", "@type": "sc:Manifest"}],
                     "next": "https://example.org/p2"}}
    c = read(doc).resource
    assert c.first == "https://example.org/p1" and c.next == "https://example.org/p2"
    assert [r.id for r in c.members] == ["https://example.org/m1"]


def test_v2_problems_carry_paths_and_url_prefix():
    doc = copy.deepcopy(MANIFEST)
    del doc["sequences"][0]["canvases"][1]["@id"]
    doc["sequences"][0]["canvases"][0]["images"][0]["resource"]["height"] = "six"
    result = read(doc, url="https://example.org/iiif/book1/manifest")
    wheres = {p.where: p for p in result.problems}
    prefix = "https://example.org/iiif/book1/manifest "
    assert wheres[prefix + "sequences[0].canvases[1].@id"].what == "canvas has no id"
    assert wheres[prefix + "sequences[0].canvases[0].images[0].resource.height"].severity == "error"
    assert [c.id for c in result.resource.canvases] == [CANVAS1]
    assert not result.ok


def test_v2_missing_manifest_id_uses_url_with_warning():
    doc = copy.deepcopy(MANIFEST)
    del doc["@id"]
    result = read(doc, url="https://example.org/fetched.json")
    assert result.resource.id == "https://example.org/fetched.json"
    assert [(p.where, p.severity) for p in result.problems] == [("https://example.org/fetched.json @id", "warning")]


def test_v2_ids_are_stripped_and_fragments_removed_from_canvas_ids():
    doc = copy.deepcopy(MANIFEST)
    doc["@id"] = f"  {BASE}/manifest\n"
    doc["sequences"][0]["canvases"][0]["@id"] = f"{CANVAS1}#xywh=0,0,10,10"
    m, problems = read_manifest(doc)
    assert m.id == f"{BASE}/manifest" and m.canvases[0].id == CANVAS1
    assert any("fragment" in p.what for p in problems)


def test_v2_non_string_id_is_a_problem():
    doc = copy.deepcopy(MANIFEST)
    doc["sequences"][0]["canvases"][0]["@id"] = 12
    m, problems = read_manifest(doc)
    assert [c.id for c in m.canvases] == [CANVAS2]
    assert any("must be a string" in p.what for p in problems)
