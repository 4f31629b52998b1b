"""A camera frame as the lens's models see it, with arithmetic that JavaScript repeats exactly
(``lens/src/recognizer.js``): no library resampling whose details differ between builds.

Model input: the centred square of the frame, averaged over f x f blocks (f = side // size,
when at least 2: no aliasing), then bilinear with half-pixel centres to size x size; RGB 0-255
float32. The whole frame (the fallback's second look): the frame centred on a grey square
first. Verification: grey (OpenCV's RGB to grey), resized with INTER_AREA so that the long
side is `max_side` (OpenCV in both Python and OpenCV.js); the fallback median-filters it and
equalises its contrast with CLAHE.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def center_square(rgb: np.ndarray) -> tuple[int, int, int]:
    """(x0, y0, side) of the centred square of an (H, W, 3) image."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    return (w - side) // 2, (h - side) // 2, side


def model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 3) float32 RGB 0-255 from an (H, W, 3 or 4) uint8 image."""
    x0, y0, side = center_square(rgb)
    square = rgb[y0:y0 + side, x0:x0 + side, :3].astype(np.float64)
    f = side // size
    if f >= 2:
        n = side // f
        square = square[:n * f, :n * f].reshape(n, f, n, f, 3).mean(axis=(1, 3))
    return bilinear(square, size).astype(np.float32)


def on_grey(rgb: np.ndarray) -> np.ndarray:
    """The image centred on a grey (128) square as large as its long side (offsets floored)."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    out = np.full((side, side, 3), 128, np.uint8)
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = rgb[..., :3]
    return out


def bilinear(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a square (n, n, C) float array to (size, size, C), half-pixel centres
    (TensorFlow's ``resize_bilinear`` with ``half_pixel_centers``)."""
    n = image.shape[0]
    coords = (np.arange(size) + 0.5) * (n / size) - 0.5
    low = np.floor(coords)
    frac = coords - low
    lo = np.clip(low, 0, n - 1).astype(int)
    hi = np.clip(low + 1, 0, n - 1).astype(int)
    rows = image[lo] * (1 - frac)[:, None, None] + image[hi] * frac[:, None, None]
    return rows[:, lo] * (1 - frac)[None, :, None] + rows[:, hi] * frac[None, :, None]


def grey_frame(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The grey frame for ORB, long side `max_side` (never enlarged), and its scale from the
    frame's pixels."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (max(1, half_up(w * scale)), max(1, half_up(h * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey, scale


def equalised(grey: np.ndarray, clip_limit: float, tiles: int, median: int = 0) -> np.ndarray:
    """Local contrast equalisation (OpenCV's CLAHE): the keypoints of dark, flat or hazy frames.
    With `median` (an odd kernel size), a median filter first: the sensor noise of a dim room
    would otherwise be equalised into corners that crowd out the artwork's keypoints."""
    if median > 1:
        grey = cv2.medianBlur(grey, median)
    return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply(grey)


def half_up(x: float) -> int:
    """Rounding as JavaScript's Math.round (Python's round goes to even)."""
    return int(math.floor(x + 0.5))
