"""The decision of ``lens/BUNDLE.md`` for one frame, as the browser makes it
(``lens/src/recognizer.js`` repeats each step):

1. retrieval: the frame's descriptor; per item the smallest cosine distance over its rows;
   items beyond their ``max_distance`` drop out; the best ``shortlist`` remain, a detail
   standing for its artwork;
2. verification: ORB on the frame, each candidate artwork matched, RANSAC homography (kept
   when the artwork's corners project to a convex quadrilateral); among candidates with at
   least ``min_inliers``, those whose projection covers the frame's centre come first (the
   framed work, not its neighbour on the wall), then the most inliers;
3. fallback (when the bundle has one and step 2 found no winner): a second look for frames
   that are dark, blurred, or show the artwork small or off-centre: the whole frame's
   descriptor beside the centred square's, the ``fallback.shortlist`` artworks nearest by
   either (no distance cut), verified as in step 2 on the frame's grey, median-filtered and
   CLAHE-equalised; the winner must contain the frame's centre;
4. detail: the winner's details whose projected regions contain the frame's centre well inside
   (not in the band of ``detail_margin`` of their sides: near a detail's edge the visitor
   frames the work, or its neighbour detail, as much as this one), the smallest winning;
   every detail's projected region is a hotspot.

Classify mode: the classifier's best class when above its threshold (no homography).

Detect mode with a detector (``"method": "detector"``): the artwork by steps 1 and 2; the
detector's detections (``loupe_models.detector.decode``) of classes that are details of that
artwork become the hotspots (their boxes), and the detail is the highest-scoring one whose box
contains the frame's centre, else the highest-scoring one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loupe_models.detector.decode import decode, letterbox
from loupe_models.errors import ModelError
from loupe_models.lens.bundle import Bundle
from loupe_models.lens.frames import equalised, grey_frame, model_input, on_grey
from loupe_models.lens.orb import OrbSettings, detect, verify


def empty(mode: str) -> dict[str, Any]:
    return {"item": None, "artwork": None, "detail": None, "score": 0, "mode": mode, "homography": None,
            "hotspots": [], "candidates": [], "fallback": False}


def item_distances(bundle: Bundle, features: np.ndarray) -> np.ndarray:
    """Per item, the smallest cosine distance of the frame's descriptor to the item's rows."""
    rows = np.asarray(bundle.meta["modes"]["retrieval"]["rows"])
    distances = 1.0 - bundle.descriptors @ np.asarray(features, np.float32)
    best = np.full(len(bundle.items), np.inf, np.float64)
    np.minimum.at(best, rows, distances.astype(np.float64))
    return best


def shortlist(bundle: Bundle, features: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Artwork indexes to verify, best first, and every item's distance."""
    spec = bundle.meta["modes"]["retrieval"]
    items = bundle.items
    best = item_distances(bundle, features)
    keep = np.flatnonzero(best <= np.asarray(spec["max_distance"], np.float64))
    keep = keep[np.argsort(best[keep], kind="stable")][: int(spec["shortlist"])]
    artworks: list[int] = []
    for i in keep:
        parent = items[i]["parent"]
        a = bundle.index(parent) if parent else int(i)
        if a is not None and a not in artworks:
            artworks.append(a)
    return artworks, best


def fallback_shortlist(bundle: Bundle, centre: np.ndarray, whole: np.ndarray, n: int) -> list[int]:
    """The `n` artworks nearest to either look at the frame (per-item distances `centre` of the
    centred square and `whole` of the whole frame; a detail stands for its artwork), nearest
    first, ties by index; no distance cut: verification decides."""
    nearest: dict[int, float] = {}
    for i, item in enumerate(bundle.items):
        a = bundle.index(item["parent"]) if item["parent"] else i
        if a is not None:
            nearest[a] = min(nearest.get(a, np.inf), float(centre[i]), float(whole[i]))
    return sorted(nearest, key=lambda a: (nearest[a], a))[:n]


def convex(quad: np.ndarray) -> bool:
    """Whether 4 points (in order) make a convex quadrilateral that is not degenerate."""
    if not np.all(np.isfinite(quad)):
        return False
    crosses = []
    for i in range(4):
        a, b, c = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        crosses.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    crosses = np.asarray(crosses)
    return bool(np.all(crosses > 0) or np.all(crosses < 0))


