"""Parameters of a ``finetune`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from training_worker.jobs.common_params import check_model, check_source, model_param, source_ref
from training_worker.jobs.params import JobParams, param

FREEZE = ("none", "image", "text")


@dataclass(frozen=True)
class FinetuneParams(JobParams):
    kind_name: ClassVar[str] = "finetune"

    model: str | None = model_param()
    source: str | None = param(None, "id, name or URL of one source; default: every source",
                               parse=source_ref, schema={"type": ["string", "integer"]})
    freeze: str = param("none", "a tower that does not train: none, image or text", choices=FREEZE)
    train_last: int = param(0, "train only the last N blocks of each training tower (0: all)", minimum=0, maximum=64)
    learning_rate: float = param(1e-5, "AdamW learning rate", minimum=1e-9, maximum=1.0)
    weight_decay: float = param(0.1, "AdamW weight decay (matrices only)", minimum=0.0, maximum=10.0)
    epochs: int = param(3, "passes over the pairs", minimum=1, maximum=1000)
    batch_size: int = param(32, "pairs per step (contrastive: the other pairs of a batch are the negatives)",
                            minimum=2, maximum=4096)
    views: bool = param(True, "also pair each image's automatic detail views with its labels")
    holdout: float = param(0.25, "share of annotated regions kept out of training to measure region-to-image "
                                 "recall before and after", minimum=0.0, maximum=0.9)
    captions_per_item: int = param(8, "at most this many captions per image or region", minimum=1, maximum=64)
    checkpoint_every: int = param(20, "steps between saved states (a retried job resumes from the last)",
                                  minimum=1, maximum=100_000)
    seed: int = param(0, "shuffling and held-out choice", minimum=0)


def check_finetune(params: FinetuneParams, settings: Settings, catalog: Catalog) -> None:
    check_model(settings, params.model)
    check_source(catalog, params.source)
