"""Persisted job state, in the catalog's database (SQLite by default, PostgreSQL by URL).

The database, not the broker, is the truth about a job: the broker only carries "run job N,
attempt A". Every change of a running job is conditional on its attempt number, so a worker
that lost its job (declared dead and the job re-enqueued) cannot overwrite the new attempt's
state, and a duplicate message for an old attempt is ignored.

States::
    queued ──claim──> running ──> succeeded | failed | cancelled
      │                  └──(worker stopped or died)──> interrupted ──claim──> running
      └──cancel──> cancelled            failed | cancelled | interrupted ──retry──> queued
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from connector.catalog import Catalog
from connector.catalog.schema import utcnow  # naive UTC, as the catalog stores times
from loupe_core.settings import Settings

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "succeeded", "failed", "cancelled", "interrupted")
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)
PENDING = (QUEUED, INTERRUPTED)  # waiting for a worker to claim them
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
RETRYABLE = (QUEUED, FAILED, CANCELLED, INTERRUPTED)  # queued too: re-sends a lost message
MAX_LOG_LINE = 2_000  # characters kept of one log line
MAX_ERROR = 10_000  # characters kept of an error


class JobError(Exception):
    """A job operation that cannot be done; the message says why."""


class JobNotFound(JobError, LookupError):
    pass


class JobBase(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class JobRow(JobBase):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list] = mapped_column(JSON, default=list)  # the most recent lines only
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid/thread of the running attempt
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


@dataclass(frozen=True)
class JobRecord:
    """A job as read from the store (a snapshot: read again to see changes)."""

    id: int
    kind: str
    params: dict[str, Any]
    state: str
    attempts: int
    progress_done: int
    progress_total: int | None
    message: str | None
    log: tuple[str, ...]
    error: str | None
    result: dict[str, Any] | None
    cancel_requested: bool
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @classmethod
    def of(cls, row: JobRow) -> "JobRecord":
        return cls(row.id, row.kind, dict(row.params or {}), row.state, row.attempts, row.progress_done or 0,
                   row.progress_total, row.message, tuple(row.log or ()), row.error,
                   dict(row.result) if row.result is not None else None, bool(row.cancel_requested), row.worker,
                   row.created_at, row.started_at, row.finished_at, row.heartbeat_at)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def as_dict(self, *, with_log: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "params": self.params, "state": self.state,
            "attempts": self.attempts, "progress": {"done": self.progress_done, "total": self.progress_total},
            "message": self.message, "error": self.error, "result": self.result,
            "cancel_requested": self.cancel_requested, "worker": self.worker,
            "created_at": _iso(self.created_at), "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at), "heartbeat_at": _iso(self.heartbeat_at),
        }
        if with_log:
            out["log"] = list(self.log)
        return out


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(timespec="seconds") + "Z"


def worker_name() -> str:
    """``host:pid/thread``: where an attempt runs (shown by `loupe jobs show`)."""
    return f"{socket.gethostname()}:{os.getpid()}/{threading.current_thread().name}"[:200]


class JobStore:
    """Jobs in the ``jobs`` table; short sessions, safe to share between threads."""

    def __init__(self, engine: Engine, *, log_lines: int = 200, owner: Any = None) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._log_lines = max(1, log_lines)
        self._owner = owner  # what to close with the store (the catalog that made the engine)
        JobBase.metadata.create_all(engine)

    @classmethod
    def open(cls, settings: Settings) -> "JobStore":
        """The store in the catalog database of ``settings``, opened as the catalog opens it
        (SQLite: WAL and a busy timeout, so workers, the server and the CLI share it)."""

        catalog = Catalog.open(settings)
        return cls(catalog.engine, log_lines=settings.job_log_lines, owner=catalog)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()
        else:
            self.engine.dispose()

    def __enter__(self) -> "JobStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self) -> Session:
        return self._session()

    # --- creating and reading ----------------------------------------------------------
    def create(self, kind: str, params: dict[str, Any] | None = None, *, message: str | None = None) -> JobRecord:
        with self.session() as s:
            row = JobRow(kind=kind, params=dict(params or {}), state=QUEUED, attempts=1, log=[],
                         message=message or "queued", created_at=utcnow())
            s.add(row)
            s.commit()
            return JobRecord.of(row)

    def get(self, job_id: int) -> JobRecord:
        with self.session() as s:
            row = s.get(JobRow, int(job_id))
            if row is None:
                raise JobNotFound(f"no job {job_id}; `loupe jobs list` shows the jobs")
            return JobRecord.of(row)

    def list(self, *, limit: int = 50, states: Sequence[str] | None = None, kind: str | None = None) -> list[JobRecord]:
        """Newest first."""
        q = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
        if states:
            q = q.where(JobRow.state.in_(list(states)))
        if kind:
            q = q.where(JobRow.kind == kind)
        with self.session() as s:
            return [JobRecord.of(r) for r in s.scalars(q)]

    def pending(self) -> list[JobRecord]:
        """Jobs waiting for a worker (queued or interrupted), oldest first."""
        with self.session() as s:
            return [JobRecord.of(r) for r in s.scalars(
                select(JobRow).where(JobRow.state.in_(PENDING)).order_by(JobRow.id))]

    # --- the running attempt (every change conditional on the attempt) ------------------
    def claim(self, job_id: int, attempt: int, worker: str | None = None) -> JobRecord | None:
        """Start ``attempt`` of a pending job; None when it is not pending at that attempt
        (already running elsewhere, finished, cancelled, or superseded by a later attempt)."""
        now = utcnow()
        with self.session() as s:
            done = s.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.attempts == attempt, JobRow.state.in_(PENDING))
                .values(state=RUNNING, started_at=now, heartbeat_at=now, finished_at=None,
                        worker=(worker or worker_name())[:200], error=None)).rowcount
            s.commit()
            return JobRecord.of(s.get(JobRow, job_id)) if done == 1 else None

    def heartbeat(self, job_id: int, attempt: int) -> bool:
        """False when the attempt is no longer the running one (the worker should stop)."""
        return self._update_running(job_id, attempt, heartbeat_at=utcnow())

    def report(self, job_id: int, attempt: int, *, done: int | None = None, total: int | None = None,
               message: str | None = None, log_lines: Iterable[str] = ()) -> bool:
        """Progress, message and new log lines of the running attempt (and a heartbeat)."""
        lines = [line[:MAX_LOG_LINE] for line in log_lines]
        with self.session() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.state != RUNNING or row.attempts != attempt:
                return False
            if done is not None:
                row.progress_done = int(done)
            if total is not None:
                row.progress_total = int(total)
            if message is not None:
                row.message = message
            if lines:
                row.log = (list(row.log or ()) + lines)[-self._log_lines:]
            row.heartbeat_at = utcnow()
            s.commit()
            return True

    def cancel_requested(self, job_id: int) -> bool:
        with self.session() as s:
            return bool(s.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def finish(self, job_id: int, attempt: int, state: str, *, message: str | None = None,
               error: str | None = None, result: dict[str, Any] | None = None) -> bool:
        """End the running attempt as succeeded, failed or cancelled."""
        if state not in FINISHED:
            raise ValueError(f"a job finishes as one of {', '.join(FINISHED)}, not {state!r}")
        values: dict[str, Any] = {"state": state, "finished_at": utcnow(),
                                  "error": error[:MAX_ERROR] if error else None}
        if message is not None:
            values["message"] = message
        if result is not None:
            values["result"] = result
        return self._update_running(job_id, attempt, **values)

    def interrupt(self, job_id: int, attempt: int, reason: str) -> JobRecord | None:
        """The running attempt stops without finishing (its worker is shutting down): the job
        becomes ``interrupted`` with a new attempt number, to be claimed again."""
        with self.session() as s:
            done = s.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.attempts == attempt, JobRow.state == RUNNING)
                .values(state=INTERRUPTED, attempts=attempt + 1, message=reason, worker=None)).rowcount
            s.commit()
            if done != 1:
                return None
            self._append_log(s, job_id, [reason])
            return JobRecord.of(s.get(JobRow, job_id))

    def _update_running(self, job_id: int, attempt: int, **values: Any) -> bool:
        with self.session() as s:
            done = s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.attempts == attempt,
                                                  JobRow.state == RUNNING).values(**values)).rowcount
            s.commit()
            return done == 1

    def _append_log(self, s: Session, job_id: int, lines: list[str]) -> None:
        row = s.get(JobRow, job_id)
        if row is not None:
            stamp = utcnow().strftime("%H:%M:%S")
            row.log = (list(row.log or ()) + [f"{stamp} {line}"[:MAX_LOG_LINE] for line in lines])[-self._log_lines:]
            s.commit()

    # --- operator actions -----------------------------------------------------------------
    def request_cancel(self, job_id: int) -> JobRecord:
        """A pending job is cancelled at once; a running one is asked to stop (its handler
        checks between batches). Cancelling a finished job is an error."""
        with self.session() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job {job_id}; `loupe jobs list` shows the jobs")
            if row.state in FINISHED:
                raise JobError(f"job {job_id} already {row.state}; nothing to cancel")
            if row.state in PENDING:
                row.state, row.finished_at, row.message = CANCELLED, utcnow(), "cancelled before it started"
            else:
                row.cancel_requested = True
                row.message = "cancel requested; the job stops after its current batch"
            s.commit()
            self._append_log(s, job_id, [row.message])
            return JobRecord.of(row)

    def prepare_retry(self, job_id: int) -> JobRecord:
        """Queue a failed, cancelled or interrupted job again (attempts + 1). Also accepted
        for a queued job, whose message may have been lost (a broker that was emptied)."""
        with self.session() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job {job_id}; `loupe jobs list` shows the jobs")
            if row.state not in RETRYABLE:
                raise JobError(f"job {job_id} is {row.state}; only {', '.join(RETRYABLE)} jobs can be retried")
            row.state, row.attempts = QUEUED, row.attempts + 1
            row.cancel_requested, row.error, row.finished_at, row.worker = False, None, None, None
            row.progress_done, row.progress_total = 0, None
            row.message = f"queued again (attempt {row.attempts})"
            s.commit()
            self._append_log(s, job_id, [row.message])
            return JobRecord.of(row)

    def recover_stale(self, max_age_s: float) -> list[JobRecord]:
        """Jobs left ``running`` by a worker that stopped sending heartbeats for ``max_age_s``
        (killed, or its machine lost) become ``interrupted`` with a new attempt number; the
        caller re-enqueues what this returns. Safe when several workers do it at once: each
        job is taken over by one of them."""
        cutoff = utcnow() - timedelta(seconds=max_age_s)
        recovered = []
        with self.session() as s:
            stale = s.execute(select(JobRow.id, JobRow.attempts, JobRow.worker, JobRow.heartbeat_at).where(
                JobRow.state == RUNNING, JobRow.heartbeat_at < cutoff)).all()
            for job_id, attempt, worker, beat in stale:
                reason = (f"interrupted: no heartbeat from {worker or 'its worker'} since "
                          f"{_iso(beat)}; re-enqueued (attempt {attempt + 1})")
                done = s.execute(update(JobRow).where(
                    JobRow.id == job_id, JobRow.attempts == attempt, JobRow.state == RUNNING,
                    JobRow.heartbeat_at < cutoff).values(state=INTERRUPTED, attempts=attempt + 1, message=reason,
                                                         worker=None)).rowcount
                s.commit()
                if done == 1:
                    self._append_log(s, job_id, [reason])
                    recovered.append(JobRecord.of(s.get(JobRow, job_id)))
        return recovered

