"""Model identity: the name of the vector space a model's vectors live in.

A vector name says which model made the vectors (architecture, weights, and for fine-tuned
weights a version), so two models never share a vector space by accident. Every model the
registry knows (CLIP, image backbones, lens and detector models) is named by these rules; the
index keeps one collection per vector name (``loupe_index.names``).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .registry import ModelSpec
    from .weights import Weights

SEPARATOR = "__"
MAX_VECTOR_NAME = 120
_PART_RE = re.compile(r"[^a-z0-9._-]+")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


def _clean(part: str) -> str:
    s = _PART_RE.sub("-", part.strip().lower())
    s = re.sub(r"_{2,}", "_", s)  # "__" separates the parts
    return s.strip("-_.")


def vector_name(model: str, pretrained: str, version: str | None = None) -> str:
    """``mobileclip2-s0__dfndr2b`` from ``("MobileCLIP2-S0", "dfndr2b")``.

    Weights given as a file path contribute the file's stem; fine-tuned weights must pass a
    ``version`` (for example the training job's id), since two checkpoints are often both
    called ``epoch_10.pt``.
    """
    weights = pretrained
    if "/" in weights or "\\" in weights or weights.lower().endswith(_WEIGHT_SUFFIXES):
        weights = PurePath(weights.replace("\\", "/")).stem
    parts = [_clean(model), _clean(weights)] + ([_clean(version)] if version else [])
    if not all(parts):
        raise ValueError(f"cannot name a vector after model={model!r}, pretrained={pretrained!r}, version={version!r}")
    name = SEPARATOR.join(parts)
    if len(name) > MAX_VECTOR_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{name[:MAX_VECTOR_NAME - 12]}-{digest}"
    return name


def check_vector_name(name: str) -> str:
    """``name`` itself when usable as a vector name, else ``ValueError`` saying why."""
    if not name or len(name) > MAX_VECTOR_NAME or not _NAME_RE.match(name):
        raise ValueError(
            f"{name!r} is not a vector name: use lower-case letters, digits, '.', '-', '_' "
            f"(at most {MAX_VECTOR_NAME} characters), e.g. vector_name('MobileCLIP2-S0', 'dfndr2b')")
    return name


# Weights sources that mean "a checkpoint file someone chose" rather than the registry's
# published weights (see loupe_models.weights).
CHOSEN_FILE_SOURCES = ("argument", "model_path")


def vector_name_for(spec: "ModelSpec", weights: "Weights") -> str:
    """``mobileclip2-s0__dfndr2b`` for a registry model with its published weights (wherever
    the file was found); for a checkpoint given as a file (``model_path``: fine-tuned
    weights, usually) its file name plus a fingerprint of its content, so that two
    checkpoints never share a vector space. For a loaded model:
    ``vector_name_for(model.spec, model.weights)``. A versioned fine-tuned checkpoint
    (``weights.version``) is ``loupe-tiny__ft-v3__sha256-...``: its version and content."""
    if weights.version:
        return vector_name(spec.name, f"ft-{weights.version}", version=weights.fingerprint())
    if weights.source in CHOSEN_FILE_SOURCES and weights.path is not None:
        return vector_name(spec.name, str(weights.path), version=weights.fingerprint())
    return vector_name(spec.name, spec.pretrained)

