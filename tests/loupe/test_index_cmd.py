"""``loupe index``, ``loupe jobs`` and ``loupe worker`` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loupe.cli import cli
from tests.support.demo import DEMO_IMAGES, DEMO_REGIONS
from tests.training_worker.support import wait_for
from training_worker.jobs import JobStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_POINTS = DEMO_IMAGES + DEMO_REGIONS + DEMO_IMAGES * 9


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("LOUPE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LOUPE_HF_CACHE_DIR", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("LOUPE_MODEL_DOWNLOAD", "0")
    monkeypatch.chdir(tmp_path)


def loupe(settings, *args: str, model: str | None = "loupe-tiny", **env: str):
    env = {"LOUPE_IMAGE_MAX_SIDE": str(settings.image_max_side), **env}
    if model:
        env["LOUPE_MODEL"] = model
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *args], env=env)


def last_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_index_json_then_status_snapshot_and_jobs(demo_settings, tmp_path):
    job = last_json(loupe(demo_settings, "index", "--json"))
    assert job["state"] == "succeeded" and job["kind"] == "index"
    assert job["progress"] == {"done": DEMO_IMAGES, "total": DEMO_IMAGES}
    assert job["result"]["points_total"] == job["result"]["points_written"] == DEMO_POINTS
    assert job["result"]["images_per_s"] > 0 and job["result"]["vector"] == "loupe-tiny__random"

    status = last_json(loupe(demo_settings, "index", "status", "--json"))
    assert status["mode"] == "local" and status["active"] == "loupe-tiny__random"
    assert status["vectors"] == {"loupe-tiny__random": {"dim": 64, "points": DEMO_POINTS}}

    out = tmp_path / "backup" / "index.tar.gz"
    snap = last_json(loupe(demo_settings, "index", "snapshot", "--output", str(out), "--json"))
    assert snap == {"mode": "local", "path": str(out.resolve()), "vectors": {"loupe-tiny__random": DEMO_POINTS}}
    assert out.is_file()

    # `index import` moves it into another data directory's index (no re-encoding) and activates it.
    other = demo_settings.replace(data_dir=tmp_path / "other")
    imported = last_json(loupe(other, "index", "import", str(out), "--json"))
    assert imported["vectors"] == {"loupe-tiny__random": DEMO_POINTS} and imported["active"] == "loupe-tiny__random"
    assert last_json(loupe(other, "index", "status", "--json"))["vectors"] == status["vectors"]
    refused = loupe(other, "index", "import", str(out), "--no-replace")
    assert refused.exit_code == 1 and "already holds vector 'loupe-tiny__random'" in refused.output
    broken = tmp_path / "not-an-export.tar.gz"
    broken.write_bytes(b"nothing")
    wrong = loupe(other, "index", "import", str(broken))
    assert wrong.exit_code == 1 and "not a readable index export" in wrong.output

    listed = last_json(loupe(demo_settings, "jobs", "list", "--json"))
    assert [(j["id"], j["state"]) for j in listed] == [(job["id"], "succeeded")]
    shown = last_json(loupe(demo_settings, "jobs", "show", str(job["id"]), "--json"))
    assert shown["result"] == job["result"] and "log" in shown
    text = loupe(demo_settings, "jobs", "show", str(job["id"]))
    assert "points_total" in text.output and "succeeded" in text.output
    refused = loupe(demo_settings, "jobs", "cancel", str(job["id"]))
    assert refused.exit_code == 1 and "already succeeded" in refused.output


def test_index_with_the_default_model_and_no_weights_says_where_to_put_them(settings):
    result = loupe(settings, "index", model=None)
    assert result.exit_code == 2
    assert "MobileCLIP2-S0" in result.output and "open_clip_model.safetensors" in result.output
    assert str(settings.data_dir.resolve() / "models" / "MobileCLIP2-S0") in result.output
    assert "LOUPE_MODEL=loupe-tiny" in result.output
    with JobStore.open(settings) as store:
        (failed,) = store.list()
    assert failed.state == "failed" and "ModelWeightsMissing" in failed.error


def test_unknown_model_or_source_is_refused_before_any_job(settings):
    assert loupe(settings, "index", "--model", "nope").exit_code == 2
    missing = loupe(settings, "index", "--source", "nowhere")
    assert missing.exit_code == 1 and "no source 'nowhere'" in missing.output
    with JobStore.open(settings) as store:
        assert store.list() == []


def test_background_in_the_embedded_default_is_recorded_for_the_server(settings):
    result = loupe(settings, "index", "--background")
    assert result.exit_code == 0 and "jobs run inside `loupe serve`" in result.output
    with JobStore.open(settings) as store:
        (queued,) = store.pending()
    assert queued.kind == "index" and queued.state == "queued"
    assert "cancelled before it started" in loupe(settings, "jobs", "cancel", str(queued.id)).output
    retried = last_json(loupe(settings, "jobs", "retry", str(queued.id), "--json"))
    assert (retried["state"], retried["attempts"]) == ("queued", 2)


def test_worker_refuses_without_redis(settings):
    result = loupe(settings, "worker")
    assert result.exit_code == 1
    assert "the embedded default runs jobs inside `loupe serve`" in " ".join(result.output.split())


def test_background_on_redis_is_run_by_loupe_worker(settings, redis_url):
    settings.ensure_dirs()
    job = last_json(loupe(settings, "index", "--background", "--json", LOUPE_REDIS_URL=redis_url))
    assert job["state"] == "queued"
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), LOUPE_REDIS_URL=redis_url, LOUPE_MODEL="loupe-tiny",
               LOUPE_DATA_DIR=str(settings.data_dir))
    # With a local index, indexing jobs are run by the one worker that owns the index.
    worker = subprocess.Popen([sys.executable, "-m", "loupe", "worker", "--index-owner", "--threads", "1"], env=env,
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with JobStore.open(settings) as store:
            done = wait_for(store, job["id"], timeout_s=120)
        assert done.state == "succeeded", done.error
        assert done.result["to_index"] == 0 and done.result["vector"] == "loupe-tiny__random"  # empty catalog
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[0].decode()
    assert worker.returncode == 0, output
    assert "worker: 1 thread(s) on redis://127.0.0.1" in output and "stopping" in output
