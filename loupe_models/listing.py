"""What `loupe models list` shows: every registry entry and whether it can be loaded here."""

from __future__ import annotations

from dataclasses import dataclass

from loupe_core.settings import Settings
from loupe_models.errors import ModelWeightsMissing
from loupe_models.loading import missing_requirements
from loupe_models.registry import MODELS
from loupe_models.weights import find_local_weights, models_dir_files


@dataclass(frozen=True)
class ModelStatus:
    name: str
    pretrained: str
    dim: int
    available: bool  # weights here (or a random test model) and its Python packages installed
    default: bool  # the `model` setting (LOUPE_MODEL) names it
    where: str  # where the weights are, or why it is not available
    languages: str

    def as_json(self) -> dict:
        return {"name": self.name, "pretrained": self.pretrained, "dim": self.dim,
                "available": self.available}


def describe_models(settings: Settings) -> list[ModelStatus]:
    """Looks only at local files: no network, no torch."""
    rows = []
    for spec in MODELS:
        try:
            weights = find_local_weights(spec, settings)
            if weights is None:
                where = f"not found; expected {models_dir_files(spec, settings)[0]}"
            else:
                where = "random weights" if weights.is_random else f"{weights.path} ({weights.source})"
        except ModelWeightsMissing as e:
            weights, where = None, e.reason
        missing = missing_requirements(spec)
        if missing:
            where = f"needs package {', '.join(missing)}; {where}"
        rows.append(ModelStatus(spec.name, spec.pretrained, spec.dim, weights is not None and not missing,
                                spec.name == settings.model, where, ", ".join(spec.languages) or "(images only)"))
    return rows
