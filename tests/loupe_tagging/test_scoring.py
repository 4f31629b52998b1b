"""Scores (softmax over the vocabulary, logit scale 100) and the label-embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loupe_tagging import LabelEmbeddingCache, Tagger, label_probabilities, make_vocabulary
from loupe_tagging.scoring import LOGIT_SCALE, top_labels
from tests.support.deps import need


def unit(v) -> np.ndarray:  # noqa: ANN001
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class FakeModel:
    """Embeds a text by the words it contains: enough to check the bookkeeping."""

    name = "fake"
    version = "fake/1"
    dim = 4
    WORDS = ("lily", "ship", "skull", "angel")

    def __init__(self) -> None:
        self.texts_encoded = 0

    def encode_texts(self, texts):  # noqa: ANN001, ANN201
        self.texts_encoded += len(texts)
        return unit([[1.0 if w in t else 0.01 for w in self.WORDS] for t in texts])

    def encode_images(self, images):  # noqa: ANN001, ANN201
        return unit([[1.0, 0.2, 0.0, 0.0] for _ in images])


def test_probabilities_are_a_softmax_with_clip_logit_scale() -> None:
    labels = unit([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]])
    image = unit([[0.8, 0.6, 0]])
    p = label_probabilities(image, labels)
    assert p.shape == (1, 3) and p.sum() == pytest.approx(1.0)
    cos = (image.astype(np.float64) @ labels.astype(np.float64).T)[0]
    weights = np.exp(LOGIT_SCALE * (cos - cos.max()))
    expected = weights / weights.sum()
    assert np.allclose(p[0], expected)
    assert p[0, 2] > 0.99  # cosine 0.96 against 0.8: scale 100 makes the best label take nearly all
    assert top_labels(p[0], ["a", "b", "c"], 2) == [("c", pytest.approx(p[0, 2])), ("a", pytest.approx(p[0, 0]))]
    assert top_labels(p[0], ["a", "b", "c"], 3, threshold=0.5) == [("c", pytest.approx(p[0, 2]))]


def test_tagger_ranks_labels_and_caches_their_embeddings(tmp_path: Path) -> None:
    model = FakeModel()
    cache = LabelEmbeddingCache(tmp_path / "labels")
    vocabulary = make_vocabulary("v", ["lily", "ship", "skull"])
    tagger = Tagger(model, cache)  # type: ignore[arg-type]
    first = tagger.tag_image(object(), vocabulary, top_k=2)
    assert [label for label, _ in first] == ["lily", "ship"]
    assert first[0][1] > first[1][1] > 0
    encoded = model.texts_encoded
    tagger.tag_image(object(), vocabulary, top_k=2)
    assert model.texts_encoded == encoded and cache.computed == 1  # memory
    fresh = LabelEmbeddingCache(tmp_path / "labels")
    Tagger(model, fresh).tag_image(object(), vocabulary, top_k=1)  # type: ignore[arg-type]
    assert model.texts_encoded == encoded and fresh.computed == 0  # disk
    Tagger(model, fresh).tag_image(object(), make_vocabulary("v", ["lily", "angel"]), top_k=1)  # type: ignore[arg-type]
    assert fresh.computed == 1  # another vocabulary: computed


def test_tiny_model_tags_an_image(tmp_path: Path) -> None:
    need("open_clip")
    from PIL import Image

    from loupe_core.settings import Settings
    from loupe_models import load_model

    model = load_model(Settings.load(env={}, config_file=None, data_dir=tmp_path, model="loupe-tiny"))
    vocabulary = make_vocabulary("v", ["lily", "ship", "skull", "angel", "horse"])
    image = Image.effect_mandelbrot((96, 80), (-2, -1.2, 1, 1.2), 40).convert("RGB")
    tags = Tagger(model).tag_image(image, vocabulary, top_k=5)
    assert sorted(label for label, _ in tags) == sorted(vocabulary.labels)
    scores = [s for _, s in tags]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1.0, abs=1e-6)
