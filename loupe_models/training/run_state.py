"""A training run's state on disk: weights, optimiser, step and the run's own measurements,
written atomically, so that a stopped job resumes from its last saved step. Tensors are saved
on the CPU: a run stopped on a GPU worker resumes on any other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn


def cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.cpu() for k, v in module.state_dict().items()}


def save_atomically(obj: Any, path: Path) -> None:  # noqa: ANN401 - whatever torch.save takes
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def save_run_state(path: Path, module: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                   extra: dict[str, Any]) -> None:
    save_atomically({"model": cpu_state(module), "optimizer": optimizer.state_dict(), "step": step,
                     "extra": extra}, path)


def load_run_state(path: Path, module: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, dict[str, Any]]:
    """Loads weights and optimiser (onto their own device); returns the step and ``extra``."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    module.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["step"], state["extra"]
