"""Helpers for the jobs tests: waiting for jobs, running a real dramatiq worker, counting points."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import dramatiq

from loupe_core.settings import Settings
from training_worker.broker import start_worker, stop_worker
from training_worker.jobs import FINISHED, JobRecord, JobStore


def wait_for(store: JobStore, job_id: int, states=FINISHED, timeout_s: float = 60.0) -> JobRecord:
    deadline = time.monotonic() + timeout_s
    while True:
        job = store.get(job_id)
        if job.state in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.state} after {timeout_s} s: {job.message}; log {job.log}")
        time.sleep(0.05)


@contextmanager
def worker_running(broker: dramatiq.Broker, threads: int = 1,
                   queues: set[str] | None = None) -> Iterator[dramatiq.Worker]:
    """Real dramatiq worker threads on ``broker`` (``queues``: only those) for the block."""
    worker = start_worker(broker, threads, timeout_ms=100, queues=queues)  # quick to stop
    try:
        yield worker
    finally:
        stop_worker(worker, timeout_s=60)


def age_heartbeat(store: JobStore, job_id: int, seconds: float = 3600) -> None:
    """Make a running job's last heartbeat ``seconds`` old (its worker died that long ago)."""
    from datetime import timedelta

    from sqlalchemy import update

    from training_worker.jobs.store import JobRow, utcnow

    with store.session() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))
        s.commit()


def expected_points(settings: Settings) -> dict[str, int]:
    """Points the demo catalog should give, by kind, according to ``images_to_index``."""
    from connector.catalog import Catalog
    from loupe_index.catalog_targets import images_to_index

    catalog = Catalog.open(settings)
    try:
        counts = {"image": 0, "region": 0, "view": 0}
        for item in images_to_index(catalog):
            for target in item.targets():
                counts[target.kind] += 1
        return counts
    finally:
        catalog.close()


def points_by_kind(settings: Settings, vector: str) -> dict[str, int]:
    from loupe_index import SearchFilters, VectorIndex

    with VectorIndex.open(settings, role="test", exact_search=False) as index:
        return {kind: index.count(vector, SearchFilters(kind=kind)) for kind in ("image", "region", "view")}
