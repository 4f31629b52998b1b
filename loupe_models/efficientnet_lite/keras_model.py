"""EfficientNet-Lite0 in Keras (tf-keras 2.19), for export to TensorFlow.js.

Built from the same block table as timm's, layer by layer in the PyTorch module's order, so
that the checkpoint's tensors fit by position (`load_torch_tensors`). Symmetric padding as
PyTorch pads (explicit ZeroPadding2D before strided convolutions; "same" is symmetric for odd
kernels at stride 1). Only standard ops: the graph converts to TensorFlow.js and runs on its
WebGL, WASM and CPU backends. Imports TensorFlow (and torch, to read the checkpoint): import
this module only where a Keras model is built (a job's handler module, a test).

Input: (N, size, size, 3) RGB floats in 0-255 (what ``tf.browser.fromPixels`` gives, resized);
the normalisation is inside the graph. Output: GeM-pooled features, L2-normalised.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

# oneDNN's graph rewrites made TensorFlow.js conversions fail on these machines; the switch is
# read when TensorFlow loads, so it is set before the import.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from loupe_models.efficientnet_lite.arch import (  # noqa: E402
    BLOCKS,
    BN_EPS,
    GEM_EPS,
    GEM_P,
    HEAD,
    PIXEL_MEAN,
    PIXEL_STD,
    STEM,
)
from loupe_models.efficientnet_lite.torch_model import read_checkpoint  # noqa: E402
from loupe_models.errors import ModelError  # noqa: E402

L = keras.layers


class GeM(L.Layer):
    """Generalised-mean pooling over H, W, then (optionally) unit length."""

    def __init__(self, p: float = GEM_P, eps: float = GEM_EPS, normalize: bool = True, **kw) -> None:
        super().__init__(**kw)
        self.p, self.eps, self.normalize = p, eps, normalize

    def call(self, x):
        y = tf.pow(tf.reduce_mean(tf.pow(tf.maximum(x, self.eps), self.p), axis=[1, 2]), 1.0 / self.p)
        return tf.math.l2_normalize(y, axis=-1) if self.normalize else y

    def get_config(self) -> dict:
        return {**super().get_config(), "p": self.p, "eps": self.eps, "normalize": self.normalize}


def _conv_bn(x: tf.Tensor, filters: int, kernel: int = 1, stride: int = 1, depthwise: bool = False,
             act: bool = True, folded: bool = False) -> tf.Tensor:
    """Convolution, batch norm, ReLU6; `folded`: the batch norm folded into the convolution's bias."""
    if stride > 1:
        x = L.ZeroPadding2D(kernel // 2)(x)
    pad = "valid" if stride > 1 else "same"
    x = (L.DepthwiseConv2D(kernel, stride, pad, use_bias=folded) if depthwise
         else L.Conv2D(filters, kernel, stride, pad, use_bias=folded))(x)
    if not folded:
        x = L.BatchNormalization(epsilon=BN_EPS)(x)
    return L.ReLU(6.0)(x) if act else x


def build(size: int = 224, head: bool = True, normalize: bool = True, folded: bool = False) -> keras.Model:
    """EfficientNet-Lite0 features: with `head`, GeM over the 1280-channel head; without it,
    over the last block's 320 channels (a smaller model for the browser). `folded`: without
    batch-norm layers (for export: see `fold_batch_norms`)."""
    inputs = keras.Input((size, size, 3), name="pixels")
    x = L.Rescaling(1.0 / PIXEL_STD, offset=-PIXEL_MEAN / PIXEL_STD)(inputs)
    x = _conv_bn(x, STEM, 3, 2, folded=folded)
    for expand, kernel, stride, out, repeats in BLOCKS:
        for i in range(repeats):
            block_in, channels = x, x.shape[-1]
            if expand != 1:
                x = _conv_bn(x, channels * expand, folded=folded)
            x = _conv_bn(x, 0, kernel, stride if i == 0 else 1, depthwise=True, folded=folded)
            x = _conv_bn(x, out, act=False, folded=folded)
            if i > 0 and channels == out:  # residual when shape is kept (as timm: stride 1, same width)
                x = L.Add()([block_in, x])
    if head:
        x = _conv_bn(x, HEAD, folded=folded)
    return keras.Model(inputs, GeM(normalize=normalize, name="features")(x), name="efficientnet_lite0")


def fold_batch_norms(model: keras.Model) -> keras.Model:
    """The same function as `model` (from `build`) without batch-norm layers: each folded into
    its convolution's kernel and bias, as the TensorFlow.js converter would fold it (done here,
    in numpy, because the converter's own folding takes seconds per model)."""
    head = model.get_layer("features").input.shape[-1] == HEAD
    out = build(int(model.input_shape[1]), head, model.get_layer("features").normalize, folded=True)
    values = []
    convs = [layer for layer in model.layers if isinstance(layer, (L.Conv2D, L.DepthwiseConv2D))]
    norms = [layer for layer in model.layers if isinstance(layer, L.BatchNormalization)]
    for conv, norm in zip(convs, norms, strict=True):
        kernel = conv.get_weights()[0]
        gamma, beta, mean, var = norm.get_weights()
        scale = gamma / np.sqrt(var + norm.epsilon)
        # The output channel is the last axis of a Conv2D kernel, the third of a depthwise one.
        shape = (1, 1, -1, 1) if isinstance(conv, L.DepthwiseConv2D) else (1, 1, 1, -1)
        values += [kernel * scale.reshape(shape), beta - mean * scale]
    out.set_weights(values)
    return out


def torch_tensors(state: dict) -> list[np.ndarray]:
    """The checkpoint's tensors that Keras holds, in order, as numpy (no batch counters)."""
    return [t.detach().cpu().numpy() for k, t in state.items() if not k.endswith("num_batches_tracked")]


def load_torch_tensors(model: keras.Model, tensors: Sequence[np.ndarray]) -> int:
    """Set `model`'s weights from PyTorch tensors by position (convolution kernels transposed
    from (out, in, kh, kw) to Keras' layout); extra trailing tensors (the classifier, the head
    when `model` has none) are left out. Returns how many were set; raises ModelError on any
    shape mismatch."""
    values = []
    for var, t in zip(model.weights, tensors):
        if t.ndim == 4:  # depthwise (C, 1, kh, kw) -> (kh, kw, C, 1); conv (O, I, kh, kw) -> (kh, kw, I, O)
            t = t.transpose(2, 3, 0, 1) if "depthwise" in var.name else t.transpose(2, 3, 1, 0)
        if tuple(var.shape) != t.shape:
            raise ModelError(f"Keras weight {var.name} {tuple(var.shape)} does not fit tensor {t.shape} "
                             f"at position {len(values)}")
        values.append(t)
    if len(values) != len(model.weights):
        raise ModelError(f"{len(tensors)} tensors for {len(model.weights)} Keras weights")
    model.set_weights(values)
    return len(values)


def from_checkpoint(path: str | os.PathLike, size: int = 224, head: bool = True, normalize: bool = True) -> keras.Model:
    """The Keras model with the checkpoint's weights (the registry's file: `resolve_weights`)."""
    model = build(size, head, normalize)
    load_torch_tensors(model, torch_tensors(read_checkpoint(path)))
    return model
