"""The ``tag`` job handler: zero-shot tags for a collection's images, stored as machine
annotations (``loupe_tagging``).

Progress counts images; cancel is checked between manifests. A stopped run keeps the manifests
it finished (tagging is idempotent: a retry converges on the same tags).
"""

from __future__ import annotations

from typing import Any

from loupe_tagging import tag_collection
from training_worker.jobs import JobContext

from .params import TagParams

# Problems (images that could not be fetched) written to the job's log; the result has them all.
LOGGED_PROBLEMS = 20


def tag_job(ctx: JobContext) -> dict[str, Any]:
    params = TagParams.from_dict(ctx.params)
    settings = ctx.settings.replace(model=params.model) if params.model else ctx.settings
    model = ctx.resources.model(settings, settings.model)  # ModelWeightsMissing (saying where) before any work
    ctx.set_message(f"tagging {params.collection} with {model.version}")
    report = tag_collection(settings, params.collection, vocabulary=params.vocabulary_value(),
                            threshold=params.threshold, top_k=params.top_k, regions=params.regions, model=model,
                            progress=lambda done, total: ctx.progress(done, total), should_stop=ctx.cancelled)
    for problem in report.problems[:LOGGED_PROBLEMS]:
        ctx.log(f"warning: {problem}")
    if len(report.problems) > LOGGED_PROBLEMS:
        ctx.log(f"... and {len(report.problems) - LOGGED_PROBLEMS} more problems (the result lists them all)")
    done = (f"{report.proposed} tags proposed for {report.images} images and {report.regions} regions "
            f"of {report.collection}")
    ctx.set_message(f"{done} before stopping" if report.stopped else done)
    return report.as_json()
