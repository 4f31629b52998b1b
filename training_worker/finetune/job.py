"""The ``finetune`` job handler: CLIP fine-tuned on the catalog's image-caption pairs.

Progress counts optimiser steps; cancel is checked between steps. The run's state (weights,
optimiser, step, measurements) is saved every ``checkpoint_every`` steps and when stopped,
so a retried job resumes from the last saved step with the same batches. A finished run
becomes the next version under ``<data_dir>/models/finetuned/<model>/`` with its parameters
and evaluation (loss and held-out region-to-image recall, before and after); it is indexed
with ``loupe index --model NAME@vN`` and searched only once activated.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_models import get_spec, resolve_weights
from loupe_models.hardware import retain_freed_memory
from loupe_models.training.checkpoints import CheckpointStore
from loupe_models.training.clip_trainer import ClipTrainer, TrainConfig
from loupe_models.training.metrics import retrieval_metrics
from training_worker.jobs import JobContext

from .pairs import CatalogPairs, catalog_pairs
from .params import FinetuneParams

STATE_FILE = "state.pt"


def finetune_job(ctx: JobContext) -> dict[str, Any]:
    params = FinetuneParams.from_dict(ctx.params)
    settings = ctx.settings
    spec = get_spec(params.model or settings.model)
    weights = resolve_weights(spec, settings)  # ModelWeightsMissing (saying where) before any work
    store = CheckpointStore(settings)
    run_dir = store.run_dir(spec.name, ctx.job_id)
    state_file = run_dir / STATE_FILE

    ctx.set_message("reading image-caption pairs from the catalog")
    data = _read_pairs(ctx, settings, params)
    if not data.pairs:
        raise ValueError("the catalog has no image or region with a caption to train on")
    config = TrainConfig(freeze=params.freeze, train_last=params.train_last, learning_rate=params.learning_rate,
                         weight_decay=params.weight_decay, epochs=params.epochs, batch_size=params.batch_size,
                         seed=params.seed)
    trainer = ClipTrainer.create(spec, weights, config, settings)
    trainer.prepare(data.pairs)
    per_epoch = trainer.steps_per_epoch()
    total = per_epoch * params.epochs
    fixed = trainer.epoch_batches(0)  # the batches "loss before/after" is measured on

    if state_file.is_file():
        extra = trainer.load_state(state_file)
        ctx.log(f"resuming from step {trainer.step_no} of {total} ({state_file})")
    else:
        extra = {"loss_before": trainer.mean_loss(fixed), "recall_before": _recall(trainer, data),
                 "epoch_losses": [], "losses": [], "seconds": 0.0}
        ctx.log(f"{len(data.pairs)} pairs ({data.counts}); {total} steps; loss before {extra['loss_before']:.4f}")
    ctx.progress(trainer.step_no, total, f"fine-tuning {spec.name}: {len(data.pairs)} pairs, {params.epochs} epochs")

    start = time.perf_counter()
    retain_freed_memory()  # process-wide: the buffers freed after a step serve the next
    try:
        while trainer.step_no < total:
            epoch, within = divmod(trainer.step_no, per_epoch)
            batch = trainer.epoch_batches(epoch)[within]
            extra["losses"].append(trainer.step(batch))
            if within == per_epoch - 1:
                epoch_losses = extra["losses"][-per_epoch:]
                extra["epoch_losses"].append(sum(epoch_losses) / len(epoch_losses))
                ctx.log(f"epoch {epoch + 1}: mean loss {extra['epoch_losses'][-1]:.4f}")
            ctx.progress(trainer.step_no, total)
            if trainer.step_no < total and (ctx.cancelled() or trainer.step_no % params.checkpoint_every == 0):
                extra["seconds"] += time.perf_counter() - start
                start = time.perf_counter()
                trainer.save_state(state_file, extra)
                if ctx.stop_reason:
                    ctx.log(f"stopped at step {trainer.step_no}; a retry resumes there")
                    ctx.raise_if_cancelled()
    finally:
        retain_freed_memory(False)  # also when stopped: the memory kept for the next step goes back
    extra["seconds"] += time.perf_counter() - start

    evaluation = {"loss_before": extra["loss_before"], "loss_after": trainer.mean_loss(fixed),
                  "recall_before": extra["recall_before"], "recall_after": _recall(trainer, data)}
    ckpt = store.new(spec.name)
    trainer.save_weights(ckpt.weights_file)
    store.finish(ckpt, {"base": {"model": spec.name, "weights": weights.fingerprint()}, "job": ctx.job_id,
                        "params": params.as_dict(), "pairs": len(data.pairs), "counts": data.counts,
                        "train": {"steps": total, "epoch_losses": extra["epoch_losses"],
                                  "seconds": round(extra["seconds"], 2),
                                  "frozen_precision": trainer.config.frozen_precision,
                                  "device": trainer.device.type,
                                  "trainable_parameters": trainer.trainable},
                        "evaluation": evaluation})
    shutil.rmtree(run_dir, ignore_errors=True)
    ctx.set_message(f"{ckpt.ref}: loss {evaluation['loss_before']:.3f} -> {evaluation['loss_after']:.3f}; "
                    f"index it with `loupe index --model {ckpt.ref}`")
    return {"checkpoint": ckpt.ref, "vector": ckpt.vector(), "path": str(ckpt.weights_file), "pairs": len(data.pairs),
            "counts": data.counts, "steps": total, "epoch_losses": extra["epoch_losses"], "evaluation": evaluation,
            "problems": data.problems[:20]}


def _read_pairs(ctx: JobContext, settings, params: FinetuneParams) -> CatalogPairs:  # noqa: ANN001
    catalog = Catalog.open(settings)
    try:
        source_id = catalog.get_source(params.source).id if params.source else None
        with CatalogImages(settings, catalog) as images:
            return catalog_pairs(catalog, images, source_id=source_id, views=params.views, holdout=params.holdout,
                                 seed=params.seed, captions_per_item=params.captions_per_item)
    finally:
        catalog.close()


def _recall(trainer: ClipTrainer, data: CatalogPairs) -> dict[str, float]:
    """Held-out regions (else the trained ones) finding their own whole image."""
    queries = data.held_out or data.trained_regions
    if not queries or not data.wholes:
        return {}
    gallery = trainer.encode_images(data.wholes)
    found = trainer.encode_images([crop for crop, _ in queries])
    return retrieval_metrics(found, gallery, [{n} for _, n in queries])
