"""Images uploaded to the API: read, checked and decoded, or refused with a JSON error.

An image comes as the multipart field ``image`` or as base64 text in the JSON field
``image_base64`` (a ``data:image/...;base64,`` prefix is accepted). Limits, each answered
with a JSON error that names the limit:

- bytes: ``max_upload_bytes`` (default 10 MiB) -> 413 ``upload_too_large``;
- pixels: ``max_upload_pixels`` (default 50 million), read from the header before decoding
  -> 413 ``too_many_pixels``;
- shape: one side at most ``MAX_ASPECT`` times the other -> 400 ``unsupported_shape``;
- format: JPEG, PNG or WEBP by content (whatever the file name or Content-Type says) -> 415
  ``unsupported_media_type``;
- anything that does not decode -> 400 ``invalid_image``.

An upload is decoded no larger than the model needs: reduced to fit ``image_max_side``, as
the collection's images were for indexing. A JPEG is decoded already reduced by libjpeg (1/2
to 1/8 scale); a PNG or WEBP is decoded whole and then reduced, which is why uploads have a
pixel limit of their own and views that decode them hold a slot (``image_work``).

The request body as a whole is capped by Flask's ``MAX_CONTENT_LENGTH`` (``body_limit``),
so an oversized upload is refused before it is read into memory.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from flask import request
from PIL import Image, ImageOps, UnidentifiedImageError

from loupe_core.settings import Settings

from .image_limits import check_aspect
from .request_errors import InvalidRequest, RequestProblem, TooLarge, UnsupportedImage

IMAGE_FIELD = "image"
BASE64_FIELD = "image_base64"
# Decoded format -> media type. MPO is how Pillow names many camera JPEGs.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_DATA_URL = re.compile(r"^data:[\w/+.-]*;base64,", re.IGNORECASE)
# Room for base64's 4/3 growth and the other fields of a form or JSON body.
_BODY_OVERHEAD = 256 * 1024
# Decoded PNG and WEBP images are reduced by whole factors to no less than this many times
# the size wanted, then resized (as Pillow's thumbnail does), a band of about this many
# pixels at a time.
REDUCING_GAP = 2.0
BAND_PIXELS = 4_000_000


@dataclass(frozen=True)
class UploadedImage:
    image: Image.Image  # decoded, reduced to fit image_max_side, EXIF orientation applied, RGB
    format: str  # JPEG, PNG or WEBP
    width: int  # of the upload, as its header says
    height: int
    size_bytes: int


def body_limit(settings: Settings) -> int:
    """The largest request body to accept (Flask ``MAX_CONTENT_LENGTH``)."""
    return settings.max_upload_bytes * 4 // 3 + _BODY_OVERHEAD


def has_upload(body: Mapping[str, Any] | None = None) -> bool:
    """Does the current request carry an image (multipart file, or ``image_base64`` in ``body``)?"""
    return IMAGE_FIELD in request.files or bool(body and BASE64_FIELD in body)


def read_uploaded_image(settings: Settings, body: Mapping[str, Any] | None = None, *,
                        field: str = IMAGE_FIELD) -> UploadedImage:
    """The image of the current request: the multipart file ``field``, else ``image_base64``
    of ``body`` (the parsed JSON). Raises InvalidRequest, TooLarge or UnsupportedImage."""
    if field in request.files:
        storage = request.files[field]
        data = storage.stream.read(settings.max_upload_bytes + 1)
        return decode_image(data, settings, field=field)
    if body is not None and BASE64_FIELD in body:
        return decode_image(decode_base64(body[BASE64_FIELD], settings), settings, field=BASE64_FIELD)
    raise InvalidRequest(code="missing_image", message=f"send an image as the multipart file field {field!r} or as base64 "
                      f"text in the JSON field {BASE64_FIELD!r}", field=field)


def decode_base64(text: Any, settings: Settings) -> bytes:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(code="invalid_image", message=f"{BASE64_FIELD!r} must be base64 text of a JPEG, PNG or WEBP image",
                          field=BASE64_FIELD)
    text = _DATA_URL.sub("", text.strip(), count=1)
    text = re.sub(r"\s+", "", text)
    if len(text) * 3 // 4 > settings.max_upload_bytes + 2:
        raise _too_large(len(text) * 3 // 4, settings, BASE64_FIELD)
    padded = text + "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None  # base64url, as some encoders give
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(code="invalid_image", message=f"{BASE64_FIELD!r} is not valid base64", field=BASE64_FIELD) from None


def decode_image(data: bytes, settings: Settings, *, field: str = IMAGE_FIELD) -> UploadedImage:
    """Check image bytes against the upload limits and decode them reduced to fit
    ``image_max_side``. Raises InvalidRequest, TooLarge or UnsupportedImage."""
    if len(data) > settings.max_upload_bytes:
        raise _too_large(len(data), settings, field)
    if not data:
        raise InvalidRequest(code="invalid_image", message="the uploaded image is empty", field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnsupportedImage("the upload is not an image this service reads: send JPEG, PNG or WEBP",
                               field=field) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, settings, field) from None
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise UnsupportedImage(f"{image.format} images are not accepted: send JPEG, PNG or WEBP", field=field)
        fmt = "JPEG" if image.format == "MPO" else str(image.format)
        width, height = image.size
        if width * height > settings.max_upload_pixels:
            raise _too_many_pixels((width, height), settings, field)
        check_aspect(width, height, what="the image", field=field)
        try:
            reduced = _decode_reduced(image, settings.image_max_side)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:  # truncated or corrupt data
            raise InvalidRequest(code="invalid_image", message=f"the uploaded {fmt} image cannot be decoded ({e})",
                                 field=field) from None
    return UploadedImage(reduced, fmt, width, height, len(data))


def _decode_reduced(image: Image.Image, side: int) -> Image.Image:
    """``image`` decoded to fit ``side`` x ``side``, EXIF orientation applied, RGB.

    A JPEG is drafted by ``thumbnail``: libjpeg decodes it at 1/2 to 1/8 scale. Other
    formats are decoded whole, then reduced a band of rows at a time (``_reduce_rgb``), so
    that no second full-size copy is ever made (converting the mode, or resizing an RGBA
    image, which Pillow premultiplies first, would copy it whole)."""
    if image.format in ("JPEG", "MPO"):
        image.thumbnail((side, side), Image.Resampling.BICUBIC)
        reduced = image
    else:
        width, height = image.size
        scale = min(side / width, side / height, 1.0)
        factor = max(1, int(1 / scale / REDUCING_GAP))
        reduced = _reduce_rgb(image, factor)
        reduced.info.update(image.info)  # EXIF and XMP, for the orientation
        reduced.thumbnail((side, side), Image.Resampling.BICUBIC)
    oriented = ImageOps.exif_transpose(reduced)
    return oriented if oriented.mode == "RGB" else oriented.convert("RGB")


def _reduce_rgb(image: Image.Image, factor: int) -> Image.Image:
    """``image`` as RGB, each ``factor`` x ``factor`` block of pixels averaged (``Image.reduce``),
    converted and reduced a band of rows at a time."""
    image.load()
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows))).convert("RGB")
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out


def _too_large(size: int, settings: Settings, field: str) -> RequestProblem:
    return TooLarge(f"the image is {size:,} bytes; the limit is {settings.max_upload_bytes:,} bytes "
                    "(setting max_upload_bytes)", field=field)


def _too_many_pixels(size: tuple[int, int] | None, settings: Settings, field: str) -> RequestProblem:
    what = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
    return TooLarge(f"the image has {what}; the limit for uploads is {settings.max_upload_pixels:,} pixels "
                    "(setting max_upload_pixels)", field=field, code="too_many_pixels")
