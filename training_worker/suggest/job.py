"""The ``suggest`` job handler: ``loupe_tagging.detections.detect_collection`` (and, with
``tags``, ``tag_collection``). Progress counts images; cancel is checked between manifests; a
rerun converges on the same proposals."""

from __future__ import annotations

from typing import Any

from loupe_tagging import tag_collection
from loupe_tagging.detections import detect_collection
from training_worker.jobs import JobContext

from .params import SuggestParams

LOGGED_PROBLEMS = 20


def suggest_job(ctx: JobContext) -> dict[str, Any]:
    params = SuggestParams.from_dict(ctx.params)
    ctx.set_message(f"detecting with {params.detector} in {params.collection}")
    report = detect_collection(ctx.settings, params.collection, params.detector, min_score=params.min_score,
                               progress=lambda done, total: ctx.progress(done, total), should_stop=ctx.cancelled)
    for problem in report.problems[:LOGGED_PROBLEMS]:
        ctx.log(f"warning: {problem}")
    ctx.raise_if_cancelled()
    result: dict[str, Any] = {"detections": report.as_json()}
    if params.tags:
        model = ctx.resources.model(ctx.settings, ctx.settings.model)
        tags = tag_collection(ctx.settings, params.collection, model=model, should_stop=ctx.cancelled)
        ctx.raise_if_cancelled()
        result["tags"] = tags.as_json()
    ctx.set_message(f"{report.proposed} detections of {report.detector} proposed on {report.images} images"
                    + (f", {result['tags']['proposed']} tags" if "tags" in result else ""))
    return result
