"""Which index vector a model's embeddings go to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from search_service.index.names import vector_name

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models import ModelSpec, Weights

# Weights sources that mean "a checkpoint file someone chose" rather than the registry's
# published weights (see loupe_models.weights).
CHOSEN_FILE_SOURCES = ("argument", "model_path")


def vector_name_for(spec: "ModelSpec", weights: "Weights") -> str:
    """``mobileclip2-s0__dfndr2b`` for a registry model with its published weights (wherever
    the file was found); for a checkpoint given as a file (``model_path``: fine-tuned
    weights, usually) its file name plus a fingerprint of its content, so that two
    checkpoints never share a vector space. For a loaded model:
    ``vector_name_for(model.spec, model.weights)``."""
    if weights.source in CHOSEN_FILE_SOURCES and weights.path is not None:
        return vector_name(spec.name, str(weights.path), version=weights.fingerprint())
    return vector_name(spec.name, spec.pretrained)
