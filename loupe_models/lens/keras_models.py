"""The lens's Keras models as the browser runs them: the retrieval backbone (EfficientNet-Lite0,
folded, GeM, unit length) and the classifier (the same backbone, a dense layer, softmax).
Imports TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loupe_models.detector.config import DetectorConfig
from loupe_models.detector.export import browser_model
from loupe_models.efficientnet_lite.keras_model import build, keras
from loupe_models.efficientnet_lite.tfjs import snap
from loupe_models.lens.bundle import PYTHON_DIR, Bundle, Features, load_bundle, read_python_model


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


def python_model(path: Path) -> Features:
    """The browser's model rebuilt in Keras from its saved weights."""
    config, weights = read_python_model(path)
    model = build_browser_model(config)
    model.set_weights(weights)

    def features(pixels: np.ndarray) -> np.ndarray:
        return model(np.asarray(pixels, np.float32), training=False).numpy()

    return features


def load_with_models(folder: Path) -> Bundle:
    """`load_bundle` with the Python twin of every mode's model that has one."""
    bundle = load_bundle(folder)
    for mode in bundle.meta.get("modes", {}):
        npz = bundle.folder / PYTHON_DIR / f"{mode}.npz"
        if npz.exists():
            bundle.models[mode] = python_model(npz)
    detect = bundle.meta.get("modes", {}).get("detect") or {}
    if detect.get("method") == "detector":
        bundle.models["detector"] = detector_model(bundle.folder / detect["python"])
    return bundle


def detector_model(path: Path) -> Features:
    """The bundle's detector as the browser runs it (the Keras twin, uint8-snapped weights):
    letterboxed (1, size, size, 3) RGB 0-255 in, the raw output map out. Imports torch."""
    import torch  # the detector's weights are a PyTorch state dict

    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = browser_model(DetectorConfig.from_dict(saved["config"]), saved["state_dict"])

    def output(pixels: np.ndarray) -> np.ndarray:
        return model(np.asarray(pixels, np.float32), training=False).numpy()

    output.config = DetectorConfig.from_dict(saved["config"])  # type: ignore[attr-defined]
    return output
