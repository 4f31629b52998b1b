"""The lens app in headless Chromium with a fake camera playing a simulated visitor video:
it shows the framed artwork (hotspots, card, languages), nothing for a picture it does not
know, works offline on a second visit, and its statistics arrive. Also the QR page and the
curators' dashboard. The recognizer is tests/lens/app_fixtures.py's RECOGNIZER."""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.lens.app_fixtures import (  # noqa: F401 - fixtures
    CURATOR_KEY,
    GUIDE,
    build_lens,
    camera_browser,
    lens_dist,
    lens_server,
    open_lens,
    playwright_session,
    start_server,
)
from tests.lens.bundles import LENS_DATA, UNKNOWN_ARTWORK, visitor_frames

ARTWORK = "leonardo-annunciation"
DETAILS = {f"{ARTWORK}__angel-gabriel", f"{ARTWORK}__virgin-mary"}


@pytest.fixture(scope="module", autouse=True)
def _shared_data() -> None:
    if not (LENS_DATA / "artworks" / f"{ARTWORK}.jpg").is_file():
        pytest.skip(f"shared data {LENS_DATA} is absent")


@pytest.fixture
def problems() -> list[str]:
    found: list[str] = []
    yield found
    assert not found, found


def wait_recognized(page, item: str) -> None:  # noqa: ANN001
    page.wait_for_function("(item) => document.body.dataset.state === 'recognized' "
                           "&& document.getElementById('chip').dataset.item === item", item)


def test_the_framed_artwork_its_details_card_languages_and_statistics(camera_browser, lens_server, problems):  # noqa: F811
    browser = camera_browser("artwork", visitor_frames(ARTWORK))
    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/", problems)
    wait_recognized(page, ARTWORK)
    assert page.locator("#chip").inner_text() == "Annunciation"
    assert page.locator("#guide-title").inner_text() == "Test masterpieces"
    assert page.locator("#overlay polygon.artwork").count() == 1
    spots = page.locator("#overlay polygon.hotspot")
    assert {spots.nth(i).get_attribute("data-item") for i in range(spots.count())} == DETAILS

    page.locator("#chip").click()
    card = page.locator("#card")
    card.wait_for(state="visible")
    assert page.locator("#card-title").inner_text() == "Annunciation"
    assert page.locator("#card-artist").inner_text() == "Leonardo da Vinci"
    assert "walled garden" in page.locator("#card-text").inner_text()
    assert page.locator("#card-speak").is_visible(), "no audio: text-to-speech is offered"
    assert page.locator("#card-media audio").count() == 0
    page.wait_for_function("() => !document.getElementById('card-image').classList.contains('empty')")
    assert page.locator("#card-image").evaluate("c => c.width > 100 && c.height > 50")
    page.select_option("#language", "it")
    assert "giardino recintato" in page.locator("#card-text").inner_text()
    assert page.evaluate("document.documentElement.lang") == "it"
    assert page.locator("#card-speak").inner_text() == "Ascolta"  # the app's own words too
    page.locator("#card-close").click()
    card.wait_for(state="hidden")
    page.wait_for_function("() => !document.getElementById('card').dataset.item")

    page.locator(f"#overlay polygon.hotspot[data-item='{ARTWORK}__virgin-mary']").dispatch_event("click")
    card.wait_for(state="visible")
    assert "Virgin Mary" in page.locator("#card-title").inner_text()
    assert page.locator("#card-artist").inner_text() == "Annunciation · Leonardo da Vinci"
    page.locator("#card-close").click()
    card.wait_for(state="hidden")
    page.wait_for_function("() => !document.getElementById('card').dataset.item")  # its visit is recorded

    events: list[tuple] = []  # a closed card sends what is queued
    for _ in range(100):
        events = lens_server.events()
        if len([e for e in events if e[1] == "card"]) == 2:
            break
        page.wait_for_timeout(100)
    cards = [e for e in events if e[1] == "card"]
    assert [(e[2], e[4]) for e in cards] == [(ARTWORK, "it"), (f"{ARTWORK}__virgin-mary", "it")], events
    assert all(e[5] is not None and e[5] >= 0 for e in cards)
    recognized = [e for e in events if e[1] == "recognized"]
    assert any(e[2] == ARTWORK and e[3] == "retrieval" and e[5] > 0 for e in recognized), events  # until the tap
    assert len({e[0] for e in events}) == 1, "one session id a day"

    assert page.locator("#mode option").evaluate_all("options => options.map((o) => o.value)") == [
        "retrieval", "classify"]
    page.select_option("#mode", "classify")  # the recognizer made again, in that mode
    page.wait_for_function("() => document.body.dataset.mode === 'classify'")
    wait_recognized(page, ARTWORK)
    page.locator("#chip").click()  # ends the visit: recorded with its mode
    page.locator("#card-close").click()
    page.wait_for_function("() => !document.getElementById('card').dataset.item")
    for _ in range(100):
        if any(e[1] == "recognized" and e[3] == "classify" for e in lens_server.events()):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"no recognition in classify mode arrived: {lens_server.events()}")
    page.context.close()


