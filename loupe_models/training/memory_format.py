"""Channels-last memory format for training a convolutional image tower on CPU.

MobileCLIP's FastViT/MobileOne tower trains about 1.2x faster in channels-last (NHWC) than
in the default NCHW on CPU (oneDNN's depthwise 7x7 backward, the costliest op, is far slower
in NCHW), with the same losses to 1e-5.

One exception, found on torch 2.15 (oneDNN): the backward of a strided 1x1 convolution with
few input channels (3, 4 or 8 measured; 16 passes) corrupts the heap ("free(): invalid next
size", then a crash) when its weight and output gradient are channels-last. Such convolutions
read the pixels (a stem), so every convolution with fewer than ``PIXEL_CHANNELS`` input
channels stays in NCHW, and the gradient that reaches it is made NCHW too. The pixels stay
NCHW; the next convolution, channels-last, turns its output channels-last.
"""

from __future__ import annotations

import torch
from torch import nn

# Convolutions with fewer input channels than this stay in NCHW (see the module docstring).
PIXEL_CHANNELS = 16


class _ContiguousGrad(torch.autograd.Function):
    """Identity forward; the gradient flowing back is made NCHW-contiguous."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return grad.contiguous()


def _nchw_grad(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
    return _ContiguousGrad.apply(output)


def use_channels_last(module: nn.Module) -> int:
    """Put ``module``'s convolutions in channels-last, except those reading few channels
    (kept NCHW, their output gradient too). Returns how many convolutions are channels-last
    (0: the module has none, nothing changed)."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    wide = [c for c in convs if c.in_channels >= PIXEL_CHANNELS]
    if not wide:
        return 0
    for conv in wide:
        conv.to(memory_format=torch.channels_last)
    for conv in convs:
        if conv.in_channels < PIXEL_CHANNELS and not getattr(conv, "_loupe_nchw_grad", False):
            conv.register_forward_hook(_nchw_grad)
            conv._loupe_nchw_grad = True
    return len(wide)
