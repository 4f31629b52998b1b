"""Training and measuring the detector (PyTorch): steps on batches of letterboxed views,
predictions, evaluation on held-out views, resumable state. Imports torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from loupe_models.detector import torch_model
from loupe_models.detector.config import DetectorConfig
from loupe_models.detector.data import ViewPool
from loupe_models.detector.decode import decode
from loupe_models.detector.metrics import Matcher
from loupe_models.detector.targets import targets
from loupe_models.training.run_state import load_run_state, save_run_state

EVAL_THRESHOLD = 0.02  # detections kept for AP and calibration
WARMUP = 20  # steps of linear warm-up


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float = 2e-3
    backbone_lr_scale: float = 0.25  # the pretrained backbone learns slower than the new layers
    weight_decay: float = 1e-4
    batch_size: int = 8
    total_steps: int = 100
    seed: int = 0


class DetectorTrainer:
    def __init__(self, model: torch_model.Detector, train: TrainConfig) -> None:
        self.model, self.train_config, self.config = model, train, model.config
        self.step_no = 0
        model.freeze()
        head = {id(p) for name in ("lateral5", "lateral4", "head_dw1", "head_pw1", "head_dw2", "head_pw2", "out")
                for p in getattr(model, name).parameters()}
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [{"params": [p for p in params if id(p) in head], "lr": train.learning_rate},
             {"params": [p for p in params if id(p) not in head], "lr": train.learning_rate * train.backbone_lr_scale}],
            weight_decay=train.weight_decay)
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]

    @property
    def trainable(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def _lr_factor(self) -> float:
        """Linear warm-up, then cosine decay to a tenth."""
        s, total = self.step_no, max(self.train_config.total_steps, 1)
        if s < WARMUP:
            return (s + 1) / WARMUP
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, (s - WARMUP) / max(total - WARMUP, 1))))

    def _targets(self, boxes: Sequence[np.ndarray], labels: Sequence[tuple[str, ...]]) -> tuple[torch.Tensor, ...]:
        index = {c: i for i, c in enumerate(self.config.classes)}
        made = [targets(b[[i for i, lbl in enumerate(ls) if lbl in index]], [index[lbl] for lbl in ls if lbl in index],
                        len(index), self.config.grid) for b, ls in zip(boxes, labels)]
        return tuple(torch.from_numpy(np.stack(parts)) for parts in zip(*made))

    @torch.no_grad()
    def features(self, pixels: np.ndarray, batch_size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
        """The backbone's stride-16 and stride-32 features of every view (a frozen backbone's
        features do not change: the head trains on them, epoch after epoch)."""
        self.model.eval()
        parts = [self.model.features(_tensor(pixels[s:s + batch_size])) for s in range(0, len(pixels), batch_size)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def step(self, pixels: np.ndarray | tuple[torch.Tensor, torch.Tensor], boxes: Sequence[np.ndarray],
             labels: Sequence[tuple[str, ...]]) -> float:
        """One optimiser step on views (pixels, or the backbone's features of them)."""
        self.model.train()
        for group, lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = lr * self._lr_factor()
        heat, box, weight = self._targets(boxes, labels)
        out = self.model.head(*pixels) if isinstance(pixels, tuple) else self.model(_tensor(pixels))
        loss, _ = torch_model.loss(out, heat, box, weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]], 10.0)
        self.optimizer.step()
        self.step_no += 1
        return float(loss.detach())

    @torch.no_grad()
    def mean_loss(self, pool: ViewPool, batch_size: int = 16) -> float:
        self.model.eval()
        total, n = 0.0, 0
        for start in range(0, len(pool), batch_size):
            sl = slice(start, start + batch_size)
            heat, box, weight = self._targets(pool.boxes[sl], pool.labels[sl])
            loss, _ = torch_model.loss(self.model(_tensor(pool.pixels[sl])), heat, box, weight)
            total, n = total + float(loss) * len(heat), n + len(heat)
        return total / max(n, 1)

    @torch.no_grad()
    def predict(self, pixels: np.ndarray, batch_size: int = 16) -> np.ndarray:
        self.model.eval()
        return np.concatenate([self.model(_tensor(pixels[s:s + batch_size])).numpy()
                               for s in range(0, len(pixels), batch_size)]) if len(pixels) else np.zeros((0,))

    def evaluate(self, pool: ViewPool) -> Matcher:
        return match_detections(self.model, pool)

    def save_state(self, path: Path, extra: dict) -> None:
        save_run_state(path, self.model, self.optimizer, self.step_no, extra)

    def load_state(self, path: Path) -> dict:
        step, extra = load_run_state(path, self.model, self.optimizer)
        self.step_no = int(step)
        return extra


@torch.no_grad()
def match_detections(model: torch_model.Detector, pool: ViewPool, batch_size: int = 16) -> Matcher:
    """The model's detections on the pool's views matched with their boxes (IoU 0.5)."""
    model.eval()
    matcher = Matcher(model.config.classes)
    for start in range(0, len(pool.pixels), batch_size):
        sl = slice(start, start + batch_size)
        for out, boxes, labels in zip(model(_tensor(pool.pixels[sl])).numpy(), pool.boxes[sl], pool.labels[sl]):
            matcher.add(decode(out, model.config, EVAL_THRESHOLD), boxes, labels)
    return matcher


def _tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(pixels, np.float32)).permute(0, 3, 1, 2)


def save_detector(model: torch_model.Detector, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"config": model.config.as_dict(), "state_dict": model.state_dict()}, tmp)
    tmp.replace(path)


def load_detector(path: Path) -> torch_model.Detector:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    return torch_model.from_state(DetectorConfig.from_dict(saved["config"]), saved["state_dict"])
