"""The detector in PyTorch: timm's EfficientNet-Lite0 (the package's ImageNet weights, by
position) without its head, a small neck that adds the stride-32 features, upsampled, to the
stride-16 ones, and a light head (depthwise 3x3, 1x1) giving heatmaps and boxes per class.

Modules are declared in the order the Keras twin creates its layers, so that the state dict's
tensors fit it by position (``keras_model.load_torch_state``). Imports torch and timm.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812 - torch's convention
from torch import nn

from loupe_models.detector.config import PRIOR, DetectorConfig
from loupe_models.efficientnet_lite.arch import PIXEL_MEAN, PIXEL_STD
from loupe_models.efficientnet_lite.torch_model import create_backbone

C4_STAGE, C5_STAGE = 4, 6  # backbone stages whose outputs are the stride-16 and stride-32 features
C4_CHANNELS, C5_CHANNELS = 112, 320
FOCAL_ALPHA, FOCAL_BETA = 2.0, 4.0  # CenterNet's penalty-reduced focal loss
BOX_WEIGHT = 1.0


class Detector(nn.Module):
    """(N, 3, S, S) RGB 0-255 -> (N, S/16, S/16, 5C) (NHWC, as TensorFlow.js gives it)."""

    def __init__(self, config: DetectorConfig, backbone: nn.Module) -> None:
        super().__init__()
        self.config = config
        self.conv_stem, self.bn1 = backbone.conv_stem, backbone.bn1
        self.blocks = nn.Sequential(*list(backbone.blocks)[:C5_STAGE + 1])
        n = config.neck
        self.lateral5 = nn.Conv2d(C5_CHANNELS, n, 1)
        self.lateral4 = nn.Conv2d(C4_CHANNELS, n, 1)
        self.head_dw1 = nn.Conv2d(n, n, 3, padding=1, groups=n)
        self.head_pw1 = nn.Conv2d(n, n, 1)
        self.head_dw2 = nn.Conv2d(n, n, 3, padding=1, groups=n)
        self.head_pw2 = nn.Conv2d(n, n, 1)
        self.out = nn.Conv2d(n, config.channels, 1)
        c = len(config.classes)
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
            self.out.bias[:c] = -math.log((1 - PRIOR) / PRIOR)

    def features(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.bn1(self.conv_stem((pixels - PIXEL_MEAN) / PIXEL_STD))
        c4 = None
        for i, stage in enumerate(self.blocks):
            x = stage(x)
            if i == C4_STAGE:
                c4 = x
        return c4, x

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(*self.features(pixels))

    @property
    def backbone_frozen(self) -> bool:
        """Every backbone stage frozen: its features can be computed once per view and kept."""
        return self.config.frozen_stages >= len(self.blocks)

    def head(self, c4: torch.Tensor, c5: torch.Tensor) -> torch.Tensor:
        p5 = F.relu(self.lateral5(c5))
        x = F.relu(self.lateral4(c4)) + F.interpolate(p5, scale_factor=2, mode="nearest")
        x = F.relu(self.head_pw1(self.head_dw1(x)))
        x = F.relu(self.head_pw2(self.head_dw2(x)))
        return self.out(x).permute(0, 2, 3, 1)

    def freeze(self) -> None:
        """Batch norms keep ImageNet's statistics (small batches); the stem and the first
        `frozen_stages` stages do not train."""
        frozen = [self.conv_stem, self.bn1, *list(self.blocks)[:self.config.frozen_stages]]
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)
        self.train()

    def train(self, mode: bool = True) -> "Detector":
        super().train(mode)
        for m in self.modules():  # batch norms always in eval mode
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


def create(config: DetectorConfig, backbone_checkpoint: Path) -> Detector:
    """A new detector on the package's ImageNet backbone."""
    torch.manual_seed(0)  # the new layers start the same every time
    return Detector(config, create_backbone(backbone_checkpoint))


def from_state(config: DetectorConfig, state: dict[str, torch.Tensor]) -> Detector:
    """A trained detector from its state dict (no backbone checkpoint needed)."""
    import timm

    backbone = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=0, global_pool="")
    model = Detector(config, backbone)
    model.load_state_dict(state, strict=True)
    return model.eval()


def loss(output: torch.Tensor, heat: torch.Tensor, box: torch.Tensor, weight: torch.Tensor,
         ) -> tuple[torch.Tensor, dict[str, float]]:
    """Focal loss on the heatmaps (per centre) plus weighted L1 on the boxes.
    output (N, H, W, 5C); heat, weight (N, H, W, C); box (N, H, W, C, 4)."""
    c = heat.shape[-1]
    logits = output[..., :c].float()
    pred_box = output[..., c:].float().reshape(*box.shape)
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    centre = heat.eq(1.0).float()
    pos = -torch.log(p) * (1 - p) ** FOCAL_ALPHA * centre
    neg = -torch.log(1 - p) * p ** FOCAL_ALPHA * (1 - heat) ** FOCAL_BETA * (1 - centre)
    n_pos = centre.sum().clamp(min=1.0)
    heat_loss = (pos.sum() + neg.sum()) / n_pos
    box_loss = ((pred_box - box).abs().sum(-1) * weight).sum() / weight.sum().clamp(min=1.0)
    total = heat_loss + BOX_WEIGHT * box_loss
    return total, {"heat": float(heat_loss.detach()), "box": float(box_loss.detach())}
