"""The artwork hung in a gallery: a lit wall (sometimes a floor), a frame with its shadow,
neighbouring works in their frames, a wall label. Drawn with OpenCV at the artwork's scale,
so that the artwork's boxes only move by an offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

# Gallery walls (RGB): whites, greys, and the deep colours of old-master rooms.
WALLS = ((236, 233, 226), (222, 220, 214), (205, 203, 198), (150, 150, 148), (72, 74, 78),
         (120, 36, 40), (34, 60, 52), (38, 48, 78), (186, 170, 140))
# Frames (RGB): gold, dark wood, black, white, light wood, silver.
FRAMES = ((181, 140, 62), (92, 58, 34), (24, 22, 20), (240, 238, 232), (196, 160, 110), (170, 170, 168))
FLOORS = ((120, 86, 58), (150, 112, 76), (90, 90, 92), (60, 44, 34))


@dataclass(frozen=True)
class Scene:
    canvas: np.ndarray  # (H, W, 3) uint8 RGB
    art_box: tuple[int, int, int, int]  # where the artwork's pixels are on the canvas
    info: dict


def artwork_alone(art: np.ndarray) -> Scene:
    h, w = art.shape[:2]
    return Scene(art, (0, 0, w, h), {"gallery": False})


def gallery(art: np.ndarray, rng: np.random.Generator, neighbours: Sequence[np.ndarray] = (),
            frame_p: float = 0.85, neighbours_p: float = 0.7) -> Scene:
    h, w = art.shape[:2]
    size = max(h, w)
    framed = rng.random() < frame_p
    fw = int(size * rng.uniform(0.025, 0.08)) if framed else 0
    mat = int(size * rng.uniform(0.04, 0.12)) if framed and rng.random() < 0.15 else 0
    side = int(size * rng.uniform(0.9, 1.4))
    top, bottom = int(size * rng.uniform(0.5, 0.9)), int(size * rng.uniform(0.6, 1.1))
    ch, cw = h + 2 * (fw + mat) + top + bottom, w + 2 * (fw + mat) + 2 * side
    ax, ay = side + fw + mat, top + fw + mat
    canvas = _wall(ch, cw, rng, light_x=ax + w / 2, light_y=top * 0.3)
    if rng.random() < 0.5:  # the floor shows below
        _floor(canvas, ay + h + fw + mat + int(bottom * rng.uniform(0.55, 0.9)), rng)
    _hang(canvas, art, ax, ay, fw, mat, rng)
    info = {"gallery": True, "frame": framed, "neighbours": 0}
    if neighbours and rng.random() < neighbours_p:
        gap = int(size * rng.uniform(0.2, 0.5))
        for direction in (-1, 1):
            if rng.random() < 0.8:
                other = neighbours[int(rng.integers(len(neighbours)))]
                info["neighbours"] += _neighbour(canvas, other, (ax, ay, ax + w, ay + h), direction, gap, h, rng)
    if rng.random() < 0.6:  # the wall label beside the work, at eye level
        lx = ax + w + fw + mat + int(size * rng.uniform(0.05, 0.12))
        ly = ay + int(h * rng.uniform(0.55, 0.85))
        _label(canvas, lx, ly, max(12, int(size * rng.uniform(0.06, 0.1))), rng)
    return Scene(canvas, (ax, ay, ax + w, ay + h), info)


def _wall(h: int, w: int, rng: np.random.Generator, light_x: float, light_y: float) -> np.ndarray:
    base = np.array(WALLS[int(rng.integers(len(WALLS)))], np.float32) * rng.uniform(0.85, 1.1)
    # A spotlight from the ceiling on the work, a gentle fall-off towards the floor, and the
    # wall's grain: all smooth, so computed on a grid of 1/8 and enlarged.
    sh, sw = h // 8 + 2, w // 8 + 2
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8
    spread = max(h, w) * rng.uniform(0.35, 0.7)
    light = 0.75 + 0.45 * np.exp(-(((xx - light_x) / spread) ** 2 + ((yy - light_y) / (spread * 1.4)) ** 2))
    light = light * (1.0 - 0.15 * yy / h) + rng.normal(0, 0.008, light.shape)
    light = cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(base * light[..., None], 0, 255).astype(np.uint8)


def _floor(canvas: np.ndarray, y: int, rng: np.random.Generator) -> None:
    if y >= canvas.shape[0]:
        return
    colour = np.array(FLOORS[int(rng.integers(len(FLOORS)))], np.float32)
    rows = canvas.shape[0] - y
    shade = np.linspace(0.8, 1.05, rows, dtype=np.float32)[:, None, None]
    canvas[y:] = np.clip(colour * shade + rng.normal(0, 4, (rows, canvas.shape[1], 1)), 0, 255).astype(np.uint8)
    skirting = max(2, rows // 12)
    canvas[y:y + skirting] = np.array(WALLS[0]) * rng.uniform(0.7, 0.95)


def _hang(canvas: np.ndarray, art: np.ndarray, x: int, y: int, fw: int, mat: int,
          rng: np.random.Generator) -> None:
    """The artwork at (x, y) with a mat of `mat` and a frame of `fw` pixels, and the frame's
    shadow on the wall (light from above)."""
    h, w = art.shape[:2]
    x0, y0, x1, y1 = x - mat - fw, y - mat - fw, x + w + mat + fw, y + h + mat + fw
    _shadow(canvas, (x0, y0, x1, y1), max(4, (fw + mat) // 2 + 6), rng)
    if fw:
        colour = np.array(FRAMES[int(rng.integers(len(FRAMES)))], np.float32) * rng.uniform(0.85, 1.1)
        canvas[y0:y1, x0:x1] = np.clip(colour, 0, 255).astype(np.uint8)
        _bevel(canvas, (x0, y0, x1, y1), fw)
    if mat:
        canvas[y - mat:y + h + mat, x - mat:x + w + mat] = (238, 234, 224)
    canvas[y:y + h, x:x + w] = art


def _bevel(canvas: np.ndarray, box: tuple[int, int, int, int], fw: int) -> None:
    """Light on the frame's upper and left sides, shade on the others, a dark inner lip."""
    x0, y0, x1, y1 = box
    edge = max(1, fw // 3)
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    region[:edge] *= 1.25
    region[:, :edge] *= 1.15
    region[-edge:] *= 0.7
    region[:, -edge:] *= 0.8
    lip = max(1, fw // 6)
    region[fw - lip:-(fw - lip), fw - lip:-(fw - lip)] *= 0.55
    canvas[y0:y1, x0:x1] = np.clip(region, 0, 255).astype(np.uint8)


def _shadow(canvas: np.ndarray, box: tuple[int, int, int, int], depth: int, rng: np.random.Generator) -> None:
    """The frame's soft shadow on the wall, a little below it (blurred on a grid of 1/4)."""
    x0, y0, x1, y1 = box
    h, w = canvas.shape[:2]
    pad = depth * 3
    sx0, sy0, sx1, sy1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad + depth, h)
    if sx1 <= sx0 or sy1 <= sy0:
        return
    q = 4
    mask = np.zeros(((sy1 - sy0) // q + 1, (sx1 - sx0) // q + 1), np.float32)
    dx = int(rng.integers(-depth // 2, depth // 2 + 1))
    cv2.rectangle(mask, ((x0 - sx0 + dx) // q, (y0 - sy0 + depth) // q), ((x1 - sx0 + dx) // q, (y1 - sy0 + depth) // q),
                  1.0, -1)
    mask = cv2.resize(cv2.GaussianBlur(mask, (0, 0), max(depth / q, 1.0)), (sx1 - sx0, sy1 - sy0))
    patch = canvas[sy0:sy1, sx0:sx1].astype(np.float32)
    canvas[sy0:sy1, sx0:sx1] = (patch * (1 - 0.45 * mask[..., None])).astype(np.uint8)


def _neighbour(canvas: np.ndarray, other: np.ndarray, art_box: tuple[int, int, int, int], direction: int,
               gap: int, height: int, rng: np.random.Generator) -> int:
    """Hang `other` left (-1) or right (+1) of the artwork; 1 when any of it is on the wall."""
    scale = height * rng.uniform(0.55, 1.05) / other.shape[0]
    nh, nw = max(8, int(other.shape[0] * scale)), max(8, int(other.shape[1] * scale))
    fw = int(max(nh, nw) * rng.uniform(0.02, 0.07))
    x0, y0, x1, y1 = art_box
    cy = (y0 + y1) // 2 + int(height * rng.uniform(-0.08, 0.08))
    nx = x1 + gap + fw if direction > 0 else x0 - gap - fw - nw
    ny = cy - nh // 2
    h, w = canvas.shape[:2]
    if nx + nw + fw <= 0 or nx - fw >= w or ny - fw < 0 or ny + nh + fw > h:
        return 0
    small = cv2.resize(other, (nw, nh), interpolation=cv2.INTER_AREA)
    # Paint onto a padded copy so that works half off the wall are cut, not refused.
    pad = nw + 2 * fw
    padded = cv2.copyMakeBorder(canvas, 0, 0, pad, pad, cv2.BORDER_CONSTANT)
    _hang(padded, small, nx + pad, ny, fw, 0, rng)
    canvas[:] = padded[:, pad:pad + w]
    return 1


def _label(canvas: np.ndarray, x: int, y: int, size: int, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    lw, lh = int(size * 1.6), size
    if x + lw >= w or y + lh >= h:
        return
    canvas[y:y + lh, x:x + lw] = (246, 245, 240)
    for i in range(int(rng.integers(3, 6))):  # lines of small text
        ty = y + int(lh * (0.2 + 0.15 * i))
        if ty + 2 >= y + lh:
            break
        tw = int(lw * rng.uniform(0.4, 0.85))
        canvas[ty:ty + max(1, lh // 14), x + lw // 10:x + lw // 10 + tw] = (70, 70, 70)
