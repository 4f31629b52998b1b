"""Pictures into the detector's input, its output into detections (numpy only).

The input: the picture's long side resized to ``input_size``, placed at the top left of a
square of ``PAD_VALUE`` (RGB 0-255 floats; normalisation is in the model). The output, per
cell (i, j) of the stride-16 grid: C heatmap logits, then per class (dx, dy, log w, log h) in
cells. A detection of class c is a cell whose probability is the largest of its 3 x 3
neighbourhood and at least c's threshold; its box is centred at ((j + 0.5 + dx), (i + 0.5 +
dy)) cells, exp(log w) by exp(log h) cells, then scaled back to the picture.
``lens/src/detect.js`` decodes the same way (`DECODING` is what loupe.json says).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from loupe_models.detector.config import PAD_VALUE, STRIDE, Detection, DetectorConfig

LOG_SIZE_LIMIT = 6.0  # log sizes are clipped to +-this before exp (no overflow)
DECODING = {
    "layout": "NHWC: [1, grid, grid, 5 * classes]; channels 0..C-1 heatmap logits, then for class c "
              "channels C + 4c .. C + 4c + 3 = dx, dy, log_w, log_h (in cells)",
    "score": "sigmoid(logit)",
    "peak": "score equals the maximum of its 3x3 neighbourhood (cells outside the grid do not count) "
            "and score >= thresholds[c]",
    "box": "cx = (j + 0.5 + dx) * stride, cy = (i + 0.5 + dy) * stride, w = exp(clip(log_w, -6, 6)) * stride, "
           "h = exp(clip(log_h, -6, 6)) * stride, in input pixels; divide by scale to get picture pixels "
           "and clip to the picture",
    "order": "by score, highest first, at most max_detections",
}


def letterbox(picture: Image.Image | np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """(size, size, 3) float32 RGB 0-255 and the scale from picture pixels to input pixels."""
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image = image.convert("RGB")
    scale = size / max(image.size)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    out = np.full((size, size, 3), PAD_VALUE, np.float32)
    out[:h, :w] = np.asarray(image.resize((w, h), Image.Resampling.BILINEAR), np.float32)
    return out, scale


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def peaks(scores: np.ndarray, kernel: int = 3) -> np.ndarray:
    """(H, W, C) bool: cells equal to the maximum of their k x k neighbourhood."""
    r = kernel // 2
    padded = np.pad(scores, ((r, r), (r, r), (0, 0)), constant_values=-np.inf)
    h, w = scores.shape[:2]
    best = np.max([padded[i:i + h, j:j + w] for i in range(kernel) for j in range(kernel)], axis=0)
    return scores >= best


def decode(output: np.ndarray, config: DetectorConfig, thresholds: Sequence[float] | float = 0.5,
           scale: float = 1.0, picture_size: tuple[int, int] | None = None) -> list[Detection]:
    """Detections from one output map (grid, grid, 5C) (a batch of one is accepted)."""
    output = np.asarray(output, np.float32)
    if output.ndim == 4:
        output = output[0]
    c = len(config.classes)
    scores = sigmoid(output[..., :c])
    boxes = output[..., c:].reshape(output.shape[0], output.shape[1], c, 4)
    limit = np.broadcast_to(np.asarray(thresholds, np.float32), (c,))
    found = np.argwhere(peaks(scores, config.peak_kernel) & (scores >= limit))
    order = np.argsort(-scores[found[:, 0], found[:, 1], found[:, 2]], kind="stable")[:config.max_detections]
    out = []
    for i, j, k in found[order]:
        dx, dy, lw, lh = boxes[i, j, k]
        cx, cy = (j + 0.5 + dx) * STRIDE, (i + 0.5 + dy) * STRIDE
        w = np.exp(np.clip(lw, -LOG_SIZE_LIMIT, LOG_SIZE_LIMIT)) * STRIDE
        h = np.exp(np.clip(lh, -LOG_SIZE_LIMIT, LOG_SIZE_LIMIT)) * STRIDE
        box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) / scale
        if picture_size is not None:
            box = np.clip(box, 0, [picture_size[0], picture_size[1]] * 2)
        out.append(Detection(config.classes[k], float(scores[i, j, k]), tuple(float(v) for v in box), int(k)))
    return out
