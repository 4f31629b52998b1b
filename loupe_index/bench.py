"""The index alone, at museum scale (no model): ``python -m loupe_index.bench``.

Fills a throw-away local index with synthetic points shaped like real ones (an image, an
annotated region and eight views per canvas; IIIF URIs, labels, dates, rights; five
sources, four collections) whose vectors are random unit vectors: without cluster
structure, the hardest case for recall. Then, for the compact store and for Qdrant local
mode, it measures what the serving process sees, in a fresh child process: time to open
the index and load it (``open_s``), resident memory it adds (``rss_mb``), search latency
unfiltered and filtered by source, collection, kind and a combination, and recall@10
against exact float32 search computed here from the same vectors (``recall_at_10``).
``loupe bench search`` adds the encoding of real queries on top.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from loupe_core.settings import Settings

from .filters import SearchFilters
from .points import IndexPoint
from .vector_index import VectorIndex

VECTOR = "bench__random"
CHUNK = 10_000
PER_CANVAS = 10  # an image, a region, eight views
HOST = "https://iiif.bench-museum.example.org"
RIGHTS = ("http://creativecommons.org/publicdomain/zero/1.0/", "http://rightsstatements.org/vocab/InC/1.0/")
TITLES = ("Portrait of a Woman", "River Landscape with Ferry", "The Annunciation", "Still Life with Flowers",
          "Saint Jerome in his Study", "View of a Harbour", "A Winter Scene", "The Holy Family")
ARTISTS = ("Rembrandt van Rijn", "Jan van Goyen", "Fra Angelico", "Rachel Ruysch", "Albrecht Dürer",
           "Hendrick Avercamp", "Simon Vouet")


# --- synthetic points ---------------------------------------------------------------------------
def attributes(i: np.ndarray) -> dict[str, np.ndarray]:
    """The filterable fields of points ``i`` as numbers, so that exact filtered search can be
    computed over half a million points without building them."""
    canvas = i // PER_CANVAS
    return {"canvas": canvas, "kind": i % PER_CANVAS, "manifest": canvas // 5, "source": canvas % 5,
            "collection": (canvas // 50) % 4, "year": 1400 + canvas % 500}


def synthetic_point(i: int, vector: np.ndarray) -> IndexPoint:
    a = {k: int(v) for k, v in attributes(np.array(i)).items()}
    c, m = a["canvas"], a["manifest"]
    kind = ("image", "region", "view")[min(a["kind"], 2)]
    title, artist = TITLES[m % len(TITLES)], ARTISTS[m % len(ARTISTS)]
    labels = [f"{title}, {artist}, {a['year']}"] + ([f"Detail: {('angel', 'dog', 'ship', 'book')[c % 4]}"]
                                                   if kind == "region" else [])
    return IndexPoint(
        vector=vector, canvas=f"{HOST}/iiif/presentation/v3/objects/SK-A-{m}/canvas/p{c % 5 + 1}",
        content_key=f"{c:08x}{m:08x}", kind=kind, xywh=(0, 0, 4000, 3000) if kind == "image" else (a["kind"] * 120, 80, 900, 700),
        manifest=f"{HOST}/iiif/presentation/v3/objects/SK-A-{m}/manifest",
        image=f"{HOST}/iiif/image/v3/SK-A-{m}-{c % 5 + 1}", source_id=1 + a["source"], source=f"source-{a['source']}",
        collection=f"{HOST}/iiif/presentation/v3/collections/{('paintings', 'prints', 'drawings', 'photographs')[a['collection']]}",
        labels=labels, rights=RIGHTS[m % 2], date=f"{a['year']}-01-01T00:00:00Z", year=a["year"],
        view="crop-centre" if kind == "view" else None)


def synthetic_vectors(n: int, dim: int, seed: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """``(first index, unit vectors)`` in chunks; the same for the same ``seed`` and ``dim``."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        v = rng.standard_normal((min(CHUNK, n - start), dim)).astype(np.float32)
        yield start, v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic_points(n: int, dim: int, seed: int = 0) -> list[IndexPoint]:
    return [synthetic_point(start + j, v) for start, chunk in synthetic_vectors(n, dim, seed) for j, v in enumerate(chunk)]


