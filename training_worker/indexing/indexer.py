"""Keeping one model's vectors in the index in step with the catalog.

A run: make room for the model's vector; delete the points of images that left the catalog
or whose content changed (their content_key is no longer live); skip images already indexed
with the same content_key; embed the rest (whole image, annotated regions, automatic views)
through the embedding pipeline; write whole images in batches, reporting progress and
checking for cancellation after each write. Stopped at any point, the next run resumes at
the first image not yet written; run twice, the second run writes nothing.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_core.settings import Settings
from loupe_index import VectorIndex
from loupe_index.catalog_targets import ImageToIndex, images_to_index
from loupe_models import EmbeddingPipeline

from .crops import TargetReader
from .model_ref import ModelRef
from .summary import IndexSummary
from .writer import PointWriter

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models import ClipModel

log = logging.getLogger(__name__)

# At most this many problems (unreachable or corrupt images) are written to the job's log one
# by one; the rest are counted.
MAX_LOGGED_PROBLEMS = 50


class Report(Protocol):
    """Where a run reports to; ``training_worker.jobs.JobContext`` is one."""

    stop_reason: str | None
    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None: ...
    def log(self, line: str) -> None: ...
    def cancelled(self) -> bool: ...


class QuietReport:
    """Reports nowhere and never stops (for use outside jobs)."""

    stop_reason: str | None = None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        pass

    def log(self, line: str) -> None:
        log.info("%s", line)

    def cancelled(self) -> bool:
        return False


class StopIndexing(Exception):
    """Raised from the writer to leave the pipeline when the run was cancelled."""


class Indexer:
    def __init__(self, settings: Settings, catalog: Catalog, index: VectorIndex, model: "ModelRef | ClipModel", *,
                 batch_images: int = 16, report: Report | None = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.index = index
        self.model = model if isinstance(model, ModelRef) else ModelRef.loaded(model)  # loaded when needed
        self.batch_images = batch_images
        self.report: Report = report or QuietReport()

    def run(self, source: str | None = None, *, activate: bool = False) -> IndexSummary:
        """Index the catalog (or one source: id, name or URL) for this model's vector; with
        ``activate``, make that vector the one searches use once the run is complete."""
        start = time.perf_counter()
        vector = self.model.vector
        summary = IndexSummary(model=self.model.name, vector=vector, mode=self.index.mode)
        self.index.ensure_vector(vector, self.model.dim)  # the first vector becomes the active one
        source_id = self.catalog.get_source(source).id if source else None

        items = list(images_to_index(self.catalog))
        indexed = self.index.indexed_keys(vector)
        stale = indexed - {item.content_key for item in items}
        if stale:
            summary.points_removed = self.index.delete_for_images(stale)
            self.report.log(f"removed {summary.points_removed} points of {len(stale)} images that left the "
                            f"catalog or changed")
        scope = [item for item in items if source_id is None or item.source_id == source_id]
        todo = [item for item in scope if item.content_key not in indexed]
        summary.images, summary.to_index, summary.skipped = len(scope), len(todo), len(scope) - len(todo)
        self.report.progress(0, len(todo), f"{len(todo)} images to index with {self.model.name} "
                                           f"({summary.skipped} already indexed)")
        if todo:
            self._embed(todo, vector, summary)
        if activate and not summary.stopped and self.index.active_vector() != vector:
            self.index.set_active(vector)
            self.report.log(f"{vector} is now the active vector")
        self._finish(summary, vector, start)
        return summary

    def _embed(self, todo: list[ImageToIndex], vector: str, summary: IndexSummary) -> None:
        def report_progress(may_stop: bool) -> None:
            summary.indexed, summary.points_written = writer.images_written, writer.points_written
            self.report.progress(summary.indexed + summary.failed, len(todo),
                                 f"{summary.indexed + summary.failed}/{len(todo)} images "
                                 f"({summary.points_written} points, {summary.failed} failed)")
            if may_stop and self.report.cancelled():
                raise StopIndexing()

        def on_error(numbered: tuple[int, ImageToIndex], error: Exception) -> None:
            _, item = numbered
            summary.failed += 1
            if summary.failed <= MAX_LOGGED_PROBLEMS:
                self.report.log(f"{item.canvas}: {error}")
            elif summary.failed == MAX_LOGGED_PROBLEMS + 1:
                self.report.log("more images failed; only their number is reported from here on")
            report_progress(False)

        writer = PointWriter(self.index, vector, todo, batch_images=self.batch_images, after_write=report_progress)
        self.report.progress(0, len(todo), f"loading model {self.model.name}")
        pipeline = EmbeddingPipeline.from_settings(self.model.get(), self.settings)
        with CatalogImages(self.settings, self.catalog) as images:
            try:
                stats = pipeline.run(enumerate(todo), writer, read=TargetReader(images), on_error=on_error)
                writer.flush(may_stop=False)
                summary.encode_seconds, summary.wait_seconds = stats.encode_seconds, stats.wait_seconds
                summary.write_seconds = stats.write_seconds
            except StopIndexing:
                summary.stopped = self.report.stop_reason or "cancel"
        summary.indexed, summary.points_written = writer.images_written, writer.points_written
        if writer.last_result is not None and writer.last_result.too_big_for_local:
            summary.warning = writer.last_result.message

    def _finish(self, summary: IndexSummary, vector: str, start: float) -> None:
        status = self.index.status()
        summary.points_total = status["vectors"].get(vector, {}).get("points", 0)
        summary.active = status.get("active")
        if summary.warning is None:  # nothing written this run: the index may be too big all the same
            summary.warning = next((w for w in status.get("warnings", ()) if f" for {vector}," in w), None)
        summary.seconds = time.perf_counter() - start
        if summary.failed:
            self.report.log(f"{summary.failed} images could not be indexed (unreachable or corrupt); "
                            f"a later run tries them again")
