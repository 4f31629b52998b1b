"""Job behaviour added to dramatiq as middleware (the way dramatiq adds retries, time limits
and shutdown notifications), so that the actor itself stays a plain function.

- ``StopJobsOnShutdown``: when the worker stops, running jobs are asked to stop at their
  next batch (cooperatively, instead of dramatiq's exception injected into the thread); the
  runner records them as interrupted and re-enqueues them.
- ``RecoverStaleJobs``: when a worker starts, and periodically while it runs, jobs left
  ``running`` by a dead worker (stale heartbeat) are marked interrupted and re-enqueued.
- ``FeedPendingJobs`` (embedded broker only): the in-process queue is empty whenever the
  server starts and cannot be reached from other processes, so pending jobs in the store
  (queued by `loupe index --background`, left over from the last run) are sent to it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from dramatiq import Middleware

if TYPE_CHECKING:  # pragma: no cover
    from dramatiq import Broker, Message, Worker

    from training_worker.jobs import JobQueue, JobStore

log = logging.getLogger(__name__)

# The one actor that runs every job (its message carries the job id and attempt).
ACTOR_NAME = "run_job"


class StopJobsOnShutdown(Middleware):
    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping

    def after_worker_boot(self, broker: "Broker", worker: "Worker") -> None:
        self.stopping.clear()

    def before_worker_shutdown(self, broker: "Broker", worker: "Worker") -> None:
        self.stopping.set()


class _Periodic:
    """A daemon thread calling ``action`` every ``every_s`` until stopped."""

    def __init__(self, name: str, every_s: float, action: Callable[[], None]) -> None:
        self._stop = threading.Event()
        self._every_s = max(0.05, every_s)
        self._action = action
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._action()
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.warning("%s failed", self._thread.name, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class RecoverStaleJobs(Middleware):
    def __init__(self, queue: Callable[["Broker"], "JobQueue"], max_age_s: float, every_s: float | None = None) -> None:
        self.queue = queue  # the broker's job queue, made when the worker boots
        self.max_age_s = max_age_s
        self.every_s = every_s if every_s is not None else max(1.0, max_age_s / 2)
        self._periodic: _Periodic | None = None

    def after_worker_boot(self, broker: "Broker", worker: "Worker") -> None:
        queue = self.queue(broker)

        def recover() -> None:
            queue.recover_stale(self.max_age_s)

        recover()
        self._periodic = _Periodic("loupe-recover-stale-jobs", self.every_s, recover)

    def before_worker_shutdown(self, broker: "Broker", worker: "Worker") -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None


class FeedPendingJobs(Middleware):
    def __init__(self, store: Callable[[], "JobStore"], poll_s: float = 2.0) -> None:
        self.store = store
        self.poll_s = poll_s
        self._sent: set[tuple[int, int]] = set()  # (job id, attempt) already on the queue
        self._lock = threading.Lock()
        self._periodic: _Periodic | None = None

    def after_enqueue(self, broker: "Broker", message: "Message", delay: int | None) -> None:
        if message.args:
            with self._lock:
                self._sent.add((int(message.args[0]), int(message.args[1]) if len(message.args) > 1 else -1))

    def after_worker_boot(self, broker: "Broker", worker: "Worker") -> None:
        actor = broker.get_actor(ACTOR_NAME)
        with self._lock:
            self._sent.clear()  # a new in-memory queue: nothing is on it

        def feed() -> None:
            pending = self.store().pending()
            for job in pending:
                with self._lock:
                    if (job.id, job.attempts) in self._sent:
                        continue
                actor.send(job.id, job.attempts)
                log.info("job %s (%s): picked up from the store (%s)", job.id, job.kind, job.state)
            waiting = {(job.id, job.attempts) for job in pending}
            with self._lock:  # forget messages already taken (a rare duplicate is ignored by the runner)
                self._sent &= waiting

        feed()
        self._periodic = _Periodic("loupe-feed-pending-jobs", self.poll_s, feed)

    def before_worker_shutdown(self, broker: "Broker", worker: "Worker") -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
