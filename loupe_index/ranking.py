"""Small rules shared by the searches that Loupe runs itself (the exact mirror, the compact
store): unit vectors, a total order of hits, payload copies."""

from __future__ import annotations

from typing import Any

import numpy as np


def copy_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """A copy the caller may change without changing the mirror (payload lists are flat)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in (payload or {}).items()}


def best_order(scores: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores (or more, when ties straddle the cut), ordered by
    score, then row: a total order, so consecutive pages never overlap or skip."""
    if k < scores.size:
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(scores.size)
    return candidates[np.lexsort((rows[candidates], -scores[candidates]))]


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (what cosine distance compares); zero rows are refused."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(vectors)) or np.any(norms == 0):
        raise ValueError("vectors must be finite and not all zeros")
    return (vectors / norms).astype(np.float32, copy=False)
