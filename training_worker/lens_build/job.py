"""The ``lens_build`` job handler: guide -> reference images -> recognition -> bundle.

Writes ``<data_dir>/lens/<guide>/v<N>/`` (N one more than the current version): ``items/``
(reference images, long side <= 1024), the modes' models, descriptors and ORB features, and
``bundle.json``; then ``current.json``. Progress counts steps (images, then the build's five).
A retried job (cancelled, or its worker killed) resumes after fine-tuning when it got that far:
the fine-tuned model waits in ``<guide>/.build/v<N>/`` until the version is made current.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from loupe_core.settings import Settings
from loupe_guide import (
    Guide,
    GuideItem,
    apply_overrides,
    current_version,
    guide_dir,
    guide_from_catalog,
    read_overrides,
    write_definition,
)
from loupe_guide.catalog import GuideDefinition
from loupe_guide.paths import CURRENT_FILE, write_json_atomic
from loupe_models.hardware import available_cores
from loupe_models.lens.build import BuildItem, BuildSettings, build_recognition
from loupe_models.lens.bundle import BUNDLE_FILE, FORMAT
from loupe_models.lens.training import TrainSettings
from loupe_models.registry import get_spec
from loupe_models.weights import resolve_weights
from training_worker.jobs import JobContext

from .detector import detector_mode
from .params import LensBuildParams

REFERENCE_SIDE = 1024
WORK_DIR = ".build"
BACKBONE = "efficientnet-lite0"


def lens_build_job(ctx: JobContext) -> dict[str, Any]:
    params = LensBuildParams.from_dict(ctx.params)
    settings: Settings = ctx.settings
    if params.collection:
        write_definition(settings.data_dir, params.guide, GuideDefinition(params.collection))
    catalog = Catalog.open(settings)
    try:
        guide = guide_from_catalog(catalog, settings.data_dir, params.guide)
        missing = apply_overrides(guide, read_overrides(settings.data_dir, params.guide))
        for item in missing:
            ctx.log(f"warning: overrides for {item!r}, which the guide no longer has")
        version = (current_version(settings.data_dir, params.guide) or 0) + 1
        folder = guide_dir(settings.data_dir, params.guide) / f"v{version}"
        if folder.exists():  # a retried job: this version was never made current
            shutil.rmtree(folder)
        # Outside the served version folder: what a retried job resumes from (the fine-tuned model).
        work = guide_dir(settings.data_dir, params.guide) / WORK_DIR / f"v{version}"
        entries, build_items = _reference_images(ctx, settings, catalog, guide, folder)
    finally:
        catalog.close()
    if not any(i.kind == "artwork" for i in build_items):
        raise FetchError(f"no image of guide {params.guide!r} could be fetched")
    checkpoint = resolve_weights(get_spec(BACKBONE), settings).path
    build = BuildSettings(input_size=params.input_size, views=params.views, calibration_views=params.calibration_views,
                          non_artworks=params.non_artworks, seed=params.seed,
                          processes=params.processes or available_cores(),
                          train=TrainSettings(epochs=params.epochs, seed=params.seed))
    _threads(settings)
    images = len(entries)
    modes, verification, report = build_recognition(
        build_items, folder, checkpoint, build, tuple(params.modes.split(",")), log=ctx.log,
        progress=lambda done, total: ctx.progress(images + done, images + total),
        cancelled=lambda: ctx.raise_if_cancelled() or False,  # raises the framework's own stop
        work=work)
    if params.detector and "detect" in modes:
        modes["detect"], report.sizes_mb["detect"] = detector_mode(settings, params.detector, guide, entries, folder,
                                                                   ctx.log)
    bundle = {"format": FORMAT, "guide": params.guide, "version": version,
              "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "label": guide.label,
              "languages": guide.languages, "items": entries, "modes": modes, "verification": verification}
    write_json_atomic(folder / BUNDLE_FILE, bundle)
    write_json_atomic(guide_dir(settings.data_dir, params.guide) / CURRENT_FILE, {"version": version})
    shutil.rmtree(work.parent, ignore_errors=True)
    ctx.set_message(f"guide {params.guide!r} v{version}: {len(guide.artworks)} artworks, {len(guide.details)} details")
    return {"guide": params.guide, "version": version, "folder": str(folder), "artworks": len(guide.artworks),
            "details": len(guide.details), "languages": guide.languages, "modes": list(modes),
            "seconds": report.seconds, "sizes_mb": report.sizes_mb, "calibration": report.calibration,
            "max_model_mb": max(v for k, v in report.sizes_mb.items() if k in modes)}


def _threads(settings: Settings) -> None:
    import torch  # the build trains with torch

    torch.set_num_threads(max(1, int(getattr(settings, "torch_threads", 0) or available_cores())))


def _reference_images(ctx: JobContext, settings: Settings, catalog: Catalog, guide: Guide,
                      folder: Path) -> tuple[list[dict], list[BuildItem]]:
    """Each artwork's image fetched and saved as ``items/<id>.jpg`` (long side <= 1024); the
    bundle's item entries and the build's items (details' regions in reference pixels)."""
    (folder / "items").mkdir(parents=True, exist_ok=True)
    entries: list[dict] = []
    build: list[BuildItem] = []
    placed: dict[str, tuple[int, float, tuple[float, float, float, float]]] = {}
    total = len(guide.artworks)
    with CatalogImages(settings, catalog) as images:
        for n, item in enumerate(guide.items):
            if item.kind == "artwork":
                saved = _save_reference(images, item, folder, ctx)
                if saved is None:
                    continue
                size, f, offset = saved
                placed[item.id] = (len(entries), f, offset)
                entries.append(item.bundle_entry(size=size, image_path=f"items/{item.id}.jpg"))
                build.append(BuildItem(len(entries) - 1, item.id, "artwork", image=folder / "items" / f"{item.id}.jpg"))
                ctx.progress(len(placed), total + 5)
                ctx.raise_if_cancelled()
            elif item.parent in placed and item.full_box:
                parent, f, (ox, oy, sx, sy) = placed[item.parent]
                x, y, w, h = item.full_box
                region = [round((x - ox) / sx * f), round((y - oy) / sy * f), round(w / sx * f), round(h / sy * f)]
                entries.append(item.bundle_entry(region=region))
                build.append(BuildItem(len(entries) - 1, item.id, "detail", parent=parent, region=tuple(region)))
    return entries, build


def _save_reference(images: CatalogImages, item: GuideItem, folder: Path,
                    ctx: JobContext) -> tuple[tuple[int, int], float, tuple[float, float, float, float]] | None:
    try:
        fetched = images.fetch(item.source_id, item.image)
        with Image.open(fetched.path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (FetchError, OSError, ValueError) as e:
        ctx.log(f"warning: {item.id}: image not fetched ({e}); left out")
        return None
    f = min(1.0, REFERENCE_SIDE / max(image.size))
    if f < 1.0:
        image = image.resize((max(1, round(image.width * f)), max(1, round(image.height * f))), Image.LANCZOS)
    image.save(folder / "items" / f"{item.id}.jpg", quality=90)
    return image.size, f, (fetched.offset_x, fetched.offset_y, fetched.scale_x, fetched.scale_y)
