"""The ``augment`` job: visitor-camera views of a collection's images with their annotated
regions as boxes (``loupe_models.augmentation``), split into training and validation by
source image, written as JPEGs with JSON Lines annotations and a contact sheet.

``job.augment_job`` is the handler. Importing this package imports no OpenCV or
albumentations.
"""

from training_worker.jobs.kind import JobKind

from .params import AugmentParams, check_augment

KIND = JobKind(
    name="augment", title="Augment a collection as visitors' phones see it", params=AugmentParams,
    check=check_augment, handler="training_worker.augmentation.job:augment_job", progress_unit="image",
    description="Makes visitor-camera views (gallery, angles, framing, glare, people, blur, noise, JPEG) of every "
                "image of the collection, annotated regions as boxes; splits training and validation by source "
                "image first; copies rare regions onto other images when asked; writes JPEGs, annotations as "
                "JSON Lines and a contact sheet PNG under <data_dir>/augment/job-<id>/. Resumes where it stopped.")

__all__ = ["KIND", "AugmentParams"]
