"""The ``finetune`` job on the demo catalog with the tiny model: it lowers the training loss
and raises detail-to-artwork recall on held-out details (real photographs from
../shared/data/lens); the version is indexed beside the base model and searched only once
activated; cancelled through a real Redis, a retry resumes from the saved step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.deps import need
from tests.training_worker.finetune_support import detail_recall, hold_out_regions
from tests.training_worker.support import wait_for, worker_running
from training_worker.finetune import FinetuneParams
from training_worker.jobs import HandlerRegistry, JobStore, run_job
from training_worker.kinds import DEFAULT_HANDLERS, default_registry

# Measured on this data: 444 pairs (30 images, 8 regions, 270 views), 7 steps an epoch.
PARAMS = {"freeze": "text", "learning_rate": 1e-3, "epochs": 5, "batch_size": 64, "holdout": 0.0}
BASE_VECTOR = "loupe-tiny__random"


@pytest.fixture(autouse=True)
def needs_open_clip() -> None:
    need("open_clip")


@pytest.fixture
def ft_settings(demo_settings):  # noqa: ANN001, ANN201
    return demo_settings.replace(model_download=False, torch_threads=2)


def run(settings, kind: str, params: dict, registry: HandlerRegistry | None = None):  # noqa: ANN001, ANN201
    with JobStore.open(settings) as store:
        job = store.create(kind, params)
        return run_job(job.id, settings=settings, store=store, registry=registry or default_registry())


def test_params_are_checked() -> None:
    assert FinetuneParams.from_dict(PARAMS).as_dict() == PARAMS
    for bad, says in [({"freeze": "both"}, "freeze"), ({"epochs": 0}, "epochs"), ({"batch_size": 1}, "batch_size"),
                      ({"model": "loupe-tiny@v1"}, "unknown model"), ({"learning_rate": "fast"}, "learning_rate")]:
        with pytest.raises(ValueError, match=says):
            FinetuneParams.from_dict(bad)


def test_finetuning_lowers_the_loss_and_raises_recall_of_held_out_details(ft_settings, shared_data: Path) -> None:
    from loupe_models import ModelCache, load_model
    from loupe_models.training.checkpoints import CheckpointStore

    held = hold_out_regions(ft_settings, shared_data / "lens")
    assert len(held.queries) >= 6
    before = detail_recall(load_model(ft_settings, "loupe-tiny", cache=ModelCache()), held)

    job = run(ft_settings, "finetune", {**PARAMS, "epochs": 10, "learning_rate": 3e-4})
    assert job.state == "succeeded", (job.error, job.log)
    result = job.result
    assert result["checkpoint"] == "loupe-tiny@v1" and result["counts"]["regions"] == 8
    assert job.progress_done == job.progress_total == result["steps"] == 10 * 7
    losses = result["epoch_losses"]
    assert len(losses) == 10 and losses[-1] < losses[0]
    ev = result["evaluation"]
    assert ev["loss_after"] < 0.9 * ev["loss_before"]

    ckpt = CheckpointStore(ft_settings).get("loupe-tiny@v1")
    info = json.loads(ckpt.info_file.read_text())
    assert info["params"] == {**PARAMS, "epochs": 10, "learning_rate": 3e-4} and info["evaluation"] == ev and info["vector"] == result["vector"]
    assert result["vector"].startswith("loupe-tiny__ft-v1__sha256-")
    assert not CheckpointStore(ft_settings).run_dir("loupe-tiny", job.id).exists()  # resumable state removed

    after = detail_recall(load_model(ft_settings, "loupe-tiny", weights_path=ckpt.weights_file, cache=ModelCache()),
                          held)
    assert after["mAP"] > before["mAP"] + 0.05, (before, after)
    assert after["R@1"] > before["R@1"], (before, after)

    listed = CliRunner().invoke(_cli(), ["--data-dir", str(ft_settings.data_dir), "finetune", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["ref"] == "loupe-tiny@v1"


def test_the_finetuned_version_is_indexed_beside_the_base_and_active_only_when_asked(ft_settings) -> None:
    from loupe_index import VectorIndex
    from loupe_models import ModelCache
    from search_service.query_model import load_query_model

    assert run(ft_settings, "finetune", {**PARAMS, "epochs": 1}).state == "succeeded"
    assert run(ft_settings, "index", {}).result["active"] == BASE_VECTOR
    ft = run(ft_settings, "index", {"model": "loupe-tiny@v1"})
    assert ft.state == "succeeded", (ft.error, ft.log)
    vector = ft.result["vector"]
    assert vector.startswith("loupe-tiny__ft-v1__") and ft.result["points_written"] == ft.result["points_total"] > 0
    with VectorIndex.open(ft_settings, role="test", exact_search=False) as index:
        assert set(index.vector_names()) == {BASE_VECTOR, vector} and index.active_vector() == BASE_VECTOR

    activated = run(ft_settings, "index", {"model": "loupe-tiny@v1", "activate": True})
    assert activated.result["points_written"] == 0 and activated.result["active"] == vector
    with VectorIndex.open(ft_settings, role="test", exact_search=False) as index:
        assert index.active_vector() == vector
    query_model = load_query_model(ft_settings, vector, ModelCache())  # the search service finds the checkpoint
    assert query_model.weights.path.name == "loupe-tiny-ft-v1.pt"

    unknown = run(ft_settings, "index", {"model": "loupe-tiny@v9"})
    assert unknown.state == "failed" and "loupe-tiny@v1" in unknown.error


def stop_after(steps: int):  # noqa: ANN201
    """``finetune_job`` whose first attempt asks for its own cancellation after ``steps``."""
    from training_worker.finetune.job import finetune_job

    def handler(ctx):  # noqa: ANN001, ANN202
        if ctx.attempt == 1:
            report = ctx.progress

            def progress(done, total=None, message=None):  # noqa: ANN001, ANN202
                report(done, total, message)
                if done == steps:
                    ctx.store.request_cancel(ctx.job_id)

            ctx.progress = progress
        return finetune_job(ctx)

    return handler


def test_cancelled_through_redis_and_resumed_from_the_saved_step(ft_settings, redis_url) -> None:  # noqa: ANN001
    from training_worker.broker import job_queue, make_broker

    settings = ft_settings.replace(redis_url=redis_url, job_heartbeat_s=0.2)
    params = {**PARAMS, "epochs": 1, "checkpoint_every": 100}
    registry = HandlerRegistry({**DEFAULT_HANDLERS, "finetune": stop_after(3)})
    with JobStore.open(settings) as store:
        broker = make_broker(settings, registry=registry)
        with worker_running(broker):
            queue = job_queue(broker)
            job = queue.submit("finetune", params)
            cancelled = wait_for(store, job.id, timeout_s=120)
            assert cancelled.state == "cancelled", (cancelled.error, cancelled.log)
            assert cancelled.progress_done == 3  # cancel is read after each step
            assert any("stopped at step 3" in line for line in cancelled.log), cancelled.log
            queue.retry(job.id)
            resumed = wait_for(store, job.id, timeout_s=120)
    assert (resumed.state, resumed.attempts) == ("succeeded", 2), (resumed.error, resumed.log)
    assert any("resuming from step 3 of 8" in line for line in resumed.log), resumed.log
    assert resumed.progress_done == resumed.result["steps"] == 8

    uninterrupted = run(ft_settings, "finetune", params)
    assert uninterrupted.result["epoch_losses"] == pytest.approx(resumed.result["epoch_losses"], rel=1e-4)


def _cli():  # noqa: ANN202
    from loupe.cli import cli

    return cli
