"""The ``augment`` job handler.

Writes under ``<data_dir>/augment/job-<id>/``: ``train/`` and ``validation/`` with the views
(JPEG) and one JSON file per source image (its views' boxes and labels), then
``train.jsonl`` and ``validation.jsonl`` (one line per view) and ``contact_sheet.png``.
Progress counts source images; cancel is checked after each. A retry skips the images whose
JSON file is written, and makes the same views for the rest (seeds are per view).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from loupe_core.settings import Settings
from loupe_models.augmentation import Sample, View, VisitorCamera, split_by_source
from loupe_models.augmentation.contact_sheet import write_contact_sheet
from loupe_models.augmentation.copy_paste import copy_paste
from loupe_models.augmentation.parallel import augment
from loupe_models.hardware import available_cores
from training_worker.jobs import JobContext
from training_worker.jobs.catalog_samples import catalog_samples

from .params import AugmentParams

SIDES = ("train", "validation")
JPEG_QUALITY = 92


def output_folder(settings: Settings, job_id: int) -> Path:
    return settings.data_dir / "augment" / f"job-{job_id}"


def augment_job(ctx: JobContext) -> dict[str, Any]:
    params = AugmentParams.from_dict(ctx.params)
    out = output_folder(ctx.settings, ctx.job_id)
    found = catalog_samples(ctx.settings, params.collection)
    for problem in found.problems[:20]:
        ctx.log(f"warning: {problem}")
    split = split_by_source(found.samples, params.validation, params.seed)
    pasted = copy_paste(split.train, params.min_per_class, params.seed) if params.min_per_class else []
    sides = {"train": list(split.train) + pasted, "validation": list(split.validation)}
    camera = dataclasses.replace(VisitorCamera(), long_side=params.long_side)
    processes = params.processes or available_cores()
    total = sum(len(v) for v in sides.values())
    done = made = 0
    started = time.monotonic()
    ctx.set_message(f"{total} images ({len(pasted)} with pasted regions), {params.views} views each, "
                    f"{processes} processes")
    for side, samples in sides.items():
        folder = out / side
        folder.mkdir(parents=True, exist_ok=True)
        todo = [s for s in samples if not _record_path(folder, s).exists()]
        done += len(samples) - len(todo)
        ctx.progress(done, total)
        # Neighbouring works on the wall come from the same side (no validation image in training
        # views), from files (pasted samples are arrays: not sent to every process).
        neighbours = [s for s in samples if not s.pasted_from]
        for sample, views in zip(todo, augment(todo, params.views, params.seed, camera, processes, neighbours)):
            _write(folder, sample, views, found.canvases.get(sample.source_id))
            done, made = done + 1, made + len(views)
            ctx.progress(done, total)
            ctx.raise_if_cancelled()
    seconds = time.monotonic() - started
    counts = {side: _gather(out, side) for side in SIDES}
    sheet = None
    if params.sheet_views:
        views = _read_views(out, "train", params.sheet_views) or _read_views(out, "validation", params.sheet_views)
        sheet = str(write_contact_sheet(out / "contact_sheet.png", views)) if views else None
    ctx.set_message(f"{counts['train']['views']} training and {counts['validation']['views']} validation views "
                    f"in {out}")
    return {"folder": str(out), **counts, "pasted": len(pasted), "contact_sheet": sheet, "problems": found.problems,
            "processes": processes, "views_per_s": round(made / seconds, 2) if seconds and made else None}


def _name(sample: Sample) -> str:
    return hashlib.sha1(sample.key.encode()).hexdigest()[:16]


def _record_path(folder: Path, sample: Sample) -> Path:
    return folder / f"{_name(sample)}.json"


def _write(folder: Path, sample: Sample, views: list[View], canvas: tuple[str, str] | None) -> None:
    """The views as JPEGs, then the sample's JSON record (written last: it marks the sample done)."""
    lines = []
    for view in views:
        file = f"{_name(sample)}-{view.index:04d}.jpg"
        Image.fromarray(view.image).save(folder / file, quality=JPEG_QUALITY)
        lines.append({"file": file, "source": sample.source_id, "pasted_from": sorted(sample.pasted_from),
                      "manifest": canvas[0] if canvas else None, "canvas": canvas[1] if canvas else None,
                      "width": view.image.shape[1], "height": view.image.shape[0],
                      "boxes": [[round(float(v), 1) for v in box] for box in view.boxes],
                      "labels": list(view.labels), "seed": view.seed, "info": view.info})
    record = _record_path(folder, sample)
    partial = record.with_suffix(".part")
    partial.write_text(json.dumps(lines))
    partial.replace(record)


def _gather(out: Path, side: str) -> dict[str, int]:
    """``<side>.jsonl`` from the per-image records, in a stable order; counts."""
    records = sorted((out / side).glob("*.json"))
    lines = [line for record in records for line in json.loads(record.read_text())]
    with open(out / f"{side}.jsonl", "w") as f:
        for line in lines:
            f.write(json.dumps({**line, "file": f"{side}/{line['file']}"}) + "\n")
    return {"images": len(records), "views": len(lines),
            "boxes": sum(len(line["boxes"]) for line in lines)}


def _read_views(out: Path, side: str, limit: int) -> list[View]:
    views = []
    with open(out / f"{side}.jsonl") as f:
        for line in f:
            row = json.loads(line)
            image = np.asarray(Image.open(out / row["file"]).convert("RGB"))
            name = (row["canvas"] or row["source"]).rstrip("/").rsplit("/", 1)[-1]  # a caption
            views.append(View(image, np.asarray(row["boxes"], np.float32).reshape(-1, 4), tuple(row["labels"]),
                              name, int(row["file"][-8:-4]), row["seed"], row["info"]))
            if len(views) >= limit:
                break
    return views
