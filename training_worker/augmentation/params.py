"""Parameters of an ``augment`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_tagging import ScopeError, resolve_scope
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, param


@dataclass(frozen=True)
class AugmentParams(JobParams):
    kind_name: ClassVar[str] = "augment"

    collection: str = param("all", "'all', a source id or name, a IIIF Collection URI or key")
    views: int = param(8, "views per image", minimum=1, maximum=1000)
    validation: float = param(0.2, "share of the source images held out for validation (never in training)",
                              minimum=0.0, maximum=0.9)
    seed: int = param(0, "the same seed gives the same views, whatever the number of processes")
    min_per_class: int = param(0, "copy annotated regions onto other training images until every label has "
                                  "this many boxes (0: no copy-paste)", minimum=0, maximum=10000)
    processes: int = param(0, "processes making views (0: every core)", minimum=0, maximum=256)
    long_side: int = param(384, "long side of each view in pixels", minimum=64, maximum=4096)
    sheet_views: int = param(24, "views on the contact sheet (0: none)", minimum=0, maximum=400)


def check_augment(params: AugmentParams, settings: Settings, catalog: Catalog) -> None:
    """The collection exists."""
    try:
        resolve_scope(catalog, params.collection)
    except ScopeError as e:
        raise UnknownReference(str(e), field="collection", code="unknown_collection") from None
