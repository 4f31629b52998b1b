"""Mirador 4 with Loupe's plugin in a real headless Chromium against the real service: the
machine annotations drawn in their own colours and filtered, a box drawn with the mouse
finding similar regions, opening a result, copying a region, searching by region + words and
by words, and a curator's review stored on the server. Screenshots at phone and desktop sizes
are kept in LOUPE_TEST_SCREENSHOTS."""

from __future__ import annotations

import json
import time

import pytest

from iiif.writers.content_state import decode_content_state
from tests.viewer_plugin.browser import (
    ACCEPTED,
    HUMAN,
    PROPOSED,
    WINDOW,
    count_colour,
    drag_box,
    mirador_items,
    view,
    viewer_path,
    wait_colour,
    wait_for_canvas,
)
from tests.viewer_plugin.conftest import CURATOR_KEY, SUGGESTIONS

ALL_SUGGESTIONS = sum(len(s) for s in SUGGESTIONS.values())


def open_annunciation(open_viewer, server, **size):  # noqa: ANN001, ANN201
    page = open_viewer(viewer_path(server.manifest), **size)
    wait_for_canvas(page, server.canvas)
    return page


def labels(items: list[dict]) -> set[str]:
    return {i["body"]["value"] for i in items}


def selection_xywh(page) -> list[int]:  # noqa: ANN001
    value = page.get_attribute("[data-loupe=selection-xywh]", "data-xywh")
    return [int(v) for v in value.split(",")]


