"""EfficientNet-Lite0 as data, shared by the PyTorch and Keras implementations.

EfficientNet-B0 without squeeze-excite, ReLU6 instead of swish, a fixed stem and head. Both
implementations pad symmetrically (PyTorch's convention; timm's ``efficientnet_lite0``): with
these weights that retrieves 8 points better than TensorFlow's "same" padding
(``tf_efficientnet_lite0``) on distorted views of the shared artworks (78-83% against 69-75%
top-1 over four seeds), though the weights come from TensorFlow.
"""

from __future__ import annotations

STEM = 32  # channels of the 3x3 stride-2 stem
HEAD = 1280  # channels of the 1x1 head convolution
# One row per stage: (expand ratio, kernel, stride of the first block, output channels, repeats).
BLOCKS: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1),
)
BN_EPS = 1e-5  # timm's; the TensorFlow original used 1e-3, no measurable difference here
GEM_P = 3.0  # generalised-mean pooling exponent of the features
GEM_EPS = 1e-6  # activations are clamped to this before the power
# Input: RGB in 0-255, normalised as TensorFlow's EfficientNet-Lite builder does.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0
