"""The lens app without a browser: its modules' own unit tests (node --test lens/test/) and
its build (esbuild): the files the search service serves, the recognizer kept out of the
app's script and loaded at run time, the service worker told its build and files."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.lens.app_fixtures import LENS, build_lens


def test_the_app_modules_unit_tests():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (`node`) is not on PATH")
    # Node 20 reads the ES modules of src/ (plain .js) as such only when asked to detect them.
    result = subprocess.run([node, "--experimental-detect-module", "--test", "test/"], cwd=LENS,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.M) and re.search(r"^# fail 0", result.stdout, re.M)


def test_the_build_holds_what_is_served():
    dist = build_lens()
    for name in ("index.html", "qr.html", "stats.html", "lens.js", "lens.css", "pages.css", "qr.js",
                 "dashboard.js", "sw.js"):
        assert (dist / name).is_file(), name
    assert list(dist.glob("*.wasm")), "the WASM backend's files are copied for the recognizer"
    app = (dist / "lens.js").read_text(encoding="utf-8")
    assert '"./recognizer.js"' in app and "import(" in app, "the recognizer is loaded at run time, beside the app"
    assert "tensorflow" not in app.lower() and len(app) < 100_000
    worker = (dist / "sw.js").read_text(encoding="utf-8")
    assert re.search(r"loupe-lens-app-[0-9a-f]{16}", worker), "the cache is named after the build"
    assert '"recognizer.js"' in worker and '"lens.js"' in worker and "qr.html" not in worker
    page = (dist / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and 'src="../_app/lens.js"' in page, "no inline script (CSP)"
