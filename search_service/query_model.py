"""Which model encodes queries: the one that made the vectors being searched.

A query vector is only comparable with index vectors of the same model and weights. The
active vector's name says which model made it (``loupe_index.names``): a registry
model with its published weights, or a checkpoint file (fine-tuned) with its fingerprint.
The first is loaded by name; the second must be the configured checkpoint (``model`` and
``model_path``), and anything else is refused with a message, never answered with vectors
of another space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loupe_core.settings import Settings
from loupe_models import MODELS, ModelError, get_spec, load_model, resolve_weights
from loupe_models.identity import vector_name, vector_name_for
from loupe_models.training.checkpoints import CheckpointStore

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models import ClipModel, ModelCache


def registry_model_for(vector: str) -> str | None:
    """The registry model whose published weights make vectors named ``vector``."""
    return next((spec.name for spec in MODELS if vector_name(spec.name, spec.pretrained) == vector), None)


def load_query_model(settings: Settings, vector: str, cache: "ModelCache | None" = None) -> "ClipModel":
    """The model for ``vector``, loaded once per cache (the process-wide one by default).
    Which weights is decided before anything is loaded, so a mismatch costs no loading.

    Raises ModelWeightsMissing (the message says where to put the file) or ModelError."""

    name = registry_model_for(vector)
    if name is None:  # a fine-tuned version in the data directory (`loupe finetune`)?
        ckpt = CheckpointStore(settings).for_vector(vector)
        if ckpt is not None:
            return load_model(settings, ckpt.model, weights_path=ckpt.weights_file, cache=cache)
    # A registry vector means the published weights, even when model_path names a
    # fine-tuned file for that model.
    chosen = settings.replace(model_path="") if name is not None and name == settings.model else settings
    spec = get_spec(name or settings.model)
    made = vector_name_for(spec, resolve_weights(spec, chosen))
    if made != vector:
        raise ModelError(
            f"the active index vector {vector!r} was made by a model this server is not configured with "
            f"(the configured model {spec.name!r} makes {made!r}). Set LOUPE_MODEL and LOUPE_MODEL_PATH to "
            f"the model and checkpoint that vector was indexed with, or make another vector active "
            f"(`loupe index --model NAME --activate`).")
    return load_model(chosen, spec.name, cache=cache)
