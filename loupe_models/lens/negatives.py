"""Pictures of no known artwork, for calibrating "nothing known is framed": procedural
paintings (colour fields, strokes, shapes, patterns) hung in the same simulated galleries,
and bare walls. Seeded: the same seed gives the same picture."""

from __future__ import annotations

import cv2
import numpy as np


def procedural_painting(seed: int, long_side: int = 640) -> np.ndarray:
    """(H, W, 3) uint8 RGB: a picture that no guide holds."""
    rng = np.random.default_rng(seed)
    aspect = rng.uniform(0.6, 1.6)
    w, h = (long_side, int(long_side / aspect)) if aspect >= 1 else (int(long_side * aspect), long_side)
    kind = int(rng.integers(4))
    low = rng.integers(0, 256, (int(rng.integers(2, 7)), int(rng.integers(2, 7)), 3)).astype(np.uint8)
    image = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    if kind >= 1:  # brush strokes
        for _ in range(int(rng.integers(20, 160))):
            p = rng.integers(0, [w, h], (int(rng.integers(2, 6)), 2)).astype(np.int32)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.polylines(image, [p], False, colour, int(rng.integers(1, max(2, long_side // 40))), cv2.LINE_AA)
    if kind >= 2:  # shapes
        for _ in range(int(rng.integers(3, 30))):
            c = tuple(int(v) for v in rng.integers(0, [w, h]))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                cv2.circle(image, c, int(rng.integers(5, long_side // 4)), colour, -1, cv2.LINE_AA)
            else:
                d = rng.integers(5, long_side // 3, 2)
                cv2.rectangle(image, c, (int(c[0] + d[0]), int(c[1] + d[1])), colour, -1)
    if kind == 3:  # fine texture
        noise = rng.normal(0, rng.uniform(5, 30), (h, w, 1))
        image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.5))
