"""The detector as a TensorFlow.js graph model (uint8 weights) with ``loupe.json`` beside it:
labels, per-class thresholds, preprocessing and how to decode the output, for the lens's
detection mode (``lens/BUNDLE.md``, ``modes.detect``; ``lens/src/detect.js`` decodes it).

`browser_model` is the Keras model computing what the browser computes (batch norms folded,
weights snapped to their uint8 grid): Python's detections for the browser come from it.
TensorFlow and tensorflowjs are imported when a model is built or written, not with this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from loupe_models.detector import keras_model
from loupe_models.detector.config import PAD_VALUE, STRIDE, DetectorConfig
from loupe_models.detector.decode import DECODING, LOG_SIZE_LIMIT
from loupe_models.efficientnet_lite.arch import PIXEL_MEAN, PIXEL_STD

META_FILE = "loupe.json"
QUANTIZATIONS = ("uint8", "uint16", "float16")


@dataclass(frozen=True)
class GraphModelExport:
    folder: Path
    files: tuple[str, ...]
    bytes: int  # all files together (model.json, shards, loupe.json)
    meta: dict


def snap(values: np.ndarray, quantize: str | None) -> np.ndarray:
    """`values` as the browser sees them after `quantize` (the converter's own arithmetic)."""
    if quantize is None:
        return values
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # see efficientnet_lite.tfjs
    from tensorflowjs.quantization import dequantize_weights, quantize_weights

    dtype = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}[quantize]
    data, info = quantize_weights(values.astype(np.float32), dtype)
    return dequantize_weights(data, info, np.float32)

FORMAT = "loupe-detector/1"


def browser_model(config: DetectorConfig, state: Mapping[str, object], quantize: str | None = "uint8"):  # noqa: ANN201
    model = keras_model.from_torch(config, state)
    model.set_weights([snap(w, quantize) for w in model.get_weights()])
    return model


def meta(config: DetectorConfig, thresholds: Sequence[float], quantize: str | None, **extra) -> dict:
    size = config.input_size
    return {
        "format": FORMAT, "architecture": "efficientnet_lite0-centernet-s16", "quantization": quantize or "float32",
        "labels": list(config.classes), "thresholds": [round(float(t), 4) for t in thresholds],
        "input": {"name": "pixels", "shape": [1, size, size, 3], "layout": "NHWC", "input_size": size,
                  "pixels": "RGB 0-255 float32",
                  "letterbox": {"resize": "long side to input_size, bilinear, aspect kept", "place": "top-left",
                                "pad_value": PAD_VALUE},
                  "normalisation_in_graph": {"mean": PIXEL_MEAN, "std": PIXEL_STD}},
        "output": {"shape": [1, config.grid, config.grid, config.channels], "stride": STRIDE,
                   "classes": len(config.classes), "peak_kernel": config.peak_kernel,
                   "log_size_limit": LOG_SIZE_LIMIT, "max_detections": config.max_detections, "decoding": DECODING},
        **extra}


def export_detector(config: DetectorConfig, state: Mapping[str, object], thresholds: Sequence[float],
                    folder: str | os.PathLike, quantize: str | None = "uint8", **extra) -> GraphModelExport:
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r}: use one of {', '.join(QUANTIZATIONS)} or None")
    if len(thresholds) != len(config.classes):
        raise ValueError(f"{len(thresholds)} thresholds for {len(config.classes)} classes")
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    from tensorflowjs.converters.tf_saved_model_conversion_v2 import convert_keras_model_to_graph_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    convert_keras_model_to_graph_model(browser_model(config, state, quantize), str(folder),
                                       quantization_dtype_map={quantize: True} if quantize else None)
    info = meta(config, thresholds, quantize, **extra)
    (folder / META_FILE).write_text(json.dumps(info, indent=1))
    files = tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))
    return GraphModelExport(folder, files, sum((folder / f).stat().st_size for f in files), info)
