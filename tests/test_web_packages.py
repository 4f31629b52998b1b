"""The npm packages of the web parts, lens/ and viewer_plugin/.

Their versions are exact pins and the lockfiles agree with package.json, so that `npm ci` (run
by `make test` through scripts/install-npm-deps.sh) installs the same tree everywhere. When
node_modules/ is installed, Node.js resolves the pinned versions, TensorFlow.js computes and
OpenCV.js initialises and has the functions the lens's verification step relies on.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    # published for institutions' own Mirador builds; its peers are ranges (below)
    "viewer_plugin": {"name": "@iiif-loupe/mirador-plugin", "checked": ["mirador"], "published": True},
    "lens": {"name": "@iiif-loupe/lens", "checked": ["@tensorflow/tfjs", "@techstark/opencv-js"], "published": False},
}
DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
# What `npm ci` installs is pinned exactly; a published package's peers are what the host
# provides, so they are caret ranges that admit the pinned development versions.
PINNED_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")
# An exact semver version: no range operators (^ ~ > < = * x ||), no tags, no URLs.
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
INSTALL_HINT = "run `make test` or scripts/install-npm-deps.sh"

# Prints the version of the installed package NAME as Node resolves it from this folder. Read
# from the package.json on disk: `require('mirador/package.json')` is refused, since Mirador's
# "exports" map does not list ./package.json.
NODE_VERSION_OF = """
const fs = require('fs'), path = require('path');
const name = process.argv[1];
const dir = require.resolve.paths(name).map((d) => path.join(d, name))
  .find((d) => fs.existsSync(path.join(d, 'package.json')));
