"""Composed search: one query vector from a reference image and a modification text.

With a trained Combiner for the active vector (CLIP4Cir's: two projection branches and a
learned gate mixing the raw features; `loupe combiner` or a ``combiner`` job trains one and
makes it the vector's active Combiner on disk) the registry returns it and it makes the query. Without one, the zero-shot baseline is used:

    query = normalise( (1 - w) * image + w * text )

where ``image`` and ``text`` are the unit CLIP embeddings and ``w`` is ``text_weight``
(default 0.5; 0 searches by the image alone, 1 by the text alone). It is what the API and
the docs page describe; it works because CLIP places images and captions in one space, but
it moves towards the text's meaning rather than applying it as an edit, so results mix
"like the image" and "like the text".
"""

from __future__ import annotations

import threading
from typing import Mapping, Protocol

import numpy as np

from loupe_core.settings import Settings
from loupe_models.training.combiner_store import CombinerStore

DEFAULT_TEXT_WEIGHT = 0.5
BASELINE = "zero-shot-weighted-sum"


class Combiner(Protocol):
    """A trained combiner of one model's image and text features."""

    name: str  # for responses and logs, e.g. "combiner-job-12"

    def combine(self, image: np.ndarray, text: np.ndarray) -> np.ndarray:
        """(dim,) query vector from unit (dim,) image and text features."""
        ...


class CombinerRegistry:
    """Trained Combiners by index vector name: those registered here, else the vector's active
    Combiner in the data directory (``loupe_models.training.combiner_store``), loaded once per
    version and followed when another version is activated."""

    def __init__(self, combiners: Mapping[str, Combiner] | None = None) -> None:
        self._combiners: dict[str, Combiner] = dict(combiners or {})
        self._trained: dict[tuple[str, str], Combiner] = {}
        self._lock = threading.Lock()

    def for_vector(self, vector: str, settings: Settings | None = None) -> Combiner | None:
        with self._lock:
            found = self._combiners.get(vector)
        if found is not None or settings is None:
            return found
        stored = CombinerStore(settings).active(vector)
        if stored is None:
            return None
        key = (vector, str(stored.folder))
        with self._lock:
            if key not in self._trained:
                self._trained[key] = stored.load()
            return self._trained[key]

    def register(self, vector: str, combiner: Combiner) -> None:
        with self._lock:
            self._combiners[vector] = combiner


def zero_shot_compose(image: np.ndarray, text: np.ndarray, text_weight: float = DEFAULT_TEXT_WEIGHT) -> np.ndarray:
    """normalise((1 - w) * image + w * text); ValueError when the sum vanishes or w is outside [0, 1]."""
    if not 0.0 <= text_weight <= 1.0:
        raise ValueError(f"text_weight must be between 0 and 1, not {text_weight}")
    mixed = (1.0 - text_weight) * _unit(image) + text_weight * _unit(text)
    norm = float(np.linalg.norm(mixed))
    if norm < 1e-6:
        raise ValueError("the image and the text cancel each other out at this text_weight; choose another weight")
    return (mixed / norm).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).ravel()
    n = float(np.linalg.norm(v))
    return v / n if n else v
