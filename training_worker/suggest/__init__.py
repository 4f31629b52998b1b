"""The ``suggest`` job: suggestions for curators on a collection's canvases: a trained
detector's detections (and, when asked, zero-shot tags), stored as machine annotations with
provenance for review in the viewer (issue 11)."""

from training_worker.jobs.kind import JobKind

from .params import SuggestParams, check_suggest

KIND = JobKind(
    name="suggest", title="Suggest annotations with a detector", params=SuggestParams, check=check_suggest,
    handler="training_worker.suggest.job:suggest_job", progress_unit="image",
    description="Runs a trained detector (NAME for its latest version, or NAME@vN) over the collection's images "
                "with its per-class thresholds and stores what it finds as machine annotations (model, version, "
                "score, date) that curators accept or reject in the viewer; with tags, zero-shot tags of the CLIP "
                "model as well. A rerun replaces the detector's earlier proposals; decisions stay.")

__all__ = ["KIND", "SuggestParams"]
