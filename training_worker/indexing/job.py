"""The ``index`` job handler (registered in ``training_worker.jobs.registry``).

Parameters (``IndexParams``): ``source`` (one source; default all), ``model`` (default the
model setting), ``activate`` (switch searches to this model's vector when done),
``batch_images`` (images per index write: progress and cancel granularity).
"""

from __future__ import annotations

from typing import Any

from connector.catalog import Catalog
from loupe_models.training.checkpoints import resolve_model_ref
from training_worker.indexing.indexer import Indexer
from training_worker.jobs import JobContext

from .model_ref import ModelRef
from .params import IndexParams


def index_job(ctx: JobContext) -> dict[str, Any]:
    params = IndexParams.from_dict(ctx.params)
    settings = ctx.settings
    # NAME or a fine-tuned NAME@vN; ModelWeightsMissing (saying where) before any work
    spec, weights = resolve_model_ref(settings, params.model)
    path = weights.path if weights.version else None
    # Loaded once per process, and only when there is something to embed.
    model = ModelRef(spec, weights, lambda: ctx.resources.model(settings, spec.name, weights_path=path))
    catalog = Catalog.open(settings)
    try:
        with ctx.resources.vector_index(settings, role=f"index job {ctx.job_id}") as index:
            indexer = Indexer(settings, catalog, index, model, batch_images=params.batch_images, report=ctx)
            summary = indexer.run(params.source, activate=params.activate)
    finally:
        catalog.close()
    ctx.set_message(summary.message())
    return summary.as_dict()
