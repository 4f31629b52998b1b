"""Content Search 1.0/2.0 responses, compared with the specifications' own examples."""

from __future__ import annotations

import json

import pytest

from iiif.model import Annotation, Body, Box, Target
from iiif.validation import validate_v3
from iiif.writers.annotations import CONFIDENCE, LOUPE_CONTEXT, MachineAnnotation
from iiif.writers.content_search import (
    PRESENTATION_2_CONTEXT,
    SEARCH_1_CONTEXT,
    SEARCH_2_CONTEXT,
    Paging,
    Term,
    TextMatch,
    autocomplete_response_v1,
    autocomplete_response_v2,
    search_response_v1,
    search_response_v2,
    service_blocks,
    with_query_param,
)

CANVAS = "https://example.org/identifier/canvas1"
MANIFEST = "https://example.org/identifier/manifest"


def line(annotation_id: str, text: str, box: Box, *, manifest: str | None = None) -> Annotation:
    """A painting annotation as in the specs' examples (OCR lines)."""
    return Annotation(id=annotation_id, motivations=["painting"],
                      bodies=[Body(type="TextualBody", value=text, format="text/plain")],
                      targets=[Target(source=CANVAS, box=box, manifest=manifest)])


def hit(i: int, **kw) -> MachineAnnotation:
    fields = dict(id=f"https://loupe.example.org/anno/{i}", canvas_id=CANVAS, manifest_id=MANIFEST,
                  box=Box(100, 100, 250, 20), body_value="bird", confidence=0.5)
    fields.update(kw)
    return MachineAnnotation(**fields)


