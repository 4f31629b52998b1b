"""A reader of a local index that another process owns: how several API processes (gunicorn
workers) search the compact store while one process (`loupe worker --index-owner`) writes it.

``ReplicaStore`` holds a read-only ``CompactStore`` (a snapshot: the codes in memory, the
files and SQLite opened for reading, no lock taken) and a thread that asks SQLite every
``index_refresh_s`` whether another process committed since (``PRAGMA data_version``). When
one did, it opens a new snapshot, loads the vectors' codes, and switches to it; searches
already running finish on the old one, which is closed at the next switch. So a replica sees
what the owner wrote within about ``index_refresh_s`` plus the time to load the codes
(0.4 to 2.2 s at 500,000 points), and every switch costs that load again: right for a museum's
index that changes with harvests, not for one rewritten all day (use a Qdrant server there).
Writes raise ``VectorIndexError``: they belong to the owner. Opening one before the owner has
created the index raises ``VectorIndexError`` too (the service answers 503 and tries again).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, ContextManager

from loupe_core.settings import Settings

from .compact_store import DB_FILE, CompactStore

log = logging.getLogger(__name__)


class ReplicaStore:
    """The ``Store`` interface over the current read-only snapshot (by delegation)."""

    mode = "local"
    kind = "compact (reader)"
    exact_search = False

    def __init__(self, folder: Path, settings: Settings) -> None:
        self.folder = folder
        self.location = str(folder)
        self.local_limit = settings.local_points_warning
        self.settings = settings
        self._current = self._open()  # VectorIndexError when the owner has not created it yet
        self._retired: CompactStore | None = None
        self._watch = sqlite3.connect(f"{(folder / DB_FILE).resolve().as_uri()}?mode=ro", uri=True,
                                      check_same_thread=False)
        self._version = self._data_version()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._follow, name="loupe-index-replica", daemon=True)
        self._thread.start()

    def _open(self) -> CompactStore:
        store = CompactStore(self.folder, self.settings, read_only=True)
        try:
            for name in store.vector_names():
                store.warm(name)
        except BaseException:
            store.close()
            raise
        return store

    def _data_version(self) -> int:
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def _follow(self) -> None:
        while not self._stop.wait(max(0.05, self.settings.index_refresh_s)):
            try:
                self.refresh()
            except Exception as e:  # noqa: BLE001 - keep the snapshot in force, try again next time
                log.warning("index replica: cannot load the owner's changes (%s: %s); trying again", type(e).__name__, e)

    def refresh(self, force: bool = False) -> bool:
        """Switch to a new snapshot if the owner committed since the last one; whether it did."""
        with self._lock:
            version = self._data_version()
            if version == self._version and not force:
                return False
            fresh = self._open()
            old, self._retired, self._current = self._retired, self._current, fresh
            self._version = version
        if old is not None:
            old.close()
        log.debug("index replica: switched to the owner's latest commit")
        return True

    @property
    def write_lock(self) -> ContextManager[Any]:
        return self._current.write_lock

    def snapshot(self) -> list[str]:
        return self._current.snapshot()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._current, name)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        with self._lock:
            for store in (self._retired, self._current):
                if store is not None:
                    store.close()
            self._watch.close()
