"""Fine-tuning a CLIP model on image-caption pairs: pairs to tensors, the training step, the
state a stopped run resumes from, and the encoders for evaluating the result.

The trainer holds the plain open_clip module in fp32 (not re-parameterised: training needs
the branches). What it can do once it does once: images are preprocessed to tensors a
single time, the features of a frozen tower are computed a single time and reused at every
step, and when only the last stages of the image tower train, the output of the stages
before them too (``cache_frozen``): that is where it gains over a plain training loop.

It trains on the CPU or a CUDA device (the setting ``model_device``: a GPU worker for a large
collection). Pixels and tokens stay in host memory and go to the device a batch at a time;
the features computed once stay on the device; saved states are on the CPU, so a run stopped
on one worker resumes on any other.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F  # noqa: N812 - the usual name

from loupe_core.settings import Settings
from loupe_models.hardware import PRECISIONS, choose_device, choose_precision, configure_torch, native_bf16
from loupe_models.loading import create_open_clip_model, register_project_configs
from loupe_models.registry import ModelSpec
from loupe_models.weights import Weights

from .contrastive import ImageSplit, adamw, configure_trainable, contrastive_loss, frozen_modules
from .memory_format import use_channels_last
from .run_state import cpu_state, load_run_state, save_atomically, save_run_state

# The logit scale is kept below this (open_clip's clamp: ln 100).
MAX_LOGIT_SCALE = float(np.log(100.0))
# Rows per forward pass when a frozen tower's features are computed once (prepare). Measured
# on 2 cores, MobileCLIP2-S0's text tower: 256 captions in 4.6 s at 32 a batch, 6.8 s at 256.
ENCODE_BATCH = 32


@dataclass(frozen=True)
class TrainConfig:
    freeze: str = "none"  # none | image | text: a tower that does not train
    train_last: int = 0  # >0: only the last N blocks of each training tower (and what follows them)
    learning_rate: float = 1e-5
    weight_decay: float = 0.1
    epochs: int = 3
    batch_size: int = 32
    seed: int = 0
    cache_frozen: bool = True  # a frozen tower's features computed once, not at every step
    channels_last: bool = True  # a convolutional image tower in channels-last format (memory_format)
    # The arithmetic of the frozen features computed once (``prepare``): fp32 | bf16 | auto (bf16
    # where the CPU computes it natively, as the setting ``model_precision`` does for the index).
    # Measured on 2 cores with AMX, MobileCLIP2-S0's text tower: 7.6 ms a caption in bf16, 26.8
    # in fp32, features at cosine 0.99997 of fp32's. Training itself stays fp32 (bf16 autocast
    # made its step no faster: the tower's depthwise convolutions and norms are memory-bound).
    frozen_precision: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Pair:
    """An image (a whole image or a region's crop) and one caption for it."""

    image: Image.Image
    caption: str


@dataclass
class PairTensors:
    pixels: torch.Tensor  # (I, 3, H, W): each distinct image once
    tokens: torch.Tensor  # (T, L): each distinct caption once
    image_of: torch.Tensor  # (N,) pair -> row of pixels
    text_of: torch.Tensor  # (N,) pair -> row of tokens

    def __len__(self) -> int:
        return len(self.image_of)


def pairs_to_tensors(pairs: Sequence[Pair], preprocess: Callable, tokenizer: Callable) -> PairTensors:
    """Preprocess each distinct image (by identity) and tokenise each distinct caption once."""
    images: dict[int, int] = {}
    captions: dict[str, int] = {}
    pictures, texts, image_of, text_of = [], [], [], []
    for pair in pairs:
        i = images.setdefault(id(pair.image), len(images))
        if i == len(pictures):
            pictures.append(preprocess(pair.image))
        t = captions.setdefault(pair.caption, len(captions))
        if t == len(texts):
            texts.append(pair.caption)
        image_of.append(i)
        text_of.append(t)
    if not pairs:
        raise ValueError("no image-caption pairs to train on")
    return PairTensors(torch.stack(pictures), tokenizer(texts), torch.tensor(image_of), torch.tensor(text_of))


class ClipTrainer:
    def __init__(self, module: torch.nn.Module, preprocess: Callable, tokenizer: Callable, config: TrainConfig,
                 device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.module = module.float().to(self.device)
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        if config.frozen_precision not in PRECISIONS:
            raise ValueError(f"frozen_precision must be one of {', '.join(PRECISIONS)}, not {config.frozen_precision!r}")
        if config.frozen_precision == "auto":
            config = replace(config, frozen_precision="bf16" if native_bf16(self.device.type) else "fp32")
        self.config = config
        visual = getattr(module, "visual", None)
        if config.channels_last and visual is not None and self.device.type == "cpu":
            use_channels_last(visual)  # before the optimiser sees the parameters (oneDNN's case)
        self.trainable = configure_trainable(module, freeze=config.freeze, train_last=config.train_last)
        self.optimizer = adamw(module, config.learning_rate, config.weight_decay, fused=True)
        self.step_no = 0
        self.data: PairTensors | None = None
        self._cached: dict[str, torch.Tensor] = {}
        self._split: ImageSplit | None = None

    @classmethod
    def create(cls, spec: ModelSpec, weights: Weights, config: TrainConfig, settings: Settings) -> "ClipTrainer":
        import open_clip

        configure_torch(settings)
        device = choose_device(settings)
        if config.frozen_precision == "auto":
            config = replace(config, frozen_precision=choose_precision(settings, device))
        parts = create_open_clip_model(spec, weights)
        register_project_configs()
        return cls(parts.module, parts.preprocess, open_clip.get_tokenizer(spec.architecture), config, device)

    # --- data ------------------------------------------------------------------------------
    def prepare(self, pairs: Sequence[Pair]) -> PairTensors:
        self.data = pairs_to_tensors(pairs, self.preprocess, self.tokenizer)
        self._cached = {}
        self._split = None
        if not self.config.cache_frozen:
            return self.data
        with torch.no_grad(), self._frozen_arithmetic():
            self.module.eval()
            if self.config.freeze == "text":
                self._cached["text"] = _batched(self._encode_text_rows, self.data.tokens)
            elif self.config.freeze == "image":
                self._cached["image"] = _batched(self._encode_image_rows, self.data.pixels)
            if self.config.freeze != "image":
                # Only the last stages of the image tower train: what comes before them is
                # computed once per image (the frozen prefix), not at every step.
                self._split = ImageSplit.of(self.module, self.config.train_last)
                if self._split is not None:
                    self._cached["prefix"] = _batched(
                        lambda rows: self._split.prefix(rows.to(self.device)), self.data.pixels)
        self._cached = {k: v.float() for k, v in self._cached.items()}
        return self.data

    def _frozen_arithmetic(self) -> torch.autocast:
        bf16 = self.config.frozen_precision == "bf16"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16)

    def steps_per_epoch(self) -> int:
        assert self.data is not None
        return max(1, -(-len(self.data) // self.config.batch_size))

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        """The pair indices of each step of ``epoch``: a shuffle fixed by seed and epoch, so a
        resumed run takes the same batches as an uninterrupted one."""
        assert self.data is not None
        order = list(range(len(self.data)))
        random.Random(self.config.seed * 100_003 + epoch).shuffle(order)
        size = self.config.batch_size
        return [torch.tensor(order[i:i + size]) for i in range(0, len(order), size)]

    # --- training --------------------------------------------------------------------------
    def step(self, batch: torch.Tensor) -> float:
        """One optimiser step on pairs ``batch``; returns the batch's loss."""
        self.module.train()
        for m in frozen_modules(self.module):
            m.eval()
        loss = self._loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            self.module.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        self.step_no += 1
        return float(loss.detach())

    @torch.no_grad()
    def mean_loss(self, batches: Sequence[torch.Tensor]) -> float:
        """The loss over ``batches`` without training (eval mode): before and after."""
        self.module.eval()
        losses = [float(self._loss(b)) * len(b) for b in batches]
        return sum(losses) / max(1, sum(len(b) for b in batches))

    def _loss(self, batch: torch.Tensor) -> torch.Tensor:
        assert self.data is not None
        images, texts = self.data.image_of[batch], self.data.text_of[batch]
        # Only distinct rows go through the towers; pairs then pick their row.
        u_img, img_idx = torch.unique(images, return_inverse=True)
        u_txt, txt_idx = torch.unique(texts, return_inverse=True)
        on = self.device
        if "image" in self._cached:
            img = self._cached["image"][u_img.to(on)]
        elif "prefix" in self._cached and self._split is not None:
            img = F.normalize(self._split.suffix(self._cached["prefix"][u_img.to(on)]), dim=-1)
        else:
            img = self._encode_image_rows(self.data.pixels[u_img])
        txt = self._cached["text"][u_txt.to(on)] if "text" in self._cached else \
            self._encode_text_rows(self.data.tokens[u_txt])
        return contrastive_loss(img[img_idx.to(on)], txt[txt_idx.to(on)], self.module.logit_scale.exp(),
                                groups=texts.to(on))

    def _encode_image_rows(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.module.encode_image(pixels.to(self.device)), dim=-1)

    def _encode_text_rows(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.module.encode_text(tokens.to(self.device)), dim=-1)

    # --- evaluation ------------------------------------------------------------------------
    @torch.no_grad()
    def encode_images(self, images: Sequence[Image.Image], batch_size: int = 64) -> np.ndarray:
        self.module.eval()
        rows = [self._encode_image_rows(torch.stack([self.preprocess(im) for im in images[i:i + batch_size]]))
                for i in range(0, len(images), batch_size)]
        return torch.cat(rows).float().cpu().numpy()

    # --- state -----------------------------------------------------------------------------
    def save_state(self, path: Path, extra: dict[str, Any]) -> None:
        """Everything a stopped run needs to continue: weights, optimiser, step, ``extra``."""
        save_run_state(path, self.module, self.optimizer, self.step_no, extra)

    def load_state(self, path: Path) -> dict[str, Any]:
        self.step_no, extra = load_run_state(path, self.module, self.optimizer)
        return extra

    def save_weights(self, path: Path) -> None:
        """An open_clip checkpoint (state dict) that ``open_clip.create_model(pretrained=path)`` loads."""
        save_atomically({"state_dict": cpu_state(self.module)}, path)


def _batched(encode: Callable[[torch.Tensor], torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
    return torch.cat([encode(rows[i:i + ENCODE_BATCH]) for i in range(0, len(rows), ENCODE_BATCH)])
