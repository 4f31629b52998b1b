"""The detector in Keras (tf-keras 2.19), for TensorFlow.js: the same function as the PyTorch
model, with every batch norm already folded into its convolution (what the browser computes).

Built layer by layer from EfficientNet-Lite0's block table with named layers; the weights come
from the PyTorch state dict by name (`load_torch_state`): backbone convolutions in order, each
folded with the batch norm that follows it, then the neck and head. Only standard ops
(convolutions, depthwise convolutions, ReLU6/ReLU, add, nearest 2x upsampling). TensorFlow is
imported when a model is built, not with this module.

Input: (N, S, S, 3) RGB floats in 0-255 (normalisation in the graph). Output: (N, S/16, S/16, 5C).
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from loupe_models.detector.config import DetectorConfig
from loupe_models.efficientnet_lite.arch import BLOCKS, BN_EPS, PIXEL_MEAN, PIXEL_STD, STEM
from loupe_models.errors import ModelError

C4_STAGE, C5_STAGE = 4, 6  # as torch_model: the stages giving the stride-16 and stride-32 features
NECK_LAYERS = ("lateral5", "lateral4", "head_dw1", "head_pw1", "head_dw2", "head_pw2", "out")


def _keras():  # noqa: ANN202
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # read when TensorFlow loads (see efficientnet_lite)
    import tf_keras

    return tf_keras


def build(config: DetectorConfig):  # noqa: ANN201 - a tf_keras Model
    keras = _keras()
    L = keras.layers  # noqa: N806
    inputs = keras.Input((config.input_size, config.input_size, 3), name="pixels")
    x = L.Rescaling(1.0 / PIXEL_STD, offset=-PIXEL_MEAN / PIXEL_STD)(inputs)
    convs = iter(range(10_000))

    def conv(x, filters: int, kernel: int = 1, stride: int = 1, depthwise: bool = False, act: bool = True):  # noqa: ANN001, ANN202
        if stride > 1:
            x = L.ZeroPadding2D(kernel // 2)(x)
        pad = "valid" if stride > 1 else "same"
        name = f"backbone_{next(convs)}"
        x = (L.DepthwiseConv2D(kernel, stride, pad, name=name) if depthwise
             else L.Conv2D(filters, kernel, stride, pad, name=name))(x)
        return L.ReLU(6.0)(x) if act else x

    x = conv(x, STEM, 3, 2)
    c4 = None
    for stage, (expand, kernel, stride, out, repeats) in enumerate(BLOCKS[:C5_STAGE + 1]):
        for i in range(repeats):
            block_in, channels = x, x.shape[-1]
            if expand != 1:
                x = conv(x, channels * expand)
            x = conv(x, 0, kernel, stride if i == 0 else 1, depthwise=True)
            x = conv(x, out, act=False)
            if i > 0 and channels == out:
                x = L.Add()([block_in, x])
        if stage == C4_STAGE:
            c4 = x
    n = config.neck
    p5 = L.ReLU(name="lateral5_relu")(L.Conv2D(n, 1, name="lateral5")(x))
    p4 = L.ReLU(name="lateral4_relu")(L.Conv2D(n, 1, name="lateral4")(c4))
    x = L.Add(name="fuse")([p4, L.UpSampling2D(2, interpolation="nearest", name="upsample")(p5)])
    for k in (1, 2):
        x = L.DepthwiseConv2D(3, 1, "same", name=f"head_dw{k}")(x)
        x = L.ReLU(name=f"head_relu{k}")(L.Conv2D(n, 1, name=f"head_pw{k}")(x))
    out = L.Conv2D(config.channels, 1, name="out")(x)
    return keras.Model(inputs, out, name="loupe_detector")


def _kernel(t: np.ndarray, depthwise: bool) -> np.ndarray:
    """PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out); depthwise (C, 1, kh, kw) -> (kh, kw, C, 1)."""
    return t.transpose(2, 3, 0, 1) if depthwise else t.transpose(2, 3, 1, 0)


def load_torch_state(model, state: Mapping[str, "object"]) -> int:  # noqa: ANN001
    """Set `model`'s weights from the PyTorch detector's state dict (tensors or arrays), batch
    norms folded. Returns how many layers were set; ModelError on any mismatch."""
    L = _keras().layers  # noqa: N806
    arrays = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, np.float32)
              for k, v in state.items() if not k.endswith("num_batches_tracked")}
    neck = set(NECK_LAYERS)
    backbone = [k for k in arrays if k.split(".")[0] not in neck]
    convs = [k for k in backbone if arrays[k].ndim == 4]
    layers = sorted((layer for layer in model.layers if layer.name.startswith("backbone_")),
                    key=lambda layer: int(layer.name.rsplit("_", 1)[1]))
    if len(convs) != len(layers):
        raise ModelError(f"{len(convs)} backbone convolutions in the state for {len(layers)} Keras layers")
    for key, layer in zip(convs, layers):
        prefix = _norm_prefix(key, arrays)
        gamma, beta = arrays[f"{prefix}.weight"], arrays[f"{prefix}.bias"]
        mean, var = arrays[f"{prefix}.running_mean"], arrays[f"{prefix}.running_var"]
        scale = gamma / np.sqrt(var + BN_EPS)
        depthwise = isinstance(layer, L.DepthwiseConv2D)
        kernel = _kernel(arrays[key], depthwise)
        kernel = kernel * scale.reshape((1, 1, -1, 1) if depthwise else (1, 1, 1, -1))
        _set(layer, [kernel, beta - mean * scale])
    for name in NECK_LAYERS:
        layer = model.get_layer(name)
        _set(layer, [_kernel(arrays[f"{name}.weight"], isinstance(layer, L.DepthwiseConv2D)), arrays[f"{name}.bias"]])
    return len(layers) + len(NECK_LAYERS)


def _norm_prefix(conv_key: str, arrays: Mapping[str, np.ndarray]) -> str:
    """The batch norm after a timm convolution: conv_stem -> bn1, blocks.i.j.conv_pw -> bn1,
    conv_dw -> bn1 or bn2, conv_pwl -> bn2/bn3 (whichever follows it in the state)."""
    keys = list(arrays)
    after = keys[keys.index(conv_key) + 1]
    if not after.endswith(".weight") or arrays[after].ndim != 1:
        raise ModelError(f"no batch norm after {conv_key} in the state dict")
    return after.rsplit(".", 1)[0]


def _set(layer, values: list[np.ndarray]) -> None:  # noqa: ANN001
    shapes = [tuple(w.shape) for w in layer.get_weights()]
    if shapes != [v.shape for v in values]:
        raise ModelError(f"Keras layer {layer.name} {shapes} does not fit {[v.shape for v in values]}")
    layer.set_weights(values)


def from_torch(config: DetectorConfig, state: Mapping[str, "object"]):  # noqa: ANN201 - a tf_keras Model
    model = build(config)
    load_torch_state(model, state)
    return model
