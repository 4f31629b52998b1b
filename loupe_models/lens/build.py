"""Everything a bundle's recognition needs, from the artworks' reference images: training
views, the fine-tuned retrieval model (exported for TensorFlow.js, with its Python twin),
descriptor rows, ORB reference features, and the calibrated thresholds. Writes into a bundle
version folder and returns the bundle's ``modes`` and ``verification`` (``lens/BUNDLE.md``).

Views: training views (seed), calibration views (another seed, never trained on) and
procedural non-artwork scenes. Detail items share their artwork's verification. Imports
torch and TensorFlow: only the job's handler module imports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from loupe_models.augmentation import Sample, VisitorCamera
from loupe_models.augmentation.parallel import augment
from loupe_models.efficientnet_lite.keras_model import build as build_keras
from loupe_models.efficientnet_lite.keras_model import load_torch_tensors, torch_tensors
from loupe_models.efficientnet_lite.tfjs import browser_model, export_graph_model
from loupe_models.lens.bundle import Bundle, save_python_model, write_descriptors, write_orb
from loupe_models.lens.decision import fallback_shortlist, item_distances, shortlist, verify_candidates
from loupe_models.lens.export import export_classifier
from loupe_models.lens.frames import model_input, on_grey
from loupe_models.lens.negatives import procedural_painting
from loupe_models.lens.orb import OrbSettings, reference_features
from loupe_models.lens.training import TrainSettings, fine_tune

MODES = ("retrieval", "classify", "detect")


@dataclass(frozen=True)
class BuildItem:
    """One bundle item: an artwork with its reference image file, or a detail with its region
    (x, y, w, h in the artwork's reference pixels)."""

    index: int
    id: str
    kind: str
    parent: int | None = None  # the artwork's index, for a detail
    image: Path | None = None
    region: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class BuildSettings:
    input_size: int = 160
    views: int = 12  # training views per artwork
    calibration_views: int = 2
    non_artworks: int = 60
    train_long_side: int = 256  # of the training views (the model sees 160 px: quick to make)
    long_side: int = 640  # of the calibration photos (as phones' frames reach verification)
    rows_per_artwork: int = 8  # descriptor rows from training views, beside the multi-crop ones
    shortlist: int = 12
    frame_max_side: int = 640
    reference_side: int = 640  # ORB on the reference image at this long side
    reference_features: int = 1000
    ratio: float = 0.75
    ransac_px: float = 5.0
    min_inliers_floor: int = 10
    detail_margin: float = 0.15  # a detail is named when the frame's centre is this far inside it
    fallback_shortlist: int = 36  # artworks the fallback verifies (0: no fallback)
    fallback_median: int = 3  # median filter (kernel size) on the fallback's grey before CLAHE; 0: none
    clahe_clip_limit: float = 2.0
    clahe_tiles: int = 8
    seed: int = 0
    processes: int = 1
    train: TrainSettings = TrainSettings()
    orb: OrbSettings = OrbSettings(nfeatures=1000)


@dataclass
class BuildReport:
    seconds: dict[str, float] = field(default_factory=dict)
    sizes_mb: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, float] = field(default_factory=dict)


Log = Callable[[str], None]


def _views(artworks: list[BuildItem], details: dict[int, list[BuildItem]], n: int, seed: int, camera: VisitorCamera,
           processes: int) -> tuple[list[np.ndarray], np.ndarray, list]:
    samples = []
    for a in artworks:
        boxes = [(d.region[0], d.region[1], d.region[0] + d.region[2], d.region[1] + d.region[3])
                 for d in details.get(a.index, [])]
        # Boxes in the reference file's pixels (the sample reads the file itself).
        samples.append(Sample(a.id, a.image, np.asarray(boxes, np.float32).reshape(-1, 4),
                              tuple(d.id for d in details.get(a.index, []))))
    photos, labels, views = [], [], []
    for label, made in enumerate(augment(samples, n, seed, camera, processes, samples)):
        for view in made:
            photos.append(view.image)
            labels.append(label)
            views.append(view)
    return photos, np.asarray(labels), views


