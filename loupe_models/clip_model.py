"""A loaded CLIP model: images and texts in, L2-normalised float32 embeddings out."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from loupe_models.hardware import torch_dtype
from loupe_models.registry import ModelSpec
from loupe_models.weights import Weights

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from PIL import Image


class ClipModel:
    """One open_clip model prepared for inference (eval mode, re-parameterised, on its device
    and in its precision). Built by `loupe_models.load_model`; safe to share between threads.

    Forward passes are serialised by a lock: each already uses every core (torch threads), so
    two at once would only compete, and a search waits at most one batch behind an indexing job.
    """

    encodes_text = True  # False for image-only models (`loupe_models.image_model.ImageModel`)

    def __init__(self, spec: ModelSpec, module: "torch.nn.Module", preprocess: Callable,
                 weights: Weights, *, device: str, precision: str, batch_size: int,
                 tokenizer_factory: Callable[[], Callable]) -> None:
        self.spec = spec
        self.module = module
        self.preprocess = preprocess  # open_clip's inference transform: PIL image -> (3, H, W)
        self.weights = weights
        self.device = device
        self.precision = precision
        self.batch_size = max(1, batch_size)
        self.version = f"{spec.name}/{weights.fingerprint()}"
        self._tokenizer_factory = tokenizer_factory
        self._tokenizer: Callable | None = None
        self._lock = threading.Lock()

    # --- identity ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def image_size(self) -> int:
        return self.spec.preprocess.size

    def __repr__(self) -> str:
        return f"ClipModel({self.version}, {self.device}, {self.precision})"

    # --- encoding ----------------------------------------------------------------------------
    def encode_images(self, images: Sequence["Image.Image"], batch_size: int | None = None) -> np.ndarray:
        """(N, dim) float32, unit rows. Preprocessing runs in the calling thread; for many
        images use `EmbeddingPipeline`, which decodes and resizes in parallel."""
        import torch

        size = batch_size or self.batch_size
        parts = [self.encode_pixels(torch.stack([self.preprocess(im) for im in images[i:i + size]]))
                 for i in range(0, len(images), size)]
        return self._join(parts)

    def encode_pixels(self, pixels: "torch.Tensor") -> np.ndarray:
        """Embed a batch already preprocessed: (N, 3, H, W) float, normalised as `preprocess` does."""
        import torch

        if pixels.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        x = pixels.to(device=self.device, dtype=torch_dtype(self.precision), memory_format=torch.channels_last)
        with self._lock, torch.inference_mode():
            features = self.module.encode_image(x)
        return _unit_rows(features)

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """(N, dim) float32, unit rows."""
        import torch

        tokenizer = self.tokenizer
        size = batch_size or max(self.batch_size, 64)
        parts = []
        for i in range(0, len(texts), size):
            tokens = tokenizer(list(texts[i:i + size])).to(self.device)
            with self._lock, torch.inference_mode():
                parts.append(_unit_rows(self.module.encode_text(tokens)))
        return self._join(parts)

    @property
    def tokenizer(self) -> Callable:
        """Made on first use: image-only work never needs it (and some need a download)."""
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = self._tokenizer_factory()
            return self._tokenizer

    def _join(self, parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)


def _unit_rows(features: "torch.Tensor") -> np.ndarray:
    import torch

    f = features.float()
    f = torch.nn.functional.normalize(f, dim=-1)
    return f.cpu().numpy().astype(np.float32, copy=False)
