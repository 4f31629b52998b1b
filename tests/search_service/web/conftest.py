"""The search page served by the real app (werkzeug server in a thread) over a private copy
of the indexed demo, and a headless Chromium driven by Playwright.

No browser is downloaded: Playwright's Python package (its driver ships in the wheel) starts
the system's Chromium (``/usr/bin/chromium``, or ``LOUPE_CHROMIUM``). Without either, the
browser tests are skipped with the reason. Published demo files are linked in the catalog at
``http://127.0.0.1:8600`` (the harvest's base URL); the browser's requests there are routed to
the test server, so thumbnails load from it.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.chromium import chromium

WAIT_TIMEOUT_MS = 15_000
DEMO_LABELS = ["Annunciation", "sunflowers", "horse", "portrait", "skull"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    port: int
    published_origin: str  # where the catalog says the published demo lives


@pytest.fixture(scope="module")
def live_server(indexed_demo, tmp_path_factory) -> Iterator[LiveServer]:  # noqa: ANN001
    from werkzeug.serving import make_server

    from connector.catalog import Catalog
    from loupe_tagging import LabelEmbeddingCache, VocabularyStore, make_vocabulary
    from search_service.app import create_app
    from search_service.services import Services
    from tests.support.demo import copy_data_dir

    settings = copy_data_dir(indexed_demo, tmp_path_factory.mktemp("web") / "var")
    catalog = Catalog.open(settings)
    store = VocabularyStore(catalog.engine)  # small lists: the page's tags need no 1000-prompt embedding
    store.put("demo", make_vocabulary("demo", DEMO_LABELS), source_id=indexed_demo.source_id)
    store.put("all", make_vocabulary("all", DEMO_LABELS))
    services = Services(settings, catalog=catalog, label_cache=LabelEmbeddingCache(), index_role="test web page")
    app = create_app(settings, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="loupe-test-server", daemon=True)
    thread.start()
    try:
        origin = re.match(r"^https?://[^/]+", indexed_demo.collection_url).group(0)
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", server.server_port, origin)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        services.close()
        catalog.close()


def wait_under_csp(page) -> None:  # noqa: ANN001
    """Make ``page.wait_for_function`` work under the pages' Content-Security-Policy.

    Playwright polls a predicate with eval inside the page, which the pages' policy forbids
    (no 'unsafe-eval'); ``page.evaluate`` goes through the DevTools protocol, which the policy
    does not govern. So the predicate is polled from here, and every browser test runs with
    the real policy (a violation is a console error, which fails the test)."""

    def wait_for_function(expression: str, arg=None, *, timeout: float | None = None, polling=None):  # noqa: ANN001, ANN202
        deadline = time.monotonic() + (timeout or WAIT_TIMEOUT_MS) / 1000
        while True:
            value = page.evaluate(expression, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout or WAIT_TIMEOUT_MS} ms for: {expression[:200]}")
            time.sleep(0.05)

    page.wait_for_function = wait_for_function


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:  # noqa: ANN001
    with chromium() as b:
        yield b


@pytest.fixture
def open_page(browser, live_server):  # noqa: ANN001, ANN201
    """``open_page(width, height, mobile=False)`` -> a page on the search page; console errors
    and uncaught exceptions fail the test."""
    contexts = []
    problems: list[str] = []

    def open_(width: int = 1280, height: int = 900, mobile: bool = False, path: str = "/"):  # noqa: ANN202
        context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile,
                                      has_touch=mobile, device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_TIMEOUT_MS)
        wait_under_csp(page)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
                and "Failed to load resource" not in m.text else None)
        pattern = re.compile("^" + re.escape(live_server.published_origin) + "/")
        page.route(pattern, lambda route: route.continue_(
            url=live_server.url + route.request.url[len(live_server.published_origin):]))
        page.goto(live_server.url + path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:  # noqa: ANN001
    """Where the layout screenshots go: LOUPE_TEST_SCREENSHOTS, else a temporary folder."""
    folder = os.environ.get("LOUPE_TEST_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
