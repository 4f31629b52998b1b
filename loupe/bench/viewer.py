"""The viewer's region search, end to end: a box drawn on a canvas in Mirador with Loupe's
plugin (``/viewer``) until its similar regions are shown, in headless Chromium.

The bundled demo collection is published, harvested (from its folder) and indexed with the
tiny test model into a temporary data directory, and served by the real application on
127.0.0.1. Each search drags a box (a different one each time) with the mouse; times are
taken in the page: from the mouse button's release to the last change of Loupe's panel
after the answer arrived. They are split into the request (sent to answered, of which the
server's query encoding is reported apart) and the rest (the plugin before sending, and
rendering the results). Target: p95 under 500 ms without the image encoder's time.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from werkzeug.serving import make_server

from loupe.bench.demo_data import indexed_demo
from loupe_core.settings import Settings
from search_service.app import create_app
from search_service.services import Services

BUNDLE = Path(__file__).resolve().parents[2] / "viewer_plugin" / "dist" / "loupe-mirador.js"
SLUG = "leonardo-annunciation"
MODEL = "loupe-tiny"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
QUIET_MS = 150  # the panel counts as shown once it has not changed for this long

# Records the release of the mouse, and the last change of Loupe's panel.
WATCH = """() => {
  window.__bench = {up: 0, changed: 0};
  window.addEventListener('pointerup', () => { window.__bench.up = performance.now(); }, true);
  window.addEventListener('mouseup', () => { window.__bench.up = window.__bench.up || performance.now(); }, true);
  new MutationObserver(() => { window.__bench.changed = performance.now(); })
    .observe(document.body, {attributes: true, characterData: true, childList: true, subtree: true});
}"""
READ = """() => {
  const request = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/search/image')).pop();
  return {up: window.__bench.up, changed: window.__bench.changed,
          sent: request ? request.startTime : null, answered: request ? request.responseEnd : null};
}"""


class BenchError(RuntimeError):
    pass


def run(settings: Settings, searches: int = 20, progress: bool = True) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright  # the browser driver, only for this benchmark
    except ImportError:
        raise BenchError("Playwright is needed: pip install playwright (the test extra)") from None
    chromium = os.environ.get("LOUPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise BenchError("no Chromium found (apt-get install chromium, or set LOUPE_CHROMIUM)")
    if not BUNDLE.is_file():
        raise BenchError("the viewer is not built: run `npm ci && npm run build` in viewer_plugin/")
    with tempfile.TemporaryDirectory(prefix="loupe-bench-viewer-") as tmp:
        port = _free_port()
        bench_settings = settings.replace(data_dir=Path(tmp) / "var", catalog_url="", qdrant_url="", redis_url="",
                                          model=MODEL, port=port, public_url="", api_keys="")
        manifest, canvas = _indexed_demo(bench_settings, port, progress)
        with _Serving(bench_settings, port) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                samples = _measure(browser, url, manifest, searches, progress)
            finally:
                browser.close()
    return _summary(samples, searches)


def _indexed_demo(settings: Settings, port: int, progress: bool) -> tuple[str, str]:
    try:
        demo = indexed_demo(settings, port, MODEL, progress=progress)
    except RuntimeError as e:
        raise BenchError(str(e)) from None
    return f"{demo.base}/manifests/{SLUG}.json", f"{demo.base}/canvas/{SLUG}"


class _Serving:
    """The application on 127.0.0.1:PORT in a thread (it also serves the published demo)."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.services = Services(settings, index_role="viewer benchmark")
        self.server = make_server("127.0.0.1", port, create_app(settings, services=self.services), threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.services.warm()
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.services.close()


def _measure(browser, url: str, manifest: str, searches: int, progress: bool) -> list[dict[str, float]]:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(30_000)
    page.goto(f"{url}/viewer?manifest={quote(manifest, safe='')}")
    page.wait_for_selector("[data-loupe=select-region]")
    _wait(page, "() => { const r = window.LoupeMirador && LoupeMirador.OSDReferences.get('loupe-window');"
                " const v = r && r.current; return v && v.world.getItemCount() > 0"
                " && v.world.getItemAt(0).getFullyLoaded(); }")
    page.evaluate(WATCH)
    rng = np.random.default_rng(0)
    samples = []
    for i in range(searches + 1):  # the first one warms up (model, caches) and is not counted
        page.click("[data-loupe=select-region]")
        layer = page.wait_for_selector("[data-loupe=region-tool]").bounding_box()
        # A box inside the image, which the view centres: around the middle of the layer.
        w, h = float(rng.uniform(60, 180)), float(rng.uniform(50, 120))
        x = layer["x"] + layer["width"] / 2 + float(rng.uniform(-200, 200)) - w / 2
        y = layer["y"] + layer["height"] / 2 + float(rng.uniform(-80, 80)) - h / 2
        page.evaluate("() => { window.__bench.up = 0; performance.clearResourceTimings(); }")
        with page.expect_response(lambda r: r.url.endswith("/api/search/image")) as answer:
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + w / 2, y + h / 2, steps=3)
            page.mouse.move(x + w, y + h, steps=3)
            page.mouse.up()
        response = answer.value
        if response.status != 200:
            raise BenchError(f"the region search answered {response.status}: {response.text()[:300]}")
        timings = response.json().get("timings_ms") or {}
        _wait(page, f"() => performance.now() - window.__bench.changed > {QUIET_MS}"
                    " && performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/search/image'))")
        marks = page.evaluate(READ)
        if i == 0:
            continue
        total = marks["changed"] - marks["up"]
        request = marks["answered"] - marks["sent"]
        encode = float(timings.get("encode_ms") or 0.0)
        samples.append({"total_ms": total, "request_ms": request, "encode_ms": encode,
                        "render_ms": total - request, "without_encoder_ms": total - encode})
        if progress:
            print(f"search {i}/{searches}: {total:.0f} ms (request {request:.0f}, encoder {encode:.0f})", flush=True)
        page.keyboard.press("Escape")
        time.sleep(0.05)
    page.close()
    return samples


def _wait(page, expression: str, timeout_s: float = 30.0) -> None:  # noqa: ANN001
    """Poll ``expression`` with ``page.evaluate`` until it is true: the viewer page's
    Content-Security-Policy forbids the eval that ``page.wait_for_function`` relies on."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise BenchError(f"waited {timeout_s} s in the viewer for: {expression[:120]}")
        time.sleep(0.02)


def _summary(samples: list[dict[str, float]], searches: int) -> dict[str, Any]:
    out: dict[str, Any] = {"benchmark": "viewer", "model": MODEL, "searches": searches, "target_p95_ms": 500}
    for key in ("total_ms", "without_encoder_ms", "request_ms", "encode_ms", "render_ms"):
        values = [s[key] for s in samples]
        name = key[:-3]
        out[f"{name}_p50_ms"] = round(float(np.percentile(values, 50)), 1)
        out[f"{name}_p95_ms"] = round(float(np.percentile(values, 95)), 1)
    out["meets_target"] = out["without_encoder_p95_ms"] < 500
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