def descriptor_crops(image: np.ndarray, region: tuple[float, float, float, float] | None) -> list[np.ndarray]:
    """The multi-crop views of an item that become its descriptor rows: an artwork whole (on a
    grey square), its centred square and its four corner squares; a detail's square around
    its region and the region whole."""
    h, w = image.shape[:2]
    if region is not None:
        x, y, rw, rh = region
        side = max(rw, rh)
        cx, cy = x + rw / 2, y + rh / 2
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        square = image[y0:int(min(h, cy + side / 2)), x0:int(min(w, cx + side / 2))]
        part = image[int(y):int(y + rh), int(x):int(x + rw)]
        return [c for c in (square, on_grey(part)) if c.size]
    side = int(min(h, w) * 0.6)
    corners = [image[y0:y0 + side, x0:x0 + side] for y0 in (0, h - side) for x0 in (0, w - side)]
    return [on_grey(image), image, *corners]


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _batched(features: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, batch: int = 64) -> np.ndarray:
    return np.concatenate([features(pixels[i:i + batch]) for i in range(0, len(pixels), batch)])


# The settings the fine-tuned model depends on (the others only calibrate or export it).
TRAINING_SETTINGS = ("input_size", "views", "train_long_side", "seed", "train")


def fingerprint(items: list[BuildItem], checkpoint: Path, settings: BuildSettings) -> str:
    """What the fine-tuned model depends on: the items, their reference images' bytes, the
    backbone and the training settings. A saved model with another fingerprint is not reused;
    a build retried with other calibration settings reuses it."""
    digest = hashlib.sha256()
    options = {k: v for k, v in dataclasses.asdict(settings).items() if k in TRAINING_SETTINGS}
    digest.update(json.dumps([options, checkpoint.name, [(i.id, i.kind, i.parent, i.region) for i in items]],
                             sort_keys=True, default=str).encode())
    for item in items:
        if item.image is not None:
            digest.update(item.image.read_bytes())
    return digest.hexdigest()


