"""``loupe demo`` end to end, as ``make demo`` runs it (without staying up to serve)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir, **extra) -> dict:
    return dict(os.environ, LOUPE_DATA_DIR=str(data_dir), LOUPE_IMAGE_MAX_SIDE="256", **extra)


def _demo(data_dir, port, *options, **env):
    out = subprocess.run([sys.executable, "-m", "loupe", "demo", "--no-serve", "--json", "--port", str(port),
                          *options],
                         env=_env(data_dir, **env), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_demo_publishes_harvests_over_http_and_indexes(tmp_path):
    port = _free_port()
    first = _demo(tmp_path / "var", port, "--no-image-model", LOUPE_MODEL="loupe-tiny")
    assert first["collection_url"] == f"http://127.0.0.1:{port}/published/demo/collection.json"
    assert first["published"]["published"] == 30 and first["published"]["problems"] == 0
    counts = first["harvest"]["counts"]
    assert counts["new"] == 30 and counts["images_fetched"] == 30 and not counts.get("failed")
    assert first["harvest"]["problems"] == []
    cat = first["catalog"]
    assert (cat["manifests"], cat["canvases"], cat["images"], cat["regions"]) == (30, 30, 30, 16)
    assert first["index"]["state"] == "succeeded"
    assert first["index"]["result"]["indexed"] == 30 and first["index"]["result"]["points_total"] == 30 + 16 + 30 * 9
    # run again: nothing is republished, changed or re-indexed
    second = _demo(tmp_path / "var", port, LOUPE_MODEL="loupe-tiny")
    assert second["published"]["unchanged"] == 30
    assert second["harvest"]["counts"]["unchanged"] == 30 and not second["harvest"]["counts"].get("new")
    assert second["index"]["state"] == "succeeded" and second["index"]["result"]["indexed"] == 0


def test_demo_without_weights_says_where_to_put_them_and_still_harvests(tmp_path):
    out = _demo(tmp_path / "var", _free_port(), LOUPE_MODEL="MobileCLIP2-S0", LOUPE_MODEL_DOWNLOAD="false")
    assert out["catalog"]["manifests"] == 30
    assert out["index"]["weights_missing"] is True
    assert "open_clip_model.safetensors" in out["index"]["error"] and "loupe-tiny" in out["index"]["error"]
    # ... and the image model, whose weights come with its package, indexed everything offline
    image = out["image_index"]
    assert image["state"] == "succeeded" and image["result"]["indexed"] == 30, image
    assert image["result"]["vector"].startswith("efficientnet-lite0__")
    assert image["result"]["active"] == image["result"]["vector"]  # the only vector: searches use it


def test_demo_serves_search_and_the_collection(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "loupe", "demo", "--no-image-model", "--port", str(port)],
                            env=_env(tmp_path / "var", LOUPE_MODEL="loupe-tiny"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=angel&limit=5", timeout=5) as r:
                    results = json.load(r)["results"]
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo did not start serving"
                time.sleep(0.5)
        assert len(results) == 5 and all(r["manifest"]["id"].startswith(f"http://127.0.0.1:{port}/published/demo/")
                                         for r in results)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/published/demo/collection.json", timeout=5) as r:
            assert len(json.load(r)["items"]) == 30
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"<html" in r.read().lower()
    finally:
        proc.terminate()
        proc.wait(30)


def test_demo_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "loupe", "demo", "--no-serve", "--port", str(port)],
                             env=_env(tmp_path / "var"), capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in out.stderr and "LOUPE_PORT" in out.stderr
