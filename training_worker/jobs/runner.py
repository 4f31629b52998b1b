"""``run_job(job_id, attempt)``: claim a job, run its handler, record how it ended.

The same function runs a job in a dramatiq worker thread (the ``run_job`` actor, see
``training_worker.broker``) and in the foreground (``loupe index``), so both paths record
the same state, progress and log.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Callable

from loupe_core.logs import job_id as logged_job_id
from loupe_core.settings import Settings
from training_worker.resources import JobResources

from .context import JobCancelled, JobContext, JobInterrupted, JobLost, ProgressObserver
from .heartbeat import Heartbeat
from .registry import HandlerRegistry, UnknownJobKind
from .store import CANCELLED, FAILED, SUCCEEDED, JobNotFound, JobRecord, JobStore, worker_name

log = logging.getLogger(__name__)

# How many lines of a failure's traceback go into the job's log.
TRACEBACK_LINES = 12

# Re-enqueues an interrupted job (its new attempt) on the broker; None where there is none.
Requeue = Callable[[JobRecord], None]


def run_job(job_id: int, attempt: int | None = None, **kwargs) -> JobRecord | None:  # noqa: ANN003 - _run's
    """``_run`` with ``job_id`` on every log line written meanwhile (``loupe_core.logs``)."""
    token = logged_job_id.set(job_id)
    try:
        return _run(job_id, attempt, **kwargs)
    finally:
        logged_job_id.reset(token)


def _run(job_id: int, attempt: int | None = None, *, settings: Settings, store: JobStore,
         registry: HandlerRegistry, resources: JobResources | None = None,
         stopping: threading.Event | None = None, observer: ProgressObserver | None = None,
         requeue: Requeue | None = None, raise_errors: bool = False) -> JobRecord | None:
    """Run ``attempt`` (default: the current one) of job ``job_id`` if it is still pending.

    Returns the job as it ended, or None when there was nothing to run (a duplicate or stale
    message). Handler failures are recorded, not raised, unless ``raise_errors`` (the
    foreground command wants the exception itself, e.g. to print a missing-weights message).
    ``stopping`` is set when the worker shuts down: the handler stops at its next check and
    the job is re-enqueued through ``requeue``.
    """
    resources = resources or JobResources()
    try:
        current = store.get(job_id)
    except JobNotFound:
        log.warning("job %s does not exist (a message for a deleted job?); ignored", job_id)
        return None
    attempt = current.attempts if attempt is None else attempt
    job = store.claim(job_id, attempt, worker_name())
    if job is None:
        log.info("job %s attempt %s: not pending (now %s, attempt %s); message ignored",
                 job_id, attempt, current.state, current.attempts)
        return None
    ctx = JobContext(job, store, settings, resources, stopping=stopping, observer=observer)
    log.info("job %s (%s) attempt %s started", job.id, job.kind, attempt)
    try:
        with Heartbeat(store, job.id, attempt, settings.job_heartbeat_s, ctx.mark_lost):
            handler = registry.resolve(job.kind)
            result = handler(ctx)
    except JobLost:
        log.warning("job %s attempt %s was taken over by another worker; this attempt ends quietly", job.id, attempt)
        return None
    except JobCancelled:
        return _end(ctx, CANCELLED, "cancelled")
    except JobInterrupted:
        return _interrupted(ctx, requeue)
    except KeyboardInterrupt:
        _end(ctx, CANCELLED, "stopped from the keyboard (Ctrl-C); `loupe jobs retry` resumes it")
        raise
    except BaseException as e:  # noqa: BLE001 - recorded; dramatiq's TimeLimitExceeded is a BaseException
        error = f"{type(e).__name__}: {e}" if not isinstance(e, UnknownJobKind) else str(e)
        ctx.log(f"failed: {error}")
        for line in traceback.format_exception(e)[-TRACEBACK_LINES:]:
            ctx.log(line.rstrip())
        ended = _end(ctx, FAILED, f"failed: {error.splitlines()[0] if error else type(e).__name__}", error=error)
        if raise_errors or isinstance(e, SystemExit):
            raise
        log.error("job %s (%s) failed: %s", job.id, job.kind, error)
        return ended
    result = result if isinstance(result, dict) else None
    if ctx.stop_reason == "shutdown":
        return _interrupted(ctx, requeue, result)
    if ctx.stop_reason == "cancel":
        return _end(ctx, CANCELLED, _with_message("cancelled", ctx), result=result)
    return _end(ctx, SUCCEEDED, ctx.latest.message or "done", result=result)


def _with_message(prefix: str, ctx: JobContext) -> str:
    return f"{prefix}: {ctx.latest.message}" if ctx.latest.message else prefix


def _end(ctx: JobContext, state: str, message: str, *, error: str | None = None,
         result: dict | None = None) -> JobRecord | None:
    try:
        ctx.flush()
    except JobLost:
        return None
    if not ctx.store.finish(ctx.job_id, ctx.attempt, state, message=message, error=error, result=result):
        return None
    log.info("job %s %s: %s", ctx.job_id, state, message)
    return ctx.store.get(ctx.job_id)


def _interrupted(ctx: JobContext, requeue: Requeue | None, result: dict | None = None) -> JobRecord | None:
    try:
        ctx.flush()
    except JobLost:
        return None
    job = ctx.store.interrupt(ctx.job_id, ctx.attempt,
                              f"interrupted: the worker stopped at {ctx.latest.done}/{ctx.latest.total}; "
                              f"re-enqueued (attempt {ctx.attempt + 1})")
    if job is not None and requeue is not None:
        requeue(job)
    return job