def project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.hstack([points, np.ones((len(points), 1))]) @ h.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return p[:, :2] / p[:, 2:3]


def box_corners(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def within(region: list[float], margin: float) -> tuple[float, float, float, float]:
    """The region x, y, w, h without a band of `margin` of its width and height on each side."""
    x, y, w, h = region
    return x + margin * w, y + margin * h, w * (1 - 2 * margin), h * (1 - 2 * margin)


def inside(point: tuple[float, float], quad: np.ndarray) -> bool:
    """Point in a convex quadrilateral (either winding)."""
    signs = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        signs.append((b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]))
    return bool(all(s >= 0 for s in signs) or all(s <= 0 for s in signs))


def verify_candidates(bundle: Bundle, rgb: np.ndarray, candidates: list[int], early: bool = True,
                      contrast: dict | None = None) -> list[tuple[int, int, np.ndarray | None]]:
    """(artwork index, inliers, homography) per candidate, in the candidates' order. With
    `early`, verification stops after a candidate with at least ``accept_inliers`` whose
    projection covers the frame's centre (the later ones are not verified: left out). With
    `contrast` (the bundle's ``fallback``), the grey frame is median-filtered and CLAHE-equalised first."""
    spec = bundle.meta["verification"]
    grey, scale = grey_frame(rgb, int(spec["frame_max_side"]))
    if contrast:
        grey = equalised(grey, float(contrast["clip_limit"]), int(contrast["tiles"]), int(contrast.get("median", 0)))
    xy, desc = detect(grey, OrbSettings(**spec["orb"]).create())
    accept = spec.get("accept_inliers") if early else None
    centre = (rgb.shape[1] / 2, rgb.shape[0] / 2)
    out = []
    for a in candidates:
        match = verify(xy, desc, bundle.orb.get(a, np.zeros(0)), float(spec["ratio"]), float(spec["ransac_px"]), scale)
        inliers, h = match.inliers, match.homography
        if h is not None:
            w, hh = bundle.items[a]["size"]
            if not convex(project(h, box_corners(0, 0, w, hh))):
                inliers, h = 0, None
        out.append((a, inliers, h))
        if accept and inliers >= accept and inside(centre, project(h, box_corners(0, 0, *bundle.items[a]["size"]))):
            break
    return out


def recognize(bundle: Bundle, rgb: np.ndarray, mode: str = "retrieval") -> dict[str, Any]:
    """The browser's decision for an (H, W, 3) uint8 RGB frame."""
    modes = bundle.meta.get("modes", {})
    if mode not in modes:
        raise ModelError(f"the bundle has no {mode!r} mode (it has: {', '.join(modes)})")
    # Detection by homography (no detector yet): the retrieval decision places the hotspots.
    model_mode = "retrieval" if mode == "detect" and modes[mode].get("method") in ("homography", "detector") else mode
    if model_mode not in bundle.models:
        raise ModelError(f"the bundle's {model_mode!r} model has no Python twin in {bundle.folder}/python")
    spec = modes[model_mode]
    features = bundle.models[model_mode](model_input(rgb, int(spec["input_size"]))[None])[0]
    if mode == "classify":
        return _classified(bundle, spec, features)
    if model_mode != "retrieval":
        raise ModelError(f"mode {mode!r} is not recognised here; use retrieval, classify or detect")
    artworks, best = shortlist(bundle, features)
    out = empty(mode)
    minimum = int(bundle.meta["verification"]["min_inliers"])
    ranked = ranked_candidates(bundle, rgb, verify_candidates(bundle, rgb, artworks))
    fallback = bundle.meta["verification"].get("fallback")
    if fallback and (not ranked or ranked[0][1] < minimum):
        whole = bundle.models[model_mode](model_input(on_grey(rgb), int(spec["input_size"]))[None])[0]
        wide = fallback_shortlist(bundle, best, item_distances(bundle, whole), int(fallback["shortlist"]))
        ranked = ranked_candidates(bundle, rgb, verify_candidates(bundle, rgb, wide, contrast=fallback))
        out["fallback"] = True
    out["candidates"] = [{"item": bundle.items[a]["id"], "score": n} for a, n, _ in ranked]
    if not ranked or ranked[0][1] < minimum:
        return out
    if out["fallback"] and not framed(bundle, rgb, ranked[0]):
        return out  # the second look answers only for the work at the frame's centre, never a neighbour
    detector = modes[mode].get("method") == "detector"
    centre = (rgb.shape[1] / 2, rgb.shape[0] / 2)
    a, inliers, h = ranked[0]
    artwork = bundle.items[a]["id"]
    out.update(item=artwork, artwork=artwork, score=inliers, homography=[float(v) for v in h.reshape(-1)])
    if detector:
        return _detected(bundle, modes[mode], rgb, out)
    best_area = None
    margin = float(bundle.meta["verification"].get("detail_margin", 0.0))
    for item in bundle.items:
        if item["kind"] != "detail" or item["parent"] != artwork or not item.get("region"):
            continue
        quad = project(h, box_corners(*item["region"]))
        if not convex(quad):
            continue
        out["hotspots"].append({"item": item["id"], "polygon": [[round(float(x), 1), round(float(y), 1)]
                                                               for x, y in quad]})
        area = item["region"][2] * item["region"][3]
        well_inside = project(h, box_corners(*within(item["region"], margin)))
        if inside(centre, well_inside) and (best_area is None or area < best_area):
            best_area, out["detail"], out["item"] = area, item["id"], item["id"]
    return out


