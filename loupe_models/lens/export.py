"""Export of the lens classifier: the fine-tuned backbone as the browser runs it (folded,
uint8 grid) with a dense layer and softmax, as a TensorFlow.js graph model (uint8), and its
Python twin. The retrieval model uses ``efficientnet_lite.tfjs.export_graph_model``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loupe_models.efficientnet_lite.tfjs import META_FILE, snap
from loupe_models.lens.bundle import save_python_model
from loupe_models.lens.keras_models import build_browser_model


@dataclass(frozen=True)
class ClassifierExport:
    bytes: int
    weight: np.ndarray  # as the browser holds them (on the uint8 grid)
    bias: np.ndarray


def export_classifier(folder: Path, twin: Any, weight: np.ndarray, bias: np.ndarray, size: int) -> ClassifierExport:
    from tensorflowjs.converters.tf_saved_model_conversion_v2 import convert_keras_model_to_graph_model

    weight, bias = snap(weight.astype(np.float32), "uint8"), snap(bias.astype(np.float32), "uint8")
    config = {"size": size, "head": False, "classes": int(weight.shape[1])}
    model = build_browser_model(config)
    model.set_weights([*twin.get_weights(), weight, bias])
    folder.mkdir(parents=True, exist_ok=True)
    convert_keras_model_to_graph_model(model, str(folder), quantization_dtype_map={"uint8": True})
    (folder / META_FILE).write_text(json.dumps({
        "format": "tfjs-graph-model", "architecture": "efficientnet_lite0 + dense + softmax", "quantization": "uint8",
        "input": {"shape": [1, size, size, 3], "layout": "NHWC", "pixels": "RGB 0-255 float32"},
        "output": {"classes": int(weight.shape[1]), "softmax": True}, "mode": "classify"}, indent=1))
    save_python_model(folder.parent, "classify", model.get_weights(), config)
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    return ClassifierExport(total, weight, bias)
