"""Parameters of an ``index`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from training_worker.jobs.common_params import (
    check_model_or_checkpoint,
    check_source,
    model_or_checkpoint_param,
    source_ref,
)
from training_worker.jobs.params import JobParams, param

# Images whose points are written to the index together; progress is reported and
# cancellation checked after each such write.
DEFAULT_BATCH_IMAGES = 16


@dataclass(frozen=True)
class IndexParams(JobParams):
    kind_name: ClassVar[str] = "index"

    source: str | None = param(None, "id, name or URL of one source; default: every source",
                               parse=source_ref, schema={"type": ["string", "integer"]})
    model: str | None = model_or_checkpoint_param()
    activate: bool = param(False, "make this model's vector the one searches use when done "
                                  "(the first model indexed is anyway)")
    batch_images: int = param(DEFAULT_BATCH_IMAGES, "images per index write: progress and cancel granularity",
                              minimum=1, maximum=1024)


def check_index(params: IndexParams, settings: Settings, catalog: Catalog) -> None:
    check_model_or_checkpoint(settings, params.model)
    check_source(catalog, params.source)
