"""Fine-tuning the pretrained EfficientNet-Lite0 on visitor-camera views (metric learning).

The backbone without its head (320 channels, GeM, unit length: what the browser runs). Only
its last `trainable` blocks learn; the frozen prefix runs once per view and its output is kept,
so each epoch costs only the last blocks (a build on 2 cores). Batch norms keep their ImageNet
statistics (eval mode), which keeps the folded export exact. The loss is a normalised softmax
with an additive margin over the artworks (proxies initialised at the classes' mean features):
views of one artwork pull together, other artworks push apart; new items need no retraining,
only descriptors. Imports torch and timm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from loupe_models.efficientnet_lite.arch import PIXEL_MEAN, PIXEL_STD
from loupe_models.efficientnet_lite.torch_model import create_backbone, gem


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 6
    batch: int = 64
    lr: float = 3e-4
    trainable: int = 4  # of the 16 blocks, counted from the end
    margin: float = 0.15
    scale: float = 24.0
    seed: int = 0


def _blocks(backbone: torch.nn.Module) -> list[torch.nn.Module]:
    return [block for stage in backbone.blocks for block in stage]


class Split(torch.nn.Module):
    """The backbone as a frozen prefix and a trainable suffix, ending in GeM + unit length."""

    def __init__(self, backbone: torch.nn.Module, trainable: int) -> None:
        super().__init__()
        blocks = _blocks(backbone)
        cut = len(blocks) - trainable
        self.backbone = backbone
        self.prefix = torch.nn.Sequential(backbone.conv_stem, backbone.bn1, *blocks[:cut])
        self.suffix = torch.nn.Sequential(*blocks[cut:])
        for p in self.prefix.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def frozen(self, pixels: np.ndarray, batch: int = 32) -> torch.Tensor:
        """The prefix's output for (N, S, S, 3) RGB 0-255 float32."""
        out = []
        for i in range(0, len(pixels), batch):
            x = torch.from_numpy((pixels[i:i + batch] - PIXEL_MEAN) / PIXEL_STD).permute(0, 3, 1, 2).float()
            out.append(self.prefix(x.contiguous()))
        return torch.cat(out)

    def embed(self, frozen: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(gem(self.suffix(frozen)), dim=-1)


def fine_tune(checkpoint: Path, pixels: np.ndarray, labels: np.ndarray, settings: TrainSettings = TrainSettings(),
              progress: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> dict[str, torch.Tensor]:
    """The backbone's state dict (timm's order: the checkpoint's, for `load_torch_tensors`)
    after training on `pixels` (N, S, S, 3) with artwork `labels` (N,) in 0..C-1."""
    torch.manual_seed(settings.seed)
    backbone = create_backbone(checkpoint)
    model = Split(backbone, settings.trainable).eval()
    frozen = model.frozen(pixels)
    y = torch.from_numpy(np.asarray(labels, np.int64))
    classes = int(y.max()) + 1
    with torch.no_grad():
        start = model.embed(frozen)
        proxies = torch.zeros(classes, start.shape[1]).index_add_(0, y, start)
    proxies = torch.nn.Parameter(torch.nn.functional.normalize(proxies, dim=-1))
    params = [p for p in model.suffix.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": params, "lr": settings.lr, "weight_decay": 1e-4},
                                   {"params": [proxies], "lr": settings.lr * 10, "weight_decay": 0.0}])
    steps = settings.epochs * max(1, -(-len(y) // settings.batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, [settings.lr, settings.lr * 10], total_steps=steps,
                                                   pct_start=0.15)
    rng = np.random.default_rng(settings.seed)
    step = 0
    for _ in range(settings.epochs):
        order = torch.from_numpy(rng.permutation(len(y)))
        for i in range(0, len(order), settings.batch):
            idx = order[i:i + settings.batch]
            emb = model.embed(frozen[idx])
            cos = emb @ torch.nn.functional.normalize(proxies, dim=-1).T
            cos = cos - settings.margin * torch.nn.functional.one_hot(y[idx], classes)
            loss = torch.nn.functional.cross_entropy(settings.scale * cos, y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress:
                progress(step, steps)
            if cancelled and cancelled():
                raise InterruptedError("cancelled")
    return {k: v.detach().clone() for k, v in backbone.state_dict().items()}
