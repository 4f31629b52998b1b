"""Channels-last memory format for training a convolutional image tower on CPU.

MobileCLIP's FastViT/MobileOne tower trains about 1.2x faster in channels-last (NHWC) than
in the default NCHW on CPU (oneDNN's depthwise 7x7 backward, the costliest op, is far slower
in NCHW), with the same losses to 1e-5.

One exception, found on torch 2.15 (oneDNN): the backward of a strided 1x1 convolution with
few input channels (3, 4 or 8 measured, from 128x128 pixels on; 16 passes) corrupts the heap
("free(): invalid next size", then a crash) in channels-last. Such a convolution reads the
pixels (MobileCLIP2-S0's stem), and it is the same arithmetic as an unstrided 1x1 convolution
of every s-th pixel: that is what it computes here, in channels-last. Other convolutions with
few input channels (3x3 and 7x7, strided or not; 1x1 unstrided) ran without fault in
channels-last under glibc's heap checks (MALLOC_CHECK_=3) and are put in channels-last too;
ones of any other kind (dilated, grouped, padding modes) stay NCHW with an NCHW gradient.

Kept NCHW, the stem cost a second a step at batch 32: the weight gradients of its two pixel
convolutions in NCHW (0.47 s) and four copies between formats (0.5 s).
"""

from __future__ import annotations

import torch
from torch import nn

# Convolutions with fewer input channels than this are the exception's kind (module docstring).
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


def _every_stride_pixel(module: nn.Conv2d, args: tuple) -> tuple:
    """Pre-hook of a 1x1 convolution whose stride was moved here: its input, every s-th pixel."""
    sy, sx = module._loupe_subsample
    return (args[0][:, :, ::sy, ::sx].contiguous(memory_format=torch.channels_last), *args[1:])


def _plain(conv: nn.Conv2d) -> bool:
    return conv.groups == 1 and conv.dilation == (1, 1) and conv.padding_mode == "zeros" and \
        not isinstance(conv.padding, str)


def _strided_pointwise(conv: nn.Conv2d) -> bool:
    return conv.kernel_size == (1, 1) and conv.stride != (1, 1) and conv.padding == (0, 0)


def use_channels_last(module: nn.Module) -> int:
    """Put ``module``'s convolutions in channels-last; a strided 1x1 one reading few channels
    computes on every s-th pixel, unstrided (see the module docstring), and an unusual one
    reading few channels stays NCHW. Returns how many convolutions are channels-last (0: the
    module has no wide one, nothing changed)."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if not any(c.in_channels >= PIXEL_CHANNELS for c in convs):
        return 0
    changed = 0
    for conv in convs:
        if getattr(conv, "_loupe_format", None):
            changed += conv._loupe_format == "channels_last"
            continue
        if conv.in_channels >= PIXEL_CHANNELS or _plain(conv):
            if conv.in_channels < PIXEL_CHANNELS and _strided_pointwise(conv):
                conv._loupe_subsample = conv.stride
                conv.stride = (1, 1)
                conv.register_forward_pre_hook(_every_stride_pixel)
            conv.to(memory_format=torch.channels_last)
            conv._loupe_format = "channels_last"
            changed += 1
        else:
            conv.register_forward_hook(_nchw_grad)
            conv._loupe_format = "nchw"
    return changed
