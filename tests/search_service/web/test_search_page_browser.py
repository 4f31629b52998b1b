"""The search page in a real headless Chromium against the real app: text search with
thumbnails and paging, a click for similar results and zero-shot tags, an image upload,
composed search with the text-weight slider, filters, errors shown to the user, keyboard use,
and the layout at phone and desktop sizes (screenshots kept in LOUPE_TEST_SCREENSHOTS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.demo import DEMO_FOLDER

PAGE_SIZE = 24
DEMO_CANVASES = 30


def search(page, text: str) -> None:  # noqa: ANN001
    page.fill("#q", text)
    page.press("#q", "Enter")
    page.wait_for_selector("#gallery li")
    wait_idle(page)


def wait_idle(page) -> None:  # noqa: ANN001
    page.wait_for_function("document.getElementById('gallery').getAttribute('aria-busy') === 'false'")


def loaded_thumbnails(page, first: int = 1000) -> int:  # noqa: ANN001
    """How many of the ``first`` thumbnails loaded (lazy images far below the fold never start)."""
    images = f"[...document.querySelectorAll('#gallery img')].slice(0, {first})"
    page.wait_for_function(f"{images}.every(i => i.complete)")
    return page.evaluate(f"{images}.filter(i => i.naturalWidth > 0).length")


def result_ids(page) -> list[str]:  # noqa: ANN001
    return page.eval_on_selector_all("#gallery li", "items => items.map(i => i.dataset.id)")


def test_text_search_shows_thumbnails_and_pages_with_more(open_page) -> None:  # noqa: ANN001
    page = open_page()
    search(page, "an angel with a lily")
    assert len(result_ids(page)) == PAGE_SIZE
    assert loaded_thumbnails(page) == PAGE_SIZE
    alts = page.eval_on_selector_all("#gallery img", "imgs => imgs.map(i => i.alt)")
    assert all(alt.strip() for alt in alts)
    assert "24 results for “an angel with a lily”" in page.inner_text("#status")
    assert "q=an+angel+with+a+lily" in page.url  # linkable
    page.click("#more")
    page.wait_for_function(f"document.querySelectorAll('#gallery li').length > {PAGE_SIZE}")
    wait_idle(page)
    ids = result_ids(page)
    assert len(ids) == DEMO_CANVASES == len(set(ids))  # one result per artwork, no repeats across pages
    if page.is_visible("#more"):  # the API may offer a cursor that turns out to be the end
        page.click("#more")
        page.wait_for_selector("#more", state="hidden")
    assert len(result_ids(page)) == DEMO_CANVASES
    assert page.inner_text("#status").startswith("30 results")


def test_click_a_result_for_similar_results_tags_and_a_composed_search(open_page) -> None:  # noqa: ANN001
    page = open_page()
    search(page, "portrait")
    clicked = result_ids(page)[2]
    page.click("#gallery li:nth-child(3) button.thumb")
    page.wait_for_function("document.getElementById('status').textContent.includes('similar to')")
    wait_idle(page)
    assert result_ids(page)[0] == clicked  # the result itself is the most similar
    assert page.is_visible("#selected") and page.get_attribute("#selected-image", "alt")
    page.wait_for_selector("#tags li")
    tags = page.eval_on_selector_all("#tags li", "items => items.map(i => i.firstChild.textContent)")
    assert len(tags) == 5 and set(tags) <= {"Annunciation", "sunflowers", "horse", "portrait", "skull"}

    page.fill("#composed-text", "at night")
    page.focus("#text-weight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#text-weight-value") == "0.60"
    with page.expect_request(lambda r: r.url.endswith("/api/search/composed")) as request:
        page.click("#composed-form button[type=submit]")
    body = json.loads(request.value.post_data)
    assert body["point_id"] == clicked and body["text"] == "at night" and body["text_weight"] == pytest.approx(0.6)
    page.wait_for_function("document.getElementById('status').textContent.includes('changed by')")
    wait_idle(page)
    assert len(result_ids(page)) > 0 and page.is_hidden("#error")


def test_upload_an_image_finds_its_artwork(open_page) -> None:  # noqa: ANN001
    page = open_page()
    page.set_input_files("#upload", str(DEMO_FOLDER / "botticelli-birth-of-venus.jpg"))
    page.wait_for_function("document.getElementById('status').textContent.includes('for your image')")
    wait_idle(page)
    first_label = page.inner_text("#gallery li:first-child .label")
    assert first_label == "The Birth of Venus"
    assert page.get_attribute("#selected-image", "src").startswith("blob:")
    page.wait_for_selector("#tags li")  # tags of the upload (the 'all' list)
    assert loaded_thumbnails(page) == len(result_ids(page))


def test_errors_are_shown_to_the_user(open_page, tmp_path: Path) -> None:  # noqa: ANN001
    page = open_page()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    page.set_input_files("#upload", str(empty))
    page.wait_for_selector("#error:not([hidden])")
    assert "empty" in page.inner_text("#error")
    assert page.get_attribute("#error", "role") == "alert"
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("hello")
    page.set_input_files("#upload", str(not_an_image))
    page.wait_for_function("document.getElementById('error').textContent.includes('JPEG, PNG or WEBP')")
    page.fill("#q", "   ")
    page.press("#q", "Enter")
    page.wait_for_function("document.getElementById('error').textContent.includes('Type a few words')")


def test_filters_and_keyboard(open_page) -> None:  # noqa: ANN001
    page = open_page()
    page.click("#filters summary")
    page.select_option("#filter-kind", "region")
    search(page, "detail")
    metas = page.eval_on_selector_all("#gallery .meta", "items => items.map(i => i.textContent)")
    assert metas and all(m.startswith("annotated detail") for m in metas)
    page.uncheck("#filter-one")  # a change of filter asks again
    page.wait_for_function("document.querySelectorAll('#gallery li').length > 0")
    wait_idle(page)
    page.focus("#gallery li:first-child button.thumb")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').textContent.includes('similar to')")
    page.keyboard.press("Escape")
    assert page.is_hidden("#selected")


@pytest.mark.parametrize("name, width, height, mobile, columns", [
    ("phone", 390, 844, True, 2),
    ("desktop", 1280, 900, False, 7),
])
def test_layout_at_phone_and_desktop_sizes(open_page, screenshot_dir: Path, name: str, width: int, height: int,
                                           mobile: bool, columns: int) -> None:  # noqa: ANN001
    page = open_page(width, height, mobile=mobile, path="/?q=a%20ship%20in%20a%20storm")
    page.wait_for_selector("#gallery li")
    wait_idle(page)
    assert loaded_thumbnails(page, first=4) == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    tops = page.eval_on_selector_all("#gallery li",
                                     "items => items.map(i => Math.round(i.getBoundingClientRect().top))")
    assert tops.count(tops[0]) == columns
    small = page.evaluate("""[...document.querySelectorAll('button, .button, input[type=search], select')]
        .filter(e => e.offsetParent !== null && !e.closest('.result'))
        .filter(e => e.getBoundingClientRect().height < 44).map(e => e.id || e.textContent.trim())""")
    assert small == []  # touch targets at least 44 px high
    assert page.is_visible(".camera-only") == mobile  # the camera button on touch screens only
    page.screenshot(path=str(screenshot_dir / f"search-{name}.png"))
    page.click("#gallery li:first-child button.thumb")
    page.wait_for_selector("#tags li")
    wait_idle(page)
    if mobile:  # the change-it form starts folded so that results stay in view
        assert not page.evaluate("document.getElementById('composed-details').open")
        assert page.eval_on_selector("#gallery", "g => g.getBoundingClientRect().top") < height * 1.5
    page.screenshot(path=str(screenshot_dir / f"search-{name}-selected.png"))