def test_a_picture_the_guide_does_not_have_shows_nothing(camera_browser, lens_server, problems):  # noqa: F811
    browser = camera_browser("unknown", visitor_frames(UNKNOWN_ARTWORK))
    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/", problems)
    page.wait_for_function("() => Number(document.documentElement.dataset.frames || 0) >= 15")
    assert page.evaluate("document.body.dataset.state") == "searching"
    assert page.locator("#chip").is_hidden()
    assert page.locator("#overlay polygon").count() == 0
    # The costly second look is paced while it finds nothing: the first frame, then about once a second.
    looks = page.evaluate("globalThis.loupeSecondLooks")
    seconds = page.evaluate("performance.now()") / 1000
    assert looks[0] is True and False in looks, looks
    assert looks.count(True) <= seconds + 1, (looks, seconds)
    page.context.close()


def test_a_slow_second_look_takes_at_most_a_quarter_of_the_time(camera_browser, lens_server, problems):  # noqa: F811
    """On a slow phone the second look waits longer between tries (start to start at least four
    times what it cost), so that the first look keeps its pace."""
    browser = camera_browser("unknown", visitor_frames(UNKNOWN_ARTWORK))
    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/", problems)
    page.evaluate("globalThis.loupeSecondLookMs = 800")
    page.wait_for_function("() => (globalThis.loupeSecondLookStarts || []).length >= 3", timeout=20_000)
    starts = page.evaluate("globalThis.loupeSecondLookStarts")
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 4 * 800 - 50, gaps  # paced by its cost, not only once a second
    page.context.close()


