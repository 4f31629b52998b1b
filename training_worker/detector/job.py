"""The ``detector`` job handler.

Reads the collection's images with their regions (``jobs.catalog_samples``), trains with
``loupe_models.detector.training.fit`` (progress counts steps; cancel is checked after each;
the state is saved every ``checkpoint_every`` steps and when stopped, so a retry resumes at
the saved step), then writes the next version under ``<data_dir>/models/detectors/<name>/``:
the PyTorch detector, checkpoint.json (params, classes, thresholds, training, evaluation), and
with ``export`` the TensorFlow.js graph model and loupe.json in ``tfjs/``.
"""

from __future__ import annotations

import shutil
from typing import Any

from loupe_models import get_spec, resolve_weights
from loupe_models.detector.export import export_detector
from loupe_models.detector.store import DetectorStore
from loupe_models.detector.trainer import save_detector
from loupe_models.detector.training import FitOptions, fit
from loupe_models.hardware import available_cores, configure_torch
from loupe_models.training.evaluations import EvaluationStore
from training_worker.jobs import JobContext
from training_worker.jobs.catalog_samples import catalog_samples

from .params import DetectorParams

BACKBONE = "efficientnet-lite0"
STATE_FILE = "state.pt"
LOGGED_PROBLEMS = 20


def detector_job(ctx: JobContext) -> dict[str, Any]:
    params = DetectorParams.from_dict(ctx.params)
    settings = ctx.settings
    backbone = resolve_weights(get_spec(BACKBONE), settings)  # ModelWeightsMissing (saying where) before any work
    configure_torch(settings)
    store = DetectorStore(settings)
    run_dir = store.run_dir(params.name, ctx.job_id)
    ctx.set_message(f"reading {params.collection} and its annotated regions")
    found = catalog_samples(settings, params.collection)
    for problem in found.problems[:LOGGED_PROBLEMS]:
        ctx.log(f"warning: {problem}")
    options = FitOptions(input_size=params.input_size, epochs=params.epochs, views=params.views,
                         background_views=params.background_views, view_rounds=params.view_rounds,
                         frozen_stages=params.frozen_stages, validation=params.validation,
                         validation_views=params.validation_views, batch_size=params.batch_size,
                         learning_rate=params.learning_rate, seed=params.seed,
                         processes=params.processes or available_cores(), checkpoint_every=params.checkpoint_every)
    result = fit(found.samples, options, backbone.path, state_file=run_dir / STATE_FILE,
                 progress=lambda done, total: ctx.progress(done, total), should_stop=ctx.cancelled, log=ctx.log)
    if result is None:
        ctx.raise_if_cancelled()
        raise RuntimeError("training stopped without a reason")  # pragma: no cover - fit stops only when asked
    ckpt = store.new(params.name)
    save_detector(result.model, ckpt.weights_file)
    exported = None
    if params.export:
        made = export_detector(result.model.config, result.model.state_dict(), result.thresholds, ckpt.tfjs_folder,
                               detector=ckpt.ref)
        exported = {"folder": str(made.folder), "bytes": made.bytes, "files": list(made.files)}
    info = {"backbone": {"model": BACKBONE, "weights": backbone.fingerprint()}, "job": ctx.job_id,
            "params": params.as_dict(), "classes": list(result.classes), "thresholds": result.thresholds,
            "config": result.model.config.as_dict(), "split": result.split, "train": result.train,
            "evaluation": result.evaluation, "tfjs": exported}
    store.finish(ckpt, info)
    shares = result.evaluation["at_thresholds"]
    evaluations = EvaluationStore(settings)  # the /evaluations page compares the versions
    evaluations.save(ckpt.ref, "detection", f"{params.collection} (held-out views)",
                     {"mAP@0.5": result.evaluation["map50"], "recall": shares["recall"],
                      "precision": shares["precision"], "queries": result.evaluation["held_out_views"]}, job=ctx.job_id)
    evaluations.write_plots()
    shutil.rmtree(run_dir, ignore_errors=True)
    ctx.set_message(f"{ckpt.ref}: {len(result.classes)} classes, mAP@0.5 {result.evaluation['map50']} on "
                    f"{result.evaluation['held_out_views']} held-out views")
    return {"detector": ckpt.ref, "path": str(ckpt.weights_file), "classes": list(result.classes),
            "thresholds": result.thresholds, "split": result.split,
            "evaluation": {k: v for k, v in result.evaluation.items() if k != "per_class"},
            "train": {k: v for k, v in result.train.items() if k != "options"}, "tfjs": exported,
            "problems": found.problems[:LOGGED_PROBLEMS]}
