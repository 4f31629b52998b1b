"""Parameters of a ``combiner`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_models.training.triplets import FORMATS
from training_worker.jobs.common_params import check_model_or_checkpoint, model_or_checkpoint_param
from training_worker.jobs.params import JobParams, ParamError, param


@dataclass(frozen=True)
class CombinerParams(JobParams):
    kind_name: ClassVar[str] = "combiner"

    triplets: str = param(help="triplet file: CIRR or FashionIQ captions JSON, or a CSV reference,text,target "
                               "(image files or canvas URIs with #xywh=)")
    format: str = param("auto", "format of the triplet file", choices=FORMATS)
    images: str | None = param(None, "folder of the images the triplets name (default: the file's folder)")
    split_file: str | None = param(None, "CIRR: image_splits/split.rc2.<split>.json mapping names to files")
    model: str | None = model_or_checkpoint_param()
    epochs: int = param(10, "passes over the triplets", minimum=1, maximum=10_000)
    batch_size: int = param(128, "triplets per step (the other targets of a batch are the negatives)",
                            minimum=2, maximum=8192)
    learning_rate: float = param(2e-5, "AdamW learning rate", minimum=1e-9, maximum=1.0)
    projection_dim: int = param(512, "width of each projection branch", minimum=4, maximum=8192)
    hidden_dim: int = param(1024, "width of the combining layer and the gate", minimum=4, maximum=16384)
    holdout: float = param(0.0, "share of triplets kept out of training to evaluate on (0: evaluate on all)",
                           minimum=0.0, maximum=0.9)
    activate: bool = param(True, "make the trained Combiner the one composed search uses for this model's vector")
    seed: int = param(0, "shuffling and held-out choice", minimum=0)


def check_combiner(params: CombinerParams, settings: Settings, catalog: Catalog) -> None:
    check_model_or_checkpoint(settings, params.model)
    if not Path(params.triplets).expanduser().is_file():
        raise ParamError(f"no triplet file at {params.triplets}", "triplets")
    for field in ("images", "split_file"):
        value = getattr(params, field)
        if value and not Path(value).expanduser().exists():
            raise ParamError(f"{field}: {value} does not exist", field)