class EventsGate:
    """In front of the search service: logs each batch posted to the guide's events endpoint
    (its id, the status sent back) and answers the next ones as ``plan`` says: "refused" a 429
    without storing (the per-client limit), "stored" stored and then a 429 all the same (an
    answer the phone never sees)."""

    def __init__(self, server) -> None:  # noqa: ANN001 - LensServer
        self.app, self.path = server.app.wsgi_app, f"/api/lens/{GUIDE}/events"
        self.plan: list[str] = []
        self.log: list[tuple[str | None, int]] = []
        self.logged = threading.Condition()
        server.app.wsgi_app = self

    def wait(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` batches came (a loaded machine may take its time to send a beacon)."""
        with self.logged:
            assert self.logged.wait_for(lambda: len(self.log) >= count, timeout), f"no batch came: {self.log}"

    def _logged(self, entry: tuple[str | None, int]) -> None:
        with self.logged:
            self.log.append(entry)
            self.logged.notify_all()

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != self.path:
            return self.app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        batch = json.loads(raw).get("batch")
        action = self.plan.pop(0) if self.plan else None
        statuses: list[str] = []

        def answer(status, headers, exc_info=None):  # noqa: ANN001, ANN202
            statuses.append(status)
            return None if action else start_response(status, headers, exc_info)

        result = [] if action == "refused" else self.app(environ, answer)
        if action:
            b"".join(result)
            self._logged((batch, 429))
            start_response("429 Too Many Requests", [("Content-Type", "application/json"), ("Retry-After", "1")])
            return [b'{"error": {"code": "rate_limited", "message": "too many statistics batches"}}']
        self._logged((batch, int(statuses[0].split()[0])))
        return result


def leave_and_come_back(browser, server, gate: EventsGate, problems: list[str], dwell_ms: int):  # noqa: ANN001, ANN201
    """A visitor's queued event (``dwell_ms`` marks it), the page left (beacon), the lens opened
    again; the stored events so marked while away and after the next visit emptied the queue."""
    url = f"{server.url}/lens/{GUIDE}/"
    page = open_lens(browser, url, problems)
    page.wait_for_function("() => Number(document.documentElement.dataset.frames || 0) >= 3")
    key = f"loupe-lens-events:{GUIDE}"
    page.evaluate("""([key, dwell]) => localStorage.setItem(key, JSON.stringify([{ id: 'beacon-1',
        session: 'a'.repeat(32), event: { type: 'card', item: 'leonardo-annunciation', language: 'en',
        dwell_ms: dwell, at: new Date().toISOString().slice(0, 19) + '+00:00' } }]))""", [key, dwell_ms])
    page.goto("about:blank")  # visibilitychange, pagehide: the beacon
    gate.wait(1)
    page.wait_for_timeout(300)  # a second beacon, were there one, would be in by now
    away = [e for e in server.events() if e[5] == dwell_ms]
    page.goto(url)  # the next visit sends again what no answer seen removed
    page.wait_for_function("(key) => localStorage.getItem(key) === '[]'", key, timeout=60_000)
    back = [e for e in server.events() if e[5] == dwell_ms]
    page.context.close()
    return away, back


def test_what_is_queued_goes_by_beacon_when_the_page_is_left(camera_browser, lens_dist, tmp_path,  # noqa: F811
                                                             problems):
    """A visitor leaves before the next batch: the page hidden (or pagehide) hands the queue to
    navigator.sendBeacon, the server stores it; the next visit sends it again (the beacon's
    answer was out of sight), the server answers that it was a duplicate and the queue is empty.
    (A server of its own: the other tests' batches count against the per-client limit.)"""
    server = start_server(tmp_path / "var", lens_dist)
    gate = EventsGate(server)
    try:
        away, back = leave_and_come_back(camera_browser("unknown-beacon", visitor_frames(UNKNOWN_ARTWORK)),
                                         server, gate, problems, 4321)
    finally:
        server.stop()
    assert [(e[0], e[1], e[2]) for e in away] == [("a" * 32, "card", ARTWORK)], server.events()
    assert back == away
    (beacon, beacon_status), (fetched, fetch_status) = gate.log  # one beacon, then one fetch
    assert re.fullmatch("[0-9a-f]{32}", beacon) and fetched == beacon
    assert (beacon_status, fetch_status) == (202, 200)  # stored, then a duplicate


@pytest.mark.parametrize("beacon", ["refused", "stored"])
def test_a_beacon_answered_429_is_sent_again_on_the_next_visit_and_stored_once(
        camera_browser, lens_dist, tmp_path, problems, beacon):  # noqa: F811
    """The server answers the beacon 429: refused (the rate limit), or stored and answered 429
    all the same (the phone never sees the answer): the events are not lost, the next visit
    sends them again under the same batch id, and they are stored exactly once."""
    server = start_server(tmp_path / "var", lens_dist)
    gate = EventsGate(server)
    gate.plan = [beacon]
    try:
        away, back = leave_and_come_back(camera_browser("unknown-beacon", visitor_frames(UNKNOWN_ARTWORK)),
                                         server, gate, problems, 4322)
    finally:
        server.stop()
    assert len(away) == (1 if beacon == "stored" else 0), server.events()
    assert [(e[0], e[1], e[2]) for e in back] == [("a" * 32, "card", ARTWORK)], server.events()
    (first, first_status), (again, again_status) = gate.log
    assert first_status == 429 and again == first
    assert again_status == (200 if beacon == "stored" else 202)  # a duplicate, or stored now


def test_the_lens_works_offline_on_a_second_visit(camera_browser, lens_dist, tmp_path, problems):  # noqa: F811
    server = start_server(tmp_path / "var", lens_dist)
    try:
        browser = camera_browser("artwork", visitor_frames(ARTWORK))
        page = open_lens(browser, f"{server.url}/lens/{GUIDE}/", problems)
        page.wait_for_function("() => document.body.dataset.offline === 'ready'")
        wait_recognized(page, ARTWORK)
    finally:
        server.stop()  # the server is gone: only the service worker can answer now
    page.context.set_offline(True)
    page.reload()
    wait_recognized(page, ARTWORK)
    kept = page.evaluate("""async () => {
        const paths = ['bundle.json', 'retrieval/model.json', 'retrieval/group1-shard1of2.bin',
          'retrieval/group1-shard2of2.bin', 'retrieval/loupe.json', 'retrieval/descriptors.bin',
          'verification/orb.bin', 'items/leonardo-annunciation.jpg'];
        const answers = await Promise.all(paths.map((p) => fetch('v1/' + p).then((r) => r.status, () => 0)));
        return Object.fromEntries(paths.map((p, i) => [p, answers[i]]));
    }""")
    assert set(kept.values()) == {200}, f"not kept offline (models and their weights included): {kept}"
    page.locator("#chip").click()
    page.wait_for_function("() => !document.getElementById('card-image').classList.contains('empty')")
    assert page.locator("#card-title").inner_text() == "Annunciation"
    page.context.close()


def test_without_a_camera_a_photo_opens_the_card(camera_browser, lens_server, tmp_path, problems):  # noqa: F811
    browser = camera_browser("no-camera", None)
    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/", problems, camera=False)
    page.wait_for_function("() => document.body.dataset.state === 'photo'")
    assert "camera is not available" in page.locator("#status").inner_text()
    assert page.locator("#photo").is_visible()
    photos = {"unknown": visitor_frames(UNKNOWN_ARTWORK, size=(800, 600), frames=1)[0],
              "known": visitor_frames(ARTWORK, size=(800, 600), frames=1)[0]}
    for name, image in photos.items():
        image.save(tmp_path / f"{name}.jpg", quality=85)
    page.set_input_files("#photo-input", str(tmp_path / "unknown.jpg"))
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Nothing recognised')")
    assert page.locator("#card").is_hidden()
    page.set_input_files("#photo-input", str(tmp_path / "known.jpg"))
    page.locator("#card").wait_for(state="visible")
    assert page.locator("#card-title").inner_text() == "Annunciation"
    page.context.close()


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status


def test_the_qr_page_and_the_dashboard(camera_browser, lens_server, problems):  # noqa: F811
    browser = camera_browser("unknown", visitor_frames(UNKNOWN_ARTWORK))  # the camera does not matter here
    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/qr", problems)
    page.wait_for_function("() => document.body.dataset.ready === 'true'")
    assert page.locator("#qr-title").inner_text() == "Test masterpieces"
    assert page.locator("#qr-url").inner_text() == f"{lens_server.url}/lens/{GUIDE}/"
    assert int(page.locator("#qr svg").get_attribute("data-modules")) >= 21
    page.context.close()

    # Six phones looked at the Annunciation, two at the Birth of Venus (fewer than k = 5).
    events = f"{lens_server.url}/api/lens/{GUIDE}/events"
    for i in range(8):
        item = ARTWORK if i < 6 else "botticelli-birth-of-venus"
        at = datetime.now(timezone.utc).isoformat()
        assert _post(events, {"session": f"dashboard-session-{i:04d}", "events": [
            {"type": "card", "item": item, "language": "en", "dwell_ms": 20_000 + i, "at": at}]}) == 202

    page = open_lens(browser, f"{lens_server.url}/lens/{GUIDE}/stats", problems)
    page.fill("#key", "wrong-key")
    page.click("button[type=submit]")
    page.wait_for_function("() => document.body.dataset.ready === 'error'")
    assert "not one this server accepts" in page.locator("#message").inner_text()
    assert page.locator("#report").is_hidden()
    page.fill("#key", CURATOR_KEY)
    page.click("button[type=submit]")
    page.wait_for_function("() => document.body.dataset.ready === 'true'")
    rows = page.locator("#items tbody tr")
    keys = {rows.nth(i).get_attribute("data-key") for i in range(rows.count())}
    assert ARTWORK in keys and "botticelli-birth-of-venus" not in keys
    assert "fewer than 5 sessions" in page.locator("#suppressed").inner_text()
    assert page.locator("#plots img").count() >= 3
    assert page.locator("#plot-top_artworks").evaluate("img => img.complete && img.naturalWidth > 100")
    with page.expect_download() as download:
        page.click("#csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("section,key,label") and f"items,{ARTWORK}," in text and "birth-of-venus" not in text
    page.context.close()


def test_the_real_recognizers_runtime_starts_under_the_page_policy(camera_browser, tmp_path, problems):  # noqa: F811
    """The built dist/recognizer.js (engine.js + src/recognizer.js): TensorFlow.js on the WASM
    backend (software WebGL passed over) and OpenCV.js with its ORB, under the app's policy."""
    dist = build_lens()
    if not (dist / "recognizer.js").is_file():
        pytest.skip("lens/src/recognizer.js is not there: no real recognizer is built")
    server = start_server(tmp_path / "var", dist)
    try:
        page = open_lens(camera_browser("unknown", visitor_frames(UNKNOWN_ARTWORK)), f"{server.url}/lens/{GUIDE}/",
                         problems)
        started = page.evaluate("import('../_app/recognizer.js').then((m) => m.ready())"
                                ".then((r) => [r.backend, typeof r.cv.Mat, typeof r.cv.ORB, typeof r.tf.tensor])")
        assert started == ["wasm", "function", "function", "function"]
        page.context.close()
    finally:
        server.stop()
