"""The lens app served by the real search service (werkzeug server in a thread) over a private
data directory holding a test guide, and headless Chromium with a fake camera playing a
simulated visitor video (Debian's Chromium driven by Playwright).

The app is built first when lens/dist is missing or older than its sources (esbuild, about a
second); without Node.js or lens/node_modules the browser tests skip with the reason. The
tests serve a private copy of the build in which ``RECOGNIZER`` replaces dist/recognizer.js.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.lens.bundles import write_guide, write_y4m
from tests.search_service.web.conftest import wait_under_csp
from tests.support.chromium import launch, playwright

LENS = Path(__file__).resolve().parents[2] / "lens"
HERE = Path(__file__).resolve().parent
# The recognizer these browser tests run: the test stand-in (it needs no models), so that the
# app's own behaviour is tested quickly. The real one (lens/src/recognizer.js, built into
# lens/dist/) runs end to end on a built bundle in tests/loupe/test_lens.py.
RECOGNIZER: Path | None = HERE / "fake_recognizer.js"
CURATOR_KEY = "lens-curator-key"
GUIDE = "test"
CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def build_lens() -> Path:
    """lens/dist, (re)built when missing or older than its sources; skip without Node.js."""
    if shutil.which("node") is None or not (LENS / "node_modules" / "esbuild").is_dir():
        pytest.skip("Node.js and lens/node_modules are needed (scripts/install-npm-deps.sh)")
    built = LENS / "dist" / "sw.js"
    sources = [*LENS.joinpath("src").rglob("*"), LENS / "build.mjs", LENS / "package-lock.json"]
    if not built.is_file() or max(p.stat().st_mtime for p in sources) > built.stat().st_mtime:
        subprocess.run(["node", "build.mjs"], cwd=LENS, check=True, capture_output=True, timeout=120)
    return LENS / "dist"


@pytest.fixture(scope="session")
def lens_dist(tmp_path_factory) -> Path:  # noqa: ANN001
    """A private copy of the built app, with RECOGNIZER as its recognizer.js."""
    copy = tmp_path_factory.mktemp("lens") / "dist"
    shutil.copytree(build_lens(), copy)
    if RECOGNIZER is not None:
        shutil.copyfile(RECOGNIZER, copy / "recognizer.js")
    return copy


@dataclass
class LensServer:
    url: str
    settings: object
    app: object
    stop: Callable[[], None] = field(repr=False)

    def events(self) -> list[tuple]:
        """Every stored event of the test guide (loupe_stats.store.COLUMNS)."""
        from search_service.api.lens_stats import stats_store

        with self.app.app_context():
            return list(stats_store().rows(GUIDE))


def start_server(data_dir: Path, dist: Path, **settings_changes) -> LensServer:
    from werkzeug.serving import make_server

    from loupe_core.settings import Settings
    from search_service.app import create_app
    from search_service.services import Services
    from search_service.web.lens import DIST_CONFIG

    settings = Settings.load(env={}, config_file=None, data_dir=data_dir, api_keys=CURATOR_KEY, **settings_changes)
    if not (data_dir / "lens" / GUIDE / "current.json").is_file():
        write_guide(data_dir / "lens", GUIDE)
    services = Services(settings, index_role="test lens")
    app = create_app(settings, services=services)
    app.config[DIST_CONFIG] = str(dist)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="loupe-lens-test-server", daemon=True)
    thread.start()
    stopped = []

    def stop() -> None:
        if not stopped:
            stopped.append(True)
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            services.close()

    return LensServer(f"http://127.0.0.1:{server.server_port}", settings, app, stop)


@pytest.fixture(scope="module")
def lens_server(lens_dist, tmp_path_factory) -> Iterator[LensServer]:  # noqa: ANN001
    server = start_server(tmp_path_factory.mktemp("lens-server") / "var", lens_dist)
    yield server
    server.stop()


def launch_chromium(playwright, video: Path | None = None, camera: bool = True):  # noqa: ANN001, ANN201
    """Debian's Chromium; with ``video`` (.y4m) as the camera; ``camera=False``: no camera at all."""
    args = list(CAMERA_FLAGS if camera else [])
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    return launch(playwright, args)


@pytest.fixture(scope="module")
def playwright_session() -> Iterator:
    with playwright() as p:
        yield p


@pytest.fixture(scope="module")
def camera_browser(playwright_session, tmp_path_factory) -> Iterator[Callable]:  # noqa: ANN001
    """``camera_browser(frames)`` -> a Chromium whose camera plays ``frames`` (one browser per video)."""
    browsers = {}

    def get(name: str, frames) -> object:  # noqa: ANN001
        """``frames`` None: a Chromium without any camera."""
        if name not in browsers:
            if frames is None:
                browsers[name] = launch_chromium(playwright_session, camera=False)
            else:
                video = write_y4m(tmp_path_factory.mktemp("video") / f"{name}.y4m", frames)
                browsers[name] = launch_chromium(playwright_session, video)
        return browsers[name]

    yield get
    for b in browsers.values():
        b.close()


def open_lens(browser, url: str, problems: list[str], width: int = 640, height: int = 480,  # noqa: ANN001, ANN201
              camera: bool = True):
    """A phone-sized page at ``url`` with the camera allowed (or not); page errors and console
    errors go to ``problems``."""
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True,
                                  device_scale_factor=1, locale="en-GB")
    if camera:
        context.grant_permissions(["camera"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    wait_under_csp(page)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
            and "Failed to load resource" not in m.text else None)
    page.goto(url)
    return page