def test_the_page_opens_mirador_with_the_plugin_and_draws_machine_annotations_apart(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    assert page.is_visible("[data-loupe=panel]") and page.is_visible("[data-loupe=select-region]")
    assert page.is_visible("[data-loupe=sidebar-icon]")
    items = mirador_items(page, viewer_server.canvas)
    assert labels(items) == {label for s in SUGGESTIONS.values() for label, _, _ in s}
    boxed = [i for i in items if i["target"].get("selector")]
    assert len(boxed) == ALL_SUGGESTIONS - 1  # the whole-canvas tag has no box to draw
    assert all(i["target"]["selector"][1]["type"] == "SvgSelector" for i in boxed)
    wait_colour(page, PROPOSED, present=True)  # suggestions: dashed orange
    wait_colour(page, HUMAN, present=True)  # the curators' own regions: Mirador's blue
    assert page.inner_text("[data-loupe=machine-count]") == f"{ALL_SUGGESTIONS} of {ALL_SUGGESTIONS} machine annotations shown"


def test_the_toggle_and_the_filters_hide_machine_annotations_only(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    wait_colour(page, PROPOSED, present=True)
    page.click("[data-loupe=machine-toggle]")
    wait_colour(page, PROPOSED, present=False)
    assert mirador_items(page, viewer_server.canvas) == []
    assert count_colour(page, HUMAN) > 0  # the institution's annotations stay
    page.click("[data-loupe=machine-toggle]")
    wait_colour(page, PROPOSED, present=True)

    page.focus("[data-loupe=confidence]")
    for _ in range(6):
        page.keyboard.press("PageUp")  # 0.1 each
    assert page.inner_text("#loupe-min-confidence") == "Confidence at least 0.60"
    page.wait_for_function("document.querySelector('[data-loupe=machine-count]').textContent.startsWith('3 of')")
    assert labels(mirador_items(page, viewer_server.canvas)) == {"lily", "Annunciation", "book"}

    page.get_by_label("test-detector").uncheck()  # by model
    page.wait_for_function("document.querySelector('[data-loupe=machine-count]').textContent.startsWith('2 of')")
    assert labels(mirador_items(page, viewer_server.canvas)) == {"lily", "Annunciation"}
    page.get_by_label("Loupe zero-shot tagging").uncheck()  # by the process that made them
    page.wait_for_function("document.querySelector('[data-loupe=machine-count]').textContent.startsWith('0 of')")
    wait_colour(page, PROPOSED, present=False)


def test_a_box_drawn_with_the_mouse_finds_similar_regions_and_a_click_opens_one(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    with page.expect_request(lambda r: r.url.endswith("/api/search/image")) as sent:
        dragged = drag_box(page)
    body = json.loads(sent.value.post_data)
    assert body["reference"]["canvas"] == viewer_server.canvas
    assert body["reference"]["manifest"] == viewer_server.manifest
    xywh = [int(v) for v in body["reference"]["xywh"].split(",")]
    assert selection_xywh(page) == xywh
    width, height = viewer_server.canvas_size
    assert 0 <= xywh[0] and xywh[0] + xywh[2] <= width and 0 <= xywh[1] and xywh[1] + xywh[3] <= height
    assert abs(xywh[2] / xywh[3] - dragged["width"] / dragged["height"]) < 0.05  # canvas units are square

    shown = page.wait_for_selector("[data-loupe=selection]").bounding_box()  # drawn back where it was dragged
    for key in ("x", "y", "width", "height"):
        assert abs(shown[key] - dragged[key]) <= 3, (key, shown, dragged)

    page.wait_for_selector("[data-loupe=result]")
    results = page.query_selector_all("[data-loupe=result]")
    assert results and all(r.query_selector("img") for r in results)
    assert all(r.get_attribute("data-canvas") != viewer_server.canvas for r in results)  # "Hide this image"
    scores = [float(s.inner_text().split()[1]) for s in page.query_selector_all("[data-loupe=score]")]
    assert scores == sorted(scores, reverse=True)

    target = next(r for r in results if r.get_attribute("data-xywh"))
    canvas, region = target.get_attribute("data-canvas"), [int(v) for v in target.get_attribute("data-xywh").split(",")]
    target.click()
    wait_for_canvas(page, canvas)
    page.wait_for_function("([w, c]) => loupeViewer.store.getState().loupe.windows[w].focus === null", arg=[WINDOW, canvas])
    shown = view(page)
    centre = (region[0] + region[2] / 2, region[1] + region[3] / 2)
    assert abs(shown["x"] + shown["width"] / 2 - centre[0]) < 2 and abs(shown["y"] + shown["height"] / 2 - centre[1]) < 2
    assert shown["x"] <= region[0] and shown["x"] + shown["width"] >= region[0] + region[2]
    assert shown["y"] <= region[1] and shown["y"] + shown["height"] >= region[1] + region[3]
    assert shown["width"] <= 1.5 * max(region[2], region[3] * shown["width"] / shown["height"])  # zoomed to it


def test_the_region_is_copied_as_an_image_api_url_and_a_content_state_that_reopens_it(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    drag_box(page, 60, 40)
    page.wait_for_selector("[data-loupe=selection-details]")
    xywh = selection_xywh(page)

    page.click("[data-loupe=copy-image]")
    page.wait_for_selector("[data-loupe=copied]")
    url = page.input_value("[data-loupe=copied]")
    assert page.evaluate("navigator.clipboard.readText()") == url
    service = viewer_server.published_origin + "/published/demo/images/leonardo-annunciation"
    # canvas and image are both 1600 x 829 here, so the pixels are the canvas units
    assert url == f"{service}/{','.join(map(str, xywh))}/max/0/default.jpg"
    assert "level 0" in page.inner_text("[data-loupe=selection-details]")

    page.click("[data-loupe=copy-link]")
    page.wait_for_function("document.querySelector('[data-loupe=copied]').value.includes('iiif-content=')")
    link = page.input_value("[data-loupe=copied]")
    assert link.startswith(viewer_server.url + "/viewer?iiif-content=")
    state = decode_content_state(link.split("iiif-content=", 1)[1])
    assert state["target"]["id"] == f"{viewer_server.canvas}#xywh={','.join(map(str, xywh))}"
    assert state["target"]["partOf"] == [{"id": viewer_server.manifest, "type": "Manifest"}]

    reopened = open_viewer(link[len(viewer_server.url):])
    wait_for_canvas(reopened, viewer_server.canvas)
    reopened.wait_for_function("w => loupeViewer.store.getState().loupe.windows[w]?.focus === null", arg=WINDOW)
    shown = view(reopened)
    assert shown["x"] <= xywh[0] and shown["x"] + shown["width"] >= xywh[0] + xywh[2]
    assert shown["width"] < viewer_server.canvas_size[0] / 2  # zoomed in on the region, not the whole canvas


def test_composed_and_text_searches_from_the_panel_and_the_kind_filter(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    drag_box(page)
    page.wait_for_selector("[data-loupe=result]")
    page.click("[data-loupe=composed] summary")
    page.fill("[data-loupe=composed-text]", "at night")
    with page.expect_request(lambda r: r.url.endswith("/api/search/composed")) as sent:
        page.press("[data-loupe=composed-text]", "Enter")
    body = json.loads(sent.value.post_data)
    assert body["text"] == "at night" and body["text_weight"] == 0.5 and body["reference"]["xywh"]
    page.wait_for_function("document.querySelector('[data-loupe=status]')?.textContent.includes('changed by “at night”')")

    page.click("[data-loupe=filter-kind] >> xpath=..")
    with page.expect_request(lambda r: r.url.endswith("/api/search/composed")) as sent:
        page.get_by_role("option", name="Details only").click()
    assert json.loads(sent.value.post_data)["filters"] == {"kind": ["region"]}
    page.wait_for_function("document.querySelector('[data-loupe=status]') !== null")
    assert all("detail" in r.inner_text() for r in page.query_selector_all("[data-loupe=result]"))

    page.fill("[data-loupe=text-query]", "an angel")
    with page.expect_request(lambda r: "/api/search?" in r.url) as sent:
        page.press("[data-loupe=text-query]", "Enter")
    assert "q=an+angel" in sent.value.url and "kind=region" in sent.value.url
    page.wait_for_function("document.querySelector('[data-loupe=status]')?.textContent.includes('for “an angel”')")
    assert page.query_selector_all("[data-loupe=result]")

    page.fill("[data-loupe=text-query]", "  ")
    page.press("[data-loupe=text-query]", "Enter")
    assert "type a few words" in page.wait_for_selector("[data-loupe=search-error]").inner_text()


def item(page, label: str):  # noqa: ANN001, ANN201
    return page.locator("[data-loupe=machine-annotation]", has_text=label)


def wait_review(server, label: str, state: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 10
    while server.review_state(label) != state:
        assert time.monotonic() < deadline, f"{label} is {server.review_state(label)}, not {state}"
        time.sleep(0.1)


def test_without_a_key_a_visitor_cannot_review(open_viewer, viewer_server):
    page = open_annunciation(open_viewer, viewer_server)
    assert page.locator("[data-loupe=accept]").count() == 0
    region = viewer_server.region_ids()["angel"]
    answer = page.evaluate("""async (id) => {
      const r = await fetch(`/api/machine-annotations/${id}/review`, {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({decision: 'accepted'})});
      return {status: r.status, body: await r.json()};
    }""", region)
    assert answer["status"] == 401 and "API key" in answer["body"]["error"]["message"]
    assert viewer_server.review_state("angel") == "proposed"

    page.fill("[data-loupe=api-key]", "not-the-key")
    page.press("[data-loupe=api-key]", "Enter")
    item(page, "angel").locator("[data-loupe=accept]").click()
    assert "not one this server accepts" in item(page, "angel").locator("[data-loupe=review-error]").inner_text()
    assert viewer_server.review_state("angel") == "proposed"


def test_a_curator_accepts_and_rejects_suggestions_and_the_server_keeps_them(open_viewer, viewer_server, screenshot_dir):
    page = open_annunciation(open_viewer, viewer_server)
    page.fill("[data-loupe=api-key]", CURATOR_KEY)
    page.press("[data-loupe=api-key]", "Enter")
    page.wait_for_selector("[data-loupe=curator-mode]")
    assert count_colour(page, ACCEPTED) == 0

    item(page, "lily").locator("[data-loupe=accept]").click()
    wait_review(viewer_server, "lily", "accepted")
    page.wait_for_selector("[data-loupe=machine-annotation][data-kind=accepted]")
    wait_colour(page, ACCEPTED, present=True)  # drawn as accepted: solid green
    page.screenshot(path=str(screenshot_dir / "viewer-desktop-reviewed.png"))

    item(page, "skull").locator("[data-loupe=reject]").click()
    wait_review(viewer_server, "skull", "rejected")
    item(page, "skull").wait_for(state="detached")
    page.wait_for_function("([c]) => !JSON.stringify(loupeViewer.store.getState().annotations[c]).includes('skull')",
                           arg=[viewer_server.canvas])
    assert "skull" not in labels(mirador_items(page, viewer_server.canvas))  # the server no longer serves it

    item(page, "book").locator("[data-loupe=correct]").click()
    page.fill("[data-loupe=correction-label]", "missal")
    with page.expect_request(lambda r: r.url.endswith("/review")) as sent:
        page.click("[data-loupe=accept-corrected]")
    assert json.loads(sent.value.post_data) == {"decision": "accepted", "label": "missal"}
    wait_review(viewer_server, "missal", "accepted")  # stored corrected, the model's label kept as provenance
    page.wait_for_selector("[data-loupe=machine-annotation][data-kind=accepted] >> text=missal")
    served = {i["body"]["value"]: i for i in mirador_items(page, viewer_server.canvas)}
    assert "book" not in served and served["missal"]["loupe:review"] == "accepted"
    assert served["missal"]["generator"]["name"].startswith("test-detector")


@pytest.mark.parametrize("name, width, height, mobile", [("desktop", 1280, 800, False), ("phone", 390, 844, True)])
def test_layout_at_phone_and_desktop_sizes(open_viewer, viewer_server, screenshot_dir, name, width, height, mobile):
    page = open_annunciation(open_viewer, viewer_server, width=width, height=height, mobile=mobile)
    page.screenshot(path=str(screenshot_dir / f"viewer-{name}-opened.png"))
    drag_box(page, 40, 30)
    page.wait_for_selector("[data-loupe=result]:visible")
    if mobile:  # the image stays in view above the panel
        image = page.locator(".openseadragon-canvas").bounding_box()
        panel_top = page.get_by_role("complementary", name="Loupe").locator("visible=true").bounding_box()["y"]
        assert image["height"] > 150 and image["y"] + image["height"] <= panel_top
    page.locator("[data-loupe=result]:visible").first.scroll_into_view_if_needed()
    page.locator("[data-loupe=result]:visible img").first.wait_for()
    page.wait_for_function("[...document.querySelectorAll('[data-loupe=result] img')].some(i => i.naturalWidth > 0)")
    page.screenshot(path=str(screenshot_dir / f"viewer-{name}-results.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    panel = page.locator("[data-loupe=panel]:visible").bounding_box()  # beside the image, or below it on a phone
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width + 1


def test_a_content_state_that_cannot_be_read_is_explained(open_viewer, viewer_server):
    page = open_viewer(viewer_path(content_state="not-a-content-state!"))
    problem = page.wait_for_selector("#viewer-problem:not([hidden])")
    assert "cannot open this" in problem.inner_text() and "content state" in problem.inner_text()
