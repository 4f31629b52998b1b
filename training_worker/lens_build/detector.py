"""Detect mode with a trained detector: its TensorFlow.js export copied into the bundle
(``detect/``), its PyTorch weights as the Python twin (``python/detect.pt``), and each of its
classes (a region label or tag, as ``jobs.catalog_samples`` names them) mapped to the bundle's
details whose region has that label or tag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

from loupe_core.settings import Settings
from loupe_guide import Guide
from loupe_models.detector.export import META_FILE
from loupe_models.detector.store import DetectorStore
from loupe_models.lens.bundle import PYTHON_DIR
from training_worker.jobs.catalog_samples import MAX_LABEL

FOLDER = "detect"
TWIN = "detect.pt"


def detector_mode(settings: Settings, ref: str, guide: Guide, entries: list[dict], folder: Path,
                  log: Callable[[str], None]) -> tuple[dict, float]:
    """(``modes.detect`` of bundle.json, the export's size in MB)."""
    found = DetectorStore(settings).get(ref)
    target = folder / FOLDER
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(found.tfjs_folder, target)
    (folder / PYTHON_DIR).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(found.weights_file, folder / PYTHON_DIR / TWIN)
    meta = json.loads((target / META_FILE).read_text())
    labels_of = {i.id: {label[:MAX_LABEL] for label in i.labels} for i in guide.details}
    classes: list[list[int]] = []
    for label in meta["labels"]:
        items = [n for n, e in enumerate(entries) if e["kind"] == "detail" and label in labels_of.get(e["id"], ())]
        if not items:
            log(f"detector {found.ref}: class {label!r} matches no detail of the guide; dropped")
        classes.append(items)
    mapped = sum(1 for c in classes if c)
    log(f"detector {found.ref}: {mapped} of {len(classes)} classes mapped to the guide's details")
    size = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    return {"method": "detector", "detector": found.ref, "model": f"{FOLDER}/model.json",
            "meta": f"{FOLDER}/{META_FILE}", "input_size": int(meta["input"]["input_size"]),
            "labels": list(meta["labels"]), "classes": classes, "thresholds": list(meta["thresholds"]),
            "python": f"{PYTHON_DIR}/{TWIN}"}, round(size / 1e6, 2)
