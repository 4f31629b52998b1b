"""Building models from registry entries (CLIP or image-only, by kind), and the per-process model cache."""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from loupe_core.settings import Settings
from loupe_models import hardware
from loupe_models.clip_model import ClipModel
from loupe_models.errors import ModelDependencyMissing, ModelError
from loupe_models.hardware import choose_device, choose_precision, configure_torch, torch_dtype
from loupe_models.image_model import build_image_model
from loupe_models.registry import CONFIG_DIR, IMAGE, ModelSpec, get_spec
from loupe_models.weights import Weights, resolve_weights

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)


@dataclass
class OpenClipParts:
    """What `open_clip.create_model_and_transforms` gives for inference: module and transform."""

    module: "torch.nn.Module"
    preprocess: Callable


def register_project_configs() -> None:
    """Make open_clip know the project's architectures (the tiny test models) by name.

    open_clip keeps its registry in module globals; adding our folder once is enough, and a
    check first keeps repeated calls from adding it again."""
    import open_clip

    ours = {p.stem for p in CONFIG_DIR.glob("*.json")}
    if not ours <= set(open_clip.list_models()):
        open_clip.add_model_config(CONFIG_DIR)


def missing_requirements(spec: ModelSpec) -> list[str]:
    return [m for m in spec.requires if importlib.util.find_spec(m) is None]


def require_packages(spec: ModelSpec) -> None:
    missing = missing_requirements(spec)
    if missing:
        raise ModelDependencyMissing(
            f"model {spec.name!r} needs the Python package(s) {', '.join(missing)}: "
            f"pip install {' '.join(missing)}")


def create_open_clip_model(spec: ModelSpec, weights: Weights) -> OpenClipParts:
    """The plain open_clip model in fp32 with the entry's preprocessing, weights loaded.

    Random initialisation happens only when `weights` says so (test models, or the speed
    benchmark's explicit --random-weights), and is seeded so that it is reproducible."""
    require_packages(spec)
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    register_project_configs()
    options = dict(force_preprocess_cfg=spec.preprocess.as_open_clip(), device="cpu",
                   pretrained_image=False, pretrained_text=False)  # never fetch tower weights
    if weights.is_random:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(weights.seed or 0)
            module = open_clip.create_model(spec.architecture, pretrained=None, **options)
    else:
        try:
            module = open_clip.create_model(spec.architecture, pretrained=str(weights.path), **options)
        except (RuntimeError, KeyError, ValueError, OSError) as e:
            raise ModelError(f"model {spec.name!r} (open_clip {spec.architecture}) could not be loaded "
                             f"from {weights.path} ({weights.source}): {e}") from e
    module.eval()
    preprocess = image_transform_v2(PreprocessCfg(**module.visual.preprocess_cfg), is_train=False)
    return OpenClipParts(module, preprocess)


def prepare_for_inference(module: "torch.nn.Module", device: str, precision: str) -> "torch.nn.Module":
    """Eval mode, re-parameterised (MobileOne/FastViT branches fused into single convolutions:
    same function, fewer operations), channels-last memory, device and precision. In place."""
    import torch

    module.eval()
    if importlib.util.find_spec("timm") is not None:
        from timm.utils.model import reparameterize_model

        module.visual = reparameterize_model(module.visual, inplace=True)
    return module.to(device=device, dtype=torch_dtype(precision)).to(memory_format=torch.channels_last)


def build_clip_model(spec: ModelSpec, weights: Weights, settings: Settings,
                     parts: OpenClipParts | None = None) -> ClipModel:
    """A ClipModel without caching; `parts` lets a caller keep the plain module for itself
    (the benchmark compares against it) by passing a copy."""
    configure_torch(settings)
    device = choose_device(settings)
    precision = choose_precision(settings, device)
    parts = parts or create_open_clip_model(spec, weights)
    module = prepare_for_inference(parts.module, device, precision)
    log.info("loaded %s (%s weights from %s) on %s in %s", spec.name, weights.fingerprint(),
             weights.source, device, precision)
    return ClipModel(spec, module, parts.preprocess, weights, device=device, precision=precision,
                     batch_size=hardware.batch_size(settings, device),
                     tokenizer_factory=lambda: _make_tokenizer(spec))


def _make_tokenizer(spec: ModelSpec) -> Callable:
    import open_clip

    register_project_configs()
    try:
        return open_clip.get_tokenizer(spec.architecture)
    except Exception as e:  # noqa: BLE001 - HF tokenizers fail in many ways offline
        raise ModelError(f"the tokenizer of model {spec.name!r} could not be loaded ({e}); "
                         "multilingual models need their tokenizer in the Hugging Face cache") from e


def build_model(spec: ModelSpec, weights: Weights, settings: Settings) -> ClipModel:
    """The model of entry `spec` by its kind: a CLIP model, or an image-only model (an
    `ImageModel`, which is a ClipModel whose `encode_texts` raises TextNotSupported)."""
    if spec.kind == IMAGE:
        require_packages(spec)
        return build_image_model(spec, weights, settings)
    return build_clip_model(spec, weights, settings)


class ModelCache:
    """Models loaded in one process, keyed by (name, weights, device, precision).

    Whoever serves many requests holds one (the Flask app, a worker process) so that a model
    is loaded once; `load_model` uses the process-wide `PROCESS_MODELS` by default."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str, str, str], ClipModel] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many models this cache has built (tests check it stays at one)

    def get(self, settings: Settings, name: str | None = None,
            weights_path: str | os.PathLike | None = None) -> ClipModel:
        spec = get_spec(name or settings.model)
        weights = resolve_weights(spec, settings, weights_path)  # may raise ModelWeightsMissing
        device = choose_device(settings)
        key = (spec.name, weights.key, device, choose_precision(settings, device))
        with self._lock:  # held while loading, so that two threads never load the same model twice
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = build_model(spec, weights, settings)
                self.loads += 1
            return model

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __len__(self) -> int:
        return len(self._models)


# The one module-level cache, on purpose: in the embedded default, the Flask server and the
# dramatiq worker threads run in one process and both need the model; dramatiq actors are
# plain functions with no object to hold a cache. A single process-wide cache is what makes
# "loaded once per process" true there. Code that wants isolation (tests) passes its own.
PROCESS_MODELS = ModelCache()


def load_model(settings: Settings, name: str | None = None, *,
               weights_path: str | os.PathLike | None = None,
               cache: ModelCache | None = None) -> ClipModel:
    """The model `name` (default: the `model` setting, LOUPE_MODEL), loaded once per cache.

    Raises UnknownModel, ModelWeightsMissing (never random weights instead),
    ModelDependencyMissing or ModelError."""
    return (cache if cache is not None else PROCESS_MODELS).get(settings, name, weights_path)
