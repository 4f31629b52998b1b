"""What comes between the artwork and the phone's sensor: other visitors, glare and specular
highlights on varnish or glass, smudges on the lens, the lens' vignetting. Each takes and
returns an (H, W, 3) uint8 RGB image; `people` also returns the share of each pixel covered."""

from __future__ import annotations

import cv2
import numpy as np

CLOTHES = ((30, 30, 34), (52, 44, 40), (24, 34, 58), (70, 70, 74), (96, 30, 30), (40, 58, 44), (150, 140, 120))
HAIR = ((20, 16, 14), (60, 42, 30), (110, 84, 60), (150, 150, 150))


def people(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One or two visitors standing between the phone and the work, out of focus: the back of a
    head and shoulders rising from the bottom edge, or a figure passing at a side."""
    h, w = image.shape[:2]
    covered = np.zeros((h, w), np.float32)
    out = image.astype(np.float32)
    for _ in range(int(rng.integers(1, 3))):
        mask = np.zeros((h, w), np.float32)
        scale = h * rng.uniform(0.35, 0.8)  # the figure's visible height
        cx = w * rng.uniform(-0.1, 1.1)
        base = h + scale * rng.uniform(0.0, 0.35)  # the shoulders start below the frame
        head_r = scale * 0.17
        head_y = base - scale * 0.75
        cv2.ellipse(mask, (int(cx), int(base)), (int(scale * 0.55), int(scale * 0.45)), 0, 180, 360, 1.0, -1)
        cv2.rectangle(mask, (int(cx - scale * 0.55), int(base - scale * 0.05)), (int(cx + scale * 0.55), h), 1.0, -1)
        cv2.ellipse(mask, (int(cx), int(base - scale * 0.45)), (int(head_r * 0.8), int(scale * 0.18)), 0, 0, 360, 1.0, -1)
        hair = np.zeros_like(mask)
        cv2.ellipse(hair, (int(cx), int(head_y)), (int(head_r), int(head_r * 1.2)), 0, 0, 360, 1.0, -1)
        blur = max(1.0, h * rng.uniform(0.004, 0.02))  # close to the lens: out of focus
        mask = cv2.GaussianBlur(mask, (0, 0), blur)
        hair = cv2.GaussianBlur(hair, (0, 0), blur)
        cloth = np.array(CLOTHES[int(rng.integers(len(CLOTHES)))], np.float32)
        tone = np.array(HAIR[int(rng.integers(len(HAIR)))], np.float32)
        # Lit from above: a little lighter at the top of each shape.
        light = np.linspace(1.15, 0.8, h, dtype=np.float32)[:, None, None]
        out = out * (1 - mask[..., None]) + cloth * light * mask[..., None]
        out = out * (1 - hair[..., None]) + tone * light * hair[..., None]
        covered = np.maximum(covered, np.maximum(mask, hair))
    return np.clip(out, 0, 255).astype(np.uint8), covered


def glare(image: np.ndarray, rng: np.random.Generator, region: tuple[float, float, float, float]) -> np.ndarray:
    """A specular highlight (a ceiling light on varnish) and sometimes a soft reflected band
    (a window on glass), over `region` (x0, y0, x1, y1: where the artwork is)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = region
    out = image.astype(np.float32)
    light = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y0 + (y1 - y0) * 0.7)
        rx = max(2.0, (x1 - x0) * rng.uniform(0.03, 0.18))
        ry = rx * rng.uniform(0.3, 1.0)
        spot = np.zeros((h, w), np.float32)
        cv2.ellipse(spot, (int(cx), int(cy)), (int(rx), int(ry)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        light += cv2.GaussianBlur(spot, (0, 0), rx * 0.5) * rng.uniform(0.6, 1.0)
    if rng.random() < 0.4:
        band = np.zeros((h, w), np.float32)
        angle = rng.uniform(-60, 60)
        length = max(h, w) * 2
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        thickness = max(3.0, (x1 - x0) * rng.uniform(0.05, 0.25))
        box = cv2.boxPoints(((cx, cy), (thickness, length), angle)).astype(np.int32)
        cv2.fillConvexPoly(band, box, 1.0)
        light += cv2.GaussianBlur(band, (0, 0), thickness * 0.5) * rng.uniform(0.15, 0.35)
    light = np.clip(light, 0, 1)[..., None]
    return np.clip(out + (255 - out) * light, 0, 255).astype(np.uint8)


def smudge(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A greasy lens: a soft haze and bloom where blobs of grease sit."""
    h, w = image.shape[:2]
    blobs = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        r = max(4.0, min(h, w) * rng.uniform(0.05, 0.25))
        cv2.circle(blobs, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(r), float(rng.uniform(0.5, 1)), -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), min(h, w) * 0.06)
    strength = np.clip(blobs / max(float(blobs.max()), 1e-6), 0, 1)[..., None] * rng.uniform(0.3, 0.7)
    hazy = cv2.GaussianBlur(image, (0, 0), min(h, w) * rng.uniform(0.01, 0.03)).astype(np.float32) * 1.05 + 18
    return np.clip(image * (1 - strength) + hazy * strength, 0, 255).astype(np.uint8)


def vignette(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    fall = 1.0 - rng.uniform(0.1, 0.35) * np.clip(r2 / 2, 0, 1)
    return np.clip(image * fall[..., None], 0, 255).astype(np.uint8)
