"""`loupe search` (same engine as the API) and `loupe serve` in a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loupe.cli import cli
from tests.conftest import PROJECT_ROOT
from tests.support.demo import DEMO_FOLDER

ENV = {"LOUPE_MODEL": "loupe-tiny", "LOUPE_IMAGE_MAX_SIDE": "256", "LOUPE_MODEL_DOWNLOAD": "false",
       "HF_HUB_OFFLINE": "1"}


def _loupe(settings, *args: str, env: dict | None = None):
    runner = CliRunner()
    return runner.invoke(cli, ["--data-dir", str(settings.data_dir), *args], env={**ENV, **(env or {})},
                         catch_exceptions=False)


def test_loupe_search_text_json(private_settings, indexed_demo):
    result = _loupe(private_settings, "search", "a stormy sea", "--limit", "5", "--kind", "image", "--json")
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)
    assert isinstance(results, list) and len(results) == 5
    assert all(r["kind"] == "image" and r["manifest"]["id"] and r["thumbnail"] for r in results)


def test_loupe_search_image_json_finds_the_duplicate(private_settings, indexed_demo):
    path = DEMO_FOLDER / "van-gogh-the-starry-night.jpg"
    result = _loupe(private_settings, "search", "--image", str(path), "--limit", "3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["canvas"]["id"] == indexed_demo.canvas("van-gogh-the-starry-night")


def test_loupe_search_gives_the_same_results_as_the_api(private_settings, client):
    result = _loupe(private_settings, "search", "a portrait", "--limit", "6", "--one-per-canvas", "--json")
    api = client.get("/api/search?q=a+portrait&limit=6&one_per_canvas=1").get_json()["results"]
    cli_results = json.loads(result.stdout)
    assert [r["id"] for r in cli_results] == [r["id"] for r in api]
    assert [r["score"] for r in cli_results] == [r["score"] for r in api]


def test_loupe_search_composed_and_plain_output(private_settings):
    path = DEMO_FOLDER / "munch-the-scream.jpg"
    result = _loupe(private_settings, "search", "at dawn", "--image", str(path), "--text-weight", "0.1", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "munch-the-scream" in result.stdout and "--cursor" in result.stderr


def test_loupe_search_without_weights_says_where_to_put_them_and_exits_2(private_settings):
    from loupe_index import VectorIndex

    with VectorIndex.open(private_settings, role="test") as index:  # a MobileCLIP2 vector becomes the active one
        index.ensure_vector("mobileclip2-s0__dfndr2b", 512)
        index.set_active("mobileclip2-s0__dfndr2b")
        index.upsert([], "mobileclip2-s0__dfndr2b")
    env = {"LOUPE_HF_CACHE_DIR": str(private_settings.data_dir / "no-hf-cache")}
    result = _loupe(private_settings, "search", "zzqx qqzx", "--json", env=env)  # words no catalog text has
    assert result.exit_code == 2
    assert "weights for model 'MobileCLIP2-S0' not found" in result.stderr
    assert result.stdout == ""
    # The catalog's words are found all the same (the text ranker alone).
    found = _loupe(private_settings, "search", "archangel", "--json", env=env)
    assert found.exit_code == 0 and json.loads(found.stdout)[0]["label"].startswith("Detail: Archangel Gabriel")


def test_loupe_search_refuses_bad_input(private_settings, tmp_path):
    assert _loupe(private_settings, "search").exit_code == 2  # neither text nor image
    bad = tmp_path / "x.gif"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(bad, "GIF")
    result = _loupe(private_settings, "search", "--image", str(bad))
    assert result.exit_code == 1 and "JPEG, PNG or WEBP" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> tuple[int, dict | str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read().decode()
        return r.status, json.loads(body) if "json" in r.headers.get("Content-Type", "") else body


@pytest.mark.slow
def test_loupe_serve_answers_in_a_real_process(private_settings, tmp_path):
    port = _free_port()
    env = {**os.environ, **ENV, "PYTHONPATH": str(PROJECT_ROOT)}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "loupe", "--data-dir", str(private_settings.data_dir), "serve",
                             "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, health = _get(base + "/api/health", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, Path(log.name).read_text()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200 and health["status"] == "ok"
        status, spec = _get(base + "/openapi.json")
        assert status == 200 and spec["servers"][0]["url"] == base and "/api/search" in spec["paths"]
        status, collection = _get(base + "/published/demo/collection.json")
        assert status == 200 and collection["type"] == "Collection"
        status, found = _get(base + "/api/search?q=a+harbour&limit=2", timeout=60)
        assert status == 200 and len(found["results"]) == 2
        status, info = _get(base + "/api/status")
        assert info["jobs"]["submits_to_worker"] is True  # the embedded worker runs in the server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    assert rc == 0, Path(log.name).read_text()
    assert "Loupe serving on" in Path(log.name).read_text()


def test_loupe_serve_refuses_when_another_process_holds_the_index(private_settings):
    from loupe_index import VectorIndex

    with VectorIndex.open(private_settings, role="another test process"):
        result = _loupe(private_settings, "serve", "--port", str(_free_port()))
    assert result.exit_code == 1 and "already open in this process" in result.stderr


def test_searches_keep_working_while_the_index_is_written(private_app):
    """An indexing job writing through the server's index (as the embedded worker does) while
    searches run: every search answers, with full pages."""
    import threading

    from loupe_index import IndexPoint

    services = private_app.extensions["loupe"]
    index = services.index
    vector = index.active_vector()
    before = index.count(vector)
    client = private_app.test_client()
    assert client.get("/api/search?q=warm+up&limit=1").status_code == 200  # the model is loaded
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        rng = np.random.default_rng(1)
        try:
            for batch in range(20):
                points = [IndexPoint(vector=rng.standard_normal(64).astype(np.float32),
                                     canvas=f"https://example.org/new/canvas/{batch}-{i}", content_key=f"new-{batch}-{i}",
                                     kind="image", xywh=(0, 0, 100, 100), manifest=f"https://example.org/new/m/{batch}",
                                     image=f"https://example.org/new/{batch}-{i}.jpg", source="new")
                          for i in range(25)]
                index.upsert(points, vector)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    answered = 0
    while not done.is_set() or answered < 10:
        response = client.get(f"/api/search?q=query+{answered}&limit=20")
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["results"]) == 20
        answered += 1
    writer.join(timeout=60)
    assert not errors, errors
    assert index.count(vector) == before + 500
    assert answered >= 10
    newest = client.get("/api/search?q=x&limit=100&source=new").get_json()["results"]
    assert len(newest) == 100
