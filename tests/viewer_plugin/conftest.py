"""The viewer page (/viewer: Mirador 4 with Loupe's plugin) served by the real app over a
private copy of the indexed demo, with machine suggestions written into its catalog and a
curator key configured, driven in headless Chromium by Playwright.

The plugin's bundle is built first when it is missing or older than its sources (esbuild,
about two seconds); without Node.js or viewer_plugin/node_modules the browser tests skip with
the reason. Published demo files are linked in the catalog at ``http://127.0.0.1:8600``; the
browser's requests there go to the test server (as in tests/search_service/web).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.search_service.web.conftest import (  # noqa: F401 - Chromium, screenshots
    browser,
    screenshot_dir,
    wait_under_csp,
)

PLUGIN = Path(__file__).resolve().parents[2] / "viewer_plugin"
BUNDLE = PLUGIN / "dist" / "loupe-mirador.js"
CURATOR_KEY = "curator-test-key"
SLUG = "leonardo-annunciation"  # its canvas also has two curators' regions
# (label, box in canvas units or None for the whole canvas, confidence) per model.
SUGGESTIONS = {
    "loupe-tiny": [("lily", (700, 300, 200, 200), 0.91), ("angel", (60, 120, 640, 520), 0.55),
                   ("skull", (1200, 500, 150, 100), 0.08), ("Annunciation", None, 0.7)],
    "test-detector": [("book", (1380, 380, 140, 90), 0.8)],
}


@dataclass(frozen=True)
class ViewerServer:
    url: str
    published_origin: str
    manifest: str
    canvas: str
    canvas_size: tuple[int, int]
    settings: object
    app: object

    def region_ids(self) -> dict[str, int]:
        """Catalog ids of the suggestions by label."""
        from sqlalchemy import select

        from connector.catalog import Catalog
        from connector.catalog.schema import RegionRow

        catalog = Catalog.open(self.settings)
        try:
            with catalog.session() as s:
                rows = s.scalars(select(RegionRow).where(RegionRow.made_by == "machine")).all()
                return {r.tags[0]: r.id for r in rows}
        finally:
            catalog.close()

    def review_state(self, label: str) -> str | None:
        from connector.catalog import Catalog
        from connector.catalog.schema import RegionRow

        catalog = Catalog.open(self.settings)
        try:
            with catalog.session() as s:
                return s.get(RegionRow, self.region_ids()[label]).review
        finally:
            catalog.close()


@pytest.fixture(scope="session")
def built_bundle() -> Path:
    if shutil.which("node") is None or not (PLUGIN / "node_modules" / "esbuild").is_dir():
        pytest.skip("Node.js and viewer_plugin/node_modules are needed (scripts/install-npm-deps.sh)")
    sources = [*PLUGIN.joinpath("src").rglob("*"), PLUGIN / "build.mjs", PLUGIN / "package-lock.json"]
    if not BUNDLE.is_file() or max(p.stat().st_mtime for p in sources) > BUNDLE.stat().st_mtime:
        subprocess.run(["node", "build.mjs"], cwd=PLUGIN, check=True, capture_output=True, timeout=120)
    return BUNDLE


def write_suggestions(settings, manifest: str, canvas: str) -> tuple[int, int]:  # noqa: ANN001
    """The SUGGESTIONS as proposed machine tags on the canvas; returns the canvas size."""
    from sqlalchemy import select

    from connector.catalog import Catalog
    from connector.catalog.schema import CanvasRow, ManifestRow
    from loupe_tagging.machine_tags import Proposal, replace_proposals

    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            row = s.scalars(select(CanvasRow).join(ManifestRow).where(CanvasRow.uri == canvas,
                                                                      ManifestRow.uri == manifest)).one()
            canvas_id, size = row.id, (row.width, row.height)
        for model, suggestions in SUGGESTIONS.items():
            proposals = [Proposal(canvas_id, box, label, score) for label, box, score in suggestions]
            counts = replace_proposals(catalog, model, "test", [canvas_id], proposals)
            assert counts.proposed == len(suggestions)
    finally:
        catalog.close()
    return size


@pytest.fixture(scope="module")
def viewer_server(indexed_demo, built_bundle, tmp_path_factory) -> Iterator[ViewerServer]:  # noqa: ANN001
    from werkzeug.serving import make_server

    from connector.catalog import Catalog
    from search_service.app import create_app
    from search_service.services import Services
    from tests.support.demo import copy_data_dir

    settings = copy_data_dir(indexed_demo, tmp_path_factory.mktemp("viewer") / "var").replace(api_keys=CURATOR_KEY)
    manifest, canvas = indexed_demo.manifest(SLUG), indexed_demo.canvas(SLUG)
    size = write_suggestions(settings, manifest, canvas)
    catalog = Catalog.open(settings)
    services = Services(settings, catalog=catalog, index_role="test viewer page")
    app = create_app(settings, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="loupe-viewer-test-server", daemon=True)
    thread.start()
    try:
        origin = re.match(r"^https?://[^/]+", indexed_demo.collection_url).group(0)
        yield ViewerServer(f"http://127.0.0.1:{server.server_port}", origin, manifest, canvas, size, settings, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        services.close()
        catalog.close()


@pytest.fixture
def open_viewer(browser, viewer_server):  # noqa: ANN001, ANN201, F811
    """``open_viewer(path, width=1280, height=800, mobile=False)`` -> a page on the viewer,
    with the clipboard usable; page errors and console errors fail the test."""
    from tests.viewer_plugin.browser import route_published

    contexts = []
    problems: list[str] = []

    def open_(path: str, width: int = 1280, height: int = 800, mobile: bool = False):  # noqa: ANN202
        context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile,
                                      has_touch=mobile, device_scale_factor=1)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=viewer_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        wait_under_csp(page)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
                and "Failed to load resource" not in m.text else None)
        route_published(page, viewer_server)
        page.goto(viewer_server.url + path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not problems, problems
