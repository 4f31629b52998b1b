"""The embedding pipeline gives the model's embeddings, in order, batch by batch."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.deps import need

need("open_clip")

from loupe_models import EmbeddingPipeline  # noqa: E402


@pytest.fixture(scope="module")
def jpeg_files(tmp_path_factory, pictures) -> list[Path]:
    folder = tmp_path_factory.mktemp("jpegs")
    paths = []
    for i, picture in enumerate(pictures * 2):
        path = folder / f"{i:02d}.jpg"
        picture.resize((picture.width * 4, picture.height * 4)).save(path, quality=90)
        paths.append(path)
    return paths


def collect(pipeline: EmbeddingPipeline, items, **options):
    keys, batches = [], []

    def write(batch_keys, vectors):
        keys.extend(batch_keys)
        batches.append(vectors)

    stats = pipeline.run(items, write, **options)
    return keys, (np.concatenate(batches) if batches else np.zeros((0, pipeline.model.dim))), stats


def test_pipeline_equals_the_model_without_reduced_decoding(tiny, pictures) -> None:
    pipeline = EmbeddingPipeline(tiny, batch_size=2, workers=2, draft=False)
    keys, vectors, stats = collect(pipeline, enumerate(pictures))
    assert keys == list(range(len(pictures)))
    assert (stats.images, stats.batches, stats.failed) == (5, 3, 0)
    expected = np.concatenate([tiny.encode_images([p]) for p in pictures])
    assert np.min(np.sum(vectors * expected, axis=1)) > 0.9999


def test_jpeg_files_with_reduced_decoding_match_the_plain_path(tiny, jpeg_files) -> None:
    pipeline = EmbeddingPipeline(tiny, batch_size=4, workers=2)
    assert pipeline.draft is not None
    keys, vectors, stats = collect(pipeline, ((p.name, p) for p in jpeg_files))
    assert keys == [p.name for p in jpeg_files] and stats.images == len(jpeg_files)
    plain = np.concatenate([tiny.encode_images([Image.open(p)]) for p in jpeg_files])
    assert np.min(np.sum(vectors * plain, axis=1)) >= 0.999


def test_bad_items_go_to_on_error_or_stop_the_run(tiny, pictures) -> None:
    items = [(0, pictures[0]), (1, b"not an image"), (2, pictures[1])]
    failures = []
    keys, vectors, stats = collect(EmbeddingPipeline(tiny, batch_size=8), items,
                                   on_error=lambda item, e: failures.append(item[0]))
    assert keys == [0, 2] and failures == [1] and stats.failed == 1 and vectors.shape == (2, 64)
    with pytest.raises(Exception):
        collect(EmbeddingPipeline(tiny, batch_size=8), items)


def test_a_reader_may_yield_several_images_per_item(tiny, pictures) -> None:
    def views(item):
        key, image = item
        w, h = image.size
        return [((key, "whole"), image), ((key, "left"), image.crop((0, 0, w // 2, h)))]

    keys, vectors, _ = collect(EmbeddingPipeline(tiny, batch_size=3), enumerate(pictures[:3]), read=views)
    assert keys == [(k, v) for k in range(3) for v in ("whole", "left")]
    assert vectors.shape == (6, 64)


def test_pipeline_from_settings_and_bytes(tiny, tiny_settings, pictures) -> None:
    buffer = io.BytesIO()
    pictures[4].save(buffer, "PNG")
    pipeline = EmbeddingPipeline.from_settings(tiny, tiny_settings.replace(embed_batch_size=3, embed_workers=1))
    assert (pipeline.batch_size, pipeline.workers) == (3, 1)
    keys, vectors, _ = collect(pipeline, [("png", buffer.getvalue())])
    assert keys == ["png"]
    np.testing.assert_allclose(vectors, tiny.encode_images([pictures[4]]), atol=5e-3)
