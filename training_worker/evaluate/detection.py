"""The ``evaluate`` job's detection task: a trained detector's mAP@0.5, and its recall and
precision at its calibrated thresholds, on the held-out views of a collection. With the
training run's split, seed and number of views the held-out images are those the run held out;
the views are made again from the catalog as it is now (new regions count)."""

from __future__ import annotations

from typing import Any

from loupe_models.detector.store import DetectorStore
from loupe_models.detector.trainer import load_detector
from loupe_models.detector.training import evaluate_detector
from loupe_models.hardware import available_cores, configure_torch
from loupe_models.training.evaluations import EvaluationStore
from training_worker.jobs import JobContext
from training_worker.jobs.catalog_samples import catalog_samples

from .params import EvaluateParams

LOGGED_PROBLEMS = 20


def evaluate_detection(ctx: JobContext, params: EvaluateParams) -> dict[str, Any]:
    settings = ctx.settings
    configure_torch(settings)
    ckpt = DetectorStore(settings).get(params.detector_ref())
    info = ckpt.info()
    trained = info.get("params", {})
    collection = params.collection or trained.get("collection", "all")
    ctx.set_message(f"reading {collection} and its annotated regions")
    found = catalog_samples(settings, collection)
    for problem in found.problems[:LOGGED_PROBLEMS]:
        ctx.log(f"warning: {problem}")
    model = load_detector(ckpt.weights_file)
    ctx.set_message(f"{ckpt.ref}: making the held-out views and detecting")
    measured = evaluate_detector(model, found.samples, info.get("thresholds") or [0.5] * len(model.config.classes),
                                 validation=trained.get("validation", 0.2),
                                 validation_views=trained.get("validation_views", 4), seed=trained.get("seed", 0),
                                 processes=available_cores())
    ctx.progress(1, 1)
    shares = measured["at_thresholds"]
    metrics = {"mAP@0.5": measured["map50"], "recall": shares["recall"], "precision": shares["precision"],
               "queries": measured["held_out_views"]}
    dataset = params.dataset or f"{collection} (held-out views)"
    store = EvaluationStore(settings)
    store.save(ckpt.ref, "detection", dataset, metrics, job=ctx.job_id)
    plots = store.write_plots()
    map50 = "n/a (no held-out boxes)" if metrics["mAP@0.5"] is None else f"{metrics['mAP@0.5']:.3f}"
    ctx.set_message(f"{ckpt.ref} on {dataset}: mAP@0.5 {map50} over {measured['held_out_views']} views")
    return {"model": ckpt.ref, "task": "detection", "dataset": dataset, "results": {"model": metrics},
            "per_class": measured["per_class"], "plots": {t: str(p) for t, p in plots.items()}}
