"""A visitor's phone photo of a sample: framing, viewing angle, the gallery around the work,
people, glare and smudges, then the camera's processing (albumentations 2.0.8).

All geometry is one homography from the scene to the photo (hang the work, frame it, turn the
phone), so the photo is resampled once and every box follows exactly (`boxes`). Each view
draws from its own seeded generators: one for geometry, one for the scene, one for occluders,
one seed for albumentations; switching effects off leaves the geometry of a seed unchanged.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image

from loupe_models.augmentation import occluders
from loupe_models.augmentation.boxes import clip_visible, transform_boxes, uncovered_share
from loupe_models.augmentation.config import VisitorCamera
from loupe_models.augmentation.samples import Sample, View
from loupe_models.augmentation.scene import WALLS, artwork_alone, gallery

# albumentations asks PyPI for a newer version when imported, unless told not to.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import albumentations as A  # noqa: E402, N812 - the library's own convention


def working_image(source: np.ndarray | Path, work_side: int) -> tuple[np.ndarray, float]:
    """(H, W, 3) uint8 RGB no larger than `work_side`, and its scale from the source's pixels."""
    if isinstance(source, np.ndarray):
        image, full_width = source, source.shape[1]
    else:
        with Image.open(source) as opened:
            full_width = opened.size[0]
            opened.draft("RGB", (work_side, work_side))  # JPEG: decode at a reduced scale
            image = np.asarray(opened.convert("RGB"))
    h, w = image.shape[:2]
    if max(h, w) > work_side:
        f = work_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image), image.shape[1] / full_width


def visitor_view(sample: Sample, seed: int, camera: VisitorCamera = VisitorCamera(),
                 neighbours: Sequence[np.ndarray] = (), index: int = 0) -> View:
    """One photo of `sample` as a visitor takes it; boxes follow, those mostly out of view or
    covered by people are dropped. `neighbours`: other works to hang beside it."""
    streams = np.random.SeedSequence(seed).spawn(4)
    geometry, scenery, between = (np.random.default_rng(s) for s in streams[:3])
    album_seed = int(streams[3].generate_state(1)[0])
    art, scale = working_image(sample.image, camera.work_side)
    boxes = sample.boxes * scale
    to_scene = np.diag([scale, scale, 1.0])  # the sample's pixels -> the scene's
    on_wall = scenery.random() < camera.gallery_p
    size = _photo_size(camera, geometry)
    target, framing = _framing(art.shape, boxes, on_wall, camera, geometry)
    # Draw the scene only as large as the photo needs: the framed part at about 1.3 photo pixels
    # per scene pixel.
    share = max((target[2] - target[0]) / art.shape[1], (target[3] - target[1]) / art.shape[0])
    need = min(camera.work_side, camera.long_side * 1.3 / max(share, 1e-3))
    if need < max(art.shape[:2]):
        f = need / max(art.shape[:2])
        art = cv2.resize(art, (max(1, round(art.shape[1] * f)), max(1, round(art.shape[0] * f))),
                         interpolation=cv2.INTER_AREA)
        boxes, target = boxes * f, target * f
        to_scene = np.diag([f, f, 1.0]) @ to_scene
    scene = (gallery(art, scenery, neighbours, camera.frame_p, camera.neighbours_p) if on_wall
             else artwork_alone(art))
    offset = np.array(scene.art_box[:2] * 2, np.float32)
    boxes, target = boxes + offset, target + offset
    to_scene = np.array([[1, 0, offset[0]], [0, 1, offset[1]], [0, 0, 1]]) @ to_scene
    matrix, angles = _camera_matrix(target, size, camera, geometry)
    border = WALLS[int(scenery.integers(len(WALLS)))]
    photo = _warp(scene.canvas, matrix, size, border if not scene.info["gallery"] else None)

    mapped, valid = transform_boxes(boxes, matrix)
    kept_boxes, kept = clip_visible(mapped, valid, size, camera.min_visible)
    labels = tuple(sample.labels[i] for i in kept)
    art_in_photo = transform_boxes(np.array([scene.art_box], np.float32), matrix)[0][0]
    photo, effects = _between(photo, art_in_photo, camera, between)
    if "people" in effects:
        keep = uncovered_share(kept_boxes, effects.pop("people")) >= camera.min_visible
        kept_boxes, labels = kept_boxes[keep], tuple(lbl for lbl, k in zip(labels, keep) if k)
        effects["people"] = True
    if camera.photometric:
        out = _processing(camera)
        out.set_random_seed(album_seed)
        result = out(image=photo, bboxes=kept_boxes, labels=list(labels))
        photo, kept_boxes, labels = result["image"], np.asarray(result["bboxes"], np.float32).reshape(-1, 4), \
            tuple(result["labels"])
    # The sample's pixels -> the photo's: where exactly each point of the work landed (the
    # boxes are only the rectangles around their corners, clipped to the photo).
    to_photo = matrix @ to_scene
    info = {"framing": framing, **angles, **scene.info, **{k: True for k in effects},
            "sample_to_photo": [round(float(v), 8) for v in (to_photo / to_photo[2, 2]).reshape(-1)]}
    return View(photo, kept_boxes, labels, sample.source_id, index, seed, info)


