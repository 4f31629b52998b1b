"""The pipeline's writer for indexing: embeddings arrive in input order, batch by batch; an
image's points are complete when its last target arrives, and whole images are written to
the index together (an image counts as indexed only once its ``image`` point is written, see
``VectorIndex.upsert``, so a run stopped between writes resumes at the next image)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from loupe_index import IndexPoint, UpsertResult, VectorIndex

from .crops import CropKey

if TYPE_CHECKING:  # pragma: no cover
    from loupe_index.catalog_targets import ImageToIndex

# A partial batch is written anyway after this long, so progress moves with slow models.
FLUSH_EVERY_S = 5.0


class PointWriter:
    def __init__(self, index: VectorIndex, vector: str, items: Sequence["ImageToIndex"], *, batch_images: int,
                 after_write: Callable[[bool], None], flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.index = index
        self.vector = vector
        self.items = items
        self.batch_images = max(1, batch_images)
        # after_write(may_stop): progress, and (may_stop) the cancel check, which raises to stop the run
        self.after_write = after_write
        self.flush_every_s = flush_every_s
        self.images_written = 0
        self.points_written = 0
        self.last_result: UpsertResult | None = None
        self._assembling: list[IndexPoint] = []  # points of the image whose targets are arriving
        self._ready: list[IndexPoint] = []  # points of complete images, not written yet
        self._ready_images = 0
        self._last_write = time.monotonic()

    def __call__(self, keys: list[CropKey], embeddings: np.ndarray) -> None:
        for key, vector in zip(keys, embeddings):
            self._assembling.append(self.items[key.image_no].point(key.target, vector))
            if key.last:
                self._ready.extend(self._assembling)
                self._assembling = []
                self._ready_images += 1
        if self._ready_images >= self.batch_images or (
                self._ready_images and time.monotonic() - self._last_write >= self.flush_every_s):
            self.flush()

    def flush(self, *, may_stop: bool = True) -> None:
        """Write the complete images now, then report (and, with ``may_stop``, stop the run
        if it was cancelled: the last flush of a finished run passes False)."""
        if self._ready:
            self.last_result = self.index.upsert(self._ready, self.vector)
            self.points_written += len(self._ready)
            self.images_written += self._ready_images
            self._ready, self._ready_images = [], 0
        self._last_write = time.monotonic()
        self.after_write(may_stop)
