"""The ``tag`` job: zero-shot tagging of the demo collection run by the embedded broker's
worker threads; cancel between manifests keeps whole manifests, and a retry converges."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from tests.support.demo import DEMO_IMAGES, DEMO_NAME, DEMO_REGIONS
from tests.support.deps import need
from tests.training_worker.support import wait_for
from training_worker.broker import EmbeddedWorker
from training_worker.jobs import HandlerRegistry, JobStore
from training_worker.kinds import DEFAULT_HANDLERS
from training_worker.tagging import TagParams
from training_worker.tagging.job import tag_job

LABELS = ["Annunciation", "sunflowers", "horse"]
PARAMS = {"collection": DEMO_NAME, "vocabulary": LABELS, "threshold": 0.0, "top_k": 1}
STOP_AFTER = 5  # images


@pytest.fixture(autouse=True)
def needs_open_clip() -> None:
    need("open_clip")


def machine_tags(settings) -> list[tuple]:  # noqa: ANN001
    """(canvas id, x, model) of every machine annotation in the catalog."""
    from connector.catalog import Catalog
    from connector.catalog.schema import RegionRow

    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            return [(r.canvas_id, r.x, r.model) for r in
                    s.scalars(select(RegionRow).where(RegionRow.made_by == "machine"))]
    finally:
        catalog.close()


def person_regions(settings) -> Counter:  # noqa: ANN001
    """Annotated regions (with a box) per canvas id."""
    from connector.catalog import Catalog
    from connector.catalog.schema import RegionRow

    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            return Counter(r.canvas_id for r in s.scalars(select(RegionRow).where(RegionRow.made_by == "person"))
                           if r.x is not None)
    finally:
        catalog.close()


def cancel_first_attempt_after(images: int):  # noqa: ANN201
    """``tag_job`` whose first attempt asks for its own cancellation once ``images`` are done
    (as `loupe jobs cancel` from another process would)."""

    def handler(ctx):  # noqa: ANN001, ANN202
        if ctx.attempt == 1:
            report = ctx.progress

            def progress(done, total=None, message=None):  # noqa: ANN001, ANN202
                report(done, total, message)
                if done == images:
                    ctx.store.request_cancel(ctx.job_id)

            ctx.progress = progress
        return tag_job(ctx)

    return handler


def test_params_are_checked_and_stored_compactly() -> None:
    params = TagParams.from_dict(PARAMS)
    assert params.as_dict() == {"collection": DEMO_NAME, "threshold": 0.0, "top_k": 1,
                                "vocabulary": {"name": "inline", "labels": [{"label": x} for x in LABELS]}}
    assert TagParams.from_dict(params.as_dict()) == params
    assert TagParams.from_dict({"collection": "all", "vocabulary": "default"}).as_dict() == \
        {"collection": "all", "vocabulary": "default"}
    for bad, says in [({}, "collection is required"), ({"collection": "all", "top_k": 0}, "top_k"),
                      ({"collection": "all", "threshold": 2}, "threshold"), ({"collection": "all", "nope": 1}, "nope"),
                      ({"collection": "all", "vocabulary": []}, "no labels"),
                      ({"collection": "all", "regions": "yes"}, "regions")]:
        with pytest.raises(ValueError, match=says):
            TagParams.from_dict(bad)


def test_a_tag_job_through_the_embedded_broker_stores_machine_tags(demo_settings) -> None:  # noqa: ANN001
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings) as worker:
        job = worker.queue.submit("tag", TagParams.from_dict(PARAMS).as_dict())
        done = wait_for(store, job.id, timeout_s=120)
    assert done.state == "succeeded", (done.error, done.log)
    assert done.progress_done == done.progress_total == DEMO_IMAGES
    report = done.result
    assert (report["images"], report["regions"], report["failed"]) == (DEMO_IMAGES, DEMO_REGIONS, 0)
    assert report["proposed"] == DEMO_IMAGES + DEMO_REGIONS and not report["stopped"]
    assert report["vocabularies"] == {"inline": DEMO_IMAGES} and report["model"] == "loupe-tiny"
    assert f"{report['proposed']} tags proposed" in done.message
    tags = machine_tags(demo_settings)
    assert len(tags) == report["proposed"] and {m for _, _, m in tags} == {"loupe-tiny"}
    assert sum(1 for _, x, _ in tags if x is not None) == DEMO_REGIONS  # machine tags on the annotated regions


def test_cancel_between_manifests_keeps_whole_manifests_and_a_retry_completes(demo_settings) -> None:  # noqa: ANN001
    registry = HandlerRegistry({**DEFAULT_HANDLERS, "tag": cancel_first_attempt_after(STOP_AFTER)})
    regions = person_regions(demo_settings)
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings, registry=registry) as worker:
        job = worker.queue.submit("tag", TagParams.from_dict(PARAMS).as_dict())
        cancelled = wait_for(store, job.id, timeout_s=120)
        assert cancelled.state == "cancelled", (cancelled.error, cancelled.log)
        partial = cancelled.result
        assert partial["stopped"] and STOP_AFTER <= partial["images"] < DEMO_IMAGES
        assert "before stopping" in cancelled.message

        # Consistent: every image tagged so far has its whole-image tag and one per annotated
        # region; the others have none.
        tags = machine_tags(demo_settings)
        assert len(tags) == partial["proposed"]
        per_canvas = Counter(c for c, _, _ in tags)
        assert len(per_canvas) == partial["images"]
        assert per_canvas == Counter({c: 1 + regions[c] for c in per_canvas})

        worker.queue.retry(job.id)
        retried = wait_for(store, job.id, timeout_s=120)
    assert (retried.state, retried.attempts) == ("succeeded", 2), (retried.error, retried.log)
    assert retried.result["images"] == DEMO_IMAGES and retried.result["replaced"] == partial["proposed"]
    tags = machine_tags(demo_settings)
    assert len(tags) == DEMO_IMAGES + DEMO_REGIONS == retried.result["proposed"]
    assert len({c for c, _, _ in tags}) == DEMO_IMAGES


def test_missing_weights_fail_the_job_saying_where(demo_settings) -> None:  # noqa: ANN001
    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings) as worker:
        job = worker.queue.submit("tag", {"collection": "all", "model": "ViT-B-32"})
        failed = wait_for(store, job.id, timeout_s=60)
    assert failed.state == "failed" and "ModelWeightsMissing" in failed.error
    assert machine_tags(demo_settings) == []
