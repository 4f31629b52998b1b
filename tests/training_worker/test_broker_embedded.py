"""The embedded default: an in-process broker served by worker threads in this process."""

from __future__ import annotations

import pytest

from tests.training_worker.support import wait_for
from training_worker.broker import EmbeddedWorker, make_broker
from training_worker.jobs import HandlerRegistry, JobStore


def quick(ctx):
    ctx.progress(1, 1, "done")
    return {"attempt": ctx.attempt}


REGISTRY = HandlerRegistry({"quick": quick})


@pytest.fixture
def store(settings):
    s = JobStore.open(settings)
    yield s
    s.close()


def test_jobs_submitted_in_the_process_run_in_its_worker_threads(settings, store):
    with EmbeddedWorker(settings, registry=REGISTRY, threads=2) as worker:
        jobs = [worker.queue.submit("quick") for _ in range(3)]
        done = [wait_for(store, j.id, timeout_s=20) for j in jobs]
    assert [(j.state, j.attempts, j.result) for j in done] == [("succeeded", 1, {"attempt": 1})] * 3


def test_jobs_queued_by_other_processes_or_left_pending_are_picked_up(settings, store):
    left_over = store.create("quick")  # queued before the server started (its message was in memory)
    interrupted = store.create("quick")
    store.claim(interrupted.id, 1)
    store.interrupt(interrupted.id, 1, "the server stopped")
    with EmbeddedWorker(settings, registry=REGISTRY, poll_s=0.1) as worker:
        assert wait_for(store, left_over.id, timeout_s=20).state == "succeeded"
        assert wait_for(store, interrupted.id, timeout_s=20).attempts == 2
        from_cli = store.create("quick")  # `loupe index --background` in another process
        assert wait_for(store, from_cli.id, timeout_s=20).state == "succeeded"
        assert worker.running
    assert not worker.running


def test_with_redis_configured_jobs_do_not_run_inside_the_server(settings):
    with pytest.raises(ValueError, match="`loupe worker`"):
        EmbeddedWorker(settings.replace(redis_url="redis://127.0.0.1:1/0"))
    broker = make_broker(settings)  # no redis_url: the in-process broker
    assert type(broker).__name__ == "StubBroker"


def test_two_index_jobs_at_once_share_the_local_index_of_the_process(demo_settings):
    """Qdrant local mode allows one opening per process: concurrent jobs share it."""
    from loupe_index import VectorIndex
    from tests.training_worker.support import expected_points

    with JobStore.open(demo_settings) as store, EmbeddedWorker(demo_settings, threads=2) as worker:
        first = worker.queue.submit("index", {"batch_images": 4})
        second = worker.queue.submit("index", {"source": "demo"})
        done = [wait_for(store, job.id) for job in (first, second)]
    assert [j.state for j in done] == ["succeeded", "succeeded"], [j.error for j in done]
    with VectorIndex.open(demo_settings, role="test") as index:
        assert index.count() == sum(expected_points(demo_settings).values())  # the same points, written twice