def fill(index: VectorIndex, n: int, dim: int, seed: int = 0) -> float:
    """Write ``n`` synthetic points; returns points written per second (building the points
    is not timed, writing them through ``VectorIndex.upsert`` is)."""
    index.ensure_vector(VECTOR, dim)
    took = 0.0
    for start, chunk in synthetic_vectors(n, dim, seed):
        points = [synthetic_point(start + j, v) for j, v in enumerate(chunk)]
        t = time.perf_counter()
        index.upsert(points, VECTOR, batch_size=1_000)
        took += time.perf_counter() - t
    return round(n / took, 1)


# --- what is searched ---------------------------------------------------------------------------
FILTER_CASES: dict[str, tuple[SearchFilters, Callable[[dict[str, np.ndarray]], np.ndarray]]] = {
    "source": (SearchFilters(source="source-2"), lambda a: a["source"] == 2),
    "collection": (SearchFilters(collection=f"{HOST}/iiif/presentation/v3/collections/prints"),
                   lambda a: a["collection"] == 1),
    "kind": (SearchFilters(kind="image"), lambda a: a["kind"] == 0),
    "combined": (SearchFilters(source="source-2", kind=["image", "region"], year_from=1500, year_to=1700),
                 lambda a: (a["source"] == 2) & (a["kind"] <= 1) & (a["year"] >= 1500) & (a["year"] <= 1700)),
}


def exact_top10(n: int, dim: int, seed: int, asked: list[tuple[np.ndarray, Callable | None]]) -> list[list[list[str]]]:
    """Ids of the exact float32 top 10 of each query among the synthetic points, for each
    ``(queries, keep)`` asked (``keep``: a filter over ``attributes``, or None), in one pass
    over the vectors."""
    q = np.concatenate([qs / np.linalg.norm(qs, axis=1, keepdims=True) for qs, _ in asked])
    groups = np.cumsum([0] + [len(qs) for qs, _ in asked])
    best_scores = np.full((len(q), 10), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(q), 10), dtype=np.int64)
    for start, chunk in synthetic_vectors(n, dim, seed):
        rows = np.arange(start, start + len(chunk))
        scores = q @ chunk.T
        features = attributes(rows)
        for (_, keep), lo, hi in zip(asked, groups[:-1], groups[1:]):
            if keep is not None:
                scores[lo:hi, ~keep(features)] = -np.inf
        scores = np.concatenate([best_scores, scores], axis=1)
        rows = np.concatenate([best_rows, np.broadcast_to(rows, (len(q), len(rows)))], axis=1)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        best_scores, best_rows = np.take_along_axis(scores, top, 1), np.take_along_axis(rows, top, 1)
    ids = [[synthetic_point(int(r), np.zeros(1)).id for r, s in zip(rows, scores) if s > -np.inf]
           for rows, scores in zip(best_rows, best_scores)]
    return [ids[lo:hi] for lo, hi in zip(groups[:-1], groups[1:])]


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    """Mean share of the true top 10 found (a filter that matches nothing: 1 when nothing is found)."""
    return round(float(np.mean([len(set(f) & set(t)) / len(t) if t else float(not f)
                                for f, t in zip(found, truth)])), 4)


