"""Every model of Loupe by name: the registry (CLIP models, and image-only backbones such as
EfficientNet-Lite0), weight resolution, model identity (the vector names in ``identity``),
loading, and batched embedding.

Used by training_worker/ (indexing jobs), search_service/ (queries) and the ``loupe`` CLI.
Importing this package imports no machine-learning library; torch and open_clip load when a
model does::

    from loupe_models import load_model, EmbeddingPipeline
    model = load_model(settings)                # settings.model, e.g. LOUPE_MODEL=loupe-tiny
    vectors = model.encode_texts(["a night sky"])   # (1, model.dim) float32, unit rows
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from loupe_models.errors import ModelDependencyMissing, ModelError, ModelWeightsMissing, TextNotSupported, UnknownModel
from loupe_models.identity import vector_name, vector_name_for
from loupe_models.registry import MODELS, RANDOM, ModelSpec, Preprocess, get_spec, model_names
from loupe_models.weights import Weights, find_local_weights, resolve_weights

# Names served lazily, each from its module, so that `import loupe_models` stays light.
_LAZY = {
    "ClipModel": "loupe_models.clip_model",
    "ImageModel": "loupe_models.image_model",
    "ModelCache": "loupe_models.loading",
    "PROCESS_MODELS": "loupe_models.loading",
    "load_model": "loupe_models.loading",
    "build_clip_model": "loupe_models.loading",
    "create_open_clip_model": "loupe_models.loading",
    "EmbeddingPipeline": "loupe_models.pipeline",
    "EmbedStats": "loupe_models.pipeline",
    "open_image": "loupe_models.images",
    "describe_models": "loupe_models.listing",
}

__all__ = [
    "MODELS", "RANDOM", "ModelSpec", "Preprocess", "get_spec", "model_names",
    "Weights", "find_local_weights", "resolve_weights", "vector_name", "vector_name_for",
    "ModelError", "ModelWeightsMissing", "ModelDependencyMissing", "UnknownModel", "TextNotSupported",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'loupe_models' has no attribute {name!r}")
