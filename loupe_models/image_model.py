"""Image models: a pretrained image backbone that embeds images only (kind ``image``).

They share `ClipModel`'s image path (batches, lock, device, precision, `encode_pixels`), so
the embedding pipeline, indexing and image, region and similar search use them unchanged.
They have no text tower: `encode_texts` raises `TextNotSupported`, whose message says which
CLIP checkpoint to put where.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING, Callable, NoReturn, Sequence

import numpy as np

from loupe_core.settings import Settings
from loupe_models import hardware
from loupe_models.clip_model import ClipModel
from loupe_models.errors import ModelError, TextNotSupported, UnknownModel
from loupe_models.hardware import choose_device, choose_precision, configure_torch, torch_dtype
from loupe_models.registry import CLIP, MODELS, ModelSpec, Preprocess, get_spec
from loupe_models.weights import Weights, models_dir_files

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)


class ImageModel(ClipModel):
    encodes_text = False

    def __init__(self, spec: ModelSpec, module: "torch.nn.Module", preprocess: Callable, weights: Weights, *,
                 device: str, precision: str, batch_size: int, text_error: TextNotSupported) -> None:
        super().__init__(spec, module, preprocess, weights, device=device, precision=precision,
                         batch_size=batch_size, tokenizer_factory=self._no_text)
        self._text_error = text_error

    def __repr__(self) -> str:
        return f"ImageModel({self.version}, {self.device}, {self.precision})"

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        self._no_text()

    @property
    def tokenizer(self) -> Callable:
        self._no_text()

    def _no_text(self) -> NoReturn:
        raise self._text_error


def text_error(spec: ModelSpec, settings: Settings) -> TextNotSupported:
    """What image model `spec` raises for text: it names the CLIP model to use instead (the
    `model` setting when that is a CLIP model, else the registry's first) and where its file goes."""
    try:
        clip = get_spec(settings.model)
    except UnknownModel:
        clip = None
    if clip is None or clip.kind != CLIP:
        clip = next(m for m in MODELS if m.kind == CLIP and not m.test_only)
    return TextNotSupported(spec.name, clip.name, models_dir_files(clip, settings)[0])


def image_transform(preprocess: Preprocess) -> Callable:
    """PIL image -> (3, H, W) tensor: open_clip's inference transform, the one CLIP models use
    (so `FastPreprocess` restructures it the same way)."""
    from open_clip.transform import PreprocessCfg, image_transform_v2  # heavy; only when building

    return image_transform_v2(PreprocessCfg(**preprocess.as_open_clip()), is_train=False)


# The code that builds each image architecture (registry `architecture` -> module:function);
# a function takes the checkpoint path and returns a module with `encode_image`.
BACKBONES = {"efficientnet_lite0": "loupe_models.efficientnet_lite.torch_model:create_embedder"}


def build_image_model(spec: ModelSpec, weights: Weights, settings: Settings) -> ImageModel:
    """The image model of registry entry `spec` with `weights`, ready for inference (its Python
    requirements are checked by the caller, `loupe_models.loading.build_model`)."""
    import torch  # heavy; only when a model is built

    if weights.is_random or spec.architecture not in BACKBONES:
        raise ModelError(f"model {spec.name!r}: no image backbone {spec.architecture!r} with weights "
                         f"{weights.key} (image models load their published weights only)")
    module_name, function = BACKBONES[spec.architecture].split(":")
    create = getattr(import_module(module_name), function)
    configure_torch(settings)
    device = choose_device(settings)
    precision = choose_precision(settings, device)
    module = create(weights.path).to(device=device, dtype=torch_dtype(precision))
    log.info("loaded %s (%s weights from %s) on %s in %s", spec.name, weights.fingerprint(),
             weights.source, device, precision)
    return ImageModel(spec, module.to(memory_format=torch.channels_last), image_transform(spec.preprocess),
                      weights, device=device, precision=precision,
                      batch_size=hardware.batch_size(settings, device), text_error=text_error(spec, settings))
