"""Jobs through a real Redis broker and real dramatiq worker threads: the scale-out path."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from connector.catalog import Catalog
from connector.catalog.schema import CanvasRow, ImageRow, ManifestRow
from loupe_index import VectorIndex
from tests.support.demo import DEMO_IMAGES, DEMO_REGIONS
from tests.training_worker.support import age_heartbeat, expected_points, points_by_kind, wait_for, worker_running
from training_worker.broker import GPU_QUEUE_NAME, INDEX_QUEUE_NAME, QUEUE_NAME, job_queue, make_broker, worker_queues
from training_worker.jobs import HandlerRegistry, JobStore
from training_worker.kinds import DEFAULT_HANDLERS

VECTOR = "loupe-tiny__random"


@pytest.fixture
def redis_settings(demo_settings, redis_url):
    return demo_settings.replace(redis_url=redis_url, job_heartbeat_s=0.2)


@pytest.fixture
def store(redis_settings):
    s = JobStore.open(redis_settings)
    yield s
    s.close()


@pytest.fixture
def index_once(redis_settings, store):
    """Submit an index job to Redis and wait for the (one) worker to finish it."""
    broker = make_broker(redis_settings)
    with worker_running(broker):
        yield lambda params=None: wait_for(store, job_queue(broker).submit("index", params or {}).id)


def test_index_job_through_redis_indexes_every_image_region_and_view_then_follows_the_catalog(
        redis_settings, store, index_once):
    expected = expected_points(redis_settings)
    assert expected == {"image": DEMO_IMAGES, "region": DEMO_REGIONS, "view": DEMO_IMAGES * 9}
    total = sum(expected.values())

    job = index_once()
    assert job.state == "succeeded", job.error
    assert (job.progress_done, job.progress_total) == (DEMO_IMAGES, DEMO_IMAGES)
    assert job.result["points_written"] == job.result["points_total"] == total and job.result["failed"] == 0
    assert job.result["active"] == VECTOR and job.worker and "/" in job.worker
    assert points_by_kind(redis_settings, VECTOR) == expected

    # idempotent: a second run writes nothing
    again = index_once()
    assert (again.state, again.result["points_written"], again.result["skipped"]) == ("succeeded", 0, DEMO_IMAGES)
    assert again.result["points_total"] == total

    # one image changes (new content_key): its old points go, new ones come
    catalog = Catalog.open(redis_settings)
    with catalog.session() as s:
        image = s.scalars(select(ImageRow).order_by(ImageRow.id)).first()
        old_key, own = image.content_key, 1 + 9 + len(s.get(CanvasRow, image.canvas_id).regions)
        s.execute(update(ImageRow).where(ImageRow.id == image.id).values(content_key="changed-pixels"))
        s.commit()
    changed = index_once()
    assert (changed.result["points_removed"], changed.result["points_written"]) == (own, own)
    assert changed.result["points_total"] == total
    with VectorIndex.open(redis_settings, role="test") as index:
        keys = index.indexed_keys(VECTOR)
    assert "changed-pixels" in keys and old_key not in keys

    # a manifest leaves the catalog: its points go
    with catalog.session() as s:
        uri = s.scalars(select(ManifestRow.uri).order_by(ManifestRow.id.desc())).first()
        assert catalog.delete_manifest(s, uri)
        s.commit()
    catalog.close()
    removed = index_once()
    gone = removed.result["points_removed"]
    assert gone >= 10 and removed.result["points_written"] == 0
    assert removed.result["points_total"] == total - gone and removed.result["images"] == DEMO_IMAGES - 1


def flaky(ctx):
    """Fails on its first attempt, succeeds on the next."""
    ctx.progress(1, 2, "started")
    if ctx.attempt == 1:
        raise RuntimeError("the disk is full")
    ctx.progress(2, 2, "done")
    return {"attempt": ctx.attempt}


def slow(ctx):
    """Ten steps; stops when told (cancel, or the worker shutting down)."""
    start = ctx.job.progress_done
    for i in range(start, 10):
        if ctx.cancelled():
            return None
        ctx.progress(i + 1, 10, f"step {i + 1}")
        time.sleep(0.1)
    return {"attempt": ctx.attempt}


REGISTRY = HandlerRegistry({**DEFAULT_HANDLERS, "flaky": flaky, "slow": slow})


def test_a_failed_job_stays_failed_with_its_error_until_retried(redis_settings, store):
    broker = make_broker(redis_settings, registry=REGISTRY)
    queue = job_queue(broker)
    with worker_running(broker):
        job = queue.submit("flaky")
        failed = wait_for(store, job.id)
        assert (failed.state, failed.error, failed.attempts) == ("failed", "RuntimeError: the disk is full", 1)
        time.sleep(0.3)
        assert store.get(job.id).state == "failed"  # dramatiq did not retry it by itself
        queue.retry(job.id)
        done = wait_for(store, job.id)
    assert (done.state, done.attempts, done.result) == ("succeeded", 2, {"attempt": 2})


def test_stopping_a_worker_interrupts_its_job_and_another_worker_finishes_it(redis_settings, store):
    broker = make_broker(redis_settings, registry=REGISTRY)
    with worker_running(broker):
        job = job_queue(broker).submit("slow")
        wait_for(store, job.id, states=("running",))
        while store.get(job.id).progress_done < 2:
            time.sleep(0.02)
    interrupted = store.get(job.id)  # the worker stopped: the job went back on the queue
    assert (interrupted.state, interrupted.attempts) == ("interrupted", 2)
    with worker_running(make_broker(redis_settings, registry=REGISTRY)):
        done = wait_for(store, job.id)
    assert (done.state, done.attempts, done.progress_done) == ("succeeded", 2, 10)


def test_a_job_left_running_by_a_dead_worker_is_recovered_when_a_worker_starts(redis_settings, store):
    job = store.create("slow")
    store.claim(job.id, 1, worker="dead-host:1/thread")  # then nothing more: no heartbeat
    age_heartbeat(store, job.id, 600)
    with worker_running(make_broker(redis_settings.replace(job_stale_after_s=60), registry=REGISTRY)):
        done = wait_for(store, job.id)
    assert (done.state, done.attempts) == ("succeeded", 2)
    assert any("interrupted: no heartbeat from dead-host:1/thread" in line for line in done.log)


def quick(ctx):
    return {"kind": ctx.job.kind}


def test_training_jobs_go_to_the_gpu_queue_which_cpu_workers_may_leave_to_gpu_workers(redis_settings, store):
    broker = make_broker(redis_settings, registry=HandlerRegistry({**DEFAULT_HANDLERS, "finetune": quick,
                                                                   "combiner": quick, "quick": quick}))
    queue = job_queue(broker)
    leave, only = (worker_queues(redis_settings, False, choice) for choice in ("leave", "only"))
    assert (leave, only) == ({QUEUE_NAME}, {GPU_QUEUE_NAME})
    with worker_running(broker, queues=leave):  # a CPU worker beside a GPU worker
        other, training = queue.submit("quick"), queue.submit("finetune")
        assert wait_for(store, other.id).state == "succeeded"
        time.sleep(0.5)
        assert store.get(training.id).state == "queued"  # left for the GPU worker
    with worker_running(broker, queues=only):  # the GPU worker kept for training
        assert wait_for(store, training.id).result == {"kind": "finetune"}
        combiner, later = queue.submit("combiner"), queue.submit("quick")
        assert wait_for(store, combiner.id).state == "succeeded"
        time.sleep(0.5)
        assert store.get(later.id).state == "queued"  # not its kind of job
    with worker_running(broker, queues=worker_queues(redis_settings, False)):  # the default: takes both
        assert worker_queues(redis_settings, False) == {QUEUE_NAME, GPU_QUEUE_NAME}
        assert wait_for(store, later.id).state == "succeeded"
        assert wait_for(store, queue.submit("finetune").id).state == "succeeded"
    assert worker_queues(redis_settings, True) == {INDEX_QUEUE_NAME}  # the index owner: its own queue only
    with pytest.raises(ValueError, match="worker_gpu_jobs"):
        worker_queues(redis_settings, False, "sometimes")
