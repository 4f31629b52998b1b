"""What makes a job kind: its name, parameters, handler and the checks before submitting.

Each kind lives in its own folder under ``training_worker/`` and exports one ``KIND``;
``training_worker.kinds`` lists them (one line per kind). The command line, the API (its
endpoint, field list and OpenAPI schema) and the workers all read the kind from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from connector.catalog import Catalog
from loupe_core.settings import Settings

from .params import JobParams, ParamError

P = TypeVar("P", bound=JobParams)

# Checks before a job is recorded, with what they need to look things up: the settings and
# the catalog. They raise ParamError (a value is wrong) or UnknownReference (it names nothing).
Check = Callable[[P, Settings, Catalog], None]


class UnknownReference(ParamError):
    """A parameter names something that does not exist: a source, a collection, a vocabulary.
    ``code`` is the API's error code (``unknown_source``...)."""

    def __init__(self, message: str, field: str, code: str) -> None:
        super().__init__(message, field=field, code=code)


@dataclass(frozen=True)
class JobKind(Generic[P]):
    name: str
    title: str  # "Index the catalog's images": the API's summary, `loupe jobs kinds`
    params: type[P]
    handler: str  # "module:function", imported when a job of this kind runs (workers only)
    description: str = ""
    check: Check | None = None
    progress_unit: str = "item"  # what the progress counts: image, manifest, epoch...
    # Writes vectors: with a local index such jobs run only in the process that owns it
    # (training_worker.broker.INDEX_QUEUE_NAME).
    writes_index: bool = False
    # Trains on the worker's model_device: a GPU worker runs it many times faster than a CPU
    # one. With Redis such jobs go to their own queue (training_worker.broker.GPU_QUEUE_NAME),
    # which CPU workers may leave to GPU workers (the setting worker_gpu_jobs).
    gpu: bool = False

    def prepare(self, values: dict | None, settings: Settings, catalog: Catalog) -> P:
        """Checked parameters for a new job: types and ranges, then the kind's own checks.
        The one path by which the command line and the API turn input into a job."""
        params = self.params.from_dict(values)
        if self.check is not None:
            self.check(params, settings, catalog)
        return params
