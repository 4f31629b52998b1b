"""The reader over every file of ../shared/data/iiif (cookbook recipes, spec fixtures and
examples, validator fixtures), classified by its INDEX.csv, plus spot checks on real files."""

from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from iiif.geometry import canvas_to_image
from iiif.model import AnnotationPage, Box, Collection, Manifest, ReadResult
from iiif.reader import read_bytes, read_info_json
from iiif.summary import summarize

pytestmark = pytest.mark.shared_data

RECIPES = "IIIF-cookbook-recipes/recipe"
FIX21 = "IIIF-api/source/presentation/2.1/example/fixtures"
VALIDATOR = "IIIF-presentation-validator/fixtures"


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> Path:
    root = shared_data / "iiif"
    if not (root / "INDEX.csv").is_file():
        pytest.skip(f"{root}/INDEX.csv is absent")
    return root


@lru_cache(maxsize=None)
def _read(path: Path) -> ReadResult:
    return read_bytes(path.read_bytes())


@pytest.fixture(scope="module")
def index(corpus: Path) -> list[dict]:
    with open(corpus / "INDEX.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def results(corpus: Path) -> dict[str, ReadResult]:
    """Every file under the folder (not only those in INDEX.csv), read once."""
    return {str(p.relative_to(corpus)): _read(p) for p in sorted(corpus.rglob("*"))
            if p.is_file() and p.name != "INDEX.csv"}


def rd(corpus: Path, rel: str) -> ReadResult:
    return _read(corpus / rel)


def whats(result: ReadResult) -> str:
    return "\n".join(f"{p.severity} {p.where}: {p.what}" for p in result.problems)


# --- every file ------------------------------------------------------------------------------

def test_every_file_is_read_without_exception(results, index):
    assert len(results) >= len(index) >= 500
    for name, result in results.items():
        assert isinstance(result, ReadResult), name
        assert not any("internal reader error" in p.what for p in result.problems), f"{name}\n{whats(result)}"
        if result.type == "Unknown":
            assert result.resource is None and any(p.severity == "error" for p in result.problems), name
        else:
            assert result.resource is not None, name
        summary = summarize(result)
        json.dumps(summary)  # JSON-ready
        assert set(summary) == {"type", "version", "label", "canvases", "images", "annotations", "members", "problems"}


def test_index_classification_agrees_with_reader(results, index):
    expected_type = {"Manifest": "Manifest", "sc:Manifest": "Manifest", "Collection": "Collection",
                     "sc:Collection": "Collection", "AnnotationPage": "AnnotationPage",
                     "sc:AnnotationList": "AnnotationPage", "Annotation": "AnnotationPage",
                     "AnnotationCollection": "AnnotationCollection"}
    checked = 0
    for row in index:
        m = re.match(r"presentation-(\d)", row["api"])
        if row["json_valid"] != "True" or not m or row["top_type"] not in expected_type:
            continue
        result = results[row["file"]]
        assert result.type == expected_type[row["top_type"]], row["file"]
        assert result.version == int(m.group(1)), row["file"]
        if result.version == 4:
            assert any("draft" in p.what for p in result.problems), row["file"]
        checked += 1
    assert checked > 400


def test_every_v2_v3_manifest_has_canvases_or_says_why(results, index):
    rows = [r for r in index if re.match(r"presentation-[23]", r["api"]) and r["top_type"] in ("Manifest", "sc:Manifest")]
    assert len(rows) > 300
    without = 0
    for row in rows:
        result = results[row["file"]]
        canvases = result.resource.canvases if isinstance(result.resource, Manifest) else []
        if canvases:
            continue
        without += 1
        assert any(p.severity == "error" and re.search(r"canvas|sequence|items|JSON", p.what) for p in result.problems), \
            f"{row['file']} has no canvas and no problem saying why:\n{whats(result)}"
    assert without < 60  # the v2 error fixtures, templates and broken files, not the bulk


def test_invalid_json_files_are_reported(results, index):
    rows = [r for r in index if r["json_valid"] == "False"]
    assert len(rows) >= 20
    for row in rows:
        result = results[row["file"]]
        assert result.type == "Unknown", row["file"]
        assert result.problems[0].what.startswith("not valid JSON: line "), row["file"]


def test_unrendered_placeholders_are_reported(results, index):
    rows = [r for r in index if "unrendered" in r["api"] and r["json_valid"] == "True"]
    assert len(rows) >= 5
    for row in rows:
        assert any("unrendered template placeholder" in p.what and p.severity == "error"
                   for p in results[row["file"]].problems), row["file"]


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_every_spec_error_fixture_is_reported(corpus, version):
    folder = corpus / f"IIIF-api/source/presentation/{version}/example/errors"
    manifests = sorted(folder.glob("*/manifest.json"))
    assert len(manifests) == 52
    for path in manifests:
        assert _read(path).problems, f"{path} is a deliberately broken fixture but no problem was found"


# What each deliberately broken 2.x fixture must be reported for (number -> words in a problem).
SPEC_ERRORS = {
    0: "not valid JSON", 1: "no type", 5: "no type", 6: "unknown document type 'fish'", 7: "manifest has no id",
    8: "not an absolute URI", 9: "manifest has no label", 11: "no sequences", 12: "empty list of sequences",
    13: "sequence is not an object", 16: "sequences must be a list", 17: "sequence has no canvases",
    18: "empty list of canvases", 19: "canvases must be a list", 20: "canvas given only by reference",
    22: "canvas has no id", 23: "'asdf' is not an absolute URI", 24: "canvas has no label", 26: "canvas has no height",
    27: "height is not an integer", 28: "canvas has no width", 29: "width is not an integer",
    30: "images must be a list", 31: "expected a painting annotation", 33: "no motivation",
    34: "unknown motivation 'somethingElse'", 35: "no on", 36: "target is not a URI or an object",
    37: "no body/resource", 38: "painted resource is not an object", 39: "has no type", 40: "is an Audio, not an image",
    41: "image has no id", 42: "image id 'asdf' is not an absolute URI", 43: "height is not an integer",
    44: "width is not an integer", 45: "<x> is not allowed", 46: "no @value", 47: "event handler",
    48: "<script>", 49: "comments", 50: "invalid viewingDirection", 51: "startCanvas",
}


@pytest.mark.parametrize("number, words", sorted(SPEC_ERRORS.items()))
def test_spec_error_fixture_reason(corpus, number, words):
    result = rd(corpus, f"IIIF-api/source/presentation/2.1/example/errors/{number}/manifest.json")
    assert any(words in p.what for p in result.problems), whats(result)


@pytest.mark.parametrize("name, words", [
    ("3/broken_choice.json", "only one of width and height"),
    ("3/broken_collection.json", "collection has no label"),
    ("3/broken_embedded_annos.json", "annotations belong on the Canvas"),
    ("3/broken_service.json", "service must be a list"),
    ("3/broken_simple_image.json", "canvas has no id"),
    ("3/broken_simple_image.json", "unrendered template placeholder"),
    ("3/rights_lang_issues.json", "'@none' is not valid"),
    ("3/old_format_label.json", "expects a language map"),
    ("4/bad/dup_id.json", "is already used"),
])
def test_validator_fixtures_meant_to_fail(corpus, name, words):
    result = rd(corpus, f"{VALIDATOR}/{name}")
    assert any(words in p.what for p in result.problems), whats(result)


def test_clean_recipes_have_no_problems(corpus):
    for name in ("0001-mvm-image/manifest.json", "0005-image-service/manifest.json", "0009-book-1/manifest.json",
                 "0021-tagging/manifest.json", "0033-choice/manifest.json", "0261-non-rectangular-commenting/manifest.json",
                 "0299-region/manifest.json", "0346-multilingual-annotation-body/manifest.json"):
        result = rd(corpus, f"{RECIPES}/{name}")
        assert result.ok and result.problems == [], f"{name}\n{whats(result)}"


# --- spot checks: cookbook recipes -----------------------------------------------------------

def test_recipe_tagging_with_xywh(corpus):
    m = rd(corpus, f"{RECIPES}/0021-tagging/manifest.json").resource
    [canvas] = m.canvases
    assert (canvas.width, canvas.height) == (4032, 3024)
    [tag] = canvas.annotations
    assert tag.id == "https://iiif.io/api/cookbook/recipe/0021-tagging/annotation/p0002-tag"
    assert tag.motivations == ["tagging"] and tag.tags == ["Gänseliesel-Brunnen"]
    assert tag.targets[0].source == canvas.id and tag.targets[0].box == Box(265, 661, 1260, 1239)
    assert canvas.images[0].service.id.endswith("918ecd18c2592080851777620de9bcb5-gottingen")


def test_recipe_svg_selector(corpus):
    m = rd(corpus, f"{RECIPES}/0261-non-rectangular-commenting/manifest.json").resource
    [ann] = m.canvases[0].annotations
    [target] = ann.targets
    assert target.selector == "SvgSelector" and len(target.polygon) == 9
    assert target.polygon[:2] == [(270, 1900), (1530, 1900)]
    assert target.box == Box(270, 661, 1260, 1239)
    assert target.svg.startswith("<svg")


def test_recipe_point_selector(corpus):
    m = rd(corpus, f"{RECIPES}/0135-annotating-point-in-canvas/manifest.json").resource
    [ann] = m.canvases[0].annotations
    assert ann.targets[0].point == (3385, 1464) and ann.tags == ["Town Creek Aqueduct"]


def test_recipe_choice_of_images(corpus):
    [image] = rd(corpus, f"{RECIPES}/0033-choice/manifest.json").resource.canvases[0].images
    assert image.label == {"en": ["Natural Light"]}
    assert [a.label for a in image.alternatives] == [{"en": ["X-Ray"]}]
    assert image.alternatives[0].service.level == 1


def test_recipe_annotation_on_an_image_layer_moves_to_the_canvas(corpus):
    m = rd(corpus, f"{RECIPES}/0326-annotating-image-layer/manifest.json").resource
    [ann] = m.canvases[0].annotations
    assert ann.tags == ["A group of skulls."]
    assert ann.targets[0].source == m.canvases[0].id and ann.targets[0].box == Box(810, 900, 260, 370)


def test_recipe_composition_geometry(corpus):
    canvas = rd(corpus, f"{RECIPES}/0036-composition-from-multiple-images/manifest.json").resource.canvases[0]
    background, miniature = canvas.images
    assert background.target_box is None and miniature.target_box == Box(3949, 994, 1091, 1232)
    # The miniature's own area on the canvas is the whole miniature image...
    pixels = canvas_to_image(miniature, Box(3949, 994, 1091, 1232), canvas.width, canvas.height)
    assert pixels.as_tuple() == pytest.approx((0, 0, 2138, 2414))
    # ...and the same canvas region on the background is at full scale.
    assert canvas_to_image(background, Box(3949, 994, 1091, 1232), canvas.width, canvas.height).as_tuple() == (3949, 994, 1091, 1232)


def test_recipe_image_region(corpus):
    canvas = rd(corpus, f"{RECIPES}/0299-region/manifest.json").resource.canvases[0]
    [image] = canvas.images
    assert (image.width, image.height, image.source_box) == (3536, 4999, Box(1768, 2423, 1768, 2080))
    assert canvas_to_image(image, Box(0, 0, 884, 1040), canvas.width, canvas.height).as_tuple() == (1768, 2423, 884, 1040)


def test_recipe_level0_image_service(corpus):
    doc = json.loads((corpus / f"{RECIPES}/0232-image-thumbnail-canvas/manifest-image.json").read_bytes())
    block = doc["items"][0]["thumbnail"][0]["service"][0]
    service, problems = read_info_json({"@context": "http://iiif.io/api/image/3/context.json", **block,
                                        "width": 504, "height": 378})
    assert problems == []
    assert (service.version, service.level, service.sizes) == (3, 0, [(126, 95), (252, 189), (504, 378)])
    m = rd(corpus, f"{RECIPES}/0232-image-thumbnail-canvas/manifest-image.json").resource
    assert m.canvases[0].thumbnail == ["https://fixtures.iiif.io/other/level0/Glen/photos/gottingen/full/max/0/default.jpg"]


def test_recipe_multilingual_body_and_label(corpus):
    m = rd(corpus, f"{RECIPES}/0346-multilingual-annotation-body/manifest.json").resource
    [ann] = m.canvases[0].annotations
    assert ann.texts == {"en": ["Koto with a cover being carried"], "ja": ["袋に収められた琴"]}
    m = rd(corpus, f"{RECIPES}/0006-text-language/manifest.json").resource
    assert m.label == {"en": ["Whistler's Mother"], "fr": ["La Mère de Whistler"]}
    assert m.summary["fr"][0].startswith("Arrangement en gris et noir")
    assert summarize(rd(corpus, f"{RECIPES}/0006-text-language/manifest.json"))["label"] == "Whistler's Mother"


def test_recipe_rights_required_statement_provider(corpus):
    m = rd(corpus, f"{RECIPES}/0008-rights/manifest.json").resource
    assert m.rights == "http://creativecommons.org/licenses/by-sa/3.0/"
    assert m.required_statement.label == {"en": ["Attribution"]}
    assert "Glen Robson" in m.required_statement.value["en"][0]
    [agent] = rd(corpus, f"{RECIPES}/0234-provider/manifest.json").resource.provider
    assert agent.id == "https://id.loc.gov/authorities/n79055331" and agent.label == {"en": ["UCLA Library"]}
    assert agent.homepage == ["https://digital.library.ucla.edu/"] and len(agent.logo) == 1


def test_recipe_tagging_external_resource_and_linking(corpus):
    [ann] = rd(corpus, f"{RECIPES}/0258-tagging-external-resource/manifest.json").resource.canvases[0].annotations
    assert [(b.type, b.id) for b in ann.bodies][0] == ("SpecificResource", "http://www.wikidata.org/entity/Q18624915")
    assert ann.tags == ["Gänseliesel-Brunnen"]
    [link] = rd(corpus, f"{RECIPES}/0022-linking-with-a-hotspot/manifest.json").resource.canvases[0].annotations
    assert link.motivations == ["linking"]
    assert link.bodies[1].id == "https://iiif.io/api/cookbook/recipe/0022-linking-with-a-hotspot/canvas/p2"


def test_recipe_embedded_or_referenced_pages(corpus):
    m = rd(corpus, f"{RECIPES}/0269-embedded-or-referenced-annotations/manifest.json").resource
    assert m.canvases[0].annotation_refs == [
        "https://iiif.io/api/cookbook/recipe/0269-embedded-or-referenced-annotations/annotationpage.json"]
    page = rd(corpus, f"{RECIPES}/0269-embedded-or-referenced-annotations/annotationpage.json").resource
    assert isinstance(page, AnnotationPage) and len(page.annotations) == 1


def test_recipe_annotation_page_targets_with_manifest(corpus):
    [ann] = rd(corpus, f"{RECIPES}/0306-linking-annotations-to-manifests/annotationpage.json").resource.annotations
    [t] = ann.targets
    assert (t.box, t.selector) == (Box(300, 800, 1200, 1200), "FragmentSelector")
    assert t.manifest == "https://iiif.io/api/cookbook/recipe/0306-linking-annotations-to-manifests/manifest.json"


def test_recipe_annotation_collection(corpus):
    result = rd(corpus, f"{RECIPES}/0309-annotation-collection/anno_coll.json")
    assert result.type == "AnnotationCollection"
    assert result.resource.next == "https://iiif.io/api/cookbook/recipe/0309-annotation-collection/anno_p1.json"
    page = rd(corpus, f"{RECIPES}/0309-annotation-collection/anno_p1.json").resource
    assert page.part_of == "https://iiif.io/api/cookbook/recipe/0309-annotation-collection/anno_coll.json"
    assert page.next == "https://iiif.io/api/cookbook/recipe/0309-annotation-collection/anno_p2.json"
    assert page.annotations[0].targets[0].box == Box(88, 957, 2768, 248)
    m = rd(corpus, f"{RECIPES}/0309-annotation-collection/manifest.json").resource
    assert [c.annotation_refs for c in m.canvases] == [
        ["https://iiif.io/api/cookbook/recipe/0309-annotation-collection/anno_p1.json"],
        ["https://iiif.io/api/cookbook/recipe/0309-annotation-collection/anno_p2.json"]]


def test_recipe_newspaper_ocr_page(corpus):
    result = rd(corpus, f"{RECIPES}/0068-newspaper/newspaper_issue_1-anno_p1.json")
    page = result.resource
    assert result.problems == [] and len(page.annotations) > 300
    assert all(a.motivations == ["supplementing"] and a.targets[0].box for a in page.annotations)


def test_recipe_content_state_annotations(corpus):
    [ann] = rd(corpus, f"{RECIPES}/0485-contentstate-canvas-region/annotation.json").resource.annotations
    assert ann.targets[0].box == Box(1528, 3024, 344, 408)
    assert ann.targets[0].manifest == "https://iiif.io/api/cookbook/recipe/0009-book-1/manifest.json"
    [multi] = rd(corpus, f"{RECIPES}/0540-link-for-opening-multiple-canvases/annotation.json").resource.annotations
    assert len(multi.targets) == 2 and all(t.manifest for t in multi.targets)


def test_recipe_collections(corpus):
    c = rd(corpus, f"{RECIPES}/0032-collection/collection.json").resource
    assert isinstance(c, Collection) and [r.type for r in c.members] == ["Manifest", "Manifest"]
    assert c.members[0].label == {"en": ["The Gulf Stream"]}
    assert summarize(rd(corpus, f"{RECIPES}/0032-collection/collection.json"))["members"] == 2


def test_recipe_audio_is_unsupported_with_warning(corpus):
    result = rd(corpus, f"{RECIPES}/0002-mvm-audio/manifest.json")
    assert len(result.resource.canvases) == 1 and result.resource.canvases[0].images == []
    assert {p.severity for p in result.problems} == {"warning"}


# --- spot checks: Presentation 2 fixtures ---------------------------------------------------

def test_v2_fixture_collection(corpus):
    c = rd(corpus, f"{FIX21}/collection.json").resource
    assert c.version == 2 and len(c.members) == 55 and all(r.type == "Manifest" for r in c.members)
    assert c.members[0].label == {"none": ["Test 1 Manifest: Minimum Required Fields"]}


def test_v2_fixture_other_content_and_its_list(corpus):
    m = rd(corpus, f"{FIX21}/61/manifest.json").resource
    assert m.canvases[0].annotation_refs == ["http://iiif.io/api/presentation/2.1/example/fixtures/list/61/list1.json"]
    [ann] = rd(corpus, f"{FIX21}/list/61/list1.json").resource.annotations
    assert ann.texts == {"none": ["Top of First Page to Display"]}
    assert ann.targets[0].source == "http://iiif.io/api/presentation/2.1/example/fixtures/canvas/61/c1.json"
    assert ann.targets[0].box == Box(225, 70, 750, 150) and ann.targets[0].selector == "FragmentSelector"


def test_v2_fixture_html_comment_list(corpus):
    [ann] = rd(corpus, f"{FIX21}/list/54/list1.json").resource.annotations
    assert ann.motivations == ["commenting"] and ann.bodies[0].format == "text/html"
    assert ann.texts == {"none": ["<b>Comment</b>"]}


def test_v2_fixture_choice_and_detail(corpus):
    [image] = rd(corpus, f"{FIX21}/28/manifest.json").resource.canvases[0].images
    assert image.label == {"none": ["Color"]} and image.alternatives[0].label == {"none": ["Greyscale"]}
    base, detail = rd(corpus, f"{FIX21}/34/manifest.json").resource.canvases[0].images
    assert detail.target_box == Box(400, 400, 173, 173) and len(detail.alternatives) == 1  # "rdf:nil" dropped


def test_v2_fixture_partial_image_with_service(corpus):
    [image] = rd(corpus, f"{FIX21}/36/manifest.json").resource.canvases[0].images
    assert image.id.endswith("/page1-full/full/full/0/default.jpg")
    assert image.source_box == Box(100, 100, 1000, 1600)
    assert (image.service.version, image.service.level) == (2, 1)


def test_v2_fixture_embedded_service_info(corpus):
    service = rd(corpus, f"{FIX21}/25/manifest.json").resource.canvases[0].images[0].service
    assert (service.level, service.width, service.height) == (2, 1200, 1800)
    assert service.tiles == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}]
    assert "rotationArbitrary" in service.extra_features and service.formats == ["gif", "tif", "pdf"]


def test_v2_fixture_languages_and_rights(corpus):
    assert rd(corpus, f"{FIX21}/62/manifest.json").resource.label == {"fr": ["62: quelque titre"], "en": ["62: some title"]}
    m = rd(corpus, f"{FIX21}/7/manifest.json").resource
    assert m.rights == "http://creativecommons.org/licenses/by-nc/3.0/"
    assert m.required_statement.label == {"none": ["Attribution"]}
    assert m.required_statement.value == {"none": ["Owning Institution"]}


def test_v2_cookbook_manifest(corpus):
    result = rd(corpus, f"{RECIPES}/0057-publishing-v2-and-v3/manifest-v2.json")
    assert result.problems == [] and result.version == 2
    [image] = result.resource.canvases[0].images
    assert (image.width, image.height, image.format) == (1200, 1800, "image/png")
