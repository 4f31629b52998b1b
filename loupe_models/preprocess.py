"""open_clip's inference transform, restructured for throughput with the same result.

open_clip resizes (shortest side), centre-crops, converts to RGB, then ToTensor and Normalize,
one image at a time. Here:

* a JPEG is decoded at reduced scale (`open_image` with `draft_request`); the Resize then
  computes its output size from the *full* image's size, as torchvision would, and reads the
  reduced image through the box that is the full image, so geometry is identical and only
  pixel values differ by libjpeg's DCT scaling (measured by `loupe bench embed`);
* ToTensor and Normalize run once per batch on stacked uint8 arrays, with the same float
  operations in the same order as torchvision's, so they give the same numbers.

A transform of another shape is run as it is, image by image (correct, just not faster).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PIL import Image

from loupe_models.images import draft_box

if TYPE_CHECKING:  # pragma: no cover
    import torch

# Decode at least this many times the resize's output size: keeps the DCT scaling's own
# filtering away from the pixels that matter (cosine >= 0.999 with full decoding, measured).
DRAFT_MARGIN = 2


class FastPreprocess:
    def __init__(self, preprocess: Callable) -> None:
        from torchvision.transforms import Compose, Normalize, Resize

        self.preprocess = preprocess
        self.resize: Resize | None = None
        self.after_resize: Callable | None = None
        self.pil_stage: Callable | None = None
        self.mean = self.std = None
        steps = list(getattr(preprocess, "transforms", []))
        names = [type(t).__name__ for t in steps]
        cut = next((i for i, n in enumerate(names) if n in ("ToTensor", "MaybeToTensor")), None)
        if cut is None or len(steps) != cut + 2 or not isinstance(steps[-1], Normalize):
            return  # not a shape we know: run it whole
        self.pil_stage = Compose(steps[:cut])
        self.mean, self.std = steps[-1].mean, steps[-1].std
        first = steps[0]
        if isinstance(first, Resize) and first.max_size is None and first.antialias in (True, None):
            self.resize = first
            self.after_resize = Compose(steps[1:cut])

    # --- decoding ------------------------------------------------------------------------------
    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the Resize step, computed as torchvision does."""
        from torchvision.transforms.functional import _compute_resized_output_size

        size = self.resize.size if isinstance(self.resize.size, (list, tuple)) else [self.resize.size]
        new_h, new_w = _compute_resized_output_size((height, width), list(size), None)
        return new_w, new_h

    def draft_request(self, width: int, height: int) -> tuple[int, int]:
        """For `open_image`: the decoded size needed for an image of this full size."""
        if self.resize is None:
            return width, height  # no reduced decoding: the transform is not ours to mirror
        w, h = self.resized_size(width, height)
        return min(width, w * DRAFT_MARGIN), min(height, h * DRAFT_MARGIN)

    # --- per image (pool threads) ------------------------------------------------------------
    def map(self, image: Image.Image) -> Any:
        """An (H, W, 3) uint8 array, or the whole transform's tensor when it is not splittable."""
        if self.pil_stage is None:
            return self.preprocess(image)
        drafted = draft_box(image) if self.resize is not None else None
        if drafted is None:
            out = self.pil_stage(image)
        else:
            full_size, box = drafted
            resample = _PIL_RESAMPLE[self.resize.interpolation.value]
            out = self.after_resize(image.resize(self.resized_size(*full_size), resample, box=box))
        return np.asarray(out if out.mode == "RGB" else out.convert("RGB"))

    # --- per batch (the encoding thread) ------------------------------------------------------
    def batch(self, mapped: list[Any]) -> "torch.Tensor":
        import torch

        if self.pil_stage is None:
            return torch.stack(mapped)
        x = torch.from_numpy(np.stack(mapped)).permute(0, 3, 1, 2)  # a channels-last view
        x = x.to(torch.float32).div(255)  # as torchvision's to_tensor
        mean = torch.as_tensor(self.mean, dtype=x.dtype).view(1, -1, 1, 1)
        std = torch.as_tensor(self.std, dtype=x.dtype).view(1, -1, 1, 1)
        return x.sub_(mean).div_(std)  # as torchvision's normalize


_PIL_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST, "nearest-exact": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING, "lanczos": Image.Resampling.LANCZOS,
}
