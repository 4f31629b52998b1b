"""Training CLIP4Cir's Combiner on precomputed CLIP features of (reference, text, target)
triplets; the CLIP model stays frozen (CLIP4Cir's second stage). Inference is numpy
(``combiner_store.NumpyCombiner``), from the weights ``state_arrays`` returns."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual name

from .combiner_store import LOGIT_SCALE
from .run_state import load_run_state, save_run_state


class Combiner(nn.Module):
    """Two projection branches, a combining layer, and a gate mixing the raw text and image
    features (Baldrati et al., "Conditioned and composed image retrieval combining and
    partially fine-tuning CLIP-based features", 2022)."""

    def __init__(self, clip_dim: int, projection_dim: int, hidden_dim: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.text_projection = nn.Linear(clip_dim, projection_dim)
        self.image_projection = nn.Linear(clip_dim, projection_dim)
        self.combiner_layer = nn.Linear(projection_dim * 2, hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, clip_dim)
        self.gate = nn.Sequential(nn.Linear(projection_dim * 2, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden_dim, 1), nn.Sigmoid())
        self.dropout = nn.Dropout(dropout)
        self.logit_scale = LOGIT_SCALE

    def combine(self, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        t = self.dropout(F.relu(self.text_projection(text)))
        i = self.dropout(F.relu(self.image_projection(image)))
        raw = torch.cat([t, i], dim=-1)
        combined = self.dropout(F.relu(self.combiner_layer(raw)))
        gate = self.gate(raw)
        return F.normalize(self.output_layer(combined) + gate * text + (1 - gate) * image, dim=-1)

    def forward(self, image: torch.Tensor, text: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Logits of each composed query against the batch's targets."""
        return self.logit_scale * self.combine(image, text) @ F.normalize(targets, dim=-1).t()


@dataclass(frozen=True)
class CombinerConfig:
    projection_dim: int = 512
    hidden_dim: int = 1024
    learning_rate: float = 2e-5
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0


class CombinerTrainer:
    """Batches of triplet features (unit rows): ``reference``, ``text``, ``target`` (N, dim),
    trained on ``device`` (the batches are moved there)."""

    def __init__(self, dim: int, config: CombinerConfig, device: str = "cpu") -> None:
        torch.manual_seed(config.seed)
        self.config = config
        self.device = torch.device(device)
        self.model = Combiner(dim, config.projection_dim, config.hidden_dim).to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate)
        self.step_no = 0

    def epoch_batches(self, n: int, epoch: int) -> list[np.ndarray]:
        order = list(range(n))
        random.Random(self.config.seed * 100_003 + epoch).shuffle(order)
        size = self.config.batch_size
        return [np.asarray(order[i:i + size]) for i in range(0, n, size)]

    def step(self, reference: torch.Tensor, text: torch.Tensor, target: torch.Tensor) -> float:
        self.model.train()
        on = self.device
        logits = self.model(reference.to(on), text.to(on), target.to(on))
        loss = F.cross_entropy(logits, torch.arange(len(logits), device=on))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step_no += 1
        return float(loss.detach())

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}

    def save_state(self, path: Path, extra: dict[str, Any]) -> None:
        save_run_state(path, self.model, self.optimizer, self.step_no, extra)

    def load_state(self, path: Path) -> dict[str, Any]:
        self.step_no, extra = load_run_state(path, self.model, self.optimizer)
        return extra


def tensors(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in arrays]
