"""Search latency of the index alone (no model): ``python -m loupe_index.bench``.

Fills a throw-away local index with random unit vectors shaped like a real one (an image,
a region and views per canvas; several sources, kinds, years) and times searches with and
without filters, through the exact mirror and through Qdrant local's own search. ``loupe
bench search`` adds encoding time on top of ``search_latency``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from loupe_core.settings import Settings

from .filters import SearchFilters
from .points import IndexPoint
from .vector_index import VectorIndex

VECTOR = "bench__random"


def synthetic_points(n: int, dim: int, seed: int = 0) -> list[IndexPoint]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    kinds = ("image", "region", "view", "view", "view", "view", "view", "view", "view", "view")
    return [IndexPoint(vector=vectors[i], canvas=f"https://bench.example/canvas/{i // 10}", content_key=f"k{i // 10}",
                       kind=kinds[i % 10], xywh=(i % 10, 0, 100, 100), manifest=f"https://bench.example/manifest/{i // 50}",
                       image=f"https://bench.example/img/{i // 10}", source_id=1 + (i // 10) % 5, source=f"source-{(i // 10) % 5}",
                       collection=f"https://bench.example/coll/{(i // 500) % 4}", labels=(f"work {i // 10}",),
                       rights="http://creativecommons.org/publicdomain/zero/1.0/", year=1400 + (i // 10) % 500)
            for i in range(n)]


def search_latency(index: VectorIndex, queries: np.ndarray, *, vector_name: str | None = None,
                   filters: SearchFilters | None = None, limit: int = 20, one_per_canvas: bool = False) -> dict[str, float]:
    """p50/p95 milliseconds of ``index.search`` over ``queries`` (one warm-up query first)."""
    index.search(queries[0], vector_name, limit=limit, filters=filters, one_per_canvas=one_per_canvas)
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, vector_name, limit=limit, filters=filters, one_per_canvas=one_per_canvas)
        times.append((time.perf_counter() - t) * 1000)
    return {"search_ms_p50": round(float(np.percentile(times, 50)), 2),
            "search_ms_p95": round(float(np.percentile(times, 95)), 2)}


def run(points: int, dim: int, queries: int, qdrant_queries: int) -> dict[str, Any]:
    cases: dict[str, dict[str, Any]] = {
        "unfiltered": {},
        "filtered": {"filters": SearchFilters(source="source-2", kind=["image", "region"], year_from=1500, year_to=1700)},
        "one_per_canvas": {"one_per_canvas": True},
    }
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={}, config_file=None, data_dir=Path(tmp), local_points_warning=10 ** 9)
        index = VectorIndex.open(settings, role="bench")
        try:
            index.ensure_vector(VECTOR, dim)
            t = time.perf_counter()
            index.upsert(synthetic_points(points, dim), VECTOR)
            out: dict[str, Any] = {"points": index.count(VECTOR), "dim": dim,
                                   "upsert_s": round(time.perf_counter() - t, 1)}
            t = time.perf_counter()
            index.search(rng.standard_normal(dim), VECTOR)
            out["mirror_load_s"] = round(time.perf_counter() - t, 2)
            for path, n in (("exact_mirror", queries), ("qdrant_local", qdrant_queries)):
                index.exact_search = path == "exact_mirror"
                qs = rng.standard_normal((n, dim)).astype(np.float32)
                out[path] = {name: search_latency(index, qs, vector_name=VECTOR, **kw) for name, kw in cases.items()}
        finally:
            index.close()
        t = time.perf_counter()
        VectorIndex.open(settings, role="bench").close()
        out["reopen_s"] = round(time.perf_counter() - t, 2)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--qdrant-queries", type=int, default=40, help="Qdrant local's own search is slow")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.points, args.dim, args.queries, args.qdrant_queries)))


if __name__ == "__main__":
    main()
