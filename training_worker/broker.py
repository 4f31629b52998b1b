"""The dramatiq side: brokers, the one ``run_job`` actor, and worker threads.

``make_broker(settings)`` gives a ``RedisBroker`` when ``redis_url`` is set (scale-out:
`loupe worker` processes consume it) and otherwise dramatiq's in-process ``StubBroker``,
served by ``EmbeddedWorker`` threads inside the server (the embedded default). Either way
one actor, ``run_job(job_id, attempt)``, is declared on it: ``training_worker.jobs.run_job``
bound to the worker's settings, store and handler registry. It is declared per broker
(not with the module-level ``@dramatiq.actor`` decorator and its global broker), so that a
process can hold several brokers (tests) and nothing happens at import time.

Retries: dramatiq's automatic retries are disabled (``max_retries=0``). A job's state lives
in the store; a failed job stays failed, with its error, until someone retries it (`loupe
jobs retry`, attempts + 1). Repeating a failed indexing run automatically would only repeat
the failure (missing weights, a full disk) with backoff delays nobody sees. What is resumed
automatically is work that was interrupted, not work that failed: jobs of a worker that
stopped (``StopJobsOnShutdown``) or died (``RecoverStaleJobs``). Messages carry the attempt
number, so the copies that Redis redelivers after a worker died, or a message sent twice,
find their attempt superseded or already running and are ignored (``JobStore.claim``).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, Retries

from loupe_core.settings import Settings
from training_worker.jobs import HandlerRegistry, JobQueue, JobRecord, JobStore, run_job
from training_worker.kinds import JOB_KINDS, default_registry
from training_worker.middleware import ACTOR_NAME, FeedPendingJobs, RecoverStaleJobs, StopJobsOnShutdown
from training_worker.resources import JobResources

log = logging.getLogger(__name__)

QUEUE_NAME = "loupe-jobs"
# Jobs that write vectors (JobKind.writes_index) when the index is local (no qdrant_url): local
# mode lets one process open the index, so they go to this queue, which only the index owner
# (`loupe worker --index-owner`) consumes. With a Qdrant server every worker takes them.
INDEX_QUEUE_NAME = "loupe-index"
INDEX_ACTOR_NAME = "run_index_job"
# Jobs that train on the worker's model_device (JobKind.gpu), with a Redis broker: every
# worker takes them unless told to leave them to GPU workers (worker_gpu_jobs).
GPU_QUEUE_NAME = "loupe-gpu"
GPU_ACTOR_NAME = "run_gpu_job"
GPU_JOBS = ("take", "only", "leave")
# Milliseconds a worker's consumer waits for a message before looking again (also how long
# stopping a worker may take).
WORKER_TIMEOUT_MS = 1_000
# How often the embedded worker looks for jobs queued by other processes.
EMBEDDED_POLL_S = 2.0


def is_embedded(settings: Settings) -> bool:
    return not settings.redis_url


def broker_location(settings: Settings) -> str:
    """Where jobs go, for messages: the Redis URL without its password, or "in-process"."""
    if is_embedded(settings):
        return "in-process (embedded default)"
    parts = urlsplit(settings.redis_url)
    if parts.password is None:
        return settings.redis_url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


class JobRunner:
    """The body of the ``run_job`` actor: ``run_job`` with this worker's settings, store,
    registry and shared resources. ``stopping`` is set when the worker shuts down."""

    def __init__(self, settings: Settings, *, registry: HandlerRegistry | None = None,
                 resources: JobResources | None = None, store: JobStore | None = None) -> None:
        self.settings = settings
        self.registry = registry or default_registry()
        self.resources = resources or JobResources()
        self.stopping = threading.Event()
        self.send: Callable[[int, int], None] | None = None  # set once the actor is declared
        self._store = store
        self._own_store = store is None
        self._lock = threading.Lock()

    @property
    def store(self) -> JobStore:
        with self._lock:
            if self._store is None:
                self._store = JobStore.open(self.settings)
            return self._store

    def __call__(self, job_id: int, attempt: int | None = None) -> None:
        run_job(job_id, attempt, settings=self.settings, store=self.store, registry=self.registry,
                resources=self.resources, stopping=self.stopping, requeue=self.requeue)

    def requeue(self, job: JobRecord) -> None:
        if self.send is not None:
            self.send(job.id, job.attempts)

    def queue(self) -> JobQueue:
        return JobQueue(self.store, self.send)

    def close(self) -> None:
        with self._lock:
            if self._own_store and self._store is not None:
                self._store.close()
                self._store = None


def make_broker(settings: Settings, *, registry: HandlerRegistry | None = None,
                resources: JobResources | None = None, store: JobStore | None = None,
                embedded: bool | None = None, poll_s: float = EMBEDDED_POLL_S) -> dramatiq.Broker:
    """A broker with the ``run_job`` actor declared: Redis at ``settings.redis_url``, or
    in-process when it is empty (or ``embedded=True``; it then looks for jobs queued by
    other processes every ``poll_s`` seconds while a worker runs)."""
    embedded = is_embedded(settings) if embedded is None else embedded
    if settings.job_stale_after_s < 3 * settings.job_heartbeat_s:
        log.warning("job_stale_after_s (%s) is less than three heartbeats (job_heartbeat_s %s): jobs that are "
                    "alive may be taken for dead and run twice", settings.job_stale_after_s, settings.job_heartbeat_s)
    runner = JobRunner(settings, registry=registry, resources=resources, store=store)
    middleware: list[Middleware] = [
        Retries(max_retries=0),  # see the module docstring
        StopJobsOnShutdown(runner.stopping),
        RecoverStaleJobs(lambda broker: runner.queue(), settings.job_stale_after_s),
    ]
    if embedded:
        middleware.append(FeedPendingJobs(lambda: runner.store, poll_s))
        broker: dramatiq.Broker = StubBroker(middleware=middleware)
    else:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=settings.redis_url, middleware=middleware)
    actor = dramatiq.Actor(runner, broker=broker, actor_name=ACTOR_NAME, queue_name=QUEUE_NAME, priority=0,
                           options={"max_retries": 0})
    index_actor = gpu_actor = None
    if routes_index_jobs(settings, embedded):
        index_actor = dramatiq.Actor(runner, broker=broker, actor_name=INDEX_ACTOR_NAME, queue_name=INDEX_QUEUE_NAME,
                                     priority=0, options={"max_retries": 0})
    if not embedded:
        gpu_actor = dramatiq.Actor(runner, broker=broker, actor_name=GPU_ACTOR_NAME, queue_name=GPU_QUEUE_NAME,
                                   priority=0, options={"max_retries": 0})

    def send(job_id: int, attempt: int) -> None:
        target = actor
        kind = JOB_KINDS.get(runner.store.get(job_id).kind) if gpu_actor is not None else None
        if kind is not None and kind.writes_index and index_actor is not None:
            target = index_actor
        elif kind is not None and kind.gpu:
            target = gpu_actor
        target.send(job_id, attempt)

    runner.send = send
    return broker


def routes_index_jobs(settings: Settings, embedded: bool | None = None) -> bool:
    """Do index-writing jobs go to their own queue (Redis broker, local index)?"""
    embedded = is_embedded(settings) if embedded is None else embedded
    return not embedded and not settings.qdrant_url


def worker_queues(settings: Settings, index_owner: bool, gpu_jobs: str | None = None) -> set[str]:
    """The queues a `loupe worker` consumes: the index owner only the index queue; the others
    the general queue and the GPU queue as ``gpu_jobs`` (default: the setting worker_gpu_jobs)
    says: take both, only the GPU queue, or leave it."""
    gpu_jobs = gpu_jobs or settings.worker_gpu_jobs
    if gpu_jobs not in GPU_JOBS:
        raise ValueError(f"worker_gpu_jobs must be one of {', '.join(GPU_JOBS)}, not {gpu_jobs!r}")
    if index_owner and routes_index_jobs(settings):
        return {INDEX_QUEUE_NAME}
    return {"take": {QUEUE_NAME, GPU_QUEUE_NAME}, "only": {GPU_QUEUE_NAME}, "leave": {QUEUE_NAME}}[gpu_jobs]


def job_runner(broker: dramatiq.Broker) -> JobRunner:
    return broker.get_actor(ACTOR_NAME).fn  # type: ignore[return-value]


def job_queue(broker: dramatiq.Broker) -> JobQueue:
    """Submit, cancel and retry jobs through ``broker``."""
    return job_runner(broker).queue()


def start_worker(broker: dramatiq.Broker, threads: int, *, timeout_ms: int = WORKER_TIMEOUT_MS,
                 queues: set[str] | None = None) -> dramatiq.Worker:
    """dramatiq worker threads consuming ``broker`` (``queues``: only those) in this process
    (recovery of stale jobs runs as they start); stop with ``stop_worker``. ``timeout_ms``:
    how long a consumer waits for a message before looking again, hence how long stopping
    takes at most."""
    worker = dramatiq.Worker(broker, queues=queues, worker_threads=max(1, threads), worker_timeout=timeout_ms)
    worker.start()
    return worker


def stop_worker(worker: dramatiq.Worker, timeout_s: float = 600.0) -> None:
    """Running jobs stop at their next batch and are re-enqueued; waits up to ``timeout_s``."""
    worker.stop(timeout=int(timeout_s * 1000))
    job_runner(worker.broker).close()
    worker.broker.close()


class EmbeddedWorker:
    """The embedded default's job runner: an in-process broker and worker threads inside the
    calling process (the server). ``loupe serve`` wraps the server in ``with
    EmbeddedWorker(settings, resources=JobResources(index=its_index)) as jobs:`` and submits
    through ``jobs.queue``; jobs queued by other processes (``loupe index --background``)
    are picked up from the store within a few seconds."""

    def __init__(self, settings: Settings, *, registry: HandlerRegistry | None = None,
                 resources: JobResources | None = None, threads: int | None = None,
                 poll_s: float = EMBEDDED_POLL_S) -> None:
        if not is_embedded(settings):
            raise ValueError("redis_url is set: jobs run in `loupe worker` processes, not inside this one")
        self.settings = settings
        self.threads = threads or settings.job_threads
        self.broker = make_broker(settings, registry=registry, resources=resources, embedded=True, poll_s=poll_s)
        self._worker: dramatiq.Worker | None = None
        self._stopped = False

    @property
    def queue(self) -> JobQueue:
        return job_queue(self.broker)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self) -> "EmbeddedWorker":
        if self._stopped:
            raise RuntimeError("this EmbeddedWorker was stopped; create a new one to run jobs again")
        if self._worker is None:
            self._worker = start_worker(self.broker, self.threads)
            log.info("jobs: %d embedded worker thread(s) started", self.threads)
        return self

    def stop(self, timeout_s: float = 120.0) -> None:
        if self._worker is not None:
            stop_worker(self._worker, timeout_s)
            self._worker, self._stopped = None, True
            log.info("jobs: embedded worker stopped")

    def __enter__(self) -> "EmbeddedWorker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
