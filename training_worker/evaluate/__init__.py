"""The ``evaluate`` job: Recall@1/5/10 and mAP of a model version on image-to-image,
text-to-image or composed retrieval, stored per version with plots comparing versions."""

from training_worker.jobs.kind import JobKind

from .params import EvaluateParams, check_evaluate

KIND = JobKind(
    name="evaluate", title="Evaluate a model version", params=EvaluateParams, check=check_evaluate,
    handler="training_worker.evaluate.job:evaluate_job", progress_unit="image",
    description="Computes Recall@1/5/10 and mAP for image-to-image (a folder of query images and a CSV of ground "
                "truth), text-to-image (captions) or composed retrieval (triplets; the vector's active Combiner and "
                "the zero-shot baseline) with one model version, stores the results per version and redraws the "
                "plots comparing versions (the /evaluations page).")

__all__ = ["KIND", "EvaluateParams"]
