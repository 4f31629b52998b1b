"""`fit`: a detector trained on samples with boxes, measured on held-out views, with per-class
thresholds calibrated there. Used by the ``detector`` job and by ``loupe bench detector``.

Each epoch trains on fresh views (all made first, in one pass over the processes), or on one
of `view_rounds` rounds of views in turn; the held-out views are made once, from another seed. The run's state is saved every `checkpoint_every` steps and when asked to stop,
so a rerun with the same state file resumes at the saved step with the same batches.
Imports torch, OpenCV and albumentations.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from loupe_models.augmentation import Sample
from loupe_models.detector import torch_model
from loupe_models.detector.config import DetectorConfig
from loupe_models.detector.data import batches, classes_of, detection_split, view_pool
from loupe_models.detector.metrics import found_share, summary
from loupe_models.detector.trainer import DetectorTrainer, TrainConfig, match_detections

HELD_OUT_SEED = 0x5EED  # added to the seed: held-out views never share a seed with training views


@dataclass(frozen=True)
class FitOptions:
    input_size: int = 256
    epochs: int = 30
    views: int = 16  # per image with boxes, per round of views
    background_views: int = 2  # per image without boxes, per round of views
    view_rounds: int = 1  # distinct rounds of views; epoch e trains on round e % view_rounds (0: one per epoch)
    validation: float = 0.2
    validation_views: int = 4
    batch_size: int = 8
    learning_rate: float = 5e-3
    seed: int = 0
    processes: int = 1
    checkpoint_every: int = 25
    frozen_stages: int = 7  # 7: the whole backbone (its features are computed once per view); 2: fine-tune


@dataclass
class FitResult:
    model: torch_model.Detector
    thresholds: list[float]
    evaluation: dict
    train: dict
    split: dict
    classes: tuple[str, ...] = field(default=())


def fit(samples: Sequence[Sample], options: FitOptions, backbone: Path, *, state_file: Path | None = None,
        progress: Callable[[int, int], None] = lambda done, total: None,
        should_stop: Callable[[], bool] = lambda: False, log: Callable[[str], None] = lambda line: None,
        ) -> FitResult | None:
    """The trained detector, or None when `should_stop` said so (the state is then saved)."""
    split = detection_split(samples, options.validation, options.seed)
    classes = classes_of(split.train)
    if not classes:
        raise ValueError("no annotated region to train a detector on: annotate regions (or tag them) first")
    config = DetectorConfig(classes, input_size=options.input_size, frozen_stages=options.frozen_stages)
    t0 = time.perf_counter()
    held = view_pool(split.validation, config, options.validation_views, 1, options.seed + HELD_OUT_SEED,
                     processes=options.processes)
    rounds = min(options.view_rounds or options.epochs, options.epochs)
    pool = view_pool(split.train, config, options.views, options.background_views, options.seed,
                     processes=options.processes, rounds=rounds)
    view_seconds = time.perf_counter() - t0
    per_epoch = math.ceil((len([s for s in split.train if s.labels]) * options.views
                           + len([s for s in split.train if not s.labels]) * options.background_views)
                          / options.batch_size)
    total = per_epoch * options.epochs
    trainer = DetectorTrainer(torch_model.create(config, backbone),
                              TrainConfig(learning_rate=options.learning_rate, batch_size=options.batch_size,
                                          total_steps=total, seed=options.seed))
    if state_file is not None and state_file.is_file():
        extra = trainer.load_state(state_file)
        extra["view_seconds"] += view_seconds
        log(f"resuming at step {trainer.step_no} of {total}")
    else:
        extra = {"loss_before": trainer.mean_loss(held), "losses": [], "epoch_losses": [], "seconds": 0.0,
                 "view_seconds": view_seconds}
        log(f"{len(classes)} classes; {len(split.train)} training and {len(split.validation)} held-out images "
            f"({len(held)} held-out views); {total} steps; held-out loss before {extra['loss_before']:.4f}")
    progress(trainer.step_no, total)
    cached = None
    if trainer.model.backbone_frozen and rounds == 1:
        t0 = time.perf_counter()
        cached = trainer.features(pool.pixels)
        extra["view_seconds"] += time.perf_counter() - t0
    started = time.perf_counter()
    while trainer.step_no < total:
        epoch = trainer.step_no // per_epoch
        mine = pool.round(epoch % rounds)
        order = [mine[b] for b in batches(len(mine), options.batch_size, np.random.default_rng([options.seed, epoch]))]
        for within in range(trainer.step_no - epoch * per_epoch, min(per_epoch, len(order))):
            idx = order[within]
            batch = (cached[0][idx], cached[1][idx]) if cached is not None else pool.pixels[idx]
            extra["losses"].append(trainer.step(batch, [pool.boxes[i] for i in idx],
                                                [pool.labels[i] for i in idx]))
            progress(trainer.step_no, total)
            stop = should_stop()
            if state_file is not None and trainer.step_no < total and (
                    stop or trainer.step_no % options.checkpoint_every == 0):
                extra["seconds"] += time.perf_counter() - started
                started = time.perf_counter()
                trainer.save_state(state_file, extra)
            if stop:
                log(f"stopped at step {trainer.step_no}; a rerun resumes there")
                return None
        trainer.step_no = max(trainer.step_no, (epoch + 1) * per_epoch)  # a short pool ends its epoch
        recent = extra["losses"][-per_epoch:]
        extra["epoch_losses"].append(round(float(np.mean(recent)), 5) if recent else None)
        log(f"epoch {epoch + 1}/{options.epochs}: mean loss {extra['epoch_losses'][-1]}")
    extra["seconds"] += time.perf_counter() - started
    t0 = time.perf_counter()
    matcher = trainer.evaluate(held)
    measured = summary(matcher)
    evaluation = {"loss_before": round(extra["loss_before"], 5), "loss_after": round(trainer.mean_loss(held), 5),
                  **_measured(matcher, measured, measured["thresholds"], len(held)),
                  "seconds": round(time.perf_counter() - t0, 2)}
    train = {"steps": total, "epochs": options.epochs, "epoch_losses": extra["epoch_losses"],
             "seconds": round(extra["seconds"], 2), "view_seconds": round(extra["view_seconds"], 2),
             "trainable_parameters": trainer.trainable, "options": asdict(options)}
    return FitResult(trainer.model.eval(), measured["thresholds"], evaluation, train, split.as_json(), classes)


def evaluate_detector(model: torch_model.Detector, samples: Sequence[Sample], thresholds: Sequence[float], *,
                      validation: float = 0.2, validation_views: int = 4, seed: int = 0,
                      processes: int = 1) -> dict:
    """mAP@0.5 (and recall and precision at ``thresholds``) of a trained detector on the
    held-out views of ``samples``: with a training run's options, the images and views that run
    held out, made again from the catalog as it is now."""
    split = detection_split(samples, validation, seed)
    held = view_pool(split.validation, model.config, validation_views, 1, seed + HELD_OUT_SEED, processes=processes)
    matcher = match_detections(model, held)
    return _measured(matcher, summary(matcher), thresholds, len(held))


def _measured(matcher, measured: dict, thresholds: Sequence[float], views: int) -> dict:  # noqa: ANN001
    return {"map50": measured["map50"], "classes_evaluated": measured["classes_evaluated"], "held_out_views": views,
            "at_thresholds": found_share(matcher, thresholds), "per_class": measured["per_class"]}
