"""What a job handler gets: its parameters, progress and log reporting, and whether to stop.

Handlers are plain functions ``handler(ctx) -> dict | None`` (the dict is the job's result).
They call ``ctx.progress(done, total, message)`` as work advances and check
``ctx.cancelled()`` between batches: True when someone cancelled the job or the worker is
shutting down; the handler then returns (or raises ``JobCancelled``) and the runner records
the job as cancelled, or as interrupted to be resumed by another worker.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from loupe_core.settings import Settings

from .store import JobRecord, JobStore, utcnow

if TYPE_CHECKING:  # pragma: no cover
    from training_worker.resources import JobResources

log = logging.getLogger(__name__)

# Progress is written to the database at most this often (the last report always is).
REPORT_EVERY_S = 0.5

# Called with (done, total, message) on every progress report, before any throttling: the
# command line's progress bar.
ProgressObserver = Callable[[int, "int | None", "str | None"], None]


class JobStopped(Exception):
    """Base of the ways a handler stops early."""


class JobCancelled(JobStopped):
    """Someone cancelled the job (``loupe jobs cancel``)."""


class JobInterrupted(JobStopped):
    """The worker is shutting down; the job is re-enqueued and resumes elsewhere."""


class JobLost(JobStopped):
    """This attempt is no longer the job's current one (declared dead and taken over)."""


@dataclass
class Progress:
    done: int = 0
    total: int | None = None
    message: str | None = None


class JobContext:
    def __init__(self, job: JobRecord, store: JobStore, settings: Settings, resources: "JobResources", *,
                 stopping: threading.Event | None = None, observer: ProgressObserver | None = None) -> None:
        self.job = job
        self.store = store
        self.settings = settings
        self.resources = resources
        self.observer = observer
        self.latest = Progress(job.progress_done, job.progress_total, job.message)
        self.stop_reason: str | None = None  # "cancel" or "shutdown" once a handler was told to stop
        self._stopping = stopping or threading.Event()
        self._lost = threading.Event()
        self._log: list[str] = []
        self._last_report = 0.0
        self._lock = threading.Lock()

    # --- identity -----------------------------------------------------------------------
    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    # --- reporting ----------------------------------------------------------------------
    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """``done`` of ``total`` units (total None: unknown), with an optional message."""
        with self._lock:
            self.latest = Progress(done, total if total is not None else self.latest.total,
                                   message if message is not None else self.latest.message)
        if self.observer is not None:
            self.observer(done, self.latest.total, message)
        final = self.latest.total is not None and done >= self.latest.total
        if final or time.monotonic() - self._last_report >= REPORT_EVERY_S:
            self.flush()

    def set_message(self, message: str) -> None:
        with self._lock:
            self.latest.message = message
        self.flush()

    def log(self, line: str) -> None:
        """A line for `loupe jobs show` (the most recent ``job_log_lines`` are kept), also
        written to this process's log."""
        log.info("job %s: %s", self.job_id, line)
        with self._lock:
            self._log.append(f"{utcnow().strftime('%H:%M:%S')} {line}")

    def flush(self) -> None:
        """Write progress, message and pending log lines now."""
        with self._lock:
            lines, self._log = self._log, []
            p = self.latest
            self._last_report = time.monotonic()
        if not self.store.report(self.job_id, self.attempt, done=p.done, total=p.total, message=p.message,
                                 log_lines=lines):
            self._lost.set()
            raise JobLost(f"job {self.job_id} attempt {self.attempt} is no longer the running one")

    # --- stopping -----------------------------------------------------------------------
    def cancelled(self) -> bool:
        """Should the handler stop now? Check between batches; True also when the worker is
        shutting down (the runner then re-enqueues the job instead of cancelling it)."""
        if self._lost.is_set():
            raise JobLost(f"job {self.job_id} attempt {self.attempt} is no longer the running one")
        if self._stopping.is_set():
            self.stop_reason = "shutdown"
        elif self.store.cancel_requested(self.job_id):
            self.stop_reason = "cancel"
        return self.stop_reason is not None

    def raise_if_cancelled(self) -> None:
        if self.cancelled():
            raise JobInterrupted("the worker is shutting down") if self.stop_reason == "shutdown" \
                else JobCancelled("cancelled")

    def mark_lost(self) -> None:
        """Called by the heartbeat when the store no longer knows this attempt as running."""
        self._lost.set()