# --- measuring in a fresh process ---------------------------------------------------------------
def resident_mb() -> float:
    """This process's resident memory (Linux; elsewhere the peak, an upper bound)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _percentiles(times: list[float]) -> dict[str, float]:
    return {"search_ms_p50": round(float(np.percentile(times, 50)), 2),
            "search_ms_p95": round(float(np.percentile(times, 95)), 2)}


def serve(data_dir: Path, local_index: str, queries: dict[str, np.ndarray]) -> dict[str, Any]:
    """What ``loupe serve`` would see: open the index, load it, search. Run in a child."""
    settings = Settings.load(env={}, config_file=None, data_dir=data_dir, local_index=local_index,
                             local_points_warning=10 ** 9)
    before = resident_mb()
    t = time.perf_counter()
    index = VectorIndex.open(settings, role="bench")
    index.warm(VECTOR)
    out: dict[str, Any] = {"open_s": round(time.perf_counter() - t, 2)}
    try:
        cases = {"unfiltered": SearchFilters(), **{k: f for k, (f, _) in FILTER_CASES.items()}}
        for group, qs in queries.items():
            index.search(qs[0], VECTOR, limit=10)  # first call of its kind
            for case, filters in cases.items():
                times, ids = [], []
                for q in qs:
                    t = time.perf_counter()
                    hits = index.search(q, VECTOR, limit=10, filters=filters).hits
                    times.append((time.perf_counter() - t) * 1000)
                    ids.append([h.id for h in hits])
                out.setdefault(group, {})[case] = {**_percentiles(times), "ids": ids}
            times = []
            for q in qs:
                t = time.perf_counter()
                index.search(q, VECTOR, limit=20, one_per_canvas=True)
                times.append((time.perf_counter() - t) * 1000)
            out[group]["one_per_canvas"] = _percentiles(times)
        out["rss_mb"] = round(resident_mb() - before, 1)
    finally:
        index.close()
    return out


def measure(data_dir: Path, local_index: str, queries: dict[str, np.ndarray]) -> dict[str, Any]:
    """``serve`` in a fresh Python process, so that its memory is the index's alone."""
    with tempfile.TemporaryDirectory(prefix="loupe-bench-queries-") as tmp:
        np.savez(Path(tmp) / "queries.npz", **queries)
        done = subprocess.run([sys.executable, "-m", "loupe_index.bench", "--serve", str(data_dir), local_index,
                               str(Path(tmp) / "queries.npz")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {local_index} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_store(local_index: str, points: int, dim: int, queries: dict[str, np.ndarray], seed: int = 0) -> dict[str, Any]:
    """Fill a throw-away index of ``local_index`` with ``points`` synthetic points, then
    measure it in a fresh process; recall is computed here against exact float32 search."""
    with tempfile.TemporaryDirectory(prefix=f"loupe-bench-{local_index}-") as tmp:
        settings = Settings.load(env={}, config_file=None, data_dir=Path(tmp), local_index=local_index,
                                 local_points_warning=10 ** 9)
        with VectorIndex.open(settings, role="bench", exact_search=False) as index:
            out: dict[str, Any] = {"points": points, "upsert_per_s": fill(index, points, dim, seed)}
        out.update(measure(Path(tmp), local_index, queries))
    asked = [(group, case) for group in queries for case in ("unfiltered", *FILTER_CASES)]
    truths = exact_top10(points, dim, seed, [(queries[group], FILTER_CASES[case][1] if case in FILTER_CASES else None)
                                             for group, case in asked])
    found, truth = [], []
    for (group, case), t in zip(asked, truths):
        f = out[group][case].pop("ids")
        out[group][case]["recall_at_10"] = recall(f, t)
        found += f
        truth += t
    out["recall_at_10"] = recall(found, truth)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument("--qdrant-points", type=int, default=50_000,
                        help="points for Qdrant local mode (at 500,000 it needs about 8 GB and 10 minutes)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--serve", nargs=3, metavar=("DATA_DIR", "LOCAL_INDEX", "QUERIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        data_dir, local_index, queries = args.serve
        with np.load(queries) as q:
            print(json.dumps(serve(Path(data_dir), local_index, {k: q[k] for k in q.files})))
        return
    queries = {"random": np.random.default_rng(1).standard_normal((args.queries, args.dim)).astype(np.float32)}
    out: dict[str, Any] = {"dim": args.dim}
    out["compact"] = bench_store("compact", args.points, args.dim, queries)
    if args.qdrant_points:
        out["qdrant_local"] = bench_store("qdrant", min(args.points, args.qdrant_points), args.dim, queries)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
