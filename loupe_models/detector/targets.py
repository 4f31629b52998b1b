"""Training targets from boxes (CenterNet): per class a Gaussian heatmap around each box's
centre cell, and at the cells near a centre the box as (dx, dy, log w, log h) in cells."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from loupe_models.detector.config import STRIDE

BOX_CELLS = 0.6  # box values are learnt where a box's Gaussian is at least this (its centre and neighbours)


def targets(boxes: np.ndarray, classes: Sequence[int], n_classes: int, grid: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """heat (grid, grid, C) in 0-1 (1 at centres), box (grid, grid, C, 4), weight (grid, grid, C)
    for `boxes` (N, 4) x0, y0, x1, y1 in input pixels."""
    heat = np.zeros((grid, grid, n_classes), np.float32)
    box = np.zeros((grid, grid, n_classes, 4), np.float32)
    weight = np.zeros((grid, grid, n_classes), np.float32)
    centres = (np.arange(grid, dtype=np.float32) + 0.5)
    for (x0, y0, x1, y1), k in zip(np.asarray(boxes, np.float32).reshape(-1, 4), classes):
        w, h = max(x1 - x0, 1.0) / STRIDE, max(y1 - y0, 1.0) / STRIDE
        cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
        ci, cj = min(int(cy), grid - 1), min(int(cx), grid - 1)
        sx, sy = max(w / 6, 0.5), max(h / 6, 0.5)
        g = np.exp(-((centres[None, :] - (cj + 0.5)) ** 2 / (2 * sx ** 2)
                     + (centres[:, None] - (ci + 0.5)) ** 2 / (2 * sy ** 2)))
        near = (g >= BOX_CELLS) & (g >= heat[..., k])  # the nearer box wins a shared cell
        heat[..., k] = np.maximum(heat[..., k], g)
        heat[ci, cj, k] = 1.0
        ii, jj = np.nonzero(near)
        box[ii, jj, k] = np.stack([cx - (jj + 0.5), cy - (ii + 0.5), np.full(len(ii), np.log(w)),
                                   np.full(len(ii), np.log(h))], axis=1)
        weight[ii, jj, k] = g[ii, jj]
    return heat, box, weight
