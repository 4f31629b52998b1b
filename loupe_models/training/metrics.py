"""Retrieval metrics on unit feature vectors: Recall@k and mean average precision.

A query's relevant gallery items are given as a set of gallery indices; the gallery is
ranked by cosine similarity (ties broken by index, so results are reproducible).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

KS = (1, 5, 10)


def rankings(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """(Q, G) gallery indices, most similar first."""
    scores = np.asarray(queries, np.float32) @ np.asarray(gallery, np.float32).T
    return np.argsort(-scores, axis=1, kind="stable")


def retrieval_metrics(queries: np.ndarray, gallery: np.ndarray, relevant: Sequence[set[int]],
                      ks: Sequence[int] = KS, exclude: Sequence[set[int]] | None = None) -> dict[str, float]:
    """``{"R@1", "R@5", "R@10", "mAP", "queries"}``: Recall@k is the share of queries with a
    relevant item among the first k; mAP the mean over queries of average precision.
    ``exclude``: gallery items left out of each query's ranking (composed retrieval leaves
    out the reference image, as CIRR's protocol does)."""
    if len(queries) != len(relevant):
        raise ValueError(f"{len(queries)} queries but {len(relevant)} sets of relevant items")
    if len(queries) == 0:
        return {**{f"R@{k}": 0.0 for k in ks}, "mAP": 0.0, "queries": 0}
    ranked = rankings(queries, gallery)
    hits = {k: 0 for k in ks}
    aps = []
    for q, (row, rel) in enumerate(zip(ranked, relevant)):
        if exclude is not None and exclude[q]:
            row = row[~np.isin(row, list(exclude[q]))]
        is_rel = np.isin(row, list(rel))
        positions = np.flatnonzero(is_rel)
        for k in ks:
            hits[k] += bool(len(positions) and positions[0] < k)
        aps.append(float(np.mean((np.arange(len(positions)) + 1) / (positions + 1))) if len(positions) else 0.0)
    out: dict[str, float] = {f"R@{k}": hits[k] / len(queries) for k in ks}
    out["mAP"] = float(np.mean(aps))
    out["queries"] = len(queries)
    return out
