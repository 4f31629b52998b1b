"""The plugin's package without a browser: its own unit tests (node --test), the content-state
encoding agreeing byte for byte with the service's, the built bundles, and the /viewer page
and bundle as the service serves them."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from iiif.model import Box
from iiif.writers.content_state import content_state_for_region, encode_content_state
from search_service.web.viewer import DIST_CONFIG
from tests.viewer_plugin.conftest import PLUGIN


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("Node.js is not installed")
    return path


def test_the_plugins_own_unit_tests_pass():
    result = subprocess.run([node(), "--test", "test/"], cwd=PLUGIN, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_content_states_are_encoded_like_the_service_does():
    manifest = "https://example.org/iiif/Vierge à l’Enfant/manifest.json"
    canvas = "https://example.org/iiif/聖母/canvas/1"
    script = ("import('./src/contentState.js').then(m => console.log(m.encodeContentState("
              "m.regionContentState(process.argv[1], process.argv[2], [10, 20, 300, 400]))))")
    result = subprocess.run([node(), "-e", script, manifest, canvas], cwd=PLUGIN, capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == encode_content_state(content_state_for_region(manifest, canvas,
                                                                                  Box(10, 20, 300, 400)))


def test_the_build_makes_an_es_module_for_bundlers_and_a_standalone_script(built_bundle):
    module = (PLUGIN / "dist" / "loupe-mirador-plugin.es.js").read_text(encoding="utf-8")
    imports = {line.split(" from ")[-1].strip(' ";') for line in module.splitlines()
               if line.startswith("import ") and " from " in line}
    assert "mirador" in imports and "react" in imports  # the host's copies, not bundled ones
    assert "class MiradorViewer" not in module and len(module) < 200_000
    assert built_bundle.stat().st_size > 1_000_000  # Mirador, React and MUI inside
    assert "LoupeMirador" in built_bundle.read_text(encoding="utf-8")[:200]


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8")


def test_the_viewer_page_and_bundle_are_served(viewer_server):
    status, _, html = fetch(viewer_server.url + "/viewer")
    assert status == 200
    assert 'src="/viewer/static/loupe-mirador.js"' in html and f'data-endpoint="{viewer_server.url}"' in html
    catalog = json.loads(html.split('data-catalog="', 1)[1].split('"', 1)[0].replace("&#34;", '"'))
    assert len(catalog) == 30 and f'data-manifest="{catalog[0]}"' in html  # first manifest by default
    status, kind, script = fetch(viewer_server.url + "/viewer/static/loupe-mirador.js")
    assert status == 200 and "javascript" in kind and script.startswith(("var LoupeMirador", '"use strict"'))
    status, _, _ = fetch(viewer_server.url + "/viewer/static/..%2F..%2Fpackage.json")
    assert status == 404


def test_without_a_built_bundle_the_page_says_how_to_build_it(viewer_server, tmp_path: Path):
    app = viewer_server.app
    app.config[DIST_CONFIG] = str(tmp_path)  # an empty folder: nothing built
    try:
        status, _, html = fetch(viewer_server.url + "/viewer")
        assert status == 503 and "npm run build" in html and "<script" not in html
        status, _, body = fetch(viewer_server.url + "/viewer/static/loupe-mirador.js")
        assert status == 404 and json.loads(body)["error"]["code"] == "viewer_not_built"
    finally:
        del app.config[DIST_CONFIG]


def test_the_published_package_holds_the_bundles_the_readme_names(built_bundle):
    """What `npm publish` would upload (`npm pack --dry-run`): both bundles, the sources, the
    README with the snippet for an institution's own Mirador, the licence; no tests."""
    npm = shutil.which("npm") or pytest.skip("npm is not installed")
    done = subprocess.run([npm, "pack", "--dry-run", "--json", "--ignore-scripts"], cwd=PLUGIN,
                          capture_output=True, text=True, timeout=120, check=True)
    [packed] = json.loads(done.stdout)
    files = {f["path"] for f in packed["files"]}
    assert packed["name"] == "@iiif-loupe/mirador-plugin"
    assert {"package.json", "README.md", "LICENSE", "dist/loupe-mirador-plugin.es.js", "dist/loupe-mirador.js",
            "src/index.js"} <= files
    assert not {f for f in files if f.startswith(("test/", "node_modules/"))}
    manifest = json.loads((PLUGIN / "package.json").read_text(encoding="utf-8"))
    assert (PLUGIN / manifest["exports"]["."]).is_file() and (PLUGIN / manifest["exports"]["./standalone"]).is_file()
    readme = (PLUGIN / "README.md").read_text(encoding="utf-8")
    assert "import { loupePlugin } from '@iiif-loupe/mirador-plugin';" in readme
