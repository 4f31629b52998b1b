"""``loupe inspect``: files, URLs, text and JSON output, exit codes."""

from __future__ import annotations

import copy
import http.server
import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from iiif.reader import read_bytes
from iiif.summary import summarize
from loupe.cli import cli
from tests.iiif.test_reader_v3 import MANIFEST

LOUPE = Path(sys.executable).with_name("loupe")


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    return path


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    doc = copy.deepcopy(MANIFEST)
    del doc["items"][0]["id"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def run(tmp_path: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "inspect", *args], env=env)


def test_json_output_is_the_summary(tmp_path, manifest_file):
    result = run(tmp_path, str(manifest_file), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == summarize(read_bytes(manifest_file.read_bytes()))
    assert (data["type"], data["version"], data["label"], data["canvases"], data["images"], data["annotations"]) == (
        "Manifest", 3, "Picture", 1, 1, 3)


def test_text_output(tmp_path, manifest_file):
    result = run(tmp_path, str(manifest_file))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"source       {manifest_file}"
    assert "type         Manifest (Presentation 3)" in lines
    assert "label        Picture" in lines
    assert "canvases     1" in lines and "annotations  3" in lines
    assert lines[-1] == "problems     none"


def test_problems_are_printed_and_exit_code_stays_zero(tmp_path, broken_file):
    result = run(tmp_path, str(broken_file))
    assert result.exit_code == 0
    assert "problems     3 (3 errors, 0 warnings)" in result.stdout
    assert "  error    items[0].id: canvas has no id" in result.stdout
    data = json.loads(run(tmp_path, str(broken_file), "--json").stdout)
    assert {"where": "items[0].id", "what": "canvas has no id", "severity": "error"} in data["problems"]


def test_invalid_json_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"@id": "x",}', encoding="utf-8")
    result = run(tmp_path, str(path), "--json")
    assert result.exit_code == 0
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["what"].startswith("not valid JSON: line 1 column 13")


def test_long_problem_lists_are_cut_in_text_mode(tmp_path):
    doc = copy.deepcopy(MANIFEST)
    doc["metadata"] = [{"label": {"en": [f"{{{{ x{i} }}}}"]}, "value": 1} for i in range(30)]  # 5 + 1 + 30 problems
    doc["items"] = [{"type": "Canvas"} for _ in range(20)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run(tmp_path, str(path))
    total = len(json.loads(run(tmp_path, str(path), "--json").stdout)["problems"])
    assert total > 50
    assert f"  ... and {total - 50} more (use --json to see all)" in result.stdout


def test_unreadable_file_exits_2(tmp_path):
    result = run(tmp_path, str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "error: cannot read" in result.stderr and "missing.json" in result.stderr
    assert result.stdout == ""
    assert run(tmp_path, str(tmp_path)).exit_code == 2  # a directory


def test_file_larger_than_max_json_bytes_exits_2(tmp_path, manifest_file):
    result = run(tmp_path, str(manifest_file), env={"LOUPE_MAX_JSON_BYTES": "100"})
    assert result.exit_code == 2 and "larger than max_json_bytes" in result.stderr


def test_module_imports_nothing_heavy():
    """`loupe inspect` reads a document: the reader and the HTTP client, not the catalog,
    the web service or a model library."""
    code = ("import sys, loupe.commands.inspect; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('requests', 'torch', 'numpy', 'sqlalchemy', 'flask', 'qdrant_client', 'dramatiq')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_real_subprocess_json(manifest_file, tmp_path):
    if not LOUPE.exists():
        pytest.skip(f"{LOUPE} is not installed (pip install -e .)")
    out = subprocess.run([str(LOUPE), "--data-dir", str(tmp_path / "var"), "inspect", str(manifest_file), "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["canvases"] == 1


# --- URLs -----------------------------------------------------------------------------------

needs_http = pytest.mark.skipif(importlib.util.find_spec("connector.http") is None,
                                reason="connector.http (the HTTP client) is not available")


@pytest.fixture
def server(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(site), **kw)

        def log_message(self, *a):  # keep test output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


FAST = {"LOUPE_RATE_LIMIT_PER_HOST": "100", "LOUPE_MAX_RETRIES": "0"}


@needs_http
def test_url_is_fetched_with_allow_private(tmp_path, server):
    result = run(tmp_path, f"{server}/manifest.json", "--allow-private", "--json", env=FAST)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["type"], data["canvases"], data["problems"]) == ("Manifest", 1, [])


@needs_http
def test_url_problems_are_prefixed_with_the_url(tmp_path, server):
    doc = copy.deepcopy(MANIFEST)
    del doc["items"][0]["id"]
    (tmp_path / "site" / "broken.json").write_text(json.dumps(doc), encoding="utf-8")
    result = run(tmp_path, f"{server}/broken.json", "--allow-private", "--json", env=FAST)
    wheres = [p["where"] for p in json.loads(result.stdout)["problems"]]
    assert f"{server}/broken.json items[0].id" in wheres


@needs_http
def test_private_address_refused_by_default(tmp_path, server):
    result = run(tmp_path, f"{server}/manifest.json", env=FAST)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot fetch {server}/manifest.json")


@needs_http
def test_http_error_exits_2(tmp_path, server):
    result = run(tmp_path, f"{server}/missing.json", "--allow-private", env=FAST)
    assert result.exit_code == 2 and "missing.json" in result.stderr
