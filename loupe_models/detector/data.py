"""What the detector trains and is measured on: samples split by source image, and pools of
visitor-camera views letterboxed into the input.

The split is by source image (``augmentation.split_by_source``) wherever a class allows it.
A class annotated on one image only (a named detail of one artwork: each is its own class)
cannot be held out by source: its image stays in training, and its held-out views are other
views of it (other seeds, never trained on). `DetectionSplit.views_only` names those images.
Imports OpenCV and albumentations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from loupe_models.augmentation import Sample, VisitorCamera, split_by_source
from loupe_models.augmentation.parallel import augment
from loupe_models.detector.config import DetectorConfig
from loupe_models.detector.decode import letterbox

WORK_SIDE = 768  # the artwork's long side while its views are made (input 256: a detail of 40% is sharp)


@dataclass(frozen=True)
class DetectionSplit:
    train: tuple[Sample, ...]
    validation: tuple[Sample, ...]
    views_only: frozenset[str]  # sources on both sides: their classes have no other image

    def as_json(self) -> dict:
        return {"train_images": len(self.train), "validation_images": len(self.validation),
                "held_out_by_source": len([s for s in self.validation if s.source_id not in self.views_only]),
                "held_out_by_view_only": len(self.views_only)}


def classes_of(samples: Sequence[Sample]) -> tuple[str, ...]:
    return tuple(sorted({label for s in samples for label in s.labels}))


def detection_split(samples: Sequence[Sample], validation: float = 0.2, seed: int = 0) -> DetectionSplit:
    """By source image; an image holding a class that no other image holds is on both sides."""
    split = split_by_source(samples, validation, seed)
    sources: dict[str, set[str]] = {}
    for s in samples:
        for label in s.labels:
            sources.setdefault(label, set()).add(s.source_id)
    single = {label for label, found in sources.items() if len(found) == 1}
    trained = {label for s in split.train for label in s.labels}
    to_train = [s for s in split.validation if (set(s.labels) - trained) or (set(s.labels) & single)]
    to_validate = [s for s in split.train if set(s.labels) & single]
    views_only = frozenset(s.source_id for s in to_train + to_validate)
    return DetectionSplit(split.train + tuple(to_train), split.validation + tuple(to_validate), views_only)


@dataclass(frozen=True)
class ViewPool:
    """Letterboxed views: pixels (N, S, S, 3) uint8, and per view boxes (input pixels) and labels."""

    pixels: np.ndarray
    boxes: list[np.ndarray]
    labels: list[tuple[str, ...]]
    sources: list[str]
    rounds: list[int]  # which of the requested rounds of views (epochs) a view belongs to

    def round(self, number: int) -> np.ndarray:
        """Indices of the views of round `number`."""
        return np.flatnonzero(np.asarray(self.rounds) == number)

    def __len__(self) -> int:
        return len(self.pixels)


def camera_for(config: DetectorConfig, camera: VisitorCamera | None = None) -> VisitorCamera:
    """Views as large as the input: a view's long side is the input side; the artwork is worked
    at no more than needed to frame a detail sharply."""
    return dataclasses.replace(camera or VisitorCamera(), long_side=config.input_size,
                               work_side=max(WORK_SIDE, 3 * config.input_size))


def view_pool(samples: Sequence[Sample], config: DetectorConfig, views: int, background_views: int, seed: int,
              camera: VisitorCamera | None = None, processes: int = 1, rounds: int = 1) -> ViewPool:
    """`views` views of each sample with boxes, `background_views` of each without, `rounds`
    times (one round per epoch; all made in one pass, so processes start once)."""
    cam = camera_for(config, camera)
    pixels, boxes, labels, sources, numbers = [], [], [], [], []
    neighbours = [s for s in samples if not s.pasted_from]
    for count, group in ((views, [s for s in samples if len(s.labels)]),
                         (background_views, [s for s in samples if not len(s.labels)])):
        if count <= 0 or not group:
            continue
        for made in augment(group, count * rounds, seed, cam, processes, neighbours):
            for view in made:
                numbers.append(view.index // count)
                image, scale = letterbox(view.image, config.input_size)
                pixels.append(image.astype(np.uint8))
                boxes.append(np.asarray(view.boxes, np.float32).reshape(-1, 4) * scale)
                labels.append(tuple(view.labels))
                sources.append(view.source_id)
    size = config.input_size
    return ViewPool(np.stack(pixels) if pixels else np.zeros((0, size, size, 3), np.uint8), boxes, labels, sources,
                    numbers)


def batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
