"""The lens served by the search service: the app's pages and files, the guides' bundles
(no-cache current.json, immutable versions, nothing outside a guide's folder), the
statistics endpoint (known guides only, rate-limited, bad events refused) and the curators'
report (key required, k-anonymous). The app's build is a stand-in folder here: the browser
tests (tests/lens) use the real one."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from loupe_core.settings import Settings

KEY = "curator-key"
ITEMS = ["starry-night", "starry-night__moon", "sunflowers"]


def write_bundle(lens_dir: Path, guide: str, version: int) -> None:
    folder = lens_dir / guide / f"v{version}"
    (folder / "items").mkdir(parents=True)
    items = [{"id": "starry-night", "kind": "artwork", "parent": None, "title": {"en": ["The Starry Night"]},
              "image": "items/starry-night.jpg", "size": [10, 8]},
             {"id": "starry-night__moon", "kind": "detail", "parent": "starry-night", "title": {"en": ["Moon"]},
              "region": [1, 1, 2, 2]},
             {"id": "sunflowers", "kind": "artwork", "parent": None, "title": {"none": ["Sunflowers"]}}]
    (folder / "bundle.json").write_text(json.dumps({
        "format": "loupe-lens-bundle/1", "guide": guide, "version": version, "label": {"en": ["Masters"]},
        "languages": ["en"], "items": items, "modes": {}}), encoding="utf-8")
    (folder / "items" / "starry-night.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (lens_dir / guide / "current.json").write_text(json.dumps({"version": version}), encoding="utf-8")


@pytest.fixture
def lens_app(tmp_path):
    from search_service.app import create_app
    from search_service.services import Services
    from search_service.web.lens import DIST_CONFIG

    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("index.html", "qr.html", "stats.html"):
        (dist / name).write_text(f"<!doctype html><title>{name}</title>", encoding="utf-8")
    (dist / "lens.js").write_text("export {};", encoding="utf-8")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});", encoding="utf-8")
    (dist / "backend.wasm").write_bytes(b"\x00asm\x01\x00\x00\x00")
    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path / "var", api_keys=KEY,
                             lens_events_per_minute=5, lens_stats_k=2)
    write_bundle(settings.data_dir / "lens", "masters", 2)
    (settings.data_dir / "lens" / "masters" / "overrides.json").write_text("{}", encoding="utf-8")
    (settings.data_dir / "lens" / "half-built" / "v1").mkdir(parents=True)  # no current.json: unknown
    (settings.data_dir / "secret.txt").write_text("secret", encoding="utf-8")
    services = Services(settings, index_role="test lens serving")
    app = create_app(settings, services=services)
    app.config[DIST_CONFIG] = str(dist)
    yield app
    services.close()


@pytest.fixture
def client(lens_app):
    return lens_app.test_client()


def test_the_app_page_allows_the_camera_and_webassembly(client):
    page = client.get("/lens/masters/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Permissions-Policy"].startswith("camera=(self)")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'" in policy and "frame-ancestors 'self'" in policy
    assert page.headers["Cache-Control"] == "no-cache"
    assert client.get("/lens/masters").status_code == 308
    for path in ("/lens/masters/qr", "/lens/masters/stats"):
        other = client.get(path)
        assert other.status_code == 200 and "camera=()" in other.headers["Permissions-Policy"]
        assert "unsafe-eval" not in other.headers["Content-Security-Policy"]
    assert "camera=()" in client.get("/docs").headers["Permissions-Policy"]  # other pages keep it off


def test_the_guides_page_and_unknown_guides(client):
    page = client.get("/lens/").get_data(as_text=True)
    assert 'data-guide="masters"' in page and "Masters" in page and "half-built" not in page
    listed = client.get("/lens/", headers={"Accept": "application/json"}).get_json()
    assert listed == {"guides": [{"id": "masters", "version": 2, "title": "Masters", "languages": ["en"], "items": 3}]}
    for path in ("/lens/half-built/", "/lens/nope/", "/lens/NOPE/", "/lens/a..b/"):
        missing = client.get(path)
        assert missing.status_code == 404 and "no guide" in missing.get_data(as_text=True)
    answer = client.get("/lens/nope/current.json")
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "unknown_guide"


def test_current_json_is_revalidated_and_versions_are_immutable(client):
    current = client.get("/lens/masters/current.json")
    assert current.get_json() == {"version": 2} and current.headers["Cache-Control"] == "no-cache"
    bundle = client.get("/lens/masters/v2/bundle.json")
    assert bundle.status_code == 200 and bundle.get_json()["guide"] == "masters"
    assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get("/lens/masters/v2/bundle.json", headers={"If-None-Match": bundle.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/lens/masters/v2/items/starry-night.jpg").mimetype == "image/jpeg"
    assert client.get("/lens/masters/v1/bundle.json").status_code == 404


@pytest.mark.parametrize("path", [
    "/lens/masters/v2/../current.json", "/lens/masters/v2/%2e%2e/overrides.json", "/lens/masters/v2/..%2f..%2fsecret.txt",
    "/lens/masters/v2/items", "/lens/masters/v2//etc/passwd", "/lens/masters/v2/items/" + "x" * 5000,
    "/lens/masters/overrides.json", "/lens/_app/../../secret.txt", "/lens/_app/index.html", "/lens/_app/%2e%2e/x",
])
def test_nothing_outside_a_bundle_or_the_build_is_served(client, path):
    assert client.get(path).status_code in (404, 308)


def test_a_link_leading_out_of_a_bundle_is_refused(client, lens_app):
    from search_service.services import get_services

    with lens_app.app_context():
        data_dir = get_services().settings.data_dir
    os.symlink(data_dir / "secret.txt", data_dir / "lens" / "masters" / "v2" / "items" / "leak.jpg")
    assert client.get("/lens/masters/v2/items/leak.jpg").status_code == 404


def test_the_build_and_its_service_worker(client, lens_app, tmp_path):
    from search_service.web.lens import DIST_CONFIG

    script = client.get("/lens/_app/lens.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert client.get("/lens/_app/backend.wasm").mimetype == "application/wasm"
    worker = client.get("/lens/sw.js")
    assert worker.headers["Content-Security-Policy"] == "default-src 'self'"
    assert worker.headers["Cache-Control"] == "no-cache"
    lens_app.config[DIST_CONFIG] = str(tmp_path / "not-built")
    page = client.get("/lens/masters/")
    assert page.status_code == 503 and "npm run build" in page.get_data(as_text=True)
    assert client.get("/lens/_app/lens.js").get_json()["error"]["code"] == "lens_not_built"


def events(*items: str, session: str = "s" * 20, **changes) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"session": session, "events": [{"type": "card", "item": item, "language": "en", "dwell_ms": 1000,
                                            "at": now, **changes} for item in items]}


def test_events_are_stored_for_known_guides_and_bad_ones_refused(client):
    url = "/api/lens/masters/events"
    stored = client.post(url, json=events("starry-night", "starry-night__moon"))
    assert stored.status_code == 202 and stored.get_json() == {"stored": 2, "duplicate": False}  # no "batch"
    unknown_item = client.post(url, json=events("mona-lisa"))
    assert unknown_item.status_code == 400
    assert unknown_item.get_json()["error"] == {
        "code": "invalid_event", "field": "events[0].item",
        "message": "events[0].item 'mona-lisa' is not an item of guide 'masters'"}
    assert client.post(url, data="type=card", content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post("/api/lens/half-built/events", json=events("x")).get_json()["error"]["code"] == "unknown_guide"
    assert client.get(url).status_code == 405


def test_a_batch_sent_again_is_answered_as_a_duplicate_and_stored_once(client, lens_app):
    from search_service.api.lens_stats import stats_store

    url = "/api/lens/masters/events"
    batch = {**events("starry-night", "sunflowers"), "batch": "9f" * 16}
    first = client.post(url, json=batch)
    assert first.status_code == 202 and first.get_json() == {"stored": 2, "duplicate": False}
    again = client.post(url, json=batch)  # a beacon whose answer the phone could not see, then its fetch
    assert again.status_code == 200 and again.get_json() == {"stored": 0, "duplicate": True}
    with lens_app.app_context():
        assert [r[2] for r in stats_store().rows("masters")] == ["starry-night", "sunflowers"]
    bad = client.post(url, json={**batch, "batch": "not a batch id"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "batch"


def test_events_are_rate_limited_per_client(client):
    url = "/api/lens/masters/events"
    answers = [client.post(url, json=events("sunflowers"), environ_base={"REMOTE_ADDR": "10.0.0.1"})
               for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    other = client.post(url, json=events("sunflowers"), environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 202


def test_the_report_needs_a_key_and_hides_small_counts(client):
    for i in range(3):
        client.post("/api/lens/masters/events", json=events("starry-night", session=f"session-{i:015d}"),
                    environ_base={"REMOTE_ADDR": f"10.0.1.{i}"})
    client.post("/api/lens/masters/events", json=events("sunflowers", session="lonely-session-0001"))
    assert client.get("/api/lens/masters/stats").status_code == 401
    assert client.get("/api/lens/masters/stats", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/api/lens/masters/stats.csv").status_code == 401
    report = client.get("/api/lens/masters/stats", headers={"X-API-Key": KEY}).get_json()
    assert report["k"] == 2 and report["totals"]["sessions"] == 4
    assert [(r["key"], r["label"], r["sessions"]) for r in report["items"]] == [
        ("starry-night", "The Starry Night", 3)]
    assert report["suppressed"]["items"] == 1
    assert set(report["plots"]) >= {"top_artworks", "hours", "dwell", "languages"}
    csv_answer = client.get("/api/lens/masters/stats.csv", headers={"Authorization": f"Bearer {KEY}"})
    assert csv_answer.mimetype == "text/csv" and "attachment" in csv_answer.headers["Content-Disposition"]
    text = csv_answer.get_data(as_text=True)
    assert "items,starry-night,The Starry Night,3,3,0,3," in text and "sunflowers" not in text
    tomorrow = client.get("/api/lens/masters/stats?plots=false&from=2999-01-01", headers={"X-API-Key": KEY})
    assert tomorrow.get_json()["totals"] is None and "plots" not in tomorrow.get_json()
    bad = client.get("/api/lens/masters/stats?from=yesterday", headers={"X-API-Key": KEY})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"


def test_the_routes_are_in_the_openapi_description(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/api/lens/{guide}/events", "/api/lens/{guide}/stats", "/api/lens/{guide}/stats.csv",
                 "/lens/{guide}/current.json", "/lens/{guide}/v{version}/{subpath}", "/lens/{guide}/qr"):
        assert path in paths
    assert paths["/api/lens/{guide}/events"]["post"]["requestBody"]
    answers = paths["/api/lens/{guide}/events"]["post"]["responses"]
    assert {"200", "202"} <= set(answers)
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert "batch" in schemas["LensEvents"]["properties"] and "duplicate" in schemas["LensEventsStored"]["properties"]
