"""The ``index`` job handler (registered in ``training_worker.jobs.registry``).

Parameters (``IndexParams``): ``source`` (one source; default all), ``model`` (default the
model setting), ``activate`` (switch searches to this model's vector when done),
``batch_images`` (images per index write: progress and cancel granularity).
"""

from __future__ import annotations

from typing import Any

from connector.catalog import Catalog
from loupe_models import get_spec, resolve_weights
from training_worker.indexing.indexer import Indexer
from training_worker.jobs import JobContext

from .model_ref import ModelRef
from .params import IndexParams


def index_job(ctx: JobContext) -> dict[str, Any]:
    params = IndexParams.from_dict(ctx.params)
    settings = ctx.settings
    spec = get_spec(params.model or settings.model)
    weights = resolve_weights(spec, settings)  # ModelWeightsMissing (saying where) before any work
    # Loaded once per process, and only when there is something to embed.
    model = ModelRef(spec, weights, lambda: ctx.resources.model(settings, spec.name))
    catalog = Catalog.open(settings)
    try:
        with ctx.resources.vector_index(settings, role=f"index job {ctx.job_id}") as index:
            indexer = Indexer(settings, catalog, index, model, batch_images=params.batch_images, report=ctx)
            summary = indexer.run(params.source, activate=params.activate)
    finally:
        catalog.close()
    ctx.set_message(summary.message())
    return summary.as_dict()
