"""The embedding pipeline: reader -> mapper -> encoder -> writer, with explicit batching.

After clip-retrieval's clip_inference (reader.py, mapper.py, writer.py, runner.py): a pool
of threads reads and maps (decode at reduced size, resize and crop as open_clip does), the
calling thread stacks batches, runs the model and hands each batch to the writer. Threads,
not processes: Pillow's decoding and resizing and torch's kernels release the GIL, so
decoding of the next images overlaps with the model's work on the current batch.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence, TypeVar

import numpy as np
from PIL import Image

from loupe_core.settings import Settings
from loupe_models import hardware
from loupe_models.clip_model import ClipModel
from loupe_models.images import ImageSource, open_image
from loupe_models.preprocess import FastPreprocess

Item = TypeVar("Item")
# A reader turns one input item into the (key, image) pairs to embed: usually one, several
# for an image and its regions or views (decoded once, cropped many times). Readers may use
# `open_image(source, pipeline.draft)` to decode JPEGs at reduced size.
Reader = Callable[[Any], Sequence[tuple[Hashable, Image.Image]]]
Writer = Callable[[list[Hashable], np.ndarray], None]
OnError = Callable[[Any, Exception], None]


@dataclass
class EmbedStats:
    inputs: int = 0  # items read
    images: int = 0  # embeddings written
    failed: int = 0  # items whose reading failed (reported to on_error)
    batches: int = 0
    seconds: float = 0.0
    wait_seconds: float = 0.0  # the encoder waiting for decoded images (decoding is the bottleneck)
    encode_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


class EmbeddingPipeline:
    def __init__(self, model: ClipModel, *, batch_size: int | None = None, workers: int = 2,
                 prefetch_batches: int = 2, max_pixels: int | None = None, draft: bool = True) -> None:
        self.model = model
        self.batch_size = batch_size or model.batch_size
        self.workers = max(1, workers)
        self.window = self.batch_size * (prefetch_batches + 1)  # items decoded ahead, bounds memory
        self.max_pixels = max_pixels
        self.stage = FastPreprocess(model.preprocess)
        # Decode JPEGs at reduced size, never below what the transform's resize needs.
        self.draft = self.stage.draft_request if draft and self.stage.resize is not None else None

    @classmethod
    def from_settings(cls, model: ClipModel, settings: Settings, **options: Any) -> "EmbeddingPipeline":
        """Batch size, decoding threads and the pixel limit from the settings."""
        options.setdefault("batch_size", hardware.batch_size(settings, model.device))
        options.setdefault("workers", hardware.decode_workers(settings))
        options.setdefault("max_pixels", settings.max_image_pixels)
        return cls(model, **options)

    def read_source(self, item: tuple[Hashable, ImageSource]) -> list[tuple[Hashable, Image.Image]]:
        """The default reader: items are (key, path | bytes | file | PIL image)."""
        key, source = item
        return [(key, open_image(source, self.draft, self.max_pixels))]

    def run(self, items: Iterable[Item], write: Writer, *, read: Reader | None = None,
            on_error: OnError | None = None) -> EmbedStats:
        """Embed every image of `items`, calling `write(keys, embeddings)` once per batch in
        input order. A reading failure goes to `on_error(item, exc)` and the item is skipped;
        without `on_error` it stops the run."""
        read = read or self.read_source
        stats = EmbedStats()
        start = time.perf_counter()
        keys: list[Hashable] = []
        mapped: list[Any] = []

        def flush() -> None:
            if not keys:
                return
            t0 = time.perf_counter()
            embeddings = self.model.encode_pixels(self.stage.batch(mapped))
            t1 = time.perf_counter()
            write(list(keys), embeddings)
            stats.encode_seconds += t1 - t0
            stats.write_seconds += time.perf_counter() - t1
            stats.images += len(keys)
            stats.batches += 1
            keys.clear()
            mapped.clear()

        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="loupe-embed")
        pending: deque[tuple[Any, Future]] = deque()
        source = iter(items)
        try:
            self._fill(pool, pending, source, read)
            while pending:
                item, future = pending.popleft()
                self._fill(pool, pending, source, read)  # keep the pool busy while we wait
                t0 = time.perf_counter()
                try:
                    prepared = future.result()
                except Exception as e:  # noqa: BLE001 - reported, then skipped or raised
                    stats.inputs += 1
                    stats.failed += 1
                    if on_error is None:
                        raise
                    on_error(item, e)
                    continue
                finally:
                    stats.wait_seconds += time.perf_counter() - t0
                stats.inputs += 1
                for key, array in prepared:
                    keys.append(key)
                    mapped.append(array)
                    if len(keys) >= self.batch_size:
                        flush()
            flush()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        stats.seconds = time.perf_counter() - start
        return stats

    def _fill(self, pool: ThreadPoolExecutor, pending: deque, source: Iterator, read: Reader) -> None:
        while len(pending) < self.window:
            try:
                item = next(source)
            except StopIteration:
                return
            pending.append((item, pool.submit(self._prepare, read, item)))

    def _prepare(self, read: Reader, item: Any) -> list[tuple[Hashable, Any]]:
        return [(key, self.stage.map(image)) for key, image in read(item)]
