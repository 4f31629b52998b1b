"""Parameters of a ``suggest`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_models.detector.store import DetectorStore, UnknownDetector
from loupe_tagging import ScopeError, resolve_scope
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, param


@dataclass(frozen=True)
class SuggestParams(JobParams):
    kind_name: ClassVar[str] = "suggest"

    collection: str = param("all", "'all', a source id or name, a IIIF Collection URI or key")
    detector: str = param("detector", "the detector: NAME (its latest version) or NAME@vN")
    min_score: float | None = param(None, "one score threshold for every class instead of the calibrated ones",
                                    minimum=0.0, maximum=1.0, schema={"type": ["number", "null"]})
    tags: bool = param(False, "also propose zero-shot tags with the CLIP model (as `loupe tag`)")


def check_suggest(params: SuggestParams, settings: Settings, catalog: Catalog) -> None:
    """The collection and the detector exist."""
    try:
        resolve_scope(catalog, params.collection)
    except ScopeError as e:
        raise UnknownReference(str(e), field="collection", code="unknown_collection") from None
    try:
        DetectorStore(settings).get(params.detector)
    except (UnknownDetector, ValueError) as e:
        raise UnknownReference(str(e), field="detector", code="unknown_detector") from None
