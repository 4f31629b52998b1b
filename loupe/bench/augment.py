"""``loupe bench augment``: visitor-camera views per second on one process and on every core
(``loupe_models.augmentation.parallel.augment``, as the ``augment`` job makes them), from the
shared lens artworks (../shared/data/lens) or, where absent, the bundled demo collection."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import cv2

from loupe_models.augmentation import Sample, VisitorCamera
from loupe_models.augmentation.parallel import augment
from loupe_models.detector.lens_folder import lens_folder_samples
from loupe_models.hardware import available_cores

LENS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens"
DEMO = Path(__file__).resolve().parents[2] / "demo" / "collection"


def samples(images: int) -> tuple[list[Sample], str]:
    if (LENS / "artworks").is_dir():
        found = lens_folder_samples(LENS)
        with_boxes = [s for s in found if s.labels]
        return (with_boxes + [s for s in found if not s.labels])[:images], str(LENS)
    files = sorted(p for p in DEMO.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:images]
    return [Sample(p.stem, p) for p in files], str(DEMO)


def _rate(chosen: list[Sample], views: int, camera: VisitorCamera, processes: int) -> float:
    """Views per second; one process means one core: OpenCV's own threads are off here as
    they are in the pool's workers (else "1 process" would use every core)."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        started = time.perf_counter()
        made = sum(len(v) for v in augment(chosen, views, 0, camera, processes, chosen))
        return made / (time.perf_counter() - started)
    finally:
        cv2.setNumThreads(threads)


def run(images: int = 24, views: int = 24, long_side: int = 384, processes: int = 0) -> dict:
    chosen, source = samples(images)
    if not chosen:
        raise FileNotFoundError(f"no images to augment in {LENS} or {DEMO}")
    camera = dataclasses.replace(VisitorCamera(), long_side=long_side)
    n = processes or available_cores()
    one = _rate(chosen, views, camera, 1)
    everyone = _rate(chosen, views, camera, n)
    return {"per_s_1": round(one, 2), "per_s_all": round(everyone, 2), "processes": n,
            "scaling": round(everyone / one / n, 3), "images": len(chosen), "views": len(chosen) * views,
            "long_side": long_side, "source": source}
