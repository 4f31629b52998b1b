"""Zero-shot tagging: which of a vocabulary's labels best describe an image.

What a score means: the softmax over the vocabulary of CLIP's logits, ``100 * cosine(image,
label)`` (100 is the logit scale CLIP learned, ``exp(4.6052)``). It is the share of the
model's belief that goes to this label *if exactly one label of this vocabulary were right*:
scores of one image sum to 1 over the vocabulary; they are relative, not calibrated
probabilities that the thing is present. A longer vocabulary spreads the mass thinner, two
near-synonyms split it, and an image that fits no label still gives some label the most.
A threshold of 0.2 therefore keeps the few labels that clearly stand out among the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from .label_embeddings import LabelEmbeddingCache
from .vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from loupe_models.clip_model import ClipModel

LOGIT_SCALE = 100.0
MAX_TOP_K = 50

LabelScores = list[tuple[str, float]]


def label_probabilities(image_vectors: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """(images, labels): softmax over labels of LOGIT_SCALE * cosine (inputs are unit rows)."""
    logits = LOGIT_SCALE * (np.asarray(image_vectors, np.float64) @ np.asarray(label_vectors, np.float64).T)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def top_labels(probabilities: np.ndarray, labels: Sequence[str], top_k: int,
               threshold: float = 0.0) -> LabelScores:
    """The ``top_k`` best labels of one image with score >= threshold, best first."""
    order = np.argsort(-probabilities, kind="stable")[:max(0, top_k)]
    return [(labels[i], float(probabilities[i])) for i in order if probabilities[i] >= threshold]


class Tagger:
    """A model and its label-embedding cache: tags images or embeddings against vocabularies."""

    def __init__(self, model: "ClipModel", cache: LabelEmbeddingCache | None = None) -> None:
        self.model = model
        self.cache = cache or LabelEmbeddingCache()

    def tag_vectors(self, vectors: np.ndarray, vocabulary: Vocabulary, top_k: int,
                    threshold: float = 0.0) -> list[LabelScores]:
        if len(vectors) == 0:
            return []
        probabilities = label_probabilities(vectors, self.cache.get(self.model, vocabulary))
        labels = vocabulary.labels
        return [top_labels(row, labels, top_k, threshold) for row in probabilities]

    def tag_images(self, images: Sequence["Image.Image"], vocabulary: Vocabulary, top_k: int,
                   threshold: float = 0.0) -> list[LabelScores]:
        return self.tag_vectors(self.model.encode_images(list(images)), vocabulary, top_k, threshold)

    def tag_image(self, image: "Image.Image", vocabulary: Vocabulary, top_k: int = 5,
                  threshold: float = 0.0) -> LabelScores:
        """[(label, score)], best first; see the module docstring for what a score means."""
        return self.tag_images([image], vocabulary, top_k, threshold)[0]