def ranked_candidates(bundle: Bundle, rgb: np.ndarray,
                      results: list[tuple[int, int, np.ndarray | None]]) -> list[tuple[int, int, np.ndarray | None]]:
    """Verified artworks under the frame's centre first (not a neighbour on the wall), then by
    inliers; ties keep the shortlist's order (the sort is stable)."""
    return sorted(results, key=lambda r: (0 if framed(bundle, rgb, r) else 1, -r[1]))


def framed(bundle: Bundle, rgb: np.ndarray, result: tuple[int, int, np.ndarray | None]) -> bool:
    """Whether a verified candidate (artwork index, inliers, homography) has at least
    ``min_inliers`` and its projection contains the frame's centre."""
    a, n, h = result
    return bool(n >= int(bundle.meta["verification"]["min_inliers"]) and h is not None
                and inside((rgb.shape[1] / 2, rgb.shape[0] / 2), project(h, box_corners(0, 0, *bundle.items[a]["size"]))))


def _classified(bundle: Bundle, spec: dict, probabilities: np.ndarray) -> dict[str, Any]:
    out = empty("classify")
    order = np.argsort(-probabilities, kind="stable")
    classes = spec["classes"]
    out["candidates"] = [{"item": bundle.items[classes[c]]["id"], "score": float(probabilities[c])}
                         for c in order[:5]]
    best = int(order[0])
    if probabilities[best] < float(spec["thresholds"][best]):
        return out
    item = bundle.items[classes[best]]
    out.update(item=item["id"], score=float(probabilities[best]))
    if item["kind"] == "detail":
        out.update(artwork=item["parent"], detail=item["id"])
    else:
        out["artwork"] = item["id"]
    return out


def detections(bundle: Bundle, spec: dict, rgb: np.ndarray) -> list:
    """The detector's detections on the frame (in frame pixels), at the classes' thresholds."""
    if "detector" not in bundle.models:
        raise ModelError(f"the bundle's detector has no Python twin in {bundle.folder}/{spec.get('python')}")
    model = bundle.models["detector"]
    pixels, scale = letterbox(rgb, int(spec["input_size"]))
    return decode(model(pixels[None]), model.config, spec["thresholds"], scale, (rgb.shape[1], rgb.shape[0]))


def _detected(bundle: Bundle, spec: dict, rgb: np.ndarray, out: dict[str, Any]) -> dict[str, Any]:
    """Hotspots and detail from the detections of the recognised artwork's details."""
    centre = (rgb.shape[1] / 2, rgb.shape[0] / 2)
    framed, best = None, None
    for d in detections(bundle, spec, rgb):  # highest score first
        items = [i for i in spec["classes"][d.class_index] if bundle.items[i]["parent"] == out["artwork"]]
        if not items:
            continue
        item = bundle.items[items[0]]["id"]
        x0, y0, x1, y1 = d.box
        out["hotspots"].append({"item": item, "score": round(d.score, 4),
                                "polygon": [[round(x, 1), round(y, 1)] for x, y in
                                            ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]})
        best = best or item
        if framed is None and x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1:
            framed = item
    if framed or best:
        out["detail"] = out["item"] = framed or best
    return out
