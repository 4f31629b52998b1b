"""The lens's Keras models as the browser runs them: the retrieval backbone (EfficientNet-Lite0,
folded, GeM, unit length) and the classifier (the same backbone, a dense layer, softmax).
Imports TensorFlow."""

from __future__ import annotations

import numpy as np

from loupe_models.efficientnet_lite.keras_model import build, keras
from loupe_models.efficientnet_lite.tfjs import snap


def build_browser_model(config: dict) -> keras.Model:
    """``config``: {"size", "head", "classes" (0 or absent: features only)}; folded layers."""
    backbone = build(int(config["size"]), bool(config.get("head", False)), True, folded=True)
    classes = int(config.get("classes") or 0)
    if not classes:
        return backbone
    logits = keras.layers.Dense(classes, name="logits")(backbone.output)
    probs = keras.layers.Softmax(name="probabilities")(logits * float(config.get("scale", 1.0)))
    return keras.Model(backbone.input, probs, name="lens_classifier")


def snapped(weights: list[np.ndarray], quantize: str | None = "uint8") -> list[np.ndarray]:
    return [snap(w, quantize) for w in weights]
