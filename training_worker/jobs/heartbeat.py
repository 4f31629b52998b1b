"""A running job's heartbeat: a thread that tells the store "still alive" every few seconds,
so that a job whose worker died can be told apart from one that is merely slow (one batch of
a large model may take longer than any progress interval)."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .store import JobStore

log = logging.getLogger(__name__)


class Heartbeat:
    """``with Heartbeat(store, job_id, attempt, every_s, on_lost): ...``"""

    def __init__(self, store: JobStore, job_id: int, attempt: int, every_s: float,
                 on_lost: Callable[[], None]) -> None:
        self.store = store
        self.job_id = job_id
        self.attempt = attempt
        self.every_s = max(0.05, every_s)
        self.on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"loupe-job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                alive = self.store.heartbeat(self.job_id, self.attempt)
            except Exception:  # noqa: BLE001 - a database hiccup: try again at the next beat
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)
                continue
            if not alive:
                log.warning("job %s attempt %s: the store no longer has it running (taken over "
                            "after a stale heartbeat?); stopping it", self.job_id, self.attempt)
                self.on_lost()
                return
