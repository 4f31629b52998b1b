"""``loupe bench detector``: the detector trained on a folder laid out as the shared lens data
(../shared/data/lens: 136 artworks, 24 named details with boxes; artworks without details are
background), timed end to end, with mAP@0.5 on held-out visitor-camera views and the sizes of
the saved model and its TensorFlow.js export."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from loupe_core.settings import Settings
from loupe_models import get_spec, resolve_weights
from loupe_models.detector.export import export_detector
from loupe_models.detector.lens_folder import lens_folder_samples
from loupe_models.detector.trainer import save_detector
from loupe_models.detector.training import FitOptions, fit
from loupe_models.hardware import available_cores

DEFAULT_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens"


def run(settings: Settings, folder: Path, options: FitOptions, export: bool = True, progress: bool = False,
        threads: int = 0) -> dict:
    import torch

    torch.set_num_threads(max(1, threads or available_cores()))
    started = time.perf_counter()
    samples = lens_folder_samples(folder)
    backbone = resolve_weights(get_spec("efficientnet-lite0"), settings).path
    log = print if progress else (lambda line: None)
    result = fit(samples, options, backbone, log=log)
    assert result is not None
    train_s = time.perf_counter() - started
    out = {"seconds": round(train_s, 1), "map50": result.evaluation["map50"],
           "classes": len(result.classes), "images": len(samples),
           "held_out_views": result.evaluation["held_out_views"], "at_thresholds": result.evaluation["at_thresholds"],
           "loss_before": result.evaluation["loss_before"], "loss_after": result.evaluation["loss_after"],
           "steps": result.train["steps"], "train_s": result.train["seconds"], "view_s": result.train["view_seconds"],
           "split": result.split, "cores": available_cores(), "torch_threads": torch.get_num_threads(), "options": asdict(options),
           "per_class_ap50": {k: v["ap50"] for k, v in result.evaluation["per_class"].items()}}
    with tempfile.TemporaryDirectory() as tmp:
        save_detector(result.model, Path(tmp) / "detector.pt")
        out["torch_bytes"] = (Path(tmp) / "detector.pt").stat().st_size
        if export:
            t0 = time.perf_counter()
            made = export_detector(result.model.config, result.model.state_dict(), result.thresholds,
                                   Path(tmp) / "tfjs")
            out["tfjs_bytes"], out["export_s"] = made.bytes, round(time.perf_counter() - t0, 1)
    return out
