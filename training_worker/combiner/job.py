"""The ``combiner`` job handler: CLIP4Cir's Combiner trained on triplet features.

The CLIP model (the one whose vector composed search queries) stays frozen: the reference,
text and target features are computed once and kept in the run's folder, so a retried job
neither encodes again nor repeats finished steps (the state is saved every epoch and when
stopped). Progress counts steps; cancel is checked between steps. The result is evaluated
against the zero-shot baseline on the held-out triplets (else on all) and, unless told
otherwise, made the active Combiner for the vector.
"""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

import numpy as np

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_index.catalog_references import ReferenceReader
from loupe_models.hardware import choose_device
from loupe_models.identity import vector_name_for
from loupe_models.training.checkpoints import resolve_model_ref
from loupe_models.training.combiner import CombinerConfig, CombinerTrainer, tensors
from loupe_models.training.combiner_store import CombinerStore, NumpyCombiner
from loupe_models.training.metrics import retrieval_metrics
from loupe_models.training.triplets import Triplet, read_triplets
from training_worker.jobs import JobContext

from .params import CombinerParams

STATE_FILE = "state.pt"
FEATURES_FILE = "features.npz"
BASELINE_TEXT_WEIGHT = 0.5


def combiner_job(ctx: JobContext) -> dict[str, Any]:
    params = CombinerParams.from_dict(ctx.params)
    settings = ctx.settings
    spec, weights = resolve_model_ref(settings, params.model)
    vector = vector_name_for(spec, weights)
    store = CombinerStore(settings)
    run_dir = store.run_dir(vector, ctx.job_id)
    triplets = read_triplets(params.triplets, params.format, images=params.images, split_file=params.split_file)
    if not triplets:
        raise ValueError(f"{params.triplets} holds no triplets")

    features_file = run_dir / FEATURES_FILE
    if features_file.is_file():
        with np.load(features_file) as f:
            feats = {k: f[k] for k in f.files}
    else:
        ctx.set_message(f"encoding {len(triplets)} triplets with {spec.name}")
        model = ctx.resources.model(settings, spec.name, weights_path=weights.path if weights.version else None)
        feats = _encode(ctx, settings, model, triplets)
        run_dir.mkdir(parents=True, exist_ok=True)
        np.savez(features_file, **feats)

    held = np.array([_held_out(i, params) for i in range(len(triplets))])
    train = np.flatnonzero(~held) if held.any() and not held.all() else np.arange(len(triplets))
    test = np.flatnonzero(held) if held.any() and not held.all() else np.arange(len(triplets))
    config = CombinerConfig(projection_dim=params.projection_dim, hidden_dim=params.hidden_dim,
                            learning_rate=params.learning_rate, batch_size=params.batch_size, epochs=params.epochs,
                            seed=params.seed)
    trainer = CombinerTrainer(feats["images"].shape[1], config, device=choose_device(settings))
    per_epoch = len(trainer.epoch_batches(len(train), 0))
    total = per_epoch * params.epochs
    state_file = run_dir / STATE_FILE
    extra: dict[str, Any] = {"epoch_losses": [], "losses": []}
    if state_file.is_file():
        extra = trainer.load_state(state_file)
        ctx.log(f"resuming from step {trainer.step_no} of {total}")
    ctx.progress(trainer.step_no, total, f"training a Combiner for {vector}: {len(train)} triplets")
    ref_all, txt_all, tgt_all = tensors(feats["images"][feats["reference"]], feats["texts"],
                                        feats["images"][feats["target"]])
    while trainer.step_no < total:
        epoch, within = divmod(trainer.step_no, per_epoch)
        batch = train[trainer.epoch_batches(len(train), epoch)[within]]
        extra["losses"].append(trainer.step(ref_all[batch], txt_all[batch], tgt_all[batch]))
        if within == per_epoch - 1:
            extra["epoch_losses"].append(float(np.mean(extra["losses"][-per_epoch:])))
            ctx.log(f"epoch {epoch + 1}: mean loss {extra['epoch_losses'][-1]:.4f}")
        ctx.progress(trainer.step_no, total)
        if trainer.step_no < total and (ctx.cancelled() or within == per_epoch - 1):
            trainer.save_state(state_file, extra)
            if ctx.stop_reason:
                ctx.log(f"stopped at step {trainer.step_no}; a retry resumes there")
                ctx.raise_if_cancelled()

    stored = store.new(vector)
    arrays = trainer.state_arrays()
    evaluation = {"combiner": composed_metrics(NumpyCombiner(stored.name, arrays), feats, test),
                  "baseline": composed_metrics(None, feats, test), "triplets": len(test),
                  "held_out": bool(held.any() and not held.all())}
    store.save(stored, arrays, {"model": spec.name if not weights.version else f"{spec.name}@{weights.version}",
                                "params": params.as_dict(), "train": {"triplets": len(train), "steps": total,
                                                                      "epoch_losses": extra["epoch_losses"],
                                                                      "device": trainer.device.type},
                                "evaluation": evaluation})
    if params.activate:
        store.activate(stored)
    shutil.rmtree(run_dir, ignore_errors=True)
    ctx.set_message(f"{stored.name} for {vector}: composed R@1 {evaluation['combiner']['R@1']:.2f} "
                    f"(baseline {evaluation['baseline']['R@1']:.2f})" + (", active" if params.activate else ""))
    return {"combiner": stored.name, "vector": vector, "active": params.activate, "triplets": len(triplets),
            "steps": total, "epoch_losses": extra["epoch_losses"], "evaluation": evaluation}


def composed_metrics(combiner: NumpyCombiner | None, feats: dict[str, np.ndarray], rows: np.ndarray) -> dict:
    """Recall@k and mAP of the composed queries of ``rows`` against every distinct image but
    the query's reference; ``combiner`` None: the zero-shot baseline."""
    images, ref, tgt, txt = feats["images"], feats["reference"][rows], feats["target"][rows], feats["texts"][rows]
    if combiner is None:
        mixed = (1 - BASELINE_TEXT_WEIGHT) * images[ref] + BASELINE_TEXT_WEIGHT * txt
        queries = mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
    else:
        queries = combiner.combine_batch(images[ref], txt)
    return retrieval_metrics(queries, images, [{int(t)} for t in tgt],
                             exclude=[{int(r)} - {int(t)} for r, t in zip(ref, tgt)])


def _encode(ctx: JobContext, settings, model, triplets: list[Triplet]) -> dict[str, np.ndarray]:  # noqa: ANN001
    refs = list(dict.fromkeys([t.reference for t in triplets] + [t.target for t in triplets]))
    index = {r: i for i, r in enumerate(refs)}
    catalog = Catalog.open(settings)
    try:
        with CatalogImages(settings, catalog) as images:
            reader = ReferenceReader(catalog, images)
            pictures = [reader.read(r) for r in refs]
    finally:
        catalog.close()
    ctx.log(f"{len(triplets)} triplets over {len(refs)} images")
    return {"images": model.encode_images(pictures), "texts": model.encode_texts([t.text for t in triplets]),
            "reference": np.array([index[t.reference] for t in triplets]),
            "target": np.array([index[t.target] for t in triplets])}


def _held_out(i: int, params: CombinerParams) -> bool:
    digest = hashlib.sha1(f"{params.seed}:{i}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32 < params.holdout
