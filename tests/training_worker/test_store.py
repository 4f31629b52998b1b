"""Persisted job state: the state machine, conditional updates by attempt, bounded logs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from training_worker.jobs import JobError, JobNotFound, JobStore
from training_worker.jobs.store import JobRow, utcnow


@pytest.fixture
def store(catalog_settings):
    s = JobStore.open(catalog_settings.replace(job_log_lines=5))
    yield s
    s.close()


def test_a_job_lives_in_the_catalog_database(store, catalog_settings):
    job = store.create("index", {"source": "demo"})
    assert (job.state, job.attempts, job.params, job.progress_done) == ("queued", 1, {"source": "demo"}, 0)
    if not catalog_settings.catalog_url:
        assert (catalog_settings.data_dir / "catalog.sqlite").is_file()
    again = JobStore.open(catalog_settings)  # another process would see the same
    assert again.get(job.id).as_dict() == job.as_dict()
    again.close()
    with pytest.raises(JobNotFound, match="no job 999"):
        store.get(999)


def test_claim_progress_and_finish_belong_to_one_attempt(store):
    job = store.create("index")
    assert store.claim(job.id, attempt=2) is None  # no such attempt
    running = store.claim(job.id, attempt=1, worker="w1")
    assert running.state == "running" and running.worker == "w1" and running.started_at is not None
    assert store.claim(job.id, attempt=1) is None  # a duplicate message
    assert store.report(job.id, 1, done=3, total=10, message="3/10", log_lines=[f"line {i}" for i in range(8)])
    got = store.get(job.id)
    assert (got.progress_done, got.progress_total, got.message) == (3, 10, "3/10")
    assert got.log == tuple(f"line {i}" for i in range(3, 8))  # the most recent job_log_lines
    assert not store.report(job.id, 2, done=4)  # another attempt cannot write
    assert store.finish(job.id, 1, "succeeded", message="done", result={"n": 1})
    assert not store.finish(job.id, 1, "failed")  # finished once
    got = store.get(job.id)
    assert (got.state, got.result, got.finished) == ("succeeded", {"n": 1}, True)


def test_cancel_a_queued_job_at_once_and_a_running_one_by_request(store):
    queued = store.create("index")
    assert store.request_cancel(queued.id).state == "cancelled"
    running = store.create("index")
    store.claim(running.id, 1)
    asked = store.request_cancel(running.id)
    assert asked.state == "running" and asked.cancel_requested and store.cancel_requested(running.id)
    store.finish(running.id, 1, "cancelled")
    with pytest.raises(JobError, match="already cancelled"):
        store.request_cancel(running.id)


def test_retry_queues_again_with_the_next_attempt(store):
    job = store.create("index")
    store.claim(job.id, 1)
    store.report(job.id, 1, done=5, total=9)
    store.finish(job.id, 1, "failed", error="RuntimeError: boom")
    again = store.prepare_retry(job.id)
    assert (again.state, again.attempts, again.error, again.progress_done) == ("queued", 2, None, 0)
    assert store.claim(job.id, 1) is None and store.claim(job.id, 2) is not None
    store.finish(job.id, 2, "succeeded")
    with pytest.raises(JobError, match="only queued, failed, cancelled, interrupted"):
        store.prepare_retry(job.id)


def test_stale_running_jobs_are_interrupted_once_and_their_old_attempt_is_shut_out(store):
    fresh, stale = store.create("index"), store.create("index")
    store.claim(fresh.id, 1, worker="alive")
    store.claim(stale.id, 1, worker="dead")
    with store.session() as s:
        s.execute(update(JobRow).where(JobRow.id == stale.id).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
        s.commit()
    recovered = store.recover_stale(max_age_s=60)
    assert [(j.id, j.state, j.attempts) for j in recovered] == [(stale.id, "interrupted", 2)]
    assert "no heartbeat from dead" in recovered[0].message and "no heartbeat" in recovered[0].log[-1]
    assert store.recover_stale(max_age_s=60) == []  # taken over once
    assert not store.heartbeat(stale.id, 1)  # the dead worker, if it wakes up, learns it lost the job
    assert store.get(fresh.id).state == "running"
    assert [j.id for j in store.pending()] == [stale.id]


def test_interrupt_hands_the_job_to_the_next_attempt(store):
    job = store.create("index")
    store.claim(job.id, 1)
    interrupted = store.interrupt(job.id, 1, "worker stopping")
    assert (interrupted.state, interrupted.attempts) == ("interrupted", 2)
    assert store.claim(job.id, 2).state == "running"


def test_list_filters_and_orders_newest_first(store):
    a, b, c = store.create("index"), store.create("train"), store.create("index")
    store.request_cancel(b.id)
    assert [j.id for j in store.list()] == [c.id, b.id, a.id]
    assert [j.id for j in store.list(kind="index")] == [c.id, a.id]
    assert [j.id for j in store.list(states=["cancelled"])] == [b.id]
