"""``loupe suggest``: a detector's detections (and zero-shot tags) proposed as machine
annotations for curators to review (a ``suggest`` job)."""

from __future__ import annotations

from typing import Any

import click

from loupe_core.settings import Settings
from training_worker.suggest import SuggestParams

from ._jobs import enqueue, prepare, print_job, run_here

P = SuggestParams
OPTIONS = {"detector": "--detector", "min_score": "--min-score", "tags": "--tags/--no-tags"}


@click.command("suggest")
@click.argument("collection", default="all")
@click.option("--detector", default=P.default("detector"), show_default=True, help="The detector: NAME (its latest "
              "version) or NAME@vN (`loupe detector list`).")
@click.option("--min-score", type=float, default=None, help="One threshold for every class instead of the "
              "thresholds calibrated on held-out views.")
@click.option("--tags/--no-tags", default=False, show_default=True, help="Also propose zero-shot tags (CLIP).")
@click.option("--background", is_flag=True, help="Queue a job for a worker instead of running here.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def suggest(settings: Settings, collection: str, background: bool, as_json: bool, no_progress: bool,
            **values: Any) -> None:
    """Run a trained detector over COLLECTION's images ('all', a source, a IIIF Collection URI
    or key) and store its detections as machine annotations (model, version, score, date) that
    curators accept or reject in the viewer, as zero-shot tags are."""
    params = prepare(settings, "suggest", {"collection": collection, **values}, OPTIONS)
    if background:
        enqueue(settings, "suggest", params, as_json, here="run here and now")
        return
    record = run_here(settings, "suggest", params, progress=not (no_progress or as_json), desc="detecting")
    print_job(record, as_json)
