"""Presentation 3 AnnotationPages of machine annotations."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from iiif.model import Annotation, Body, Box, Target
from iiif.validation import validate_v3
from iiif.writers.annotations import (
    CONFIDENCE,
    LOUPE_CONTEXT,
    LOUPE_CONTEXT_DOCUMENT,
    PRESENTATION_3_CONTEXT,
    MachineAnnotation,
    annotation_page,
    region_target,
    svg_path,
)

MANIFEST = "https://collection.example.org/iiif/book1/manifest"
CANVAS = "https://collection.example.org/iiif/book1/canvas/p1"
PAGE = "https://loupe.example.org/annotations/book1/p1"


def tag(i: int = 1, **kw) -> MachineAnnotation:
    fields = dict(id=f"https://loupe.example.org/anno/{i}", canvas_id=CANVAS, manifest_id=MANIFEST,
                  box=Box(10.4, 20.6, 100.2, 50), body_value="dog", language="en",
                  generator_name="MobileCLIP2-S0", generator_version="dfndr2b",
                  generator_id="https://github.com/mlfoundations/open_clip",
                  created=datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc), confidence=0.8712345)
    fields.update(kw)
    return MachineAnnotation(**fields)


def test_machine_annotation_page_structure():
    page = annotation_page(PAGE, [tag()], label={"en": ["Loupe tags"]})
    assert page["@context"] == [LOUPE_CONTEXT, PRESENTATION_3_CONTEXT]  # extension first
    assert (page["id"], page["type"], page["label"]) == (PAGE, "AnnotationPage", {"en": ["Loupe tags"]})
    (anno,) = page["items"]
    assert anno == {
        "id": "https://loupe.example.org/anno/1",
        "type": "Annotation",
        "motivation": "tagging",
        "created": "2024-05-01T12:30:00Z",
        "generator": {"id": "https://github.com/mlfoundations/open_clip", "type": "Software",
                      "name": "MobileCLIP2-S0 dfndr2b", "label": {"none": ["MobileCLIP2-S0 dfndr2b"]}},
        "body": {"type": "TextualBody", "value": "dog", "format": "text/plain", "language": "en",
                 "purpose": "tagging"},
        "target": {
            "type": "SpecificResource",
            "source": {"id": CANVAS, "type": "Canvas", "partOf": [{"id": MANIFEST, "type": "Manifest"}]},
            "selector": {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                         "value": "xywh=10,21,100,50"},
        },
        CONFIDENCE: 0.8712,
    }
    json.dumps(page)  # plain JSON


def test_loupe_context_defines_confidence():
    context = LOUPE_CONTEXT_DOCUMENT["@context"]
    prefix, term = CONFIDENCE.split(":")
    assert context[prefix].startswith("https://")
    assert context[CONFIDENCE]["@id"] == CONFIDENCE
    assert context[CONFIDENCE]["@type"].endswith("#double")


def test_page_without_extensions_uses_only_the_presentation_context():
    page = annotation_page(PAGE, [tag(confidence=None)])
    assert page["@context"] == PRESENTATION_3_CONTEXT
    assert CONFIDENCE not in page["items"][0]


def test_polygon_gets_bounding_box_and_svg_selectors():
    polygon = [(100, 100), (300.25, 120), (250, 400.5), (90.5, 300)]
    anno = annotation_page(PAGE, [tag(box=None, polygon=polygon)])["items"][0]
    fragment, svg = anno["target"]["selector"]
    assert fragment["value"] == "xywh=90,100,211,301"  # integer box enclosing every point
    assert svg["type"] == "SvgSelector"
    d = re.search(r'<path d="([^"]+)"', svg["value"]).group(1)
    assert d == "M100,100 L300.25,120 L250,400.5 L90.5,300 Z"
    points = [tuple(float(v) for v in pair.split(",")) for pair in re.findall(r"[\d.]+,[\d.]+", d)]
    assert points == [tuple(map(float, p)) for p in polygon]


def test_whole_canvas_targets():
    assert region_target(CANVAS) == CANVAS
    assert region_target(CANVAS + "#xywh=1,2,3,4") == CANVAS  # a fragment is not kept silently
    assert region_target(CANVAS, manifest_id=MANIFEST) == {
        "type": "SpecificResource",
        "source": {"id": CANVAS, "type": "Canvas", "partOf": [{"id": MANIFEST, "type": "Manifest"}]},
    }


def test_identifying_body_with_uri_and_text():
    anno = annotation_page(PAGE, [tag(motivation="identifying", body_value="Cat",
                                      body_id="http://www.wikidata.org/entity/Q146")])["items"][0]
    assert anno["body"] == [
        {"type": "TextualBody", "value": "Cat", "format": "text/plain", "language": "en",
         "purpose": "identifying"},
        {"type": "SpecificResource", "source": "http://www.wikidata.org/entity/Q146", "purpose": "identifying"},
    ]


def test_created_datetimes_are_utc_with_z():
    local = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert annotation_page(PAGE, [tag(created=local)])["items"][0]["created"] == "2024-05-01T12:30:00Z"
    naive = datetime(2024, 5, 1, 12, 30)
    assert annotation_page(PAGE, [tag(created=naive)])["items"][0]["created"] == "2024-05-01T12:30:00Z"


@pytest.mark.parametrize("confidence", [-0.01, 1.5, float("nan")])
def test_confidence_outside_unit_interval_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence"):
        annotation_page(PAGE, [tag(confidence=confidence)])


def test_identifiers_are_kept_exactly():
    # iiif-prezi3's URL type would percent-encode these or add a trailing slash.
    odd = ["https://loupe.example.org/anno/caffè", "https://example.org"]
    page = annotation_page(PAGE, [tag(id=odd[0], canvas_id=odd[1])])
    assert page["items"][0]["id"] == odd[0]
    assert page["items"][0]["target"]["source"]["id"] == odd[1]


def test_invalid_structure_is_caught_by_prezi3():
    with pytest.raises(ValueError, match="not valid IIIF v3"):
        annotation_page("not a URL", [tag()])


def test_model_annotations_are_written_back():
    model = Annotation(
        id=None,
        motivations=["commenting", "tagging"],
        bodies=[Body(type="TextualBody", value="<p>Un <b>cane</b></p>", format="text/html", language="it"),
                Body(type="Tag", value="cane"),
                Body(type="Image", id="https://example.org/sketch.png", format="image/png")],
        targets=[Target(source=CANVAS, point=(12.4, 30.6), manifest=MANIFEST),
                 Target(source="https://collection.example.org/iiif/book1/canvas/p2", box=Box(0, 0, 5, 5))],
        creator="https://orcid.org/0000-0002-1825-0097",
        created="2023-01-02T03:04:05Z",
    )
    (anno,) = annotation_page(PAGE, [model])["items"]
    assert anno["id"] == f"{PAGE}#a0"  # derived from the page when missing
    assert anno["motivation"] == ["commenting", "tagging"]
    assert anno["creator"] == {"id": model.creator} and anno["created"] == model.created  # an agent
    assert anno["body"] == [
        {"type": "TextualBody", "value": "<p>Un <b>cane</b></p>", "format": "text/html", "language": "it"},
        {"type": "TextualBody", "value": "cane", "purpose": "tagging"},
        {"id": "https://example.org/sketch.png", "type": "Image", "format": "image/png"},
    ]
    point_target, box_target = anno["target"]
    assert point_target["selector"] == {"type": "PointSelector", "x": 12, "y": 31}
    assert point_target["source"]["partOf"] == [{"id": MANIFEST, "type": "Manifest"}]
    assert box_target["selector"]["value"] == "xywh=0,0,5,5"


def test_paging_links():
    page = annotation_page(PAGE, [tag()], next_page=PAGE + "?page=2", part_of=PAGE + "/all")
    assert page["next"] == {"id": PAGE + "?page=2", "type": "AnnotationPage"}
    assert page["partOf"] == [{"id": PAGE + "/all", "type": "AnnotationCollection"}]


def test_svg_path_needs_a_polygon():
    with pytest.raises(ValueError):
        svg_path([(0, 0), (1, 1)])


def test_pages_validate_against_the_v3_schema(v3_schema):
    model = Annotation(id="https://loupe.example.org/anno/m", motivations=["commenting"],
                       bodies=[Body(type="TextualBody", value="note")],
                       targets=[Target(source=CANVAS, point=(1, 2))])
    pages = [
        annotation_page(PAGE, [tag()]),
        annotation_page(PAGE, [tag(box=None, polygon=[(0, 0), (10, 0), (5, 8)])], label="Loupe"),
        annotation_page(PAGE, [tag(box=None, manifest_id=None, confidence=None)]),
        annotation_page(PAGE, [tag(motivation="identifying", body_id="http://www.wikidata.org/entity/Q146")]),
        annotation_page(PAGE, [model], next_page=PAGE + "?page=2", part_of=PAGE + "/all"),
        annotation_page(PAGE, []),
    ]
    for page in pages:
        assert validate_v3(page, v3_schema) == [], json.dumps(page, indent=1)


def test_round_trip_through_the_reader():
    from iiif import reader
    polygon = [(100, 100), (300, 120), (250, 400)]
    page = annotation_page(PAGE, [tag(), tag(2, box=None, polygon=polygon, motivation="describing",
                                             body_value="Ein Hund", language="de")])
    result = reader.read(json.loads(json.dumps(page)))
    assert result.type == "AnnotationPage" and result.ok, result.problems
    first, second = result.resource.annotations
    assert first.id == "https://loupe.example.org/anno/1"
    assert first.motivations == ["tagging"] and first.tags == ["dog"]
    (target,) = first.targets
    assert target.source == CANVAS and target.manifest == MANIFEST
    assert target.box.as_tuple() == (10, 21, 100, 50)
    assert second.texts == {"de": ["Ein Hund"]}
    (target,) = second.targets
    assert target.polygon and [tuple(map(round, p)) for p in target.polygon] == polygon
    assert target.box.as_tuple() == (100, 100, 200, 300)


def _comparable(a: Annotation) -> tuple:
    bodies = [(b.type, b.value, b.language, b.format, b.purpose, b.id) for b in a.bodies]
    targets = [(t.source, t.box and t.box.as_xywh(), t.point, t.manifest,
                t.polygon and [(round(x, 2), round(y, 2)) for x, y in t.polygon]) for t in a.targets]
    return (a.id, a.motivations, bodies, targets, a.creator, a.created)


def test_cookbook_annotations_survive_read_write_read(shared_data, v3_schema):
    """Every non-painting annotation in the cookbook recipes, read, written as a page, and read
    again, comes back the same; the written pages validate."""
    from iiif import reader
    recipes = sorted((shared_data / "iiif" / "IIIF-cookbook-recipes" / "recipe").glob("*/*.json"))
    checked = 0
    for path in recipes:
        result = reader.read(json.loads(path.read_text(encoding="utf-8")))
        if result.type == "Manifest" and result.resource:
            annotations = [a for c in result.resource.canvases for a in c.annotations]
            annotations += result.resource.annotations
        elif result.type == "AnnotationPage" and result.resource:
            annotations = result.resource.annotations
        else:
            continue
        if not annotations:
            continue
        page = annotation_page(PAGE, annotations)
        problems = validate_v3(page, v3_schema)
        if "0139-geolocate-canvas-fragment" in str(path):
            # A GeoJSON Feature body: the model keeps its id and type, not its geometry.
            assert problems and "Feature" in problems[0]
        else:
            assert problems == [], (path, problems)
        again = reader.read(json.loads(json.dumps(page)))
        assert again.ok, (path, again.problems)
        assert [_comparable(a) for a in again.resource.annotations] == [_comparable(a) for a in annotations]
        checked += len(annotations)
    assert checked > 1000  # the newspaper recipe alone has ~1100 line annotations
