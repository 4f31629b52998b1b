"""The ``detector`` job: a detector of the collection's annotated regions (each label or tag a
class) fine-tuned on the EfficientNet-Lite0 backbone with visitor-camera views, thresholds
calibrated on held-out views, saved as the next version ``NAME@vN`` under
``<data_dir>/models/detectors/`` with a TensorFlow.js export for the lens."""

from training_worker.jobs.kind import JobKind

from .params import DetectorParams, check_detector

KIND = JobKind(
    name="detector", title="Train a detector of the annotated regions", params=DetectorParams,
    check=check_detector, handler="training_worker.detector.job:detector_job", progress_unit="step",
    description="Fine-tunes a single-stage detector (EfficientNet-Lite0 backbone, CenterNet-style head) on "
                "visitor-camera views of the collection's images, each region label or tag a class; splits by "
                "source image (an image whose class no other image has is held out by view); calibrates a "
                "threshold per class and measures mAP@0.5 on held-out views. The result is the next version "
                "NAME@vN under <data_dir>/models/detectors/ with its parameters, evaluation and a TensorFlow.js "
                "graph model (uint8) with loupe.json for the lens. A retried job resumes from its last saved step.")

__all__ = ["KIND", "DetectorParams"]