if (!dir) { console.error('cannot resolve ' + name); process.exit(2); }
console.log(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version);
"""

NODE_TFJS_SUM = "const tf = require('@tensorflow/tfjs'); console.log(tf.tensor([1, 2, 3]).sum().dataSync()[0]);"

# @techstark/opencv-js exports either a Promise of the module or a module that calls
# onRuntimeInitialized once its WebAssembly is compiled; both are handled, as the lens will.
NODE_OPENCV_CHECK = """
const m = require('@techstark/opencv-js');
const timer = setTimeout(() => { console.error('OpenCV.js did not initialise'); process.exit(3); }, 15000);
(async () => {
  let cv = m;
  if (m instanceof Promise) cv = await m;
  else if (!m.Mat) await new Promise((resolve) => { m.onRuntimeInitialized = resolve; });
  clearTimeout(timer);
  const mat = new cv.Mat(4, 4, cv.CV_8UC1);
  const version = (cv.getBuildInformation().match(/General configuration for OpenCV (\\S+)/) || [])[1];
  console.log(JSON.stringify({
    version, rows: mat.rows,
    functions: ['ORB', 'BFMatcher', 'findHomography', 'RANSAC'].filter((k) => k in cv),
  }));
  mat.delete();
})();
"""


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _declared(package_json: dict, fields: tuple[str, ...] = PINNED_FIELDS) -> dict[str, str]:
    """Every dependency npm installs, with its version (the fields agree on shared names)."""
    out: dict[str, str] = {}
    for field in fields:
        for name, version in package_json.get(field, {}).items():
            assert out.get(name, version) == version, f"{name} has two different versions in package.json"
            out[name] = version
    return out


def _installed(folder: str) -> Path:
    """The folder, once its node_modules/ is there and node is on PATH; else skip with a reason."""
    if shutil.which("node") is None:
        pytest.skip("Node.js (`node`) is not on PATH")
    directory = ROOT / folder
    if not (directory / "node_modules").is_dir():
        pytest.skip(f"{folder}/node_modules is not installed: {INSTALL_HINT}")
    return directory


def _node(directory: Path, script: str, *args: str) -> str:
    done = subprocess.run(["node", "-e", script, *args], cwd=directory, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, f"node failed in {directory.name}: {done.stderr[-2000:]}"
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_package_json_pins_exact_versions(folder):
    package_json = _read_json(ROOT / folder / "package.json")
    assert package_json["name"] == PACKAGES[folder]["name"]
    published = PACKAGES[folder]["published"]
    assert package_json.get("private", False) is not published, "private unless it is a published package"
    assert package_json.get("license") == "MIT"
    declared = _declared(package_json)
    assert declared, f"{folder}/package.json declares no dependencies"
    loose = {name: v for name, v in declared.items() if not EXACT_VERSION.fullmatch(v)}
    assert not loose, f"{folder}/package.json: pin exact versions (no ^, ~ or ranges): {loose}"
    for name in PACKAGES[folder]["checked"]:
        assert name in declared, f"{folder}/package.json should depend on {name}"


CARET = re.compile(r"\^(\d+)\.(\d+)\.(\d+)")


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_peers_are_ranges_that_admit_the_pinned_versions(folder):
    """A host's Mirador, React and MUI satisfy the peers when they are the versions tested
    here or later ones of the same major version."""
    package_json = _read_json(ROOT / folder / "package.json")
    pinned = _declared(package_json)
    for name, wanted in package_json.get("peerDependencies", {}).items():
        m = CARET.fullmatch(wanted)
        assert m, f"{folder}: peer {name} should be a caret range (^x.y.z), not {wanted!r}"
        assert name in pinned, f"{folder}: peer {name} is not installed for the build and tests"
        have = tuple(int(v) for v in pinned[name].split("-")[0].split("."))
        low = tuple(int(v) for v in m.groups())
        assert have[0] == low[0] and have >= low, f"{folder}: the tested {name} {pinned[name]} is outside {wanted}"


def test_the_pinned_versions_are_the_ones_the_design_names():
    plugin_json = _read_json(ROOT / "viewer_plugin" / "package.json")
    plugin = _declared(plugin_json)
    lens = _declared(_read_json(ROOT / "lens" / "package.json"))
    assert plugin["mirador"] == "4.0.0"
    assert lens["@tensorflow/tfjs"] == "4.22.0", "keep in step with tensorflowjs==4.22.0 (the converter)"
    for peer in ("react", "react-dom", "@mui/material", "@mui/system", "@emotion/react",
                 "@emotion/styled", "react-i18next"):
        assert peer in plugin_json["peerDependencies"], f"viewer_plugin: Mirador 4 needs its host to provide {peer}"


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_lockfile_matches_package_json(folder):
    directory = ROOT / folder
    package_json = _read_json(directory / "package.json")
    lock_path = directory / "package-lock.json"
    assert lock_path.is_file(), f"{folder}: generate it with `npm install --package-lock-only`"
    lock = _read_json(lock_path)
    assert lock.get("lockfileVersion") == 3
    assert lock["name"] == package_json["name"] and lock["version"] == package_json["version"]
    root = lock["packages"][""]
    for field in DEPENDENCY_FIELDS:
        assert root.get(field, {}) == package_json.get(field, {}), (
            f"{folder}/package-lock.json is stale ({field}): run `npm install --package-lock-only`")
    for name, version in _declared(package_json).items():
        entry = lock["packages"].get(f"node_modules/{name}")
        assert entry is not None, f"{folder}/package-lock.json has no node_modules/{name}"
        assert entry["version"] == version, f"{folder}/package-lock.json: {name} {entry['version']} != {version}"
    # Every locked package carries its checksum, so that `npm ci` verifies what it downloads.
    unchecked = [path for path, entry in lock["packages"].items()
                 if path and not entry.get("link") and "integrity" not in entry]
    assert not unchecked, f"{folder}/package-lock.json: entries without integrity: {unchecked[:5]}"


@pytest.mark.parametrize("folder,name", [(f, n) for f in sorted(PACKAGES) for n in PACKAGES[f]["checked"]])
def test_node_resolves_the_pinned_version(folder, name):
    directory = _installed(folder)
    pinned = _declared(_read_json(directory / "package.json"))[name]
    assert _node(directory, NODE_VERSION_OF, name) == pinned, (
        f"{folder}/node_modules holds another {name} than package.json pins: {INSTALL_HINT}")


def test_tensorflow_js_computes_in_node():
    directory = _installed("lens")
    assert _node(directory, NODE_TFJS_SUM) == "6"


def test_opencv_js_initialises_with_the_verification_functions():
    directory = _installed("lens")
    report = json.loads(_node(directory, NODE_OPENCV_CHECK))
    pinned = _declared(_read_json(directory / "package.json"))["@techstark/opencv-js"]
    assert report["version"] == pinned.split("-")[0], report  # 5.0.0-release.1 wraps OpenCV 5.0.0
    assert report["rows"] == 4
    assert report["functions"] == ["ORB", "BFMatcher", "findHomography", "RANSAC"], report
