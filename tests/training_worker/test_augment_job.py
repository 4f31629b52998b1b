"""The ``augment`` job on the harvested demo collection (30 images, 16 annotated regions):
views with boxes, a split by source image, a contact sheet; cancelled part-way, a retry
resumes and ends with exactly the views of an uninterrupted run."""

from __future__ import annotations

import json

import pytest

from tests.support.demo import DEMO_IMAGES, DEMO_REGIONS
from tests.support.deps import need
from tests.training_worker.support import wait_for
from training_worker.augmentation import AugmentParams
from training_worker.augmentation.job import augment_job, output_folder
from training_worker.broker import EmbeddedWorker
from training_worker.jobs import HandlerRegistry, JobStore
from training_worker.kinds import DEFAULT_HANDLERS

PARAMS = {"views": 2, "long_side": 128, "processes": 1, "seed": 5, "sheet_views": 8}
STOP_AFTER = 7  # images


@pytest.fixture(autouse=True)
def needs_augmentation_libraries() -> None:
    need("loupe_models.augmentation.camera")  # imports albumentations with its update check off


def lines(folder, side: str) -> list[dict]:  # noqa: ANN001
    with open(folder / f"{side}.jsonl") as f:
        return [json.loads(line) for line in f]


def cancel_first_attempt_after(images: int):  # noqa: ANN201
    def handler(ctx):  # noqa: ANN001, ANN202
        if ctx.attempt == 1:
            report = ctx.progress

            def progress(done, total=None, message=None):  # noqa: ANN001, ANN202
                report(done, total, message)
                if done == images:
                    ctx.store.request_cancel(ctx.job_id)

            ctx.progress = progress
        return augment_job(ctx)

    return handler


def test_params_have_defaults_and_bounds() -> None:
    assert AugmentParams.from_dict({}).collection == "all"
    for bad in ({"views": 0}, {"validation": 0.95}, {"long_side": 10}, {"nope": 1}):
        with pytest.raises(ValueError):
            AugmentParams.from_dict(bad)


def test_views_split_by_source_with_boxes_and_a_contact_sheet(demo_settings) -> None:  # noqa: ANN001
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings) as worker:
        job = worker.queue.submit("augment", AugmentParams.from_dict(PARAMS).as_dict())
        done = wait_for(store, job.id, timeout_s=180)
    assert done.state == "succeeded", (done.error, done.log)
    result, folder = done.result, output_folder(demo_settings, job.id)
    assert result["train"]["images"] + result["validation"]["images"] == DEMO_IMAGES == done.progress_total
    assert result["validation"]["images"] == round(DEMO_IMAGES * 0.2)
    train, validation = lines(folder, "train"), lines(folder, "validation")
    assert len(train) + len(validation) == 2 * DEMO_IMAGES
    assert not {r["source"] for r in train} & {r["source"] for r in validation}  # never both sides
    # Views keep most annotated regions as boxes inside the view.
    assert sum(len(r["boxes"]) for r in train + validation) >= DEMO_REGIONS
    for row in train + validation:
        assert (folder / row["file"]).is_file() and len(row["boxes"]) == len(row["labels"])
        assert all(0 <= x0 < x1 <= row["width"] and 0 <= y0 < y1 <= row["height"] for x0, y0, x1, y1 in row["boxes"])
    assert (folder / "contact_sheet.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cancelled_then_retried_it_resumes_and_matches_an_uninterrupted_run(demo_settings) -> None:  # noqa: ANN001
    registry = HandlerRegistry({**DEFAULT_HANDLERS, "augment": cancel_first_attempt_after(STOP_AFTER)})
    params = AugmentParams.from_dict({**PARAMS, "sheet_views": 0}).as_dict()
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings, registry=registry) as worker:
        job = worker.queue.submit("augment", params)
        cancelled = wait_for(store, job.id, timeout_s=180)
        assert cancelled.state == "cancelled", (cancelled.error, cancelled.log)
        folder = output_folder(demo_settings, job.id)
        records = {p: p.stat().st_mtime_ns for p in folder.glob("*/*.json")}
        assert len(records) == STOP_AFTER
        worker.queue.retry(job.id)
        resumed = wait_for(store, job.id, timeout_s=180)
        assert (resumed.state, resumed.attempts) == ("succeeded", 2), (resumed.error, resumed.log)
        assert all(p.stat().st_mtime_ns == t for p, t in records.items())  # what was done is kept
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings) as worker:
        again = worker.queue.submit("augment", params)
        whole = wait_for(store, again.id, timeout_s=180)
    assert whole.state == "succeeded"
    for side in ("train", "validation"):
        assert lines(folder, side) == lines(output_folder(demo_settings, again.id), side)
