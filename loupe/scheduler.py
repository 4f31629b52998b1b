"""`loupe scheduler`: each source's incremental harvest on its own schedule, then an ``index``
job for what changed.

Every ``scheduler_tick_s`` the scheduler reads the sources (so a schedule set with `loupe
source schedule` meanwhile counts at once), harvests those that are due
(``connector.schedule``: interval since the last finished harvest, inside the source's
window) side by side, and queues an index job for each source whose harvest brought new,
changed or deleted manifests or new images: on Redis (``redis_url``; `loupe worker` runs it,
the index owner where the index is local) or in the job store for `loupe serve`'s embedded
worker. A harvest that fails (a server or the database down) leaves the source due: it is
tried again after ``scheduler_retry_s``, and resumes where it stopped (unchanged manifests
cost a conditional request). One scheduler per catalog: a second finds the sources'
harvests running and skips them.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, Callable

from connector.catalog import Catalog, CatalogError, SourceInfo
from connector.catalog.schema import utcnow
from connector.harvest import Harvester
from connector.schedule import is_due
from loupe_core.settings import Settings
from training_worker.broker import job_queue, make_broker
from training_worker.jobs import JobQueue, JobStore
from training_worker.kinds import job_kind

log = logging.getLogger(__name__)
CHANGES = ("new", "updated", "deleted", "images_fetched")


class Scheduler:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self._retry_at: dict[int, float] = {}  # source id -> monotonic time of the next try after a failure
        self._index_owed: dict[int, SourceInfo] = {}  # changed sources whose index job could not be queued yet
        self._catalog: Catalog | None = None
        self._queue: JobQueue | None = None
        self._closers: list[Callable[[], None]] = []

    # --- one round ------------------------------------------------------------------------
    def due(self, sources: list[SourceInfo]) -> list[SourceInfo]:
        now, mono = self.clock(), time.monotonic()
        return [s for s in sources if is_due(s.harvest_every_s, s.harvest_window, s.last_harvest_at, now)
                and self._retry_at.get(s.id, 0.0) <= mono]

    def run_once(self) -> list[dict[str, Any]]:
        """Harvest the sources due now and queue their indexing; one line of outcome per source."""
        try:
            catalog = self.catalog()
            due = self.due(catalog.list_sources())
        except Exception as e:  # noqa: BLE001 - the database may be down: try again next tick
            log.warning("scheduler: cannot read the sources (%s: %s); trying again in %s s",
                        type(e).__name__, e, self.settings.scheduler_tick_s)
            self._drop_catalog()
            return []
        outcomes = [self._queue_index(src, {"source": src.name or src.url, "state": "index retried"})
                     for src in list(self._index_owed.values())]
        if not due:
            return outcomes
        with Harvester(self.settings, catalog, progress=False) as harvester:
            for src, report in harvester.harvest_many(due, fetch_images=True):
                outcomes.append(self._after(src, report))
        return outcomes

    def _after(self, src: SourceInfo, report: Any) -> dict[str, Any]:
        name = src.name or src.url
        if isinstance(report, BaseException):
            self._retry_at[src.id] = time.monotonic() + self.settings.scheduler_retry_s
            log.warning("scheduler: harvest of %s failed (%s: %s); trying again in %s s", name,
                        type(report).__name__, report, self.settings.scheduler_retry_s)
            if not isinstance(report, CatalogError):
                self._drop_catalog()  # a connection broken by a database restart is not reused
            return {"source": name, "state": "failed", "error": f"{type(report).__name__}: {report}"}
        self._retry_at.pop(src.id, None)
        counts = dict(report.counts)
        changed = sum(int(counts.get(k, 0) or 0) for k in CHANGES)
        outcome: dict[str, Any] = {"source": name, "state": "harvested", "counts": counts}
        log.info("scheduler: harvested %s: %s", name, counts, extra={"source": name})
        return self._queue_index(src, outcome) if changed else outcome

    def _queue_index(self, src: SourceInfo, outcome: dict[str, Any]) -> dict[str, Any]:
        """Queue indexing of a changed source; owed, and tried again each round, until it is queued."""
        name = src.name or src.url
        try:
            job = self.submit_index(src)
        except Exception as e:  # noqa: BLE001 - the harvest stands; the job is queued next round
            self._index_owed[src.id] = src
            log.warning("scheduler: cannot queue indexing of %s yet (%s: %s)", name, type(e).__name__, e)
            return {**outcome, "index_error": f"{type(e).__name__}: {e}"}
        self._index_owed.pop(src.id, None)
        log.info("scheduler: index job %s queued for %s", job.id, name)
        return {**outcome, "index_job": job.id}

    def submit_index(self, src: SourceInfo):  # noqa: ANN201 - JobRecord
        params = job_kind("index").prepare({"source": str(src.id)}, self.settings, self.catalog()).as_dict()
        return self.queue().submit("index", params)

    # --- what it holds --------------------------------------------------------------------
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.open(self.settings)
        return self._catalog

    def _drop_catalog(self) -> None:
        if self._catalog is not None:
            try:
                self._catalog.close()
            finally:
                self._catalog = None

    def queue(self) -> JobQueue:
        if self._queue is None:
            if self.settings.redis_url:
                broker = make_broker(self.settings)
                self._closers.append(broker.close)
                self._queue = job_queue(broker)
            else:
                store = JobStore.open(self.settings)
                self._closers.append(store.close)
                self._queue = JobQueue(store)  # the server's embedded worker picks it up
        return self._queue

    def run(self, stop: threading.Event) -> None:
        """Rounds every ``scheduler_tick_s`` until ``stop`` is set."""
        while not stop.is_set():
            started = time.monotonic()
            self.run_once()
            stop.wait(max(0.0, self.settings.scheduler_tick_s - (time.monotonic() - started)))

    def close(self) -> None:
        self._drop_catalog()
        for close in reversed(self._closers):
            close()
        self._closers, self._queue = [], None
