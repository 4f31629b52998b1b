"""The ``evaluate`` job handler: Recall@1/5/10 and mAP of one model version on one task,
stored per version (``loupe_models.training.evaluations``) with the comparison plots.

- image: each query image (a folder) ranks the gallery; the ground truth CSV names its
  relevant gallery items;
- text: each caption of the ground truth CSV ranks the gallery;
- composed: each triplet's reference and text rank every image of the triplets but the
  reference, with the vector's active Combiner, and with the zero-shot baseline;
- detection: a trained detector on the held-out views of its collection (``detection``).

Progress counts images encoded; cancel is checked between batches. Encoded batches are kept
in the run's folder, so a retried job encodes only what is left.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_index.catalog_references import ReferenceReader
from loupe_models.identity import vector_name_for
from loupe_models.training.checkpoints import resolve_model_ref
from loupe_models.training.combiner_store import CombinerStore
from loupe_models.training.evaluations import EvaluationStore
from loupe_models.training.metrics import retrieval_metrics
from loupe_models.training.triplets import read_triplets
from training_worker.jobs import JobContext

from .data import Gallery, catalog_gallery, folder_gallery, open_image, read_ground_truth
from .detection import evaluate_detection
from .params import EvaluateParams, check_evaluate

BASELINE = "zero-shot-weighted-sum"
BASELINE_TEXT_WEIGHT = 0.5


class Encoder:
    """Encodes lists of images in batches with progress, cancel checks and saved batches."""

    def __init__(self, ctx: JobContext, model, run_dir: Path, batch: int, total: int) -> None:  # noqa: ANN001
        self.ctx, self.model, self.run_dir, self.batch, self.total = ctx, model, run_dir, batch, total
        self.done = 0
        self.reused = 0  # batches found saved by an earlier attempt

    def images(self, name: str, loaders: list[Callable[[], Image.Image]]) -> np.ndarray:
        parts = []
        for start in range(0, len(loaders), self.batch):
            saved = self.run_dir / f"{name}-{start:07d}.npy"
            chunk = loaders[start:start + self.batch]
            if saved.is_file():
                parts.append(np.load(saved))
                self.reused += 1
            else:
                self.ctx.raise_if_cancelled()
                parts.append(self.model.encode_images([load() for load in chunk]))
                self.run_dir.mkdir(parents=True, exist_ok=True)
                np.save(saved, parts[-1])
            self.done += len(chunk)
            self.ctx.progress(self.done, self.total)
        if self.reused:
            self.ctx.log(f"{name}: {self.reused} batches encoded by an earlier attempt reused")
            self.reused = 0
        return np.concatenate(parts) if parts else np.zeros((0, self.model.dim), np.float32)


def evaluate_job(ctx: JobContext) -> dict[str, Any]:
    params = EvaluateParams.from_dict(ctx.params)
    settings = ctx.settings
    check_evaluate(params, settings, None)  # the files a stored job names may have gone since
    if params.task == "detection":
        return evaluate_detection(ctx, params)
    spec, weights = resolve_model_ref(settings, params.model)
    model_name = spec.name if not weights.version else f"{spec.name}@{weights.version}"
    vector = vector_name_for(spec, weights)
    model = ctx.resources.model(settings, spec.name, weights_path=weights.path if weights.version else None)
    run_dir = settings.data_dir / "evaluations" / "runs" / f"job-{ctx.job_id}"
    source = Path(params.source_file())
    dataset = params.dataset or source.name
    catalog = Catalog.open(settings)
    try:
        with CatalogImages(settings, catalog) as images:
            cached: dict[str, Gallery] = {}

            def catalog_items() -> Gallery:
                if "g" not in cached:
                    cached["g"] = catalog_gallery(catalog, images)
                return cached["g"]

            if params.task == "composed":
                results = _composed(ctx, params, model, run_dir, vector, ReferenceReader(catalog, images))
            else:
                gallery = folder_gallery(Path(params.gallery)) if params.gallery else catalog_items()
                results = {"model": _ranked(ctx, params, model, run_dir, gallery)}
    finally:
        catalog.close()
    store = EvaluationStore(settings)
    saved = [store.save(model_name, params.task, dataset, metrics, method=method, vector=vector, job=ctx.job_id)
             for method, metrics in results.items()]
    plots = store.write_plots()
    shutil.rmtree(run_dir, ignore_errors=True)
    first = saved[0].metrics
    ctx.set_message(f"{model_name} on {dataset} ({params.task}): R@1 {first['R@1']:.2f}, R@5 {first['R@5']:.2f}, "
                    f"R@10 {first['R@10']:.2f}, mAP {first['mAP']:.2f}")
    return {"model": model_name, "vector": vector, "task": params.task, "dataset": dataset,
            "results": {ev.method: ev.metrics for ev in saved}, "plots": {t: str(p) for t, p in plots.items()}}


def _ranked(ctx: JobContext, params: EvaluateParams, model, run_dir: Path, gallery: Gallery) -> dict:  # noqa: ANN001
    truth = read_ground_truth(Path(params.ground_truth))  # type: ignore[arg-type]
    relevant = [set().union(*(gallery.find(r) for r in rel)) if rel else set() for _, rel in truth]
    missing = [q for (q, _), rel in zip(truth, relevant) if not rel]
    if missing:
        ctx.log(f"warning: {len(missing)} queries name nothing in the gallery (counted as misses), e.g. {missing[0]}")
    n_queries = len(truth) if params.task == "image" else 0
    encoder = Encoder(ctx, model, run_dir, params.batch_images, len(gallery.loaders) + n_queries)
    gallery_features = encoder.images("gallery", gallery.loaders)
    if params.task == "image":
        folder = Path(params.queries)  # type: ignore[arg-type]
        queries = encoder.images("queries", [lambda p=folder / q: open_image(p) for q, _ in truth])
    else:
        queries = model.encode_texts([q for q, _ in truth])
    return retrieval_metrics(queries, gallery_features, relevant)


def _composed(ctx: JobContext, params: EvaluateParams, model, run_dir: Path, vector: str,  # noqa: ANN001
              references: ReferenceReader) -> dict[str, dict]:
    triplets = read_triplets(params.triplets, params.format, images=params.images,  # type: ignore[arg-type]
                             split_file=params.split_file)
    refs = list(dict.fromkeys([t.reference for t in triplets] + [t.target for t in triplets]))
    index = {r: i for i, r in enumerate(refs)}
    encoder = Encoder(ctx, model, run_dir, params.batch_images, len(refs))
    images = encoder.images("images", [lambda r=r: references.read(r) for r in refs])
    texts = model.encode_texts([t.text for t in triplets])
    ref = np.array([index[t.reference] for t in triplets])
    tgt = np.array([index[t.target] for t in triplets])
    relevant = [{int(t)} for t in tgt]
    exclude = [{int(r)} - {int(t)} for r, t in zip(ref, tgt)]
    mixed = (1 - BASELINE_TEXT_WEIGHT) * images[ref] + BASELINE_TEXT_WEIGHT * texts
    baseline = mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
    out = {BASELINE: retrieval_metrics(baseline, images, relevant, exclude=exclude)}
    stored = CombinerStore(ctx.settings).active(vector)
    if stored is not None:
        combined = stored.load().combine_batch(images[ref], texts)
        out = {stored.name: retrieval_metrics(combined, images, relevant, exclude=exclude), **out}
    return out
