"""Copy-paste for classes with few examples: annotated regions cut from one source image and
pasted, with their boxes, onto other samples' images (Ghiasi et al., "Simple Copy-Paste").
Run it on one side of a split only: a pasted sample carries pixels of two source images."""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from loupe_models.augmentation.boxes import area
from loupe_models.augmentation.camera import working_image
from loupe_models.augmentation.samples import Sample


@dataclass(frozen=True)
class Region:
    source_id: str
    label: str
    pixels: np.ndarray  # (h, w, 3) uint8 RGB


def label_counts(samples: Sequence[Sample]) -> Counter:
    return Counter(label for s in samples for label in s.labels)


def rare_labels(samples: Sequence[Sample], min_count: int) -> list[str]:
    """Labels with fewer than `min_count` boxes, rarest first."""
    counts = label_counts(samples)
    return sorted((lbl for lbl, n in counts.items() if n < min_count), key=lambda lbl: (counts[lbl], lbl))


def regions_of(sample: Sample, labels: set[str], work_side: int = 1024) -> list[Region]:
    image, scale = working_image(sample.image, work_side)
    out = []
    for (x0, y0, x1, y1), label in zip(np.round(sample.boxes * scale).astype(int), sample.labels):
        if label in labels and x1 - x0 >= 4 and y1 - y0 >= 4:
            out.append(Region(sample.source_id, label, image[max(y0, 0):y1, max(x0, 0):x1].copy()))
    return out


def paste(image: np.ndarray, boxes: np.ndarray, labels: tuple[str, ...], region: Region, rng: np.random.Generator,
          scale: tuple[float, float] = (0.15, 0.45), max_overlap: float = 0.2,
          ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None:
    """`region` pasted onto `image` at a random place and size (its long side `scale` of the
    image's short side), overlapping no box by more than `max_overlap` of that box; boxes it
    would hide by more than half are dropped. None when no place is found in ten tries."""
    h, w = image.shape[:2]
    rh, rw = region.pixels.shape[:2]
    for _ in range(10):
        f = min(h, w) * rng.uniform(*scale) / max(rh, rw)
        pw, ph = max(4, round(rw * f)), max(4, round(rh * f))
        if pw >= w or ph >= h:
            continue
        x, y = int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))
        new = np.array([[x, y, x + pw, y + ph]], np.float32)
        inter = np.stack([np.maximum(boxes[:, 0], x), np.maximum(boxes[:, 1], y),
                          np.minimum(boxes[:, 2], x + pw), np.minimum(boxes[:, 3], y + ph)], axis=1)
        overlap = np.divide(area(inter), area(boxes), out=np.zeros(len(boxes), np.float32), where=area(boxes) > 0)
        if len(boxes) and overlap.max() > max_overlap:
            continue
        patch = cv2.resize(region.pixels, (pw, ph), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        alpha = np.zeros((ph, pw), np.float32)  # a soft seam of a pixel or two
        cv2.rectangle(alpha, (1, 1), (pw - 2, ph - 2), 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.8)[..., None]
        out = image.copy()
        out[y:y + ph, x:x + pw] = (patch * alpha + out[y:y + ph, x:x + pw] * (1 - alpha)).astype(np.uint8)
        keep = overlap <= 0.5
        return (out, np.concatenate([boxes[keep], new]), tuple(lbl for lbl, k in zip(labels, keep) if k)
                + (region.label,))
    return None


def copy_paste(samples: Sequence[Sample], min_count: int, seed: int = 0, work_side: int = 1024) -> list[Sample]:
    """New samples so that every label reaches `min_count` boxes where it can: each pastes one
    region of a rare label onto another source's image. Deterministic for a seed."""
    rare = rare_labels(samples, min_count)
    if not rare or len({s.source_id for s in samples}) < 2:
        return []
    pool = [r for s in samples if set(s.labels) & set(rare) for r in regions_of(s, set(rare), work_side)]
    counts = label_counts(samples)
    made: list[Sample] = []
    for label in rare:
        mine = [r for r in pool if r.label == label]
        rng = np.random.default_rng([seed, zlib.crc32(label.encode())])
        for _ in range(10 * min_count):
            if counts[label] >= min_count or not mine:
                break
            region = mine[int(rng.integers(len(mine)))]
            canvases = [s for s in samples if s.source_id != region.source_id]
            canvas = canvases[int(rng.integers(len(canvases)))]
            image, scale = working_image(canvas.image, work_side)
            pasted = paste(image, canvas.boxes * scale, canvas.labels, region, rng)
            if pasted is None:
                continue
            made.append(Sample(canvas.source_id, pasted[0], pasted[1], pasted[2],
                               canvas.pasted_from | {region.source_id}, variant=len(made) + 1))
            counts.update(pasted[2][-1:])
    return made
