"""The model an indexing run uses, known by name, weights and size before it is loaded:
a run with nothing new to embed never imports torch or loads weights."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

from loupe_models.identity import vector_name_for

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models import ClipModel, ModelSpec, Weights


class ModelRef:
    def __init__(self, spec: "ModelSpec", weights: "Weights", load: Callable[[], "ClipModel"]) -> None:
        self.spec = spec
        self.weights = weights
        self._load = load
        self._model: "ClipModel | None" = None
        self._lock = threading.Lock()

    @classmethod
    def loaded(cls, model: "ClipModel") -> "ModelRef":
        ref = cls(model.spec, model.weights, lambda: model)
        ref._model = model
        return ref

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def vector(self) -> str:
        return vector_name_for(self.spec, self.weights)

    def get(self) -> "ClipModel":
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model