def assert_same_shape(ours, example, where="$"):
    """Every key of the example is in ours with a value of the same JSON type, recursively
    (lists: element by element, up to the example's length)."""
    if isinstance(example, dict):
        assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
        for key, value in example.items():
            assert key in ours, f"{where}: missing {key!r} (have {sorted(ours)})"
            assert_same_shape(ours[key], value, f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(ours, list), f"{where}: expected a list, got {ours!r}"
        assert len(ours) >= len(example), f"{where}: {len(ours)} items < {len(example)}"
        for i, value in enumerate(example):
            assert_same_shape(ours[i], value, f"{where}[{i}]")
    else:
        assert type(ours) is type(example), f"{where}: {ours!r} vs {example!r}"


# --- paging and URLs ------------------------------------------------------------------------


def test_paging_for_a_page_in_the_middle():
    paging = Paging.for_page("https://example.org/service/manifest/search?q=bird", 2, 10, 125)
    assert paging == Paging(
        collection_id="https://example.org/service/manifest/search?q=bird", total=125,
        first="https://example.org/service/manifest/search?q=bird&page=1",
        last="https://example.org/service/manifest/search?q=bird&page=13",
        next="https://example.org/service/manifest/search?q=bird&page=3",
        prev="https://example.org/service/manifest/search?q=bird&page=1",
        start_index=10)


def test_paging_is_none_for_a_single_page_and_checks_bounds():
    assert Paging.for_page("https://e.org/s?q=x", 1, 10, 10) is None
    assert Paging.for_page("https://e.org/s?q=x", 1, 10, 0) is None
    with pytest.raises(ValueError):
        Paging.for_page("https://e.org/s?q=x", 3, 10, 11)
    last = Paging.for_page("https://e.org/s?q=x&page=2", 2, 10, 11)
    assert last.next is None and last.prev == "https://e.org/s?q=x&page=1"


def test_query_parameters():
    assert with_query_param("https://e.org/s?motivation=painting", "q", "hand is") == \
        "https://e.org/s?motivation=painting&q=hand+is"
    assert with_query_param("https://e.org/s?q=a&page=3", "page", None) == "https://e.org/s?q=a"
    assert with_query_param("https://e.org/s", "q", "http://semtag.example.org/tag/b") == \
        "https://e.org/s?q=http%3A%2F%2Fsemtag.example.org%2Ftag%2Fb"


# --- Content Search 2.0 ---------------------------------------------------------------------


def test_v2_paged_response_matches_spec_example(search_example):
    example = search_example(2, 4)
    paging = Paging.for_page("https://example.org/service/manifest/search?q=bird", 1, 10, 125)
    ours = search_response_v2(
        "https://example.org/service/manifest/search?q=bird&page=1",
        [line("https://example.org/identifier/annotation/anno-line",
              "A bird in the hand is worth two in the bush", Box(100, 100, 250, 20))],
        paging=paging)
    # Targets: the example uses "canvas#xywh=..." strings; ours are SpecificResources (below).
    for item in example["items"]:
        del item["target"]
    del example["@context"]
    assert_same_shape(ours, example)
    assert ours["partOf"]["total"] == 125 and ours["startIndex"] == 0
    assert ours["partOf"]["last"]["id"].endswith("page=13") and "prev" not in ours
    assert ours["items"][0]["body"] == example["items"][0]["body"]
    assert ours["@context"] == [SEARCH_2_CONTEXT, "http://iiif.io/api/presentation/3/context.json"]


def test_v2_targets_name_canvas_and_manifest():
    ours = search_response_v2("https://loupe.example.org/search?q=bird", [hit(1)])
    target = ours["items"][0]["target"]
    assert target["type"] == "SpecificResource"
    assert target["source"] == {"id": CANVAS, "type": "Canvas",
                                "partOf": [{"id": MANIFEST, "type": "Manifest"}]}
    assert target["selector"]["value"] == "xywh=100,100,250,20"
    assert ours["items"][0][CONFIDENCE] == 0.5
    assert LOUPE_CONTEXT in ours["@context"] and ours["@context"][-1].endswith("presentation/3/context.json")


def test_v2_ignored_parameters_match_spec_example(search_example):
    example = search_example(2, 6)
    ours = search_response_v2("http://example.org/service/manifest/search?q=bird&page=1", [],
                              ignored=["user"])
    assert ours["ignored"] == example["ignored"] == ["user"]
    assert list(ours)[:4] == ["@context", "id", "type", "ignored"]


def test_v2_match_context_matches_spec_example(search_example):
    example = search_example(2, 8)
    ours = search_response_v2(
        "https://example.org/service/manifest/search?q=bird",
        [line("https://example.org/identifier/annotation/anno-bird", "birds", Box(200, 100, 40, 20))],
        matches=[TextMatch(["https://example.org/identifier/annotation/anno-bird"], "birds",
                           prefix="There are two ", suffix=" in the bush")])
    assert ours["annotations"][0]["type"] == "AnnotationPage"
    ours_match = ours["annotations"][0]["items"][0]
    example_match = example["annotations"][0]["items"][0]
    assert ours_match["motivation"] == example_match["motivation"] == "contextualizing"
    assert ours_match["target"] == example_match["target"]  # identical, selector and all


def test_v2_multi_annotation_match_targets_each(search_example):
    example = search_example(2, 11)
    ours = search_response_v2("https://example.org/service/manifest/search?q=hand+is", [], matches=[
        TextMatch(["https://example.org/identifier/annotation/anno-hand",
                   "https://example.org/identifier/annotation/anno-is"], "hand is")])
    targets = ours["annotations"][0]["items"][0]["target"]
    assert [t["source"] for t in targets] == [t["source"] for t in example["annotations"][0]["items"][0]["target"]]


def test_v2_autocomplete_equals_spec_example(search_example):
    example = search_example(2, 12)
    ours = autocomplete_response_v2("https://example.org/service/identifier/autocomplete?q=bir",
                                    [Term("bird"), Term("biro"), Term("birthday")])
    assert ours == example


def test_v2_autocomplete_with_totals_and_labels(search_example):
    example = search_example(2, 13)
    ours = autocomplete_response_v2(
        "https://example.org/service/identifier/autocomplete?q=bir",
        [Term("bird", total=15, language="en"),
         Term("birth", total=9, label={"en": ["birth"], "fr": ["naissance"]})], ignored=["user"])
    assert ours["ignored"] == example["ignored"]
    assert ours["items"][0] == example["items"][0]
    assert ours["items"][1] == example["items"][2]


def test_v2_service_block_equals_spec_example(search_example):
    example = search_example(2, 2)["service"][0]
    assert service_blocks(example["id"], example["service"][0]["id"])[2] == example
    assert service_blocks(example["id"])[2] == search_example(2, 1)["service"][0]


def test_v2_response_against_the_v3_schema(v3_schema):
    paging = Paging.for_page("https://loupe.example.org/search?q=bird", 2, 2, 5)
    ours = search_response_v2("https://loupe.example.org/search?q=bird&page=2",
                              [hit(1), hit(2, box=None, polygon=[(0, 0), (9, 0), (4, 7)])],
                              paging=paging, ignored=["user"],
                              matches=[TextMatch(["https://loupe.example.org/anno/1"], "bird")])
    for item in ours["items"]:
        assert validate_v3(item, v3_schema) == []
    # The schema models Presentation 3 AnnotationPages, not Search 2.0 ones: it rejects the
    # search-only properties and the embedded (object) partOf the Search spec requires.
    problems = validate_v3(ours, v3_schema)
    assert problems and all("partOf" in p or "startIndex" in p or "ignored" in p or "annotations" in p
                            for p in problems), problems
    as_presentation = {k: v for k, v in ours.items() if k not in ("startIndex", "ignored", "annotations")}
    as_presentation["partOf"] = [ours["partOf"]]
    assert validate_v3(as_presentation, v3_schema) == []


# --- Content Search 1.0 ---------------------------------------------------------------------


def test_v1_simple_list_equals_spec_example(search_example):
    example = search_example(1, 2)
    ours = search_response_v1(
        "http://example.org/service/manifest/search?q=bird&motivation=painting",
        [Annotation(id="http://example.org/identifier/annotation/anno-line", motivations=["painting"],
                    bodies=[Body(type="TextualBody", value="A bird in the hand is worth two in the bush")],
                    targets=[Target(source="http://example.org/identifier/canvas1", box=Box(100, 100, 250, 20))])])
    assert ours == example


def test_v1_paged_response_matches_spec_example(search_example):
    example = search_example(1, 3)
    paging = Paging.for_page("http://example.org/service/manifest/search?q=bird", 1, 10, 125)
    ours = search_response_v1(
        "http://example.org/service/manifest/search?q=bird&page=1",
        [line("http://example.org/identifier/annotation/anno-line",
              "A bird in the hand is worth two in the bush", Box(100, 100, 250, 20))], paging=paging)
    assert_same_shape(ours, example)
    assert ours["@context"] == PRESENTATION_2_CONTEXT
    assert ours["within"] == {"@type": "sc:Layer", "total": 125,
                              "first": "http://example.org/service/manifest/search?q=bird&page=1",
                              "last": "http://example.org/service/manifest/search?q=bird&page=13"}
    assert ours["next"].endswith("page=2") and ours["startIndex"] == 0


def test_v1_target_is_the_string_mirador_reads():
    ours = search_response_v1("http://example.org/service/manifest/search?q=bird", [hit(1)])
    # Not the spec's {"@id", "within"} object: Mirador 4 throws on it (it reads an object's
    # "full" and "selector"); the canvas with an integer xywh fragment is drawn.
    assert ours["resources"][0]["on"] == f"{CANVAS}#xywh=100,100,250,20"
    assert CONFIDENCE not in ours["resources"][0]  # not expressible in 1.0


def test_v1_ignored_and_hits_match_spec_examples(search_example):
    ignored_example, hits_example = search_example(1, 6), search_example(1, 7)
    ours = search_response_v1(
        "http://example.org/service/manifest/search?q=bird",
        [line("http://example.org/identifier/annotation/anno-bird", "birds", Box(200, 100, 40, 20))],
        ignored=["user"],
        matches=[TextMatch(["http://example.org/identifier/annotation/anno-bird"], "birds",
                           prefix="There are two ", suffix=" in the bush")])
    assert ours["@context"] == hits_example["@context"] == [PRESENTATION_2_CONTEXT, SEARCH_1_CONTEXT]
    assert ours["within"]["ignored"] == ignored_example["within"]["ignored"]
    assert_same_shape(ours["hits"], hits_example["hits"])
    assert ours["hits"][0] == {**hits_example["hits"][0], "match": "birds"}
    assert ours["resources"][0]["resource"]["chars"] == "birds"


def test_v1_bodies_tags_and_polygons():
    ours = search_response_v1("https://loupe.example.org/search?q=dog", [
        hit(1, body_value="dog", polygon=[(0, 0), (10, 0), (5, 9)], box=None),
        hit(2, motivation="identifying", body_value=None, body_id="http://www.wikidata.org/entity/Q144",
            manifest_id=None)])
    tagged, identified = ours["resources"]
    assert tagged["motivation"] == "oa:tagging"
    assert tagged["resource"] == {"@type": "oa:Tag", "chars": "dog", "format": "text/plain"}
    assert tagged["on"] == f"{CANVAS}#xywh=0,0,10,9"  # the polygon's bounding box
    assert identified["resource"] == {"@id": "http://www.wikidata.org/entity/Q144"}
    assert identified["on"] == f"{CANVAS}#xywh=100,100,250,20"


def test_v1_autocomplete_equals_spec_example(search_example):
    example = search_example(1, 12)
    ours = autocomplete_response_v1(
        "http://example.org/service/identifier/autocomplete?q=bir&motivation=painting",
        [Term("bird", 15), Term("biro", 3), Term("birth", 9), Term("birthday", 21)],
        search_url="http://example.org/service/identifier/search?motivation=painting", ignored=["user"])
    assert ours == example


def test_v1_autocomplete_labels_and_missing_urls():
    ours = autocomplete_response_v1("https://e.org/ac?q=b", [Term("http://semtag.example.org/tag/bird", 15,
                                                                  label={"en": ["bird"]})],
                                    search_url="https://e.org/search?motivation=tagging")
    assert ours["terms"][0] == {
        "match": "http://semtag.example.org/tag/bird",
        "url": "https://e.org/search?motivation=tagging&q=http%3A%2F%2Fsemtag.example.org%2Ftag%2Fbird",
        "count": 15, "label": "bird"}
    with pytest.raises(ValueError, match="url"):
        autocomplete_response_v1("https://e.org/ac?q=b", [Term("bird")])


def test_v1_service_block_carries_the_spec_fields(search_example):
    example = search_example(1, 11)["service"]
    ours = service_blocks(example["@id"], example["service"]["@id"])[1]
    for key in ("@context", "@id", "profile"):
        assert ours[key] == example[key]
    # As a list with @type, so the block is also valid inside a v3 manifest's service.
    (autocomplete,) = ours["service"]
    assert {k: autocomplete[k] for k in ("@id", "profile")} == example["service"]
    assert (ours["@type"], autocomplete["@type"]) == ("SearchService1", "AutoCompleteService1")


def test_service_blocks_validate_inside_a_v3_manifest(v3_schema):
    blocks = service_blocks("https://loupe.example.org/search/book1", "https://loupe.example.org/ac/book1")
    manifest = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://loupe.example.org/iiif/book1/manifest", "type": "Manifest",
        "label": {"en": ["Book 1"]}, "items": [], "service": [blocks[2], blocks[1]],
    }
    assert validate_v3(manifest, v3_schema) == []
    json.dumps(blocks)


def test_v2_response_reads_back_with_the_reader():
    from iiif import reader
    paging = Paging.for_page("https://loupe.example.org/search?q=bird", 2, 1, 3)
    ours = search_response_v2("https://loupe.example.org/search?q=bird&page=2", [hit(7)], paging=paging)
    result = reader.read(json.loads(json.dumps(ours)))
    assert result.type == "AnnotationPage" and result.ok, result.problems
    assert result.resource.next == "https://loupe.example.org/search?q=bird&page=3"
    (annotation,) = result.resource.annotations
    (target,) = annotation.targets
    assert (annotation.id, target.source, target.manifest) == ("https://loupe.example.org/anno/7", CANVAS, MANIFEST)
    assert target.box.as_xywh() == "100,100,250,20"
