"""Many views across processes, reproducibly: view i of a sample is made from
`view_seed(seed, source, i)` alone, so the same seed gives the same views whatever the number
of processes and in whatever order they finish. Results come back in input order."""

from __future__ import annotations

import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from loupe_models.augmentation.camera import visitor_view, working_image
from loupe_models.augmentation.config import VisitorCamera
from loupe_models.augmentation.samples import Sample, View, view_seed

NEIGHBOUR_SIDE = 384  # neighbouring works are small in the photo


def views_of(sample: Sample, indices: Sequence[int], seed: int, camera: VisitorCamera,
             neighbours: Sequence[Sample] = ()) -> list[View]:
    """Views `indices` of `sample`; `neighbours`: works that may hang beside it (not itself)."""
    others = [_neighbour_image(n.image) if isinstance(n.image, Path) else n.image
              for n in neighbours if n.source_id != sample.source_id]
    # The sample decoded once for all its views (boxes are in the source's pixels: rescaled).
    image, scale = working_image(sample.image, camera.work_side)
    loaded = Sample(sample.source_id, image, sample.boxes * scale, sample.labels, sample.pasted_from, sample.variant)
    views = [visitor_view(loaded, view_seed(seed, sample.key, i), camera, others, i) for i in indices]
    for view in views:  # the map from the source's pixels, as the boxes are
        to_photo = np.asarray(view.info["sample_to_photo"]).reshape(3, 3) @ np.diag([scale, scale, 1.0])
        view.info["sample_to_photo"] = [round(float(v), 8) for v in to_photo.reshape(-1)]
    return views


def augment(samples: Sequence[Sample], views_per_sample: int, seed: int = 0,
            camera: VisitorCamera = VisitorCamera(), processes: int = 1,
            neighbours: Sequence[Sample] = ()) -> Iterator[list[View]]:
    """For each sample in order, its `views_per_sample` views, made in `processes` processes
    (started fresh: safe from a threaded server). Samples given as files are read in the
    workers, so only paths and the views travel between processes."""
    tasks = [(s, range(views_per_sample), seed, camera, tuple(neighbours)) for s in samples]
    processes = min(processes, len(tasks))
    if processes <= 1:
        yield from (views_of(*task) for task in tasks)
        return
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start)
    try:
        yield from pool.map(_views_of_task, tasks, chunksize=1)
    finally:  # also when the caller stops early (a cancelled job): drop what has not started
        pool.shutdown(wait=True, cancel_futures=True)


def _views_of_task(task: tuple) -> list[View]:
    return views_of(*task)


def _worker_start() -> None:
    cv2.setNumThreads(1)  # one process per core already


@functools.lru_cache(maxsize=64)
def _neighbour_image(path: Path) -> np.ndarray:
    return working_image(path, NEIGHBOUR_SIDE)[0]