def build_recognition(items: list[BuildItem], folder: Path, checkpoint: Path, settings: BuildSettings,
                      modes: tuple[str, ...] = ("retrieval",), log: Log = print,
                      progress: Callable[[int, int], None] | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      work: Path | None = None) -> tuple[dict, dict, BuildReport]:
    """Train, export and calibrate into `folder` (the bundle's version folder, whose
    ``items/`` already hold the artworks' reference images). Returns (modes, verification,
    report) for ``bundle.json``. With `work` (a folder outside what is served), the fine-tuned
    model is saved there, and a build stopped after fine-tuning (cancelled, a killed worker)
    resumes from it when tried again with the same items and settings."""
    report = BuildReport()
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        report.seconds[name] = round(now - clock, 1)
        clock = now
        log(f"{name}: {report.seconds[name]} s")
        if cancelled and cancelled():
            raise InterruptedError("cancelled")

    artworks = [i for i in items if i.kind == "artwork"]
    details: dict[int, list[BuildItem]] = {}
    for d in items:
        if d.kind == "detail" and d.parent is not None:
            details.setdefault(d.parent, []).append(d)
    size = settings.input_size
    tick = progress or (lambda done, total: None)

    # 1. ORB reference features, per artwork.
    orb_rows = []
    for a in artworks:
        image = _read(a.image)
        f = min(1.0, settings.reference_side / max(image.shape[:2]))
        small = np.asarray(Image.fromarray(image).resize((max(1, round(image.shape[1] * f)),
                                                          max(1, round(image.shape[0] * f))), Image.LANCZOS)) \
            if f < 1 else image
        records = reference_features(small, [], settings.orb, whole=settings.reference_features, quarters=False)
        records["x"] /= f
        records["y"] /= f
        orb_rows.append((a.index, records))
    verification = {
        "feature": "orb", "features": "verification/orb.bin",
        "items": write_orb(folder / "verification" / "orb.bin", orb_rows),
        "frame_max_side": settings.frame_max_side, "orb": settings.orb.as_dict(), "ratio": settings.ratio,
        "ransac_px": settings.ransac_px, "min_inliers": settings.min_inliers_floor, "accept_inliers": None,
        "detail_margin": settings.detail_margin,
    }
    report.sizes_mb["verification"] = round((folder / "verification" / "orb.bin").stat().st_size / 1e6, 2)
    lap("orb")
    tick(1, 5)

    # 2. Training views and fine-tuning.
    camera = dataclasses.replace(VisitorCamera(), long_side=settings.long_side, work_side=768)
    train_camera = dataclasses.replace(camera, long_side=settings.train_long_side)
    photos, labels, _ = _views(artworks, details, settings.views, settings.seed, train_camera, settings.processes)
    pixels = np.stack([model_input(p, size) for p in photos])
    lap("training views")
    state = _fine_tuned(checkpoint, pixels, labels, settings, cancelled, work,
                        fingerprint(items, checkpoint, settings) if work else "", log)
    keras_model = build_keras(size, head=False)
    load_torch_tensors(keras_model, torch_tensors(state))
    twin = browser_model(keras_model, "uint8")
    lap("fine-tuning")
    tick(2, 5)

    def features(x: np.ndarray) -> np.ndarray:
        return twin(np.asarray(x, np.float32), training=False).numpy()

    # 3. Descriptor rows: multi-crop views of every item.
    crops, rows = [], []
    for item in items:
        if item.kind == "artwork":
            image = _read(item.image)
            parts = descriptor_crops(image, None)
        else:
            parent = next(a for a in artworks if a.index == item.parent)
            parts = descriptor_crops(_read(parent.image), item.region)
        crops += [model_input(c, size) for c in parts]
        rows += [item.index] * len(parts)
    descriptors = _batched(features, np.stack(crops))
    # ... and the training views themselves, one row per view framed well (a visitor's view).
    # (from up to 6 views of each artwork: the browser model's features cost time on 2 cores)
    some = np.concatenate([np.flatnonzero(labels == c)[:12] for c in np.unique(labels)])
    view_features = _batched(features, pixels[some])
    keep = [int(some[k]) for k in _representative(view_features, labels[some], settings.rows_per_artwork)]
    descriptors = np.concatenate([descriptors, _batched(features, pixels[keep])])
    rows += [artworks[int(labels[k])].index for k in keep]
    lap("descriptors")

    export = export_graph_model(keras_model, folder / "retrieval", "uint8", mode="retrieval")
    save_python_model(folder, "retrieval", twin.get_weights(), {"size": size, "head": False})
    report.sizes_mb["retrieval"] = round(export.bytes / 1e6, 2)
    write_descriptors(folder / "retrieval" / "descriptors.bin", descriptors)  # after: not counted as model
    report.sizes_mb["descriptors"] = round(descriptors.nbytes / 1e6, 2)
    lap("export")
    tick(3, 5)

    retrieval = {"model": "retrieval/model.json", "input_size": size, "crop": "center-square",
                 "dim": int(descriptors.shape[1]), "descriptors": "retrieval/descriptors.bin",
                 "rows": [int(r) for r in rows], "max_distance": [1.0] * len(items), "shortlist": settings.shortlist}
    modes_out = {"retrieval": retrieval}

    # 4. Calibration on views never trained on, and on pictures of no known artwork.
    cal_photos, cal_labels, _ = _views(artworks, details, settings.calibration_views, settings.seed + 1, camera,
                                       settings.processes)
    negatives = _non_artwork_photos(settings.non_artworks, settings.seed + 2, camera, settings.processes)
    cal_pixels = np.stack([model_input(p, size) for p in [*cal_photos, *negatives]])
    cal_features = _batched(features, cal_pixels)
    if settings.fallback_shortlist:
        verification["fallback"] = {"contrast": "clahe", "clip_limit": settings.clahe_clip_limit,
                                    "tiles": settings.clahe_tiles, "median": settings.fallback_median,
                                    "shortlist": settings.fallback_shortlist}
        whole_features = _batched(features, np.stack([model_input(on_grey(p), size) for p in [*cal_photos, *negatives]]))
    else:
        whole_features = None
    bundle = Bundle(folder, {"items": [{"id": i.id, "kind": i.kind, "parent": None if i.parent is None else
                                        items[i.parent].id, "size": list(_read(i.image).shape[1::-1])
                                        if i.kind == "artwork" else None} for i in items],
                             "modes": modes_out, "verification": verification},
                    descriptors=descriptors, orb=dict(orb_rows))
    retrieval["max_distance"] = calibrate_distances(bundle, cal_features[:len(cal_photos)],
                                                    [artworks[int(c)].index for c in cal_labels], report)
    verification["min_inliers"] = minimum = calibrate_inliers(bundle, cal_features, [*cal_photos, *negatives],
                                                    [artworks[int(c)].index for c in cal_labels] +
                                                    [None] * len(negatives), settings.min_inliers_floor, report,
                                                    whole_features)
    verification["accept_inliers"] = max(3 * minimum, int(report.calibration.get("wrong_inliers_max", 0)) * 2 + 1)
    lap("calibration")
    tick(4, 5)
    if "classify" in modes:
        modes_out["classify"] = build_classifier(folder, twin, _batched(features, pixels), labels,
                                                 cal_features[:len(cal_photos)], cal_labels,
                                                 [a.index for a in artworks], size, report,
                                                 negative_features=cal_features[len(cal_photos):])
        lap("classify")
    if "detect" in modes:
        modes_out["detect"] = {"method": "homography", "classes": [i.index for i in items if i.kind == "detail"]}
    tick(5, 5)
    return modes_out, verification, report


