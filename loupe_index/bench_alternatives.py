"""Why the compact store scans int8 codes: the alternatives measured in one run.

``python -m loupe_index.bench_alternatives --points 100000`` builds each candidate over the
same unit vectors and asks the same queries: numpy's float32 scan (exact), the compact
store's int8 scan (``quantized``, rescored in float32), faiss's 8-bit scalar-quantized scan,
and three HNSW graphs (faiss HNSW over 8-bit codes, hnswlib, usearch with int8). Every
answer is rescored with the float32 vectors before recall@10 is counted, as the compact
store does. ``--data clustered`` draws vectors around 2,000 centres (closer to real CLIP
embeddings, where graphs do well); ``random`` has no structure (the hardest case, and what
``loupe bench search`` uses). faiss-cpu 1.15.1, hnswlib 0.8.0 and usearch 2.26.6 were
measured; they are not dependencies of Loupe, and missing ones are skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from .quantized import Scanner, quantize

RESCORED = 40  # candidates rescored in float32 for every method


def vectors(n: int, dim: int, data: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if data == "random":
        x = rng.standard_normal((n, dim)).astype(np.float32)
        q = rng.standard_normal((100, dim)).astype(np.float32)
    else:
        centres = rng.standard_normal((2_000, dim)).astype(np.float32)
        x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
        q = centres[rng.integers(0, len(centres), 100)] + 0.6 * rng.standard_normal((100, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), q / np.linalg.norm(q, axis=1, keepdims=True)


Search = Callable[[np.ndarray], np.ndarray]


def measure(name: str, build: Callable[[], dict[str, Search]], x: np.ndarray, queries: np.ndarray,
            truth: list[set[int]]) -> dict[str, Any]:
    """Build once (timed as points added per second), then for each way of searching it:
    search each query, rescore its candidates in float32, compare the top 10 with the truth."""
    t = time.perf_counter()
    searches = build()
    add_per_s = round(len(x) / (time.perf_counter() - t))
    out: dict[str, Any] = {}
    for label, search in searches.items():
        search(queries[0])
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            rows = np.asarray(search(q), dtype=np.int64)
            rows = rows[rows >= 0]
            best = rows[np.argsort(-(x[rows] @ q))[:10]]
            times.append((time.perf_counter() - t) * 1000)
            found.append(set(best.tolist()))
        key = f"{name} {label}".strip()
        out[key] = {"add_per_s": add_per_s, "search_ms_p50": round(float(np.percentile(times, 50)), 2),
                    "search_ms_p95": round(float(np.percentile(times, 95)), 2),
                    "recall_at_10": round(float(np.mean([len(f & t) / 10 for f, t in zip(found, truth)])), 3)}
        print(key, json.dumps(out[key]), flush=True)
    return out


def candidates(x: np.ndarray, threads: int, ef: Sequence[int]) -> dict[str, Callable[[], dict[str, Search]]]:
    dim = x.shape[1]
    out: dict[str, Callable[[], dict[str, Search]]] = {}

    def numpy_scan() -> dict[str, Search]:
        return {"": lambda q: np.argpartition(-(x @ q), RESCORED)[:RESCORED]}

    def compact_scan() -> dict[str, Search]:
        codes, steps = quantize(x)
        scanner = Scanner(threads)
        return {"": lambda q: scanner.top(codes, steps, q, RESCORED)}

    out["numpy float32 scan"] = numpy_scan
    out["compact int8 scan (simsimd)"] = compact_scan
    if importlib.util.find_spec("faiss"):
        import faiss

        faiss.omp_set_num_threads(threads)

        def faiss_sq8() -> dict[str, Search]:
            index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            index.train(x[:50_000])
            index.add(x)
            return {"": lambda q: index.search(q[None], RESCORED)[1][0]}

        def faiss_hnsw() -> dict[str, Search]:
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 100
            index.train(x[:50_000])
            index.add(x)
            params = {e: faiss.SearchParametersHNSW(efSearch=e) for e in ef}
            return {f"ef={e}": lambda q, e=e: index.search(q[None], RESCORED, params=params[e])[1][0] for e in ef}

        out["faiss 8-bit scan"] = faiss_sq8
        out["faiss HNSW-SQ8 M=16"] = faiss_hnsw
    if importlib.util.find_spec("hnswlib"):
        import hnswlib

        def hnsw() -> dict[str, Search]:
            index = hnswlib.Index(space="ip", dim=dim)
            index.init_index(max_elements=len(x), ef_construction=100, M=16)
            index.set_num_threads(threads)
            index.add_items(x, np.arange(len(x)))
            index.set_num_threads(1)

            def search(q: np.ndarray, e: int) -> np.ndarray:
                index.set_ef(e)
                return index.knn_query(q, k=RESCORED)[0][0]

            return {f"ef={e}": lambda q, e=e: search(q, e) for e in ef}

        out["hnswlib M=16"] = hnsw
    if importlib.util.find_spec("usearch"):
        from usearch.index import Index

        def usearch() -> dict[str, Search]:
            index = Index(ndim=dim, metric="ip", dtype="i8", connectivity=16, expansion_add=100)
            index.add(np.arange(len(x)), x, threads=threads)

            def search(q: np.ndarray, e: int) -> np.ndarray:
                index.expansion_search = e
                return index.search(q, RESCORED, threads=1).keys

            return {f"ef={e}": lambda q, e=e: search(q, e) for e in ef}

        out["usearch HNSW i8 M=16"] = usearch
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--data", choices=("random", "clustered"), default="random")
    parser.add_argument("--ef", type=int, nargs="+", default=[128, 512], help="HNSW search beams to try")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--only", nargs="*", default=None, help="names starting with these words")
    args = parser.parse_args(argv)
    x, queries = vectors(args.points, args.dim, args.data)
    truth = [set(np.argsort(-(x @ q))[:10].tolist()) for q in queries]
    out: dict[str, Any] = {"points": args.points, "dim": args.dim, "data": args.data, "threads": args.threads}
    for name, build in candidates(x, args.threads, args.ef).items():
        if args.only is None or any(name.startswith(w) for w in args.only):
            out.update(measure(name, build, x, queries, truth))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
