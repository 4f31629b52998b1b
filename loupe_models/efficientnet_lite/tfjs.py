"""Export of the Keras EfficientNet-Lite0 to a TensorFlow.js graph model (uint8 weights).

The model is first made into what the browser will compute (`browser_model`): batch norms
folded into the convolutions, and every weight snapped to the grid of its uint8 (or uint16)
quantisation. Its features are then the browser's features up to float rounding, so Python can
compute the browser's descriptors; the converter's own quantisation finds the values already
on the grid. Quantising per tensor costs accuracy (uint8 and float32 features of one real
image agree at cosine 0.93), so descriptors the browser compares with must come from
`browser_model`, not from the float32 model. ``loupe.json`` beside ``model.json`` says what
the browser feeds in and gets out.

Imports TensorFlow (through `keras_model`, which sets TF_ENABLE_ONEDNN_OPTS=0 first). Test
every export in a browser before trusting it: converters produce graphs that some backends
cannot run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loupe_models.efficientnet_lite.arch import GEM_P, PIXEL_MEAN, PIXEL_STD
from loupe_models.efficientnet_lite.keras_model import fold_batch_norms, keras

# Before tensorflowjs is imported (in the functions below): no welcome message from TensorFlow
# Decision Forests, which it imports. Where stdout is not a terminal (jobs, pytest) that message
# imports IPython, which is not installed, and the import fails.
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

QUANTIZATIONS = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}
META_FILE = "loupe.json"


@dataclass(frozen=True)
class GraphModelExport:
    folder: Path
    files: tuple[str, ...]
    bytes: int  # all files together (model.json, shards, loupe.json)
    meta: dict

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def snap(values: np.ndarray, quantize: str | None) -> np.ndarray:
    """`values` as the browser sees them after `quantize` (the converter's own arithmetic)."""
    if quantize is None:
        return values
    from tensorflowjs.quantization import dequantize_weights, quantize_weights  # imports TensorFlow

    data, meta = quantize_weights(values.astype(np.float32), QUANTIZATIONS[quantize])
    return dequantize_weights(data, meta, np.float32)


def browser_model(model: keras.Model, quantize: str | None = "uint8") -> keras.Model:
    """A Keras model computing what the exported graph computes in the browser: `model`
    (from `keras_model.build`) with batch norms folded and weights snapped to `quantize`."""
    folded = fold_batch_norms(model)
    folded.set_weights([snap(w, quantize) for w in folded.get_weights()])
    return folded


def export_graph_model(model: keras.Model, folder: str | os.PathLike, quantize: str | None = "uint8",
                       **meta) -> GraphModelExport:
    """Write `model` (from `keras_model.build`, batch norms and all) as a TensorFlow.js graph
    model into `folder`, weights quantised to `quantize` (None: float32). `meta` goes into
    loupe.json."""
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r}: use one of {', '.join(QUANTIZATIONS)} or None")
    from tensorflowjs.converters.tf_saved_model_conversion_v2 import convert_keras_model_to_graph_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    convert_keras_model_to_graph_model(browser_model(model, quantize), str(folder),
                                       quantization_dtype_map={quantize: True} if quantize else None)
    size = int(model.input_shape[1])
    info = {"format": "tfjs-graph-model", "architecture": "efficientnet_lite0", "quantization": quantize or "float32",
            "input": {"name": model.input_names[0], "shape": [1, size, size, 3], "layout": "NHWC",
                      "pixels": "RGB 0-255 float32, resized to the input size",
                      "normalisation_in_graph": {"mean": PIXEL_MEAN, "std": PIXEL_STD}},
            "output": {"dim": int(model.output_shape[-1]), "pooling": f"GeM p={GEM_P:g}", "unit_length": True},
            **meta}
    (folder / META_FILE).write_text(json.dumps(info, indent=1))
    files = tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))
    return GraphModelExport(folder, files, sum((folder / f).stat().st_size for f in files), info)
