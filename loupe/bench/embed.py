"""Embedding throughput: Loupe's pipeline against a plain per-image open_clip loop.

Both run in one process on the same weights and the same JPEG files (the lens artworks in
../shared/data when present, else generated ones), after a warm-up each, alternating in
rounds, each round timed twice keeping the faster, so that other load on a shared machine
disturbs the comparison little:

* plain loop: what open_clip's README does, image by image: ``Image.open``, the model's
  transform, ``encode_image`` on a batch of one; the module as open_clip creates it (fp32);
* pipeline: `EmbeddingPipeline` over the `ClipModel` Loupe loads (re-parameterised,
  channels-last, bf16 where the processor has it), JPEGs decoded at reduced size in a thread
  pool, batched ToTensor/Normalize and encoding, a writer callback.

``min_cosine`` compares each image's two embeddings. It means something only if the model
tells images apart: randomly initialised MobileCLIP2 gives nearly the same vector for every
image (its layer scales start at 1e-5), which the command says when it happens.
"""

from __future__ import annotations

import copy
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from loupe_core.settings import Settings
from loupe_models import Weights, get_spec, resolve_weights
from loupe_models.hardware import torch_threads
from loupe_models.loading import OpenClipParts, build_clip_model, create_open_clip_model
from loupe_models.pipeline import EmbeddingPipeline

ROUNDS = 4  # the two runs alternate in this many rounds (of four batches at least) ...
REPEATS = 2  # ... each timed this many times, keeping the fastest
ARTWORKS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens" / "artworks"


def find_images(n: int, folder: Path | None, scratch: Path) -> list[Path]:
    """N JPEG paths: from `folder` (or the shared artworks), repeated if there are fewer;
    generated 1600x1200 JPEGs when there are none."""
    folder = folder or ARTWORKS
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg")) if folder.is_dir() else []
    if not files:
        files = _generate_jpegs(min(n, 64), scratch)
    return list(itertools.islice(itertools.cycle(files), n))


def _generate_jpegs(n: int, folder: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1200, 0:1600]
    paths = []
    for i in range(n):
        fx, fy, phase = rng.uniform(0.002, 0.03, 2).tolist() + [rng.uniform(0, 6.28)]
        base = np.stack([np.sin(xx * fx + phase), np.cos(yy * fy - phase), np.sin((xx + yy) * (fx + fy) / 2)], -1)
        noise = rng.normal(0, 0.15, base.shape)
        pixels = np.clip((base + noise + 1) * 127.5, 0, 255).astype(np.uint8)
        path = folder / f"generated-{i:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def run(settings: Settings, model_name: str | None = None, images: int = 128,
        random_weights: bool = False, folder: Path | None = None, progress: bool = True) -> dict:
    import torch

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    spec = get_spec(model_name or settings.model)
    # Random weights only when asked for by name: speed does not depend on the weights.
    weights = Weights.random(0) if random_weights else resolve_weights(spec, settings)
    plain = create_open_clip_model(spec, weights)
    model = build_clip_model(spec, weights, settings,
                             parts=OpenClipParts(copy.deepcopy(plain.module), plain.preprocess))
    pipeline = EmbeddingPipeline.from_settings(model, settings)

    with tempfile.TemporaryDirectory(prefix="loupe-bench-embed-") as scratch:
        paths = find_images(images, folder, Path(scratch))
        for p in set(paths):  # both runs read from the page cache
            p.read_bytes()

        def plain_loop(files: list[Path]) -> np.ndarray:
            out = []
            for path in files:
                image = Image.open(path)
                with torch.inference_mode():
                    features = plain.module.encode_image(plain.preprocess(image).unsqueeze(0))
                out.append(torch.nn.functional.normalize(features, dim=-1)[0].numpy())
            return np.stack(out)

        def pipelined(files: list[Path]) -> np.ndarray:
            found: dict[int, np.ndarray] = {}
            pipeline.run(enumerate(files), lambda keys, vectors: found.update(zip(keys, vectors)))
            return np.stack([found[i] for i in range(len(files))])

        say(f"{spec.name}: {len(paths)} images, {'random' if weights.is_random else weights.source} weights, "
            f"{model.precision}, batch {pipeline.batch_size}, {pipeline.workers} decoding threads, "
            f"{torch_threads(settings)} torch threads; warming up")
        plain_loop(paths[:2])
        pipelined(paths[:pipeline.batch_size + 1])  # a full batch and a partial one

        # Alternate the two in rounds, each round timed REPEATS times keeping the fastest:
        # other work on the machine only ever slows a run down, and so affects both alike.
        naive_parts, piped_parts, naive_s, pipeline_s = [], [], 0.0, 0.0
        step = max(4 * pipeline.batch_size, -(-len(paths) // ROUNDS))
        for start in range(0, len(paths), step):
            chunk = paths[start:start + step]
            say(f"images {start + 1}-{start + len(chunk)}: plain loop, then pipeline (x{REPEATS})")
            naive_times, pipeline_times = [], []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                naive_vectors = plain_loop(chunk)
                t1 = time.perf_counter()
                piped_vectors = pipelined(chunk)
                naive_times.append(t1 - t0)
                pipeline_times.append(time.perf_counter() - t1)
            naive_parts.append(naive_vectors)
            piped_parts.append(piped_vectors)
            naive_s += min(naive_times)
            pipeline_s += min(pipeline_times)
        naive, piped = np.concatenate(naive_parts), np.concatenate(piped_parts)

    cosines = np.sum(naive * piped, axis=1)
    unique = np.unique(naive, axis=0)
    spread = float((unique @ unique.T)[~np.eye(len(unique), dtype=bool)].mean()) if len(unique) > 1 else 1.0
    if spread > 0.999:
        say(f"note: this model gives nearly the same embedding for every image (mean cosine between "
            f"different images {spread:.5f}), so min_cosine says little here; use a model that tells "
            "images apart (loupe-tiny, ViT-B-32 --random-weights, or real weights) to check it")
    return {
        "model": spec.name,
        "images": len(paths),
        "pipeline_per_s": round(len(paths) / pipeline_s, 2),
        "naive_per_s": round(len(paths) / naive_s, 2),
        "speedup": round(naive_s / pipeline_s, 2),
        "min_cosine": round(float(cosines.min()), 6),
    }
