"""The ``evaluate`` job: image-to-image (lens detail photographs against the demo catalog),
text-to-image and composed retrieval for the base model and a fine-tuned version, stored per
version with the plots; cancelled through a real Redis, a retry reuses the encoded batches."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.support.demo import DEMO_FOLDER
from tests.support.deps import need
from tests.training_worker.support import wait_for, worker_running
from training_worker.evaluate import EvaluateParams
from training_worker.jobs import HandlerRegistry, JobStore, run_job
from training_worker.kinds import DEFAULT_HANDLERS, default_registry


@pytest.fixture(autouse=True)
def needs_open_clip() -> None:
    need("open_clip")


@pytest.fixture
def ev_settings(demo_settings):  # noqa: ANN001, ANN201
    return demo_settings.replace(model_download=False, torch_threads=2)


def run(settings, kind: str, params: dict):  # noqa: ANN001, ANN201
    with JobStore.open(settings) as store:
        job = store.create(kind, params)
        return run_job(job.id, settings=settings, store=store, registry=default_registry())


def manifests(settings) -> dict[str, str]:  # noqa: ANN001
    """slug -> manifest URI of the demo catalog."""
    from sqlalchemy import select

    from connector.catalog import Catalog
    from connector.catalog.schema import ManifestRow

    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            return {u.rsplit("/", 1)[-1].removesuffix(".json"): u for u in s.scalars(select(ManifestRow.uri))}
    finally:
        catalog.close()


def write_data(settings, lens: Path, folder: Path) -> dict[str, str]:  # noqa: ANN001
    """Ground truth for the detail photographs, captions, and a few composed triplets."""
    uris = manifests(settings)
    folder.mkdir()
    with open(lens / "details.csv", newline="", encoding="utf-8") as f:
        details = [r for r in csv.DictReader(f) if r["artwork"] in uris and (lens / r["file"]).is_file()]
    with open(folder / "details.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["query", "relevant"])
        w.writerows([(r["file"], uris[r["artwork"]]) for r in details])
    with open(DEMO_FOLDER / "metadata.csv", newline="", encoding="utf-8") as f:
        titles = {r["slug"]: r["title"] for r in csv.DictReader(f)}
    with open(folder / "captions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["caption", "relevant"])
        w.writerows([(titles[s], uris[s]) for s in sorted(uris)])
    slugs = sorted(uris)
    with open(folder / "triplets.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["reference", "text", "target"])
        w.writerows([(DEMO_FOLDER / f"{a}.jpg", f"as {titles[b]}", DEMO_FOLDER / f"{b}.jpg")
                     for a, b in zip(slugs, slugs[1:])])
    return {"image": str(folder / "details.csv"), "text": str(folder / "captions.csv"),
            "composed": str(folder / "triplets.csv")}


def test_params_name_what_each_task_needs(settings) -> None:  # noqa: ANN001
    from training_worker.evaluate.params import check_evaluate

    with pytest.raises(ValueError, match="needs queries"):
        check_evaluate(EvaluateParams.from_dict({"task": "image", "ground_truth": "x.csv"}), settings, None)
    with pytest.raises(ValueError, match="needs triplets"):
        check_evaluate(EvaluateParams.from_dict({"task": "composed"}), settings, None)
    with pytest.raises(ValueError, match="does not exist"):
        check_evaluate(EvaluateParams.from_dict({"task": "text", "ground_truth": "/nowhere.csv"}), settings, None)


def test_results_are_stored_per_model_version_with_plots(ev_settings, shared_data: Path, tmp_path: Path) -> None:
    from loupe_models.training.evaluations import EvaluationStore

    lens = shared_data / "lens"
    files = write_data(ev_settings, lens, tmp_path / "eval")
    ft = run(ev_settings, "finetune", {"freeze": "text", "learning_rate": 1e-3, "epochs": 2, "batch_size": 64})
    assert ft.state == "succeeded", ft.error
    jobs = {}
    for model in ("loupe-tiny", "loupe-tiny@v1"):
        jobs[model] = run(ev_settings, "evaluate", {"task": "image", "model": model, "queries": str(lens),
                                                     "ground_truth": files["image"], "dataset": "lens details"})
        assert jobs[model].state == "succeeded", (jobs[model].error, jobs[model].log)
    text = run(ev_settings, "evaluate", {"task": "text", "ground_truth": files["text"]})
    composed = run(ev_settings, "evaluate", {"task": "composed", "triplets": files["composed"]})
    assert text.state == composed.state == "succeeded", (text.error, composed.error)

    base = jobs["loupe-tiny"].result["results"]["model"]
    assert base["queries"] == 16 and 0 < base["R@10"] <= 1 and 0 < base["mAP"] <= 1
    assert base["R@1"] <= base["R@5"] <= base["R@10"]
    assert jobs["loupe-tiny@v1"].result["vector"].startswith("loupe-tiny__ft-v1__")
    assert text.result["results"]["model"]["queries"] == 30
    assert list(composed.result["results"]) == ["zero-shot-weighted-sum"]  # no Combiner trained

    latest = EvaluationStore(ev_settings).latest()
    assert [(e.model, e.dataset) for e in latest["image"]] == [("loupe-tiny", "lens details"),
                                                               ("loupe-tiny@v1", "lens details")]
    assert latest["image"][0].metrics == base
    for task in ("image", "text", "composed"):
        png = ev_settings.data_dir / "evaluations" / "plots" / f"{task}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cancelled_through_redis_and_resumed_with_the_encoded_batches(ev_settings, shared_data: Path,
                                                                       tmp_path: Path, redis_url) -> None:  # noqa: ANN001
    from training_worker.broker import job_queue, make_broker
    from training_worker.evaluate.job import evaluate_job

    def cancel_after_first_batch(ctx):  # noqa: ANN001, ANN202
        if ctx.attempt == 1:
            report = ctx.progress

            def progress(done, total=None, message=None):  # noqa: ANN001, ANN202
                report(done, total, message)
                if done == 8:
                    ctx.store.request_cancel(ctx.job_id)

            ctx.progress = progress
        return evaluate_job(ctx)

    files = write_data(ev_settings, shared_data / "lens", tmp_path / "eval")
    settings = ev_settings.replace(redis_url=redis_url, job_heartbeat_s=0.2)
    registry = HandlerRegistry({**DEFAULT_HANDLERS, "evaluate": cancel_after_first_batch})
    params = {"task": "image", "queries": str(shared_data / "lens"), "ground_truth": files["image"], "batch_images": 8}
    with JobStore.open(settings) as store:
        broker = make_broker(settings, registry=registry)
        with worker_running(broker):
            queue = job_queue(broker)
            job = queue.submit("evaluate", params)
            cancelled = wait_for(store, job.id, timeout_s=120)
            assert (cancelled.state, cancelled.progress_done) == ("cancelled", 8), (cancelled.error, cancelled.log)
            queue.retry(job.id)
            resumed = wait_for(store, job.id, timeout_s=120)
    assert (resumed.state, resumed.attempts) == ("succeeded", 2), (resumed.error, resumed.log)
    assert any("gallery: 1 batches encoded by an earlier attempt reused" in line for line in resumed.log), resumed.log
    assert resumed.progress_done == resumed.progress_total == 30 + 16
