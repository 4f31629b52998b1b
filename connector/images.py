"""Images at bounded sizes, fetched once and kept on disk.

``ImageFetcher.fetch`` answers "give me this image (or this region of it) with its longest
side at most N pixels": through the Image API when the image has a service
(``iiif.image_api.plan_image_request`` picks a URL the server's level can answer, plus any
local crop/resize), otherwise by downloading the resource itself and scaling locally.

Safety: the bytes come through ``HttpClient`` (SSRF guard, size cap ``max_image_bytes``);
the *decoded* format must be JPEG, PNG, WEBP or TIFF whatever the Content-Type says; the
pixel count is checked from the header before any pixel is decoded; corrupt or truncated
files raise ``ImageError``.

Pillow's decompression-bomb limit ``Image.MAX_IMAGE_PIXELS`` is process-global. Creating a
fetcher sets it once to ``settings.max_image_pixels`` (so Pillow's own check agrees with
ours for every thread); the explicit header check here does not depend on it.

Cache: ``settings.image_cache_dir/<sha[:2]>/<sha>.{jpg,png}`` plus ``<sha>.json`` with the
coordinate mapping, where sha is the SHA-256 of the request URL together with the local
crop/resize applied to it. Files are written to a temporary name and renamed, so readers
never see half a file; the JSON is renamed last and marks the entry complete. The stored
image is normalised (RGB; PNG when the source was PNG, JPEG quality 90 otherwise), so later
reads need no network and no format handling.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from connector.errors import FetchError
from connector.http import FetchPolicy, HttpClient
from iiif.image_api import info_url, plan_image_request
from iiif.image_service import read_info_json
from iiif.model import Box, Image, ImageService
from loupe_core.settings import Settings

log = logging.getLogger(__name__)

IMAGE_ACCEPT = "image/jpeg, image/png, image/webp, image/tiff;q=0.8, */*;q=0.1"
# Decoded format -> the name Loupe reports (MPO is how Pillow names many camera JPEGs).
SUPPORTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "TIFF": "TIFF"}
CACHE_JPEG_QUALITY = 90
CACHE_VERSION = 1  # bump when the stored normalisation changes


class ImageError(FetchError):
    """An image was downloaded but cannot be used: unsupported format, corrupt or
    truncated data, or more pixels than ``max_image_pixels`` (kind ``too_large``)."""

    def __init__(self, url: str, reason: str, *, kind: str = "invalid") -> None:
        super().__init__(url, kind, reason)

    @property
    def reason(self) -> str:
        return self.detail


@dataclass(frozen=True)
class FetchedImage:
    """An image on disk and how its pixels map back to the full image.

    A pixel ``(x, y)`` of the file is at ``(offset_x + x * scale_x, offset_y + y * scale_y)``
    in full-image pixel coordinates (those of the Image API service, or of the declared
    ``Image.width``/``height``, or of the downloaded file when neither is known).
    """

    path: Path
    width: int
    height: int
    format: str  # of the cached file: "JPEG" or "PNG"
    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float
    source_url: str
    source_format: str  # decoded format of the download: JPEG, PNG, WEBP or TIFF
    from_cache: bool = False

    def to_full(self, x: float, y: float) -> tuple[float, float]:
        return (self.offset_x + x * self.scale_x, self.offset_y + y * self.scale_y)

    def box_to_full(self, box: Box) -> Box:
        x, y = self.to_full(box.x, box.y)
        return Box(x, y, box.w * self.scale_x, box.h * self.scale_y)

    def pixel_box(self, box: Box) -> tuple[int, int, int, int]:
        """``box`` (full-image pixels) in this copy's pixels as (left, top, right, bottom):
        rounded outwards, clamped, at least one pixel, so that the same region always gives
        the same crop (indexing and querying must agree)."""
        w, h = self.width, self.height
        left = math.floor((box.x - self.offset_x) / self.scale_x + 1e-6)
        top = math.floor((box.y - self.offset_y) / self.scale_y + 1e-6)
        right = math.ceil((box.x + box.w - self.offset_x) / self.scale_x - 1e-6)
        bottom = math.ceil((box.y + box.h - self.offset_y) / self.scale_y - 1e-6)
        left, top = min(max(0, left), w - 1), min(max(0, top), h - 1)
        return left, top, max(left + 1, min(w, right)), max(top + 1, min(h, bottom))

    def open(self) -> PILImage.Image:
        """The cached image, loaded, in RGB."""
        with PILImage.open(self.path) as im:
            return im.convert("RGB")


@dataclass(frozen=True)
class _Plan:
    """What to download and what to do with it locally."""

    url: str
    # Full-image box the download shows; None: the whole image.
    covers: tuple[float, float, float, float] | None
    # Full-image size; None: unknown, the downloaded pixels define it.
    full_size: tuple[int, int] | None
    # The pixel size ``crop`` is expressed in; None: the downloaded size.
    expected_size: tuple[int, int] | None
    crop: tuple[float, float, float, float] | None
    resize_to: tuple[int, int] | None
    max_side: int
    # Image API output is already upright; a static file may carry an EXIF orientation.
    apply_exif_orientation: bool = False

    def cache_key(self) -> str:
        text = json.dumps([CACHE_VERSION, self.url, self.crop, self.resize_to, self.max_side,
                           self.expected_size, self.full_size])
        return hashlib.sha256(text.encode()).hexdigest()


class ImageFetcher:
    """Fetches images at bounded sizes through an ``HttpClient``; thread-safe."""

    def __init__(self, settings: Settings, client: HttpClient) -> None:
        self.settings = settings
        self.client = client
        self.cache_dir = Path(settings.image_cache_dir)
        # Process-global (see the module docstring): Pillow's own bomb check agrees with ours.
        if PILImage.MAX_IMAGE_PIXELS != settings.max_image_pixels:
            PILImage.MAX_IMAGE_PIXELS = settings.max_image_pixels

    def fetch(self, image: Image, *, region: Box | None = None, max_side: int | None = None,
              policy: FetchPolicy = FetchPolicy()) -> FetchedImage:
        """``region`` (full-image pixels; None = whole image) with its longest side at most
        ``max_side`` (default ``settings.image_max_side``), from the cache or the network.

        Raises ``FetchError`` (network, HTTP, guard), ``ImageError`` (the bytes), or
        ``ValueError`` for a region outside the image.
        """
        max_side = int(max_side or self.settings.image_max_side)
        if max_side < 1:
            raise ValueError(f"max_side must be >= 1, got {max_side}")
        plan = self._plan(image, region, max_side, policy)
        key = plan.cache_key()
        cached = self._read_cache(key)
        if cached is not None:
            return cached
        result = self.client.get(plan.url, policy=policy, accept=IMAGE_ACCEPT,
                                 max_bytes=self.settings.max_image_bytes)
        return self._process(plan, key, result.final_url, result.content)

    # --- planning ----------------------------------------------------------------------
    def _plan(self, image: Image, region: Box | None, max_side: int, policy: FetchPolicy) -> _Plan:
        if image.service is not None:
            service = self._sized_service(image, image.service, policy)
            if service is not None:
                return _plan_from_service(service, region, max_side)
        full_size = (image.width, image.height) if image.width and image.height else None
        crop = region.as_tuple() if region is not None else None
        return _Plan(image.id, None, full_size, full_size, crop, None, max_side, apply_exif_orientation=True)

    def _sized_service(self, image: Image, service: ImageService, policy: FetchPolicy) -> ImageService | None:
        """The service with what planning needs (size; listed sizes for level 0): from the
        manifest when it says enough, else from info.json (cached on disk). None when the
        service cannot be used and the resource URL should be fetched instead."""
        level0_unsized = service.level == 0 and not service.sizes and not service.tiles
        if service.width and service.height and not level0_unsized:
            return service
        if image.width and image.height and not level0_unsized:
            return dataclasses.replace(service, width=image.width, height=image.height)
        url = info_url(service)
        try:
            doc = self._info_json(url, policy)
        except FetchError as e:
            log.warning("cannot read %s (%s); fetching the image resource instead", url, e.detail)
            return None
        info, problems = read_info_json(doc, url)
        if info is None or not info.width or not info.height:
            log.warning("unusable info.json %s (%s); fetching the image resource instead",
                        url, "; ".join(p.what for p in problems))
            return None
        return info if info.id else dataclasses.replace(info, id=service.id)

    def _info_json(self, url: str, policy: FetchPolicy) -> Any:
        path = self._cache_path(hashlib.sha256(url.encode()).hexdigest(), ".info.json")
        try:
            return json.loads(path.read_bytes())
        except (OSError, ValueError):
            pass
        result = self.client.get_json(url, policy=policy)
        doc = result.json()
        _atomic_write(path, result.content)
        return doc

    # --- decoding and normalising --------------------------------------------------------
    def _process(self, plan: _Plan, key: str, final_url: str, content: bytes) -> FetchedImage:
        url = plan.url  # errors name the URL that was asked for
        im = _open_checked(url, content, self.settings.max_image_pixels)
        source_format = SUPPORTED_FORMATS[im.format]
        try:
            orientation = im.getexif().get(0x0112, 1) if plan.apply_exif_orientation else 1
            if plan.full_size is None:
                # No declared size: the full image is the download, upright, at full resolution.
                upright = im.size[::-1] if orientation in (5, 6, 7, 8) else im.size
                plan = dataclasses.replace(plan, full_size=upright, expected_size=upright)
            if orientation == 1:
                _draft_if_useful(im, plan)
            im.load()
            if orientation != 1:
                im = ImageOps.exif_transpose(im)
            im = _to_rgb(im)
        except PILImage.DecompressionBombError as e:
            raise ImageError(url, f"too many pixels ({e})", kind="too_large") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
            raise ImageError(url, f"corrupt or truncated {source_format} image ({e})") from None
        im, mapping = _apply(plan, im)
        fmt = "PNG" if source_format == "PNG" else "JPEG"
        path = self._cache_path(key, ".png" if fmt == "PNG" else ".jpg")
        buffer = io.BytesIO()
        if fmt == "JPEG":
            im.save(buffer, "JPEG", quality=CACHE_JPEG_QUALITY, optimize=True)
        else:
            im.save(buffer, "PNG", optimize=False)
        _atomic_write(path, buffer.getvalue())
        fetched = FetchedImage(path=path, width=im.width, height=im.height, format=fmt, **mapping,
                               source_url=final_url, source_format=source_format)
        meta = {k: v for k, v in dataclasses.asdict(fetched).items() if k not in ("path", "from_cache")}
        meta["file"] = path.name
        _atomic_write(self._cache_path(key, ".json"), json.dumps(meta).encode())
        return fetched

    # --- cache ---------------------------------------------------------------------------
    def _cache_path(self, key: str, suffix: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}{suffix}"

    def _read_cache(self, key: str) -> FetchedImage | None:
        meta_path = self._cache_path(key, ".json")
        try:
            meta = json.loads(meta_path.read_bytes())
            path = meta_path.parent / meta.pop("file")
            if not path.is_file():
                return None
            return FetchedImage(path=path, from_cache=True, **meta)
        except (OSError, ValueError, TypeError, KeyError):
            return None


# --- helpers ---------------------------------------------------------------------------


def _plan_from_service(service: ImageService, region: Box | None, max_side: int) -> _Plan:
    request = plan_image_request(service, region, max_side)
    full = (int(service.width), int(service.height))  # type: ignore[arg-type]
    crop = request.local_crop.as_tuple() if request.local_crop is not None else None
    return _Plan(request.url, _region_of_url(request.url, full), full, request.size, crop,
                 request.resize_to, max_side)


def _region_of_url(url: str, full: tuple[int, int]) -> tuple[float, float, float, float] | None:
    """The full-image box an Image API URL asks for (``{base}/{region}/{size}/{rot}/{q}.{fmt}``)."""
    region = url.rsplit("/", 4)[1]
    if region == "full":
        return None
    if region.startswith("pct:"):
        x, y, w, h = (float(v) for v in region[4:].split(","))
        return (x * full[0] / 100, y * full[1] / 100, w * full[0] / 100, h * full[1] / 100)
    if region == "square":
        side = min(full)
        return ((full[0] - side) / 2, (full[1] - side) / 2, side, side)
    x, y, w, h = (float(v) for v in region.split(","))
    return (x, y, min(w, full[0] - x), min(h, full[1] - y))


def _open_checked(url: str, content: bytes, max_pixels: int) -> PILImage.Image:
    """Open lazily (header only) and refuse unsupported formats and too many pixels."""
    try:
        im = PILImage.open(io.BytesIO(content))
    except PILImage.DecompressionBombError as e:
        raise ImageError(url, f"too many pixels ({e})", kind="too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(url, f"not a readable image ({type(e).__name__}: {e})") from None
    if im.format not in SUPPORTED_FORMATS:
        raise ImageError(url, f"unsupported image format {im.format}; Loupe reads JPEG, PNG, WEBP and TIFF")
    width, height = im.size
    if width < 1 or height < 1:
        raise ImageError(url, f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(url, f"{width}x{height} = {width * height:,} pixels, over max_image_pixels="
                              f"{max_pixels:,} (a decompression bomb, or raise the limit)", kind="too_large")
    return im


def _final_size(w: float, h: float, resize_to: tuple[int, int] | None, max_side: int) -> tuple[int, int]:
    """The output size: ``resize_to`` if planned, else the crop's size; never above ``max_side``."""
    fw, fh = resize_to if resize_to else (max(1, round(w)), max(1, round(h)))
    if max(fw, fh) > max_side:
        scale = max_side / max(fw, fh)
        fw, fh = max(1, min(max_side, round(fw * scale))), max(1, min(max_side, round(fh * scale)))
    return int(fw), int(fh)


