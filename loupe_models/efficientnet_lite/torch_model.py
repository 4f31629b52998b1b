"""The PyTorch EfficientNet-Lite0 (timm) with the package's weights, loaded by position.

The checkpoint uses EfficientNet-PyTorch's names (``_blocks.3._depthwise_conv.weight``),
timm its own (``blocks.1.1.conv_dw.weight``); both list the same tensors in the same order,
so the i-th tensor of one is the i-th of the other. Every pair's shape is checked.

Imports torch and timm: import this module only where a model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch

from loupe_models.efficientnet_lite.arch import GEM_EPS, GEM_P
from loupe_models.errors import ModelError

TIMM_NAME = "efficientnet_lite0"
# Tensors of the checkpoint's ImageNet classifier, which the feature extractor leaves out.
CLASSIFIER_PREFIX = "_fc."


@dataclass(frozen=True)
class PositionalLoad:
    loaded: int  # tensors copied
    left_out: tuple[str, ...]  # source tensors with no counterpart (the classifier)


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is one clear message
        raise ModelError(f"the EfficientNet-Lite0 checkpoint {path} could not be read ({e})") from e
    return dict(state.get("state_dict", state))


def load_by_position(module: torch.nn.Module, source: Mapping[str, torch.Tensor]) -> PositionalLoad:
    """Copy `source`'s tensors into `module` pair by pair, in order. Raises ModelError (and
    copies nothing) when the counts or any shape disagree."""
    target = module.state_dict()
    keys = list(source)
    if len(keys) != len(target):  # a feature extractor: leave the classifier out
        keys = [k for k in keys if not k.startswith(CLASSIFIER_PREFIX)]
    mismatched = [f"{t} <- {s}: {tuple(target[t].shape)} vs {tuple(source[s].shape)}"
                  for t, s in zip(target, keys) if target[t].shape != source[s].shape]
    if len(keys) != len(target) or mismatched:
        raise ModelError(f"checkpoint does not fit {type(module).__name__} by position: {len(keys)} "
                         f"tensors for {len(target)}; shape mismatches: {mismatched[:3]}")
    module.load_state_dict(dict(zip(target, (source[k] for k in keys))), strict=True)
    return PositionalLoad(len(keys), tuple(k for k in source if k not in set(keys)))


def gem(features: torch.Tensor, p: float = GEM_P, eps: float = GEM_EPS) -> torch.Tensor:
    """Generalised-mean pooling over H, W of (N, C, H, W), computed in float32."""
    return features.float().clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def create_backbone(checkpoint: Path) -> torch.nn.Module:
    """timm's efficientnet_lite0 without classifier or pooling, in eval mode, weights loaded."""
    import timm  # a heavy import, needed only here

    module = timm.create_model(TIMM_NAME, pretrained=False, num_classes=0, global_pool="")
    load_by_position(module, read_checkpoint(checkpoint))
    return module.eval()


class GemEmbedder(torch.nn.Module):
    """(N, 3, 224, 224) normalised pixels -> (N, 1280) GeM-pooled last features (not yet unit
    length: the model wrapper normalises). ``encode_image`` as open_clip's models have it."""

    def __init__(self, backbone: torch.nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return gem(self.backbone.forward_features(pixels))

    forward = encode_image


def create_embedder(checkpoint: Path) -> GemEmbedder:
    return GemEmbedder(create_backbone(checkpoint)).eval()
