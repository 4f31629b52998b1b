"""Submitting, cancelling and retrying jobs: a row in the store, then a message to the broker.

``send(job_id, attempt)`` delivers the message (``training_worker.broker.job_queue`` makes a
queue that sends to the broker's actor). Without
one (the command line in the embedded default, where the broker lives inside the server
process) jobs are only recorded as queued; the server's embedded worker picks them up.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from .store import JobRecord, JobStore

log = logging.getLogger(__name__)

Send = Callable[[int, int], None]


class JobQueue:
    def __init__(self, store: JobStore, send: Send | None = None) -> None:
        self.store = store
        self.send = send

    @property
    def delivers(self) -> bool:
        """Does this queue hand jobs to a broker (False: recorded for the server to pick up)?"""
        return self.send is not None

    def submit(self, kind: str, params: dict[str, Any] | None = None) -> JobRecord:
        job = self.store.create(kind, params)
        self.enqueue(job)
        return job

    def enqueue(self, job: JobRecord) -> None:
        if self.send is not None:
            self.send(job.id, job.attempts)
            log.info("job %s (%s) attempt %s enqueued", job.id, job.kind, job.attempts)

    def retry(self, job_id: int) -> JobRecord:
        job = self.store.prepare_retry(job_id)
        self.enqueue(job)
        return job

    def cancel(self, job_id: int) -> JobRecord:
        return self.store.request_cancel(job_id)

    def recover_stale(self, max_age_s: float) -> list[JobRecord]:
        """Running jobs whose worker died: marked interrupted and enqueued again."""
        recovered = self.store.recover_stale(max_age_s)
        for job in recovered:
            log.warning("job %s (%s): %s", job.id, job.kind, job.message)
            self.enqueue(job)
        return recovered
