"""ORB local features: the reference keypoints of each artwork, and a frame verified against
them (ratio test, RANSAC homography from the reference to the frame).

A reference artwork's keypoints come from its whole image and from sharper crops of its
details and quarters, all in the reference image's pixels: a visitor close to a part of the
work sees finer texture than the whole image at reference size holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

RANSAC_ITERS = 2000  # OpenCV's defaults, given explicitly (recognizer.js passes the same)
RANSAC_CONFIDENCE = 0.995
RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("d", "u1", (32,))])  # 40 bytes: lens/BUNDLE.md


@dataclass(frozen=True)
class OrbSettings:
    nfeatures: int = 500
    scaleFactor: float = 1.2  # noqa: N815 - OpenCV's (and the bundle's) names
    nlevels: int = 8
    edgeThreshold: int = 31  # noqa: N815
    fastThreshold: int = 20  # noqa: N815

    def create(self, nfeatures: int | None = None) -> cv2.ORB:
        return cv2.ORB_create(nfeatures=nfeatures or self.nfeatures, scaleFactor=self.scaleFactor,
                              nlevels=self.nlevels, edgeThreshold=self.edgeThreshold, firstLevel=0, WTA_K=2,
                              scoreType=cv2.ORB_HARRIS_SCORE, patchSize=31, fastThreshold=self.fastThreshold)

    def as_dict(self) -> dict:
        return asdict(self)


def detect(grey: np.ndarray, orb: cv2.ORB) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) float32 positions and (N, 32) uint8 descriptors."""
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    return np.array([k.pt for k in keypoints], np.float32), descriptors


def _grey(rgb: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    scale = min(1.0, long_side / max(grey.shape))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    return grey, scale


def reference_features(rgb: np.ndarray, regions: list[tuple[float, float, float, float]], settings: OrbSettings,
                       whole: int = 700, per_crop: int = 250, crop_side: int = 640,
                       quarters: bool = True) -> np.ndarray:
    """The keypoints of one artwork (its reference image `rgb`, in whose pixels `regions` are
    x, y, w, h) as RECORD rows: `whole` from the image itself, `per_crop` from each region and
    quarter seen at up to `crop_side` pixels. Positions in `rgb`'s pixels."""
    h, w = rgb.shape[:2]
    grey, _ = _grey(rgb, max(h, w))
    parts = [detect(grey, settings.create(whole))]
    crops = list(regions)
    if quarters:
        crops += [(x * w / 2 - w / 8 * x, y * h / 2 - h / 8 * y, w * 5 / 8, h * 5 / 8) for y in (0, 1) for x in (0, 1)]
    for x, y, cw, ch in crops:
        x0, y0 = int(max(0, x)), int(max(0, y))
        x1, y1 = int(min(w, x + cw)), int(min(h, y + ch))
        if x1 - x0 < 32 or y1 - y0 < 32:
            continue
        crop = grey[y0:y1, x0:x1]
        f = crop_side / max(crop.shape)
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        xy, desc = detect(crop, settings.create(per_crop))
        parts.append((xy / f + np.array([x0, y0], np.float32), desc))
    xy = np.concatenate([p[0] for p in parts])
    desc = np.concatenate([p[1] for p in parts])
    out = np.zeros(len(xy), RECORD)
    out["x"], out["y"], out["d"] = xy[:, 0], xy[:, 1], desc
    return out


@dataclass(frozen=True)
class Match:
    inliers: int
    homography: np.ndarray | None  # 3x3, reference pixels -> frame pixels (the frame before resizing)


def verify(frame_xy: np.ndarray, frame_desc: np.ndarray, ref: np.ndarray, ratio: float, ransac_px: float,
           frame_scale: float) -> Match:
    """Match the frame's keypoints (in the grey frame's pixels) against one artwork's RECORD
    rows: 2 nearest by Hamming distance, Lowe's ratio test, then RANSAC homography from reference
    to frame (`ransac_px` in reference pixels: the fit goes frame to reference and is inverted)."""
    if len(ref) < 2 or len(frame_desc) < 2:
        return Match(0, None)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=False)
    pairs = matcher.knnMatch(frame_desc, np.ascontiguousarray(ref["d"]), k=2)
    good = [(m.queryIdx, m.trainIdx) for m, *rest in pairs if rest and m.distance < ratio * rest[0].distance]
    if len(good) < 4:
        return Match(0, None)
    q = np.array([g[0] for g in good])
    t = np.array([g[1] for g in good])
    src = frame_xy[q].astype(np.float32)
    dst = np.stack([ref["x"][t], ref["y"][t]], axis=1).astype(np.float32)
    matrix, mask = cv2.findHomography(src, dst, cv2.RANSAC, ransac_px, maxIters=RANSAC_ITERS,
                                      confidence=RANSAC_CONFIDENCE)
    if matrix is None or mask is None:
        return Match(0, None)
    inliers = int(mask.sum())
    try:
        to_frame = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return Match(0, None)
    # From reference pixels to the frame's own pixels (undo the grey frame's resize).
    to_frame = np.diag([1 / frame_scale, 1 / frame_scale, 1.0]) @ to_frame
    if not np.isfinite(to_frame).all() or abs(to_frame[2, 2]) < 1e-12:
        return Match(0, None)  # degenerate: the reference's origin maps to infinity
    return Match(inliers, to_frame / to_frame[2, 2])
