"""Search latency in the embedded default: encoding a query, then searching 20,000 points.

Queries are what users send, one at a time: short texts, and images (decoded, preprocessed
and encoded one by one, as an upload is). Points are synthetic but shaped like a real index
(an image, an annotated region and views per canvas; several sources, kinds, years) and
live in a real Qdrant local store with Loupe's exact in-memory search, as ``loupe serve``
uses it. Search time and encoding time are reported separately.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from loupe_core.settings import Settings
from loupe_index import SearchFilters, VectorIndex
from loupe_index.bench import synthetic_points
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
        random_weights: bool = False, folder: Path | None = None) -> dict[str, Any]:
    spec = get_spec(model_name or settings.model)
    weights = Weights.random(0) if random_weights else resolve_weights(spec, settings)
    model = build_clip_model(spec, weights, settings)
    texts = (TEXT_QUERIES * (queries // len(TEXT_QUERIES) + 1))[:queries]
    images = _query_images(queries, folder)
    vector = "bench__search"
    with tempfile.TemporaryDirectory(prefix="loupe-bench-search-") as tmp:
        local = settings.replace(data_dir=Path(tmp), qdrant_url="", local_points_warning=10 ** 9)
        index = VectorIndex.open(local, role="bench")
        try:
            index.ensure_vector(vector, model.dim)
            index.upsert(synthetic_points(points, model.dim), vector)
            # Warm up: first calls allocate and pick kernels; the in-memory copy loads.
            for text in texts[:5]:
                index.search(model.encode_texts([text])[0], vector)
            for data in images[:3]:
                model.encode_images([Image.open(io.BytesIO(data)).convert("RGB")])

            def measure(encode: Callable, items: list, filters: SearchFilters | None = None) -> dict[str, float]:
                enc, srch = [], []
                for item in items:
                    t0 = time.perf_counter()
                    q = encode(item)
                    t1 = time.perf_counter()
                    index.search(q, vector, limit=20, filters=filters)
                    t2 = time.perf_counter()
                    enc.append((t1 - t0) * 1000)
                    srch.append((t2 - t1) * 1000)
                e50, e95 = _percentiles(enc)
                s50, s95 = _percentiles(srch)
                return {"encode_ms_p50": e50, "encode_ms_p95": e95, "search_ms_p50": s50, "search_ms_p95": s95}

            def encode_text(text: str) -> np.ndarray:
                return model.encode_texts([text])[0]

            def encode_image(data: bytes) -> np.ndarray:
                return model.encode_images([Image.open(io.BytesIO(data)).convert("RGB")])[0]

            flt = SearchFilters(source="source-2", kind=["image", "region"], year_from=1500, year_to=1700)
            return {
                "points": index.count(vector), "model": spec.name, "dim": model.dim,
                "weights": "random" if weights.is_random else str(weights.source),
                "text": measure(encode_text, texts),
                "image": measure(encode_image, images),
                "filtered": measure(encode_text, texts, flt),
            }
        finally:
            index.close()
