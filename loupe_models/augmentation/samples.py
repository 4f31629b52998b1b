"""Samples in, views out, and the seed of every view."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Sample:
    """One source image with its annotated boxes (x0, y0, x1, y1 in its pixels)."""

    source_id: str
    image: np.ndarray | Path  # (H, W, 3) uint8 RGB, or a file read when needed
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: tuple[str, ...] = ()
    pasted_from: frozenset[str] = frozenset()  # sources of regions copied onto it
    variant: int = 0  # tells apart samples made from one source (copy-paste), for their seeds

    def __post_init__(self) -> None:
        object.__setattr__(self, "boxes", np.asarray(self.boxes, np.float32).reshape(-1, 4))
        if len(self.boxes) != len(self.labels):
            raise ValueError(f"{self.source_id}: {len(self.boxes)} boxes for {len(self.labels)} labels")

    @property
    def key(self) -> str:
        """Names the sample in view seeds: its source, and its variant when there is one."""
        return f"{self.source_id}#{self.variant}" if self.variant else self.source_id

    @property
    def sources(self) -> frozenset[str]:
        """Every source image whose pixels are in this sample (for splits that never leak)."""
        return self.pasted_from | {self.source_id}


@dataclass(frozen=True)
class View:
    """One augmented view of a sample."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    boxes: np.ndarray  # (N, 4) float32 pixels, inside the image
    labels: tuple[str, ...]
    source_id: str
    index: int  # the view's number for its sample
    seed: int
    info: dict = field(default_factory=dict)  # what was drawn: framing, angles, scene, effects


def view_seed(seed: int, key: str, index: int) -> int:
    """The seed of view `index` of the sample `key` (`Sample.key`): the same in any process and
    in any order."""
    entropy = [int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode()), int(index)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])
