"""Opening images for a model, decoded no larger than the model needs where the format allows."""

from __future__ import annotations

import io
import math
import os
from typing import BinaryIO, Callable, Union

from PIL import Image

ImageSource = Union[str, os.PathLike, bytes, BinaryIO, Image.Image]
# Given the full (width, height), the smallest (width, height) still needed after decoding.
DraftRequest = Callable[[int, int], tuple[int, int]]

# Key in Image.info: (decoded size, box of the full image in decoded pixels, full size).
DRAFT_INFO = "loupe_draft"


class ImageTooLarge(ValueError):
    """More pixels than the max_image_pixels setting allows."""


def open_image(source: ImageSource, fit: int | DraftRequest | None = None,
               max_pixels: int | None = None) -> Image.Image:
    """Open and decode `source` (a path, bytes, a binary file, or an image already open).

    With `fit` (a shortest side, or a function of the full size giving the size needed), a JPEG
    is decoded by libjpeg at the smallest 1/2, 1/4 or 1/8 scale still at least that large
    (`Image.draft`: scaling in the DCT domain, so most of the decoding work is skipped). The
    image then records in ``info[DRAFT_INFO]`` which box of it is the full original, so that
    a resize can reproduce the full image's geometry exactly (`FastPreprocess` does)."""
    if isinstance(source, Image.Image):
        return source
    image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    width, height = image.size
    if max_pixels and width * height > max_pixels:
        image.close()
        raise ImageTooLarge(f"image of {width}x{height} pixels is above the limit of {max_pixels} "
                            "pixels (setting max_image_pixels)")
    if fit and image.format == "JPEG":
        if callable(fit):
            need = fit(width, height)
        else:
            scale = fit / min(width, height)
            need = (math.ceil(width * scale), math.ceil(height * scale))
        if need[0] < width and need[1] < height:
            drafted = image.draft("RGB", need)
            if drafted is not None and image.size != (width, height):
                image.info[DRAFT_INFO] = (image.size, drafted[1], (width, height))
    image.load()
    return image


def draft_box(image: Image.Image) -> tuple[tuple[int, int], tuple[float, float, float, float]] | None:
    """(full size, box of the full image in this image's pixels) when `image` is a reduced
    decode as made by `open_image`; None otherwise (also for crops of one, whose size differs)."""
    info = image.info.get(DRAFT_INFO)
    if not info or tuple(info[0]) != image.size:
        return None
    return tuple(info[2]), tuple(info[1])
