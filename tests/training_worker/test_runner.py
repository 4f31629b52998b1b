"""``run_job``: one attempt of a job, from claim to its recorded end (no broker involved)."""

from __future__ import annotations

import threading
import time

import pytest

from training_worker.jobs import HandlerRegistry, JobStore, run_job


@pytest.fixture
def store(settings):
    s = JobStore.open(settings)
    yield s
    s.close()


@pytest.fixture
def fast(settings):
    return settings.replace(job_heartbeat_s=0.05)


def counting(ctx):
    for i in range(1, ctx.params.get("n", 5) + 1):
        if ctx.cancelled():
            return {"counted": i - 1}
        ctx.progress(i, ctx.params.get("n", 5), f"{i} counted")
        ctx.log(f"step {i}")
        time.sleep(ctx.params.get("sleep", 0))
    return {"counted": ctx.params.get("n", 5)}


def broken(ctx):
    ctx.progress(1, 3)
    raise RuntimeError("the disk is full")


REGISTRY = HandlerRegistry({"count": counting, "broken": broken})


def test_a_job_succeeds_with_its_progress_result_and_log(store, fast):
    job = store.create("count", {"n": 5})
    seen = []
    ended = run_job(job.id, settings=fast, store=store, registry=REGISTRY, observer=lambda *a: seen.append(a))
    assert (ended.state, ended.progress_done, ended.progress_total, ended.result) == ("succeeded", 5, 5, {"counted": 5})
    assert ended.message == "5 counted"
    assert [line.split(" ", 1)[1] for line in ended.log] == [f"step {i}" for i in range(1, 6)]
    assert seen[-1] == (5, 5, "5 counted") and ended.started_at and ended.finished_at
    assert run_job(job.id, settings=fast, store=store, registry=REGISTRY) is None  # a duplicate message


def test_a_failing_handler_is_recorded_and_raised_only_when_asked(store, fast):
    job = store.create("broken")
    ended = run_job(job.id, settings=fast, store=store, registry=REGISTRY)
    assert ended.state == "failed" and ended.error == "RuntimeError: the disk is full"
    assert ended.message == "failed: RuntimeError: the disk is full"
    assert any("Traceback" in line for line in ended.log) and any("the disk is full" in line for line in ended.log)
    again = store.prepare_retry(job.id)
    with pytest.raises(RuntimeError, match="disk is full"):
        run_job(job.id, settings=fast, store=store, registry=REGISTRY, raise_errors=True)
    assert store.get(job.id).state == "failed" and again.attempts == 2


def test_an_unknown_kind_fails_with_the_known_ones(store, fast):
    job = store.create("paint")
    ended = run_job(job.id, settings=fast, store=store, registry=REGISTRY)
    assert ended.state == "failed" and "no handler for jobs of kind 'paint'" in ended.error and "count" in ended.error


def test_cancel_stops_the_handler_between_steps_and_keeps_its_partial_result(store, fast):
    job = store.create("count", {"n": 50})

    def cancel_after_three(done, total, message):
        if done == 3:
            store.request_cancel(job.id)

    ended = run_job(job.id, settings=fast, store=store, registry=REGISTRY, observer=cancel_after_three)
    assert (ended.state, ended.result, ended.progress_done) == ("cancelled", {"counted": 3}, 3)
    assert ended.message == "cancelled: 3 counted"


def test_a_stopping_worker_interrupts_and_requeues_the_job(store, fast):
    job = store.create("count", {"n": 50})
    stopping, requeued = threading.Event(), []

    def stop_after_two(done, total, message):
        if done == 2:
            stopping.set()

    ended = run_job(job.id, settings=fast, store=store, registry=REGISTRY, stopping=stopping,
                    observer=stop_after_two, requeue=requeued.append)
    assert (ended.state, ended.attempts) == ("interrupted", 2)
    assert [(j.id, j.attempts) for j in requeued] == [(job.id, 2)]
    resumed = run_job(job.id, 2, settings=fast, store=store, registry=REGISTRY)
    assert resumed.state == "succeeded" and resumed.attempts == 2


def test_an_attempt_taken_over_after_a_stale_heartbeat_ends_quietly(store, fast):
    job = store.create("count", {"n": 100, "sleep": 0.02})
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault(
        "ended", run_job(job.id, settings=fast, store=store, registry=REGISTRY)))
    runner.start()
    while store.get(job.id).progress_done < 2:
        time.sleep(0.01)
    assert [j.id for j in store.recover_stale(max_age_s=-1)] == [job.id]  # as if its heartbeat were old
    runner.join(timeout=10)
    assert result["ended"] is None  # the old attempt noticed and stopped without writing
    job = store.get(job.id)
    assert (job.state, job.attempts) == ("interrupted", 2)
