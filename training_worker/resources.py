"""What jobs share within one process: the model cache and, where the process already holds
it, the open vector index.

Qdrant local mode lets one process own the index. In the embedded default that process is
the server, whose worker threads run the jobs: the server passes its open ``VectorIndex``
here and the jobs write through it (its exact search mirror stays current). Elsewhere (`loupe
worker`, `loupe index`) the index is opened when a job needs it, shared by the jobs running
at the same time in this process (local mode allows one opening per process), and closed
when the last of them ends, so that other processes can use local storage between jobs.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from loupe_core.settings import Settings
from loupe_index import VectorIndex
from loupe_models import load_model

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from loupe_index import VectorIndex
    from loupe_models import ClipModel, ModelCache


class JobResources:
    def __init__(self, *, index: "VectorIndex | None" = None, models: "ModelCache | None" = None) -> None:
        self.index = index
        self.models = models  # None: the process-wide cache (loupe_models.PROCESS_MODELS)
        self._opened: "VectorIndex | None" = None  # opened here, shared by the jobs using it
        self._users = 0
        self._lock = threading.Lock()

    def model(self, settings: Settings, name: str | None = None, *, weights_path: "Path | None" = None) -> "ClipModel":
        """The model ``name`` (default: settings.model), loaded once per process; with
        ``weights_path``, from that checkpoint (a fine-tuned version)."""

        return load_model(settings, name, cache=self.models, weights_path=weights_path)

    @contextmanager
    def vector_index(self, settings: Settings, role: str) -> Iterator["VectorIndex"]:
        """The index given at construction, else one opened for the blocks running now
        (``role`` names this process in the message another process gets meanwhile)."""
        if self.index is not None:
            yield self.index
            return

        with self._lock:
            if self._opened is None:
                self._opened = VectorIndex.open(settings, role=role, exact_search=False)
            self._users += 1
            index = self._opened
        try:
            yield index
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._opened, opened = None, self._opened
                    opened.close()