def _photo_size(camera: VisitorCamera, rng: np.random.Generator) -> tuple[int, int]:
    short = round(camera.long_side * 3 / 4)
    return (short, camera.long_side) if rng.random() < camera.portrait_p else (camera.long_side, short)


def _framing(shape: tuple[int, ...], boxes: np.ndarray, on_wall: bool, camera: VisitorCamera,
             rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """The rectangle the visitor frames (in the artwork's pixels): the work, or a detail, with
    a margin (on a wall, beyond the work; else only into it)."""
    h, w = shape[:2]
    x0, y0, x1, y1 = 0, 0, w, h
    if rng.random() < camera.detail_p:
        framing = "detail"
        if len(boxes) and rng.random() < 0.7:
            target = boxes[int(rng.integers(len(boxes)))].astype(np.float64)
        else:
            tw, th = w * rng.uniform(*camera.detail_share), h * rng.uniform(*camera.detail_share)
            tx, ty = x0 + rng.uniform(0, w - tw), y0 + rng.uniform(0, h - th)
            target = np.array([tx, ty, tx + tw, ty + th])
    else:
        framing, target = "whole", np.array([x0, y0, x1, y1], np.float64)
    low, high = camera.margin
    margin = rng.uniform(low, high if on_wall else min(high, 0.0))
    pad = margin * np.array([target[2] - target[0], target[3] - target[1]])
    return target + np.concatenate([-pad, pad]), framing


def _camera_matrix(target: np.ndarray, size: tuple[int, int], camera: VisitorCamera,
                   rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Scene -> photo: the target seen head-on filling the photo, the phone turned (yaw, pitch,
    roll about its own centre: K R K^-1), then scaled and moved so the target fits again."""
    width, height = size
    tx0, ty0, tx1, ty1 = target
    s = min(width / (tx1 - tx0), height / (ty1 - ty0))
    head_on = np.array([[s, 0, width / 2 - s * (tx0 + tx1) / 2], [0, s, height / 2 - s * (ty0 + ty1) / 2], [0, 0, 1]])
    yaw, pitch, roll = (math.radians(rng.uniform(-limit, limit)) for limit in (camera.yaw, camera.pitch, camera.roll))
    f = rng.uniform(*camera.focal) * max(width, height)
    k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    turn = k @ _rotation(yaw, pitch, roll) @ np.linalg.inv(k)
    m = turn @ head_on
    mapped, _ = transform_boxes(np.array([target], np.float32), m)
    bx0, by0, bx1, by1 = mapped[0].astype(np.float64)
    fit = min(width / max(bx1 - bx0, 1e-6), height / max(by1 - by0, 1e-6))
    slack_x, slack_y = width - fit * (bx1 - bx0), height - fit * (by1 - by0)
    jitter = rng.uniform(-0.04, 0.04, 2) * np.array([width, height])
    ox = slack_x * rng.uniform(0.2, 0.8) + jitter[0] - fit * bx0
    oy = slack_y * rng.uniform(0.2, 0.8) + jitter[1] - fit * by0
    refit = np.array([[fit, 0, ox], [0, fit, oy], [0, 0, 1]])
    angles = {"yaw": round(math.degrees(yaw), 1), "pitch": round(math.degrees(pitch), 1),
              "roll": round(math.degrees(roll), 1)}
    return refit @ m, angles


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _warp(canvas: np.ndarray, matrix: np.ndarray, size: tuple[int, int],
          border: tuple[int, int, int] | None) -> np.ndarray:
    """Resample once; a scene shrunk more than twofold is first reduced (no aliasing)."""
    jac = matrix[:2, :2] * matrix[2, 2] - np.outer(matrix[:2, 2], matrix[2, :2])
    shrink = math.sqrt(abs(np.linalg.det(jac))) / max(abs(matrix[2, 2]), 1e-9) ** 2
    factor = 2 ** max(0, int(math.floor(math.log2(1 / max(shrink, 1e-6)))))
    if factor > 1:
        h, w = canvas.shape[:2]
        canvas = cv2.resize(canvas, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
        matrix = matrix @ np.diag([factor, factor, 1.0])
    mode = cv2.BORDER_REPLICATE if border is None else cv2.BORDER_CONSTANT
    return cv2.warpPerspective(canvas, matrix, size, flags=cv2.INTER_LINEAR, borderMode=mode,
                               borderValue=tuple(int(c) for c in (border or (0, 0, 0))))


def _between(photo: np.ndarray, art: np.ndarray, camera: VisitorCamera, rng: np.random.Generator
             ) -> tuple[np.ndarray, dict]:
    """People in front, glare on the work, grease on the lens, vignetting: each by its chance
    (always drawn from the generator in this order, so that one switched off moves no other)."""
    effects: dict = {}
    draws = rng.random(4)
    if draws[0] < camera.people_p:
        photo, effects["people"] = occluders.people(photo, rng)
    if draws[1] < camera.glare_p:
        photo, effects["glare"] = occluders.glare(photo, rng, tuple(art)), True
    if draws[2] < camera.smudge_p:
        photo, effects["smudge"] = occluders.smudge(photo, rng), True
    if draws[3] < camera.vignette_p:
        photo, effects["vignette"] = occluders.vignette(photo, rng), True
    return photo, effects


@functools.lru_cache(maxsize=8)
def _processing(camera: VisitorCamera) -> A.Compose:
    """The phone's processing and its flaws: white balance under gallery light, exposure,
    tone curve, shake and focus blur, sensor noise, JPEG. Built once per process and camera.
    Pixel changes only, but declared with its boxes, so that a geometric step added here
    moves them too (albumentations warns that none does yet: silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Got processor for bboxes")
        return A.Compose([
            A.PlanckianJitter(mode="blackbody", temperature_limit=(3000, 9000), p=camera.temperature_p),
            A.RandomBrightnessContrast(brightness_limit=camera.brightness, contrast_limit=camera.contrast, p=0.8),
            A.RandomGamma(gamma_limit=camera.gamma, p=0.5),
            A.MotionBlur(blur_limit=(3, 9), p=camera.motion_blur_p),
            A.Defocus(radius=(1, 3), alias_blur=(0.1, 0.3), p=camera.defocus_p),
            A.OneOf([A.ISONoise(color_shift=(0.01, 0.04), intensity=(0.1, 0.45)),
                     A.GaussNoise(std_range=(0.01, 0.05))], p=camera.noise_p),
            A.ImageCompression(quality_range=tuple(int(q) for q in camera.jpeg_quality), p=camera.jpeg_p),
        ], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