def _fine_tuned(checkpoint: Path, pixels: np.ndarray, labels: np.ndarray, settings: BuildSettings,
                cancelled: Callable[[], bool] | None, work: Path | None, key: str, log: Log) -> dict:
    saved = work / "retrieval.pt" if work else None
    if saved is not None and saved.is_file():
        kept = torch.load(saved, map_location="cpu", weights_only=True)
        if kept.get("fingerprint") == key:
            log("fine-tuning: resumed from the model an earlier attempt saved")
            return kept["state"]
    state = fine_tune(checkpoint, pixels, labels, settings.train, cancelled=cancelled)
    if saved is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"fingerprint": key, "state": state}, saved.with_suffix(".tmp"))
        saved.with_suffix(".tmp").replace(saved)
    return state


def _representative(features: np.ndarray, labels: np.ndarray, per_class: int) -> list[int]:
    """Per class, the views closest to the class's mean (well-framed, typical views)."""
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        mean = features[idx].mean(0)
        out += [int(i) for i in idx[np.argsort(-(features[idx] @ mean))[:per_class]]]
    return out


def _non_artwork_photos(n: int, seed: int, camera: VisitorCamera, processes: int) -> list[np.ndarray]:
    samples = [Sample(f"none-{i}", procedural_painting(seed * 1000 + i)) for i in range(n)]
    return [v.image for made in augment(samples, 1, seed, camera, processes, samples[: min(8, n)]) for v in made]


def calibrate_distances(bundle: Bundle, features: np.ndarray, truth: list[int], report: BuildReport) -> list[float]:
    """Per item, the cosine distance beyond which a row of it does not count: the largest of
    its own views' distances and the 99.5th percentile over all items, plus a margin (the
    shortlist is for recall; verification gives the precision)."""
    items = bundle.items
    artwork_of = [i if it["parent"] is None else bundle.index(it["parent"]) for i, it in enumerate(items)]
    positives: dict[int, list[float]] = {}
    hits = 0
    for f, a in zip(features, truth):
        candidates, best = shortlist(bundle, f)
        positives.setdefault(a, []).append(float(min(best[i] for i in range(len(items)) if artwork_of[i] == a)))
        hits += a in candidates
    everyone = np.concatenate([np.asarray(v) for v in positives.values()])
    common = float(np.quantile(everyone, 0.995))
    out = []
    for i in range(len(items)):
        own = max(positives.get(artwork_of[i], [0.0]))
        out.append(round(min(2.0, max(own, common) + 0.05), 4))
    report.calibration["shortlist_recall"] = round(hits / max(1, len(truth)), 4)
    report.calibration["positive_distance_p50"] = round(float(np.median(everyone)), 4)
    return out


