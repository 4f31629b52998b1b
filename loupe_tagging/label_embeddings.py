"""Text embeddings of a vocabulary's labels, computed once per (model version, vocabulary).

Embedding 160 labels times six templates takes the text encoder a few seconds on a CPU, so
the result is kept in memory (a few vocabularies) and on disk (``<cache_dir>/label_embeddings``),
keyed by the model's version (name and weights fingerprint) and the vocabulary's digest: a
new checkpoint or an edited list gets new embeddings, an unchanged one never recomputes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .prompts import prompts_for
from .vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models.clip_model import ClipModel

log = logging.getLogger(__name__)


def embed_vocabulary(model: "ClipModel", vocabulary: Vocabulary) -> np.ndarray:
    """(labels, dim) float32 unit rows: each label's prompt embeddings averaged, renormalised."""
    prompts: list[str] = []
    owners: list[int] = []
    for i, term in enumerate(vocabulary.terms):
        for p in prompts_for(term.label, term.language, term.prompt):
            prompts.append(p)
            owners.append(i)
    vectors = model.encode_texts(prompts)
    sums = np.zeros((len(vocabulary), vectors.shape[1]), np.float64)
    np.add.at(sums, np.asarray(owners), vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


class LabelEmbeddingCache:
    """Thread-safe; hold one per process (the app, a CLI run) and pass it around."""

    def __init__(self, directory: Path | None = None, max_in_memory: int = 8) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.max_in_memory = max(1, max_in_memory)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many vocabularies were embedded (tests check the cache works)

    def get(self, model: "ClipModel", vocabulary: Vocabulary) -> np.ndarray:
        key = hashlib.sha256(f"{model.version}\n{vocabulary.digest}".encode()).hexdigest()[:40]
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                return found
        found = self._read(key, len(vocabulary), model.dim)
        if found is None:
            found = embed_vocabulary(model, vocabulary)
            self.computed += 1
            self._write(key, found)
        with self._lock:
            self._memory[key] = found
            while len(self._memory) > self.max_in_memory:
                self._memory.popitem(last=False)
        return found

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.npy"

    def _read(self, key: str, rows: int, dim: int) -> np.ndarray | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable label embeddings %s: %s", path, e)
            return None
        if array.shape != (rows, dim) or array.dtype != np.float32:
            return None
        return array

    def _write(self, key: str, array: np.ndarray) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
            with os.fdopen(fd, "wb") as f:
                np.save(f, array, allow_pickle=False)
            os.replace(tmp, path)
        except OSError as e:  # a read-only cache only costs recomputation
            log.warning("could not cache label embeddings in %s: %s", path, e)
