"""Parameters of an ``evaluate`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_models.detector.store import DetectorStore
from loupe_models.errors import ModelError
from loupe_models.training.evaluations import TASKS
from loupe_models.training.triplets import FORMATS
from training_worker.jobs.common_params import check_model_or_checkpoint, model_or_checkpoint_param
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, ParamError, param

# What each task needs.
NEEDS = {"image": ("queries", "ground_truth"), "text": ("ground_truth",), "composed": ("triplets",),
         "detection": ("detector",)}


@dataclass(frozen=True)
class EvaluateParams(JobParams):
    kind_name: ClassVar[str] = "evaluate"

    task: str = param("image", "image (query images), text (captions), composed (triplets) or detection (a trained "
                               "detector on the held-out views of its collection)", choices=TASKS)
    model: str | None = model_or_checkpoint_param()
    queries: str | None = param(None, "image task: the folder of query images")
    ground_truth: str | None = param(None, "CSV: query,relevant (image task: a query file name) or caption,relevant "
                                           "(text task); relevant: gallery file names or canvas/manifest URIs, "
                                           "several separated by |")
    gallery: str | None = param(None, "folder of gallery images (default: the catalog's images)")
    triplets: str | None = param(None, "composed task: CIRR or FashionIQ captions JSON, or CSV reference,text,target")
    format: str = param("auto", "format of the triplet file", choices=FORMATS)
    images: str | None = param(None, "composed task: folder of the images the triplets name")
    split_file: str | None = param(None, "composed task, CIRR: the split file mapping names to files")
    detector: str | None = param(None, "detection task: a trained detector NAME or NAME@vN (`loupe detector list`)")
    collection: str | None = param(None, "detection task: the collection whose held-out views are measured "
                                         "(default: the one the detector was trained on)")
    dataset: str | None = param(None, "the data set's name in the results (default: the file's name)")
    batch_images: int = param(32, "images encoded between progress reports (and cancel checks)", minimum=1,
                              maximum=4096)

    def source_file(self) -> str:
        return self.triplets if self.task == "composed" else self.ground_truth  # type: ignore[return-value]

    def detector_ref(self) -> str:
        return self.detector  # type: ignore[return-value] - NEEDS makes the detection task name one


def check_evaluate(params: EvaluateParams, settings: Settings, catalog: Catalog | None) -> None:
    """The task's files are named and exist; the model (or checkpoint) is known."""
    for field in NEEDS[params.task]:
        if not getattr(params, field):
            raise ParamError(f"the {params.task} task needs {field}", field)
    if params.task == "detection":
        try:
            DetectorStore(settings).get(params.detector_ref())
        except ModelError as e:
            raise UnknownReference(str(e), field="detector", code="unknown_detector") from None
        return
    check_model_or_checkpoint(settings, params.model)
    for field in ("queries", "ground_truth", "gallery", "triplets", "images", "split_file"):
        value = getattr(params, field)
        if value and not Path(value).expanduser().exists():
            raise ParamError(f"{field}: {value} does not exist", field)
