"""The loaded model: shapes, unit norms, determinism, batching, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.deps import need

need("open_clip")


def test_images_encode_to_unit_float32_rows(tiny, pictures) -> None:
    vectors = tiny.encode_images(pictures)
    assert vectors.shape == (len(pictures), tiny.dim) == (5, 64)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    np.testing.assert_array_equal(vectors, tiny.encode_images(pictures))  # deterministic


def test_batches_and_single_images_give_the_same_embeddings(tiny, pictures) -> None:
    together = tiny.encode_images(pictures, batch_size=4)
    alone = np.concatenate([tiny.encode_images([p]) for p in pictures])
    assert np.min(np.sum(together * alone, axis=1)) > 0.9999  # bf16 kernels may round differently
    np.testing.assert_allclose(together, alone, atol=5e-3)


def test_texts_encode_to_unit_rows(tiny) -> None:
    vectors = tiny.encode_texts(["a night sky", "an altarpiece", "a night sky"])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])
    assert tiny.encode_texts([]).shape == (0, 64) and tiny.encode_images([]).shape == (0, 64)


def test_random_weights_are_reproducible_across_loads(tiny, tiny_settings, pictures) -> None:
    from loupe_models import ModelCache, load_model

    again = load_model(tiny_settings, cache=ModelCache())
    assert again is not tiny and again.version == tiny.version == "loupe-tiny/random-seed0"
    np.testing.assert_array_equal(again.encode_images(pictures), tiny.encode_images(pictures))


def test_fp32_batches_match_single_images(tiny_settings, pictures) -> None:
    from loupe_models import ModelCache, load_model

    model = load_model(tiny_settings.replace(model_precision="fp32"), cache=ModelCache())
    assert model.precision == "fp32"
    np.testing.assert_allclose(model.encode_images(pictures),
                               np.concatenate([model.encode_images([p]) for p in pictures]), atol=1e-5)


def test_a_local_checkpoint_loads_by_path(tiny, tiny_settings, pictures, tmp_path: Path) -> None:
    import torch

    from loupe_models import ModelCache, Weights, get_spec, load_model
    from loupe_models.loading import create_open_clip_model

    plain = create_open_clip_model(get_spec("loupe-tiny"), Weights.random(0))
    checkpoint = tmp_path / "tiny-trained.pt"
    torch.save(plain.module.state_dict(), checkpoint)

    loaded = load_model(tiny_settings.replace(model_path=str(checkpoint)), cache=ModelCache())
    assert loaded.weights.source == "model_path"
    assert loaded.version.startswith("loupe-tiny/sha256-")
    np.testing.assert_array_equal(loaded.encode_images(pictures), tiny.encode_images(pictures))
    np.testing.assert_array_equal(loaded.encode_texts(["a ship"]), tiny.encode_texts(["a ship"]))


def test_a_checkpoint_of_another_architecture_is_refused(tiny_settings, tmp_path: Path) -> None:
    import torch

    from loupe_models import ModelCache, ModelError, Weights, get_spec, load_model
    from loupe_models.loading import create_open_clip_model

    other = create_open_clip_model(get_spec("loupe-tiny-32"), Weights.random(1))
    checkpoint = tmp_path / "other.pt"
    torch.save(other.module.state_dict(), checkpoint)
    with pytest.raises(ModelError, match="could not be loaded from .*other.pt"):
        load_model(tiny_settings, weights_path=checkpoint, cache=ModelCache())