def calibrate_inliers(bundle: Bundle, features: np.ndarray, photos: list[np.ndarray], truth: list[int | None],
                      floor: int, report: BuildReport, whole_features: np.ndarray | None = None) -> int:
    """The fewest inliers that stand for an artwork: above what wrong candidates (views of
    other artworks, pictures of none) reach, never below `floor`. With the fallback
    (`whole_features` given), its wider list on the equalised frame counts too, for every photo:
    it may run on any frame."""
    fallback = bundle.meta["verification"].get("fallback")
    right, wrong = [], []
    for k, (f, photo, a) in enumerate(zip(features, photos, truth)):
        candidates, best = shortlist(bundle, f)
        for c, inliers, _ in verify_candidates(bundle, photo, candidates, early=False):
            (right if c == a else wrong).append(inliers)
        if fallback and whole_features is not None:
            wide = fallback_shortlist(bundle, best, item_distances(bundle, whole_features[k]), int(fallback["shortlist"]))
            wrong += [n for c, n, _ in verify_candidates(bundle, photo, wide, early=False, contrast=fallback) if c != a]
    wrong_arr = np.asarray(wrong or [0])
    threshold = max(floor, int(math.ceil(float(np.quantile(wrong_arr, 0.998)))) + 2)
    right_arr = np.asarray(right or [0])
    report.calibration.update(wrong_inliers_max=int(wrong_arr.max()), wrong_inliers_p998=float(np.quantile(wrong_arr, 0.998)),
                              right_inliers_p10=float(np.quantile(right_arr, 0.1)),
                              right_verified=round(float((right_arr >= threshold).sum()) / max(1, len(
                                  [t for t in truth if t is not None])), 4),
                              min_inliers=threshold)
    return threshold


def build_classifier(folder: Path, twin: Any, train_features: np.ndarray, labels: np.ndarray, cal_features: np.ndarray,
                     cal_labels: np.ndarray, classes: list[int], size: int, report: BuildReport,
                     negative_features: np.ndarray | None = None) -> dict:
    """A softmax over the artworks on the retrieval features (a dense layer on the fine-tuned
    backbone), exported whole. Each class's threshold is calibrated on views never trained
    on and on pictures of no known artwork (`negative_features`): precision first, as in
    retrieval (a softmax over closed classes has no "none of these" of its own)."""
    torch.manual_seed(0)
    x = torch.from_numpy(train_features).float()
    y = torch.from_numpy(labels.astype(np.int64))
    layer = torch.nn.Linear(x.shape[1], len(classes))
    opt = torch.optim.Adam(layer.parameters(), lr=0.01)
    scale = 16.0
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(scale * layer(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    weight, bias = layer.weight.detach().numpy().T * scale, layer.bias.detach().numpy() * scale
    export = export_classifier(folder / "classify", twin, weight, bias, size)
    probs = _softmax(cal_features @ export.weight + export.bias)
    negatives = (_softmax(negative_features @ export.weight + export.bias) if negative_features is not None
                 and len(negative_features) else np.zeros((0, len(classes))))
    # The answer is the best class when its probability reaches that class's threshold: above
    # every view (of another artwork, or of none) that the class wins, and never below what
    # lets more than 2% of the pictures of no known artwork through.
    floor = max(0.2, float(np.quantile(negatives.max(1), 0.98)) + 0.02) if len(negatives) else 0.5
    seen = np.concatenate([probs, negatives])
    truth = np.concatenate([np.asarray(cal_labels), -np.ones(len(negatives), int)])
    won = seen.argmax(1) if len(seen) else np.zeros(0, int)
    thresholds = []
    for c in range(len(classes)):
        wrong = seen[(won == c) & (truth != c), c]
        thresholds.append(round(min(0.99, max(floor, float(wrong.max()) + 0.02 if len(wrong) else floor)), 4))
    limits = np.asarray(thresholds)
    best = probs.argmax(1) if len(probs) else np.zeros(0, int)
    answered = probs[np.arange(len(best)), best] >= limits[best] if len(best) else np.zeros(0, bool)
    if len(best):
        report.calibration["classify_top1"] = round(float((answered & (best == cal_labels)).mean()), 4)
        report.calibration["classify_argmax_top1"] = round(float((best == cal_labels).mean()), 4)
    if len(negatives):
        report.calibration["classify_false"] = round(float((negatives.max(1) >= limits[negatives.argmax(1)]).mean()), 4)
    report.sizes_mb["classify"] = round(export.bytes / 1e6, 2)
    return {"model": "classify/model.json", "input_size": size, "crop": "center-square", "classes": classes,
            "thresholds": thresholds}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
