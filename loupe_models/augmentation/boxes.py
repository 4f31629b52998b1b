"""Boxes through a homography: each box's corners mapped, the box around them clipped to the
image, and dropped when mostly out of view."""

from __future__ import annotations

import numpy as np


def corners(boxes: np.ndarray) -> np.ndarray:
    """(N, 4, 2): the corners of (N, 4) x0, y0, x1, y1 boxes."""
    x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
    return np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                     np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=1)


def apply_homography(points: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (..., 2) through `matrix`; also whether each lies in front of the camera."""
    h = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], axis=-1) @ matrix.T
    w = h[..., 2:3]
    front = w[..., 0] > 1e-6
    return h[..., :2] / np.where(np.abs(w) < 1e-9, 1e-9, w), front


def transform_boxes(boxes: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boxes around each box's mapped corners, and which boxes are wholly in front."""
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, bool)
    points, front = apply_homography(corners(np.asarray(boxes, np.float64)), matrix)
    out = np.concatenate([points.min(axis=1), points.max(axis=1)], axis=1)
    return out.astype(np.float32), front.all(axis=1)


def area(boxes: np.ndarray) -> np.ndarray:
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def clip_visible(boxes: np.ndarray, valid: np.ndarray, size: tuple[int, int],
                 min_visible: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes clipped to the image (width, height), and the indices of those kept: in front of
    the camera, at least `min_visible` of their area in the image, at least 2 pixels wide."""
    w, h = size
    clipped = np.stack([np.clip(boxes[:, 0], 0, w), np.clip(boxes[:, 1], 0, h),
                        np.clip(boxes[:, 2], 0, w), np.clip(boxes[:, 3], 0, h)], axis=1)
    full = area(boxes)
    share = np.divide(area(clipped), full, out=np.zeros_like(full), where=full > 0)
    keep = valid & (share >= min_visible) & (clipped[:, 2] - clipped[:, 0] >= 2) & (clipped[:, 3] - clipped[:, 1] >= 2)
    return clipped[keep], np.flatnonzero(keep)


def uncovered_share(boxes: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """For each box, the share of its pixels not covered (`covered`: (H, W) floats in 0-1)."""
    out = np.ones(len(boxes), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        patch = covered[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
        if patch.size:
            out[i] = 1.0 - float(patch.mean())
    return out
