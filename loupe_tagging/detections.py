"""``detect_collection``: a trained detector run over a collection's canvases, its detections
stored as machine annotations (``machine_tags``: the same proposals, review and IIIF output as
zero-shot tags) with provenance: the detector's name as model, its version, the score, the date.

Work goes manifest by manifest, as tagging does: fetch each image (a cache hit after a
harvest), letterbox, detect with the thresholds calibrated on held-out views, map the boxes to
canvas coordinates, and replace the detector's proposals on those canvases in one transaction.
Imports torch (through the detector): import this module only where a detector runs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from itertools import groupby
from typing import Callable

import numpy as np
import torch

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from iiif.geometry import image_to_canvas
from iiif.model import Box
from loupe_core.settings import Settings
from loupe_index.catalog_targets import ImageToIndex
from loupe_models.detector.decode import decode, letterbox
from loupe_models.detector.store import DetectorStore
from loupe_models.detector.trainer import load_detector
from loupe_models.hardware import configure_torch

from .collection import canvas_ids_of
from .machine_tags import Proposal, replace_proposals
from .scope import resolve_scope, scope_images

CREATOR = "Loupe detector"
MODEL_PREFIX = "detector:"  # the model column says which detector: "detector:<name>"


@dataclass
class DetectReport:
    collection: str
    detector: str
    model: str
    model_version: str
    images: int = 0
    failed: int = 0
    detections: int = 0
    proposed: int = 0
    replaced: int = 0
    kept_decisions: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def detect_collection(settings: Settings, collection: str, detector: str, *, min_score: float | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> DetectReport:
    """Run the detector ``detector`` (``NAME`` for its latest version, or ``NAME@vN``) over
    ``collection`` and store what it finds; ``min_score`` replaces the calibrated per-class
    thresholds. Raises ScopeError, UnknownDetector."""
    started = time.monotonic()
    configure_torch(settings)
    ckpt = DetectorStore(settings).get(detector)
    info = ckpt.info()
    model = load_detector(ckpt.weights_file)
    config = model.config
    thresholds = [min_score] * len(config.classes) if min_score is not None else info.get("thresholds", 0.5)
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    images = CatalogImages(settings, catalog)
    report = DetectReport(collection, ckpt.ref, MODEL_PREFIX + ckpt.model, ckpt.tag)
    try:
        scope = resolve_scope(catalog, collection)
        report.collection = scope.description
        items = list(scope_images(catalog, scope))
        canvas_ids = canvas_ids_of(catalog)
        done = 0
        for manifest, group in groupby(items, key=lambda i: i.manifest):
            if should_stop is not None and should_stop():
                report.stopped = True
                break
            proposals: list[Proposal] = []
            seen: set[int] = set()
            for item in group:
                canvas_id = canvas_ids.get((manifest, item.canvas))
                found = _detect_image(model, thresholds, images, item, report)
                if canvas_id is not None and found is not None:
                    seen.add(canvas_id)
                    proposals += [Proposal(canvas_id, box, label, score, pixels) for box, pixels, label, score in found]
                done += 1
                if progress:
                    progress(done, len(items))
            counts = replace_proposals(catalog, report.model, report.model_version, seen, proposals, creator=CREATOR)
            report.proposed += counts.proposed
            report.replaced += counts.replaced
            report.kept_decisions += counts.decided
        report.seconds = round(time.monotonic() - started, 3)
        return report
    finally:
        images.close()
        catalog.close()


@torch.no_grad()
def _detect_image(model, thresholds, images: CatalogImages, item: ImageToIndex,  # noqa: ANN001
                  report: DetectReport) -> list[tuple] | None:
    """[(canvas xywh, full-image xywh, label, score)], or None when the image cannot be fetched."""
    try:
        fetched = images.fetch(item.source_id, item.image)
        picture = fetched.open()
    except (FetchError, OSError, ValueError) as e:
        report.failed += 1
        report.problems.append(f"{item.image.id}: {e}")
        return None
    report.images += 1
    pixels, scale = letterbox(picture, model.config.input_size)
    output = model(torch.from_numpy(pixels[None]).permute(0, 3, 1, 2)).numpy()
    found = decode(output, model.config, thresholds, scale, picture.size)
    full = item.full_size((round(fetched.width * fetched.scale_x), round(fetched.height * fetched.scale_y)))
    image = item.image if item.image.width and item.image.height else dataclasses.replace(
        item.image, width=full[0] if full else None, height=full[1] if full else None)
    cw, ch = item.canvas_size or (None, None)
    out = []
    for d in found:
        x0, y0, x1, y1 = d.box
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        box = fetched.box_to_full(Box(x0, y0, x1 - x0, y1 - y0))
        canvas = image_to_canvas(image, box, cw, ch)
        if canvas is None and image.target_box is None and not (cw and ch):
            canvas = box  # canvas size unknown, image over all of it: canvas = pixels
        if canvas is None or canvas.w <= 0 or canvas.h <= 0:
            continue
        report.detections += 1
        out.append(((round(canvas.x, 2), round(canvas.y, 2), round(canvas.w, 2), round(canvas.h, 2)),
                    np.round([box.x, box.y, box.w, box.h], 2).tolist(), d.label, d.score))
    return out
