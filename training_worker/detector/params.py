"""Parameters of a ``detector`` job and the checks before one is submitted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_tagging import ScopeError, resolve_scope
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, param

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
INPUT_SIZES = (128, 160, 192, 224, 256, 288, 320, 384, 416, 448, 512)


def _name(value: object) -> str:
    text = str(value).strip().lower()
    if not NAME_RE.match(text):
        raise ValueError(f"{value!r} is not a detector name: lowercase letters, digits and '-', at most 63")
    return text


@dataclass(frozen=True)
class DetectorParams(JobParams):
    kind_name: ClassVar[str] = "detector"

    collection: str = param("all", "'all', a source id or name, a IIIF Collection URI or key")
    name: str = param("detector", "the detector's name; versions are NAME@v1, NAME@v2, ...", parse=_name)
    input_size: int = param(256, "square input side in pixels (the picture is letterboxed into it)",
                            choices=INPUT_SIZES)
    epochs: int = param(30, "passes over the views", minimum=1, maximum=1000)
    views: int = param(16, "views of each image with regions, per round of views", minimum=1, maximum=1000)
    background_views: int = param(2, "views of each image without regions (negatives), per round of views",
                                  minimum=0, maximum=1000)
    view_rounds: int = param(1, "distinct rounds of views that the epochs take in turn (0: fresh views every "
                                "epoch)", minimum=0, maximum=1000)
    frozen_stages: int = param(7, "backbone stages that do not train (7: none, and its features are computed once "
                                  "per view: fastest; 2: fine-tune all but the first two)", minimum=0, maximum=7)
    validation: float = param(0.2, "share of the source images held out (an image whose class no other image "
                                   "has is held out by view)", minimum=0.0, maximum=0.9)
    validation_views: int = param(4, "held-out views of each held-out image with regions", minimum=1, maximum=1000)
    batch_size: int = param(8, "views per step", minimum=1, maximum=512)
    learning_rate: float = param(5e-3, "AdamW learning rate of the new layers (the backbone: a quarter)",
                                 minimum=1e-7, maximum=1.0)
    seed: int = param(0, "views, split and batches", minimum=0)
    processes: int = param(0, "processes making views (0: every core)", minimum=0, maximum=256)
    checkpoint_every: int = param(25, "steps between saved states (a retried job resumes from the last)",
                                  minimum=1, maximum=100_000)
    export: bool = param(True, "also write the TensorFlow.js graph model (uint8) and loupe.json")


def check_detector(params: DetectorParams, settings: Settings, catalog: Catalog) -> None:
    """The collection exists."""
    try:
        resolve_scope(catalog, params.collection)
    except ScopeError as e:
        raise UnknownReference(str(e), field="collection", code="unknown_collection") from None
