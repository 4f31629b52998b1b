"""``loupe demo`` end to end, as ``make demo`` runs it (without staying up to serve)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _demo(data_dir, port):
    env = dict(os.environ, LOUPE_DATA_DIR=str(data_dir))
    out = subprocess.run([sys.executable, "-m", "loupe", "demo", "--no-serve", "--json", "--port", str(port)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_demo_publishes_serves_and_harvests_the_bundled_collection_over_http(tmp_path):
    port = _free_port()
    first = _demo(tmp_path / "var", port)
    assert first["collection_url"] == f"http://127.0.0.1:{port}/published/demo/collection.json"
    assert first["published"]["published"] == 30 and first["published"]["problems"] == 0
    counts = first["harvest"]["counts"]
    assert counts["new"] == 30 and counts["images_fetched"] == 30 and not counts.get("failed")
    assert first["harvest"]["problems"] == []
    cat = first["catalog"]
    assert (cat["manifests"], cat["canvases"], cat["images"], cat["regions"]) == (30, 30, 30, 16)
    # run again: nothing is republished or changed
    second = _demo(tmp_path / "var", port)
    assert second["published"]["unchanged"] == 30
    assert second["harvest"]["counts"]["unchanged"] == 30 and not second["harvest"]["counts"].get("new")
    assert second["catalog"]["manifests"] == 30


def test_demo_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, LOUPE_DATA_DIR=str(tmp_path / "var"))
        out = subprocess.run([sys.executable, "-m", "loupe", "demo", "--no-serve", "--port", str(port)],
                             env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in out.stderr and "LOUPE_PORT" in out.stderr
