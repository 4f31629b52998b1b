"""Run as a script by test_memory_format (a crash must fail the test, not kill pytest): a conv
tower, and the tiny CLIP with it as its image tower, trained in channels-last and in NCHW
from the same weights; prints their differences as JSON."""

from __future__ import annotations

import copy
import json

import numpy as np
import torch
from torch import nn

from loupe_models.training.memory_format import use_channels_last


def conv_net(out_dim: int = 8) -> nn.Module:
    """A small FastViT-like tower whose stem has the shape that corrupts the heap in
    channels-last (1x1, stride 2, 3 input channels), beside a 3x3 one and a dilated one."""
    return nn.Sequential(Stem(), nn.BatchNorm2d(32), nn.GELU(),
                         nn.Conv2d(32, 32, 7, padding=3, groups=32), nn.BatchNorm2d(32), nn.Conv2d(32, 64, 1),
                         nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, out_dim))


class Stem(nn.Module):
    """MobileOne's stem: a 3x3 and a 1x1 branch on the pixels, both strided, summed; and a
    dilated branch, a kind left in NCHW."""

    def __init__(self) -> None:
        super().__init__()
        self.kxk = nn.Conv2d(3, 32, 3, stride=2, padding=1)
        self.scale = nn.Conv2d(3, 32, 1, stride=2)
        self.dilated = nn.Conv2d(3, 32, 3, stride=2, padding=2, dilation=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.kxk(x) + self.scale(x) + self.dilated(x)


def conv_tower() -> dict:
    torch.manual_seed(0)
    net = conv_net().train()
    ref = copy.deepcopy(net)
    changed = use_channels_last(net)
    x = torch.randn(4, 3, 256, 256)  # the crash needs 128 pixels or more
    stem = net[0]
    out = {"channels_last_convs": changed,
           "pixel_convs_channels_last": all(c.weight.is_contiguous(memory_format=torch.channels_last)
                                            for c in (stem.kxk, stem.scale)),
           "strided_pointwise_unstrided": stem.scale.stride == (1, 1),
           "dilated_nchw": stem.dilated.weight.is_contiguous(),
           "depthwise_channels_last": net[3].weight.is_contiguous(memory_format=torch.channels_last),
           "again_changes_nothing": use_channels_last(net) == changed}
    for m in (net, ref):
        m(x).square().sum().backward()
    out["grad_max_diff"] = max(float((a.grad - b.grad).abs().max()) for a, b in zip(net.parameters(), ref.parameters()))
    out["grad_max"] = max(float(b.grad.abs().max()) for b in ref.parameters())
    return out


def trainer_losses() -> dict:
    """The tiny CLIP with the conv tower as its image tower: the trainer in both formats."""
    import open_clip
    from PIL import Image

    from loupe_models import Weights, get_spec
    from loupe_models.loading import create_open_clip_model, register_project_configs
    from loupe_models.training.clip_trainer import ClipTrainer, Pair, TrainConfig

    spec = get_spec("loupe-tiny")
    parts = create_open_clip_model(spec, Weights.random(0))
    register_project_configs()
    torch.manual_seed(0)
    parts.module.visual = conv_net(spec.dim)
    tokenizer = open_clip.get_tokenizer(spec.architecture)
    rng = np.random.default_rng(0)
    pairs = [Pair(Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)), f"caption {i}")
             for i in range(8)]
    preprocess = open_clip.image_transform(128, is_train=False)
    losses = {}
    for fmt in (True, False):
        config = TrainConfig(freeze="text", learning_rate=1e-3, batch_size=4, channels_last=fmt)
        trainer = ClipTrainer(copy.deepcopy(parts.module), preprocess, tokenizer, config)
        trainer.prepare(pairs)
        losses[fmt] = [trainer.step(b) for e in range(2) for b in trainer.epoch_batches(e)]
    return {"losses_channels_last": losses[True], "losses_nchw": losses[False]}


if __name__ == "__main__":
    torch.set_num_threads(2)
    print(json.dumps({**conv_tower(), **trainer_losses()}))