def _crop_box(plan: _Plan, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop in pixels of the decoded image (left, top, right, bottom), clamped."""
    aw, ah = size
    if plan.crop is None:
        return (0, 0, aw, ah)
    ew, eh = plan.expected_size or size
    fx, fy = aw / ew, ah / eh
    x, y, w, h = plan.crop
    left = min(max(0, math.floor(x * fx)), aw - 1)
    top = min(max(0, math.floor(y * fy)), ah - 1)
    right = max(left + 1, min(aw, math.ceil((x + w) * fx)))
    bottom = max(top + 1, min(ah, math.ceil((y + h) * fy)))
    return (left, top, right, bottom)


def _draft_if_useful(im: PILImage.Image, plan: _Plan) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the output is that much smaller
    (a large static JPEG without an image service); no-op for other formats."""
    if im.format not in ("JPEG", "MPO"):
        return
    left, top, right, bottom = _crop_box(plan, im.size)
    final = _final_size(right - left, bottom - top, plan.resize_to, plan.max_side)
    scale = max(final[0] / (right - left), final[1] / (bottom - top))
    if scale < 0.5:
        im.draft("RGB", (math.ceil(im.width * scale), math.ceil(im.height * scale)))


def _to_rgb(im: PILImage.Image) -> PILImage.Image:
    """RGB, transparency flattened onto white, 16-bit greys scaled rather than clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if im.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        im = PILImage.fromarray(np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8), "L")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im if im.mode == "RGB" else im.convert("RGB")


def _apply(plan: _Plan, im: PILImage.Image) -> tuple[PILImage.Image, dict[str, float]]:
    """Crop and resize locally; return the image and its mapping to full-image pixels."""
    aw, ah = im.size  # after any draft reduction and EXIF rotation
    if plan.covers is not None:
        rx, ry, rw, rh = plan.covers
    else:
        rw, rh = plan.full_size or (aw, ah)
        rx = ry = 0.0
    px, py = rw / aw, rh / ah  # full-image pixels per decoded pixel
    left, top, right, bottom = _crop_box(plan, (aw, ah))
    if (left, top, right, bottom) != (0, 0, aw, ah):
        im = im.crop((left, top, right, bottom))
    cw, ch = right - left, bottom - top
    final = _final_size(cw, ch, plan.resize_to, plan.max_side)
    if final != (cw, ch):
        im = im.resize(final, PILImage.Resampling.LANCZOS, reducing_gap=3.0)
    mapping = {
        "scale_x": px * cw / final[0],
        "scale_y": py * ch / final[1],
        "offset_x": rx + left * px,
        "offset_y": ry + top * py,
    }
    return im, mapping


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
