"""Search in the embedded default: encoding a query, then searching the local index.

Queries are what users send, one at a time: short texts, and images (decoded, preprocessed
and encoded one by one, as an upload is). Points are synthetic but shaped like a real index
(an image, an annotated region and views per canvas; IIIF URIs, labels, sources, kinds,
years; ``loupe_index.bench``) in the compact store, and for comparison in Qdrant local mode
(fewer points by default: at 500,000 it needs about 8 GB and ten minutes). Each store is
then opened and searched in a fresh process, as ``loupe serve`` would: encoding time,
search time, opening time, memory added and recall@10 against exact float32 search are
reported separately.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from loupe_core.settings import Settings
from loupe_index.bench import bench_store
from loupe_models import Weights, get_spec, resolve_weights
from loupe_models.loading import build_clip_model

TEXT_QUERIES = [
    "the annunciation", "a portrait of a woman", "angels in the sky", "a landscape with a river",
    "saint jerome in his study", "madonna and child", "a ship at sea", "a night sky with stars",
    "a horse and rider", "flowers in a vase", "a crucifixion scene", "a battle", "a still life with fruit",
    "a man with a beard", "an old city street", "a woman reading a letter", "mountains and clouds",
    "a dog", "a winged figure", "a golden background", "people dancing", "a bridge over a canal",
    "a skull", "a crowned king", "the birth of venus", "a child with a bird", "a garden",
    "an interior with a window", "a sleeping figure", "a musician playing the lute",
]


def _percentiles(values: list[float]) -> tuple[float, float]:
    return round(float(np.percentile(values, 50)), 2), round(float(np.percentile(values, 95)), 2)


def _query_images(n: int, folder: Path | None) -> list[bytes]:
    paths = sorted(folder.glob("*.jpg"))[:n] if folder and folder.is_dir() else []
    if paths:
        return [p.read_bytes() for p in paths]
    rng = np.random.default_rng(3)
    out = []
    for _ in range(n):  # phone-photo-sized JPEGs when no real images are at hand
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (960, 1280, 3), dtype=np.uint8)).save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def run(settings: Settings, model_name: str | None = None, points: int = 20_000, queries: int = 30,
        random_weights: bool = False, folder: Path | None = None, qdrant_points: int = 50_000) -> dict[str, Any]:
    spec = get_spec(model_name or settings.model)
    weights = Weights.random(0) if random_weights else resolve_weights(spec, settings)
    model = build_clip_model(spec, weights, settings)
    texts = (TEXT_QUERIES * (queries // len(TEXT_QUERIES) + 1))[:queries]
    images = _query_images(queries, folder)
    # Warm up: first calls allocate and pick kernels.
    for text in texts[:5]:
        model.encode_texts([text])
    for data in images[:3]:
        model.encode_images([Image.open(io.BytesIO(data)).convert("RGB")])

    def encode(one: Callable[[Any], np.ndarray], items: list) -> tuple[np.ndarray, dict[str, float]]:
        vectors, times = [], []
        for item in items:
            t = time.perf_counter()
            vectors.append(one(item))
            times.append((time.perf_counter() - t) * 1000)
        p50, p95 = _percentiles(times)
        return np.stack(vectors).astype(np.float32), {"encode_ms_p50": p50, "encode_ms_p95": p95}

    text_vectors, text_encode = encode(lambda text: model.encode_texts([text])[0], texts)
    image_vectors, image_encode = encode(
        lambda data: model.encode_images([Image.open(io.BytesIO(data)).convert("RGB")])[0], images)
    asked = {"text": text_vectors, "image": image_vectors}

    def searched(result: dict[str, Any]) -> dict[str, Any]:
        text, image = result["text"], result["image"]
        return {"text": {**text_encode, **_latency(text["unfiltered"])},
                "image": {**image_encode, **_latency(image["unfiltered"])},
                "filtered": {**text_encode, **_latency(text["combined"])},
                "filters": {case: _latency(text[case]) for case in ("source", "collection", "kind", "combined")}}

    compact = bench_store("compact", points, model.dim, asked)
    out: dict[str, Any] = {
        "points": points, "model": spec.name, "dim": model.dim,
        "weights": "random" if weights.is_random else str(weights.source),
        **searched(compact),
        **{k: compact[k] for k in ("rss_mb", "open_s", "upsert_per_s", "recall_at_10")},
    }
    if qdrant_points:
        qdrant = bench_store("qdrant", min(points, qdrant_points), model.dim, asked)
        view = searched(qdrant)
        out["qdrant_local"] = {**{k: qdrant[k] for k in ("points", "rss_mb", "open_s", "upsert_per_s", "recall_at_10")},
                               **{k: _latency(view[k]) for k in ("text", "image", "filtered")},
                               "filters": view["filters"]}
    return out


def _latency(case: dict[str, float]) -> dict[str, float]:
    return {"search_ms_p50": case["search_ms_p50"], "search_ms_p95": case["search_ms_p95"]}
