"""IIIF Image API request URLs that respect the service's version and compliance level.

Pure code, no I/O. ``plan_image_request`` answers "how do I get this region of this image
with its longest side at most N pixels, from *this* server?". The answer is a URL, the pixel
size the server is expected to return, and any crop/resize the caller must still do locally
because the server cannot (a level 0 static server only serves whole images at listed sizes).

Features per version and level follow the published compliance documents
(https://iiif.io/api/image/{1.1,2.1,3.0}/compliance/ and the ``level*.json`` profiles):

- 1.1 level 1 and 2.1 level 1: ``regionByPx``, ``sizeByW``, ``sizeByH``, ``sizeByPct``
  (no ``w,h``); level 2 adds ``regionByPct``, ``sizeByWh``, ``sizeByConfinedWh``.
- 3.0 level 1: ``regionByPx``, ``regionSquare``, ``sizeByW``, ``sizeByH`` - note that
  ``sizeByWh`` is level 2 in 3.0 too; level 2 adds ``regionByPct``, ``sizeByPct``,
  ``sizeByConfinedWh``, ``sizeByWh``.
- level 0 (all versions): only the ``full`` region at the sizes listed in ``sizes`` (or
  implied by ``tiles``), plus ``full``/``max``. ``extraFeatures`` declared by the service add
  to what its level gives. An unknown level is treated as level 1.

Listed sizes are requested the way each spec asks: ``w,`` in 2.x (the canonical form),
``w,h`` in 3.0. The expected size of a ``w,``/``,h`` response is computed as servers do
(rounding the other side); a server may differ by one pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from iiif.model import Box, ImageService

# Features each compliance level guarantees, by major version.
_LEVEL_FEATURES: dict[int, dict[int, frozenset[str]]] = {
    1: {
        0: frozenset(),
        1: frozenset({"regionByPx", "sizeByW", "sizeByH", "sizeByPct"}),
        2: frozenset({"regionByPx", "regionByPct", "sizeByW", "sizeByH", "sizeByPct",
                      "sizeByWh", "sizeByConfinedWh"}),
    },
    2: {
        0: frozenset(),
        1: frozenset({"regionByPx", "sizeByW", "sizeByH", "sizeByPct"}),
        2: frozenset({"regionByPx", "regionByPct", "sizeByW", "sizeByH", "sizeByPct",
                      "sizeByConfinedWh", "sizeByDistortedWh", "sizeByWh", "sizeByForcedWh"}),
    },
    3: {
        0: frozenset(),
        1: frozenset({"regionByPx", "regionSquare", "sizeByW", "sizeByH"}),
        2: frozenset({"regionByPx", "regionSquare", "regionByPct", "sizeByW", "sizeByH",
                      "sizeByPct", "sizeByConfinedWh", "sizeByWh"}),
    },
}
# Image API 2.0 used snake_case feature names in profiles; map them to the 2.1/3.0 names.
_FEATURE_ALIASES = {
    "region_by_px": "regionByPx", "region_by_pct": "regionByPct", "size_by_w": "sizeByW",
    "size_by_h": "sizeByH", "size_by_pct": "sizeByPct", "size_by_wh": "sizeByWh",
    "size_by_forced_wh": "sizeByForcedWh", "size_by_confined_wh": "sizeByConfinedWh",
}
_SIZE_FEATURES = frozenset({"sizeByW", "sizeByH", "sizeByWh"})
_LEVEL2_FORMATS = frozenset({"jpg", "png"})


@dataclass(frozen=True)
class ImageRequest:
    """One Image API request and what to do with its response.

    ``size`` is the expected pixel size of the response. ``local_crop`` (pixels of the
    response) is set when the server could not crop; ``resize_to`` is the final size when
    the server could not scale to it. Apply the crop first, then the resize.
    """

    url: str
    size: tuple[int, int]
    local_crop: Box | None = None
    resize_to: tuple[int, int] | None = None


def info_url(service: ImageService) -> str:
    """The service's image information document (``{id}/info.json``)."""
    return f"{_base(service)}/info.json"


def supported_features(service: ImageService) -> frozenset[str]:
    """Features the service supports: its level's guarantees plus its declared extras."""
    version = service.version if service.version in _LEVEL_FEATURES else 3
    level = service.level if service.level in (0, 1, 2) else 1
    extras = {_FEATURE_ALIASES.get(f, f) for f in service.extra_features}
    return _LEVEL_FEATURES[version][level] | extras


def plan_image_request(service: ImageService, region: Box | None, max_side: int, *,
                       fmt: str = "jpg") -> ImageRequest:
    """Plan a request for ``region`` (full-image pixels; None = whole image), never upscaled,
    with its longest side at most ``max_side``.

    Raises ValueError when the image size is unknown (fetch ``info_url`` first), when
    ``max_side`` < 1, or when the region lies outside the image.
    """
    if not service.width or not service.height:
        raise ValueError(f"image size unknown for {service.id}: read {info_url(service)} first")
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    full_w, full_h = service.width, service.height
    crop = _clamp(region, full_w, full_h)  # None = whole image
    rx, ry, rw, rh = crop if crop else (0, 0, full_w, full_h)
    target = _fit(rw, rh, max_side)
    features = supported_features(service)
    fmt = _format(service, fmt)

    server_crops = crop is None or "regionByPx" in features
    if server_crops:
        region_param = "full" if crop is None else f"{rx},{ry},{rw},{rh}"
        if target == (rw, rh):
            return ImageRequest(_url(service, region_param, _max_size(service), fmt), (rw, rh))
        scaled = _size_param(service.version, features, rw, rh, target)
        if scaled is not None:
            size_param, size = scaled
            return ImageRequest(_url(service, region_param, size_param, fmt), size)
        if crop is None:
            return _from_whole_image(service, features, None, target, fmt)
        # The server crops but cannot scale: fetch the region at full resolution.
        return ImageRequest(_url(service, region_param, _max_size(service), fmt), (rw, rh),
                            resize_to=target)
    return _from_whole_image(service, features, crop, target, fmt)


def can_crop(service: ImageService) -> bool:
    """Whether the server cuts regions itself (level 1 and up, or ``regionByPx`` declared)."""
    return "regionByPx" in supported_features(service)


def thumbnail_url(service: ImageService, region: Box | None = None, max_side: int = 256) -> str:
    """A URL for a small image of ``region`` (None = whole image) for display.

    Where the server cannot crop (level 0) the URL shows the whole image at a listed size;
    use ``plan_image_request`` when the exact region matters.
    """
    if region is not None and not can_crop(service):
        region = None
    return plan_image_request(service, region, max_side).url


# --- planning helpers -------------------------------------------------------------------


def _from_whole_image(service: ImageService, features: frozenset[str],
                      crop: tuple[int, int, int, int] | None, target: tuple[int, int],
                      fmt: str) -> ImageRequest:
    """Fetch the whole image at a size the server offers, then crop and resize locally."""
    full_w, full_h = service.width, service.height
    rx, ry, rw, rh = crop if crop else (0, 0, full_w, full_h)
    scale = max(target) / max(rw, rh)  # <= 1: region pixels -> final pixels
    needed = (max(1, math.ceil(full_w * scale - 1e-9)), max(1, math.ceil(full_h * scale - 1e-9)))

    if features & _SIZE_FEATURES and needed != (full_w, full_h):
        # Arbitrary sizes of the full image (e.g. level 0 with sizeByW declared).
        size_param, fetched = _size_param(service.version, features, full_w, full_h, needed)
    else:
        fetched = _choose_listed_size(service, needed)
        if fetched == (full_w, full_h):
            size_param = _max_size(service)
        else:
            size_param = _listed_size_param(service.version, fetched)
    url = _url(service, "full", size_param, fmt)

    fx, fy = fetched[0] / full_w, fetched[1] / full_h
    local_crop = None
    crop_w, crop_h = fetched
    if crop is not None:
        x0, y0 = math.floor(rx * fx), math.floor(ry * fy)
        x1 = min(fetched[0], max(x0 + 1, math.ceil((rx + rw) * fx)))
        y1 = min(fetched[1], max(y0 + 1, math.ceil((ry + rh) * fy)))
        local_crop = Box(x0, y0, x1 - x0, y1 - y0)
        crop_w, crop_h = x1 - x0, y1 - y0
    final = target if (target[0] <= crop_w and target[1] <= crop_h) else _fit(crop_w, crop_h, max(target))
    resize_to = None if final == (crop_w, crop_h) else final
    return ImageRequest(url, fetched, local_crop, resize_to)


def _choose_listed_size(service: ImageService, needed: tuple[int, int]) -> tuple[int, int]:
    """Smallest whole-image size the server offers that covers ``needed`` (one pixel of
    rounding tolerated). Offered: the listed ``sizes``, sizes where one tile holds the whole
    image, and the full size (``full``/``max`` is required at every level)."""
    offered = set(_whole_image_sizes(service)) | {(service.width, service.height)}
    for w, h in sorted(offered, key=lambda s: (s[0] * s[1], s)):
        if w >= needed[0] - 1 and h >= needed[1] - 1:
            return (w, h)
    return (service.width, service.height)


def _whole_image_sizes(service: ImageService) -> list[tuple[int, int]]:
    """Listed sizes plus the sizes at which one tile holds the whole image."""
    sizes = [(int(w), int(h)) for w, h in service.sizes if w and h and w <= service.width
             and h <= service.height]
    for tile in service.tiles:
        tile_w = int(tile.get("width") or 0)
        tile_h = int(tile.get("height") or tile_w)
        for factor in tile.get("scaleFactors") or []:
            if not factor or factor < 1:
                continue
            w, h = math.ceil(service.width / factor), math.ceil(service.height / factor)
            if tile_w and w <= tile_w and h <= tile_h:
                sizes.append((w, h))
    return sizes


def _size_param(version: int, features: frozenset[str], w: int, h: int,
                target: tuple[int, int]) -> tuple[str, tuple[int, int]] | None:
    """The size parameter asking for ``target`` from a ``w`` x ``h`` region, and the size the
    server will return; None when the server cannot scale."""
    tw, th = target
    if version >= 3 and "sizeByWh" in features:
        return f"{tw},{th}", (tw, th)  # the canonical 3.0 form
    # Fix the longest side, so the server's rounding of the other cannot exceed max_side.
    if w >= h:
        th_safe = max(1, math.floor(tw * h / w))
        options = [("sizeByW", f"{tw},", (tw, max(1, round(h * tw / w)))),
                   ("sizeByH", f",{th_safe}", (max(1, round(w * th_safe / h)), th_safe))]
    else:
        tw_safe = max(1, math.floor(th * w / h))
        options = [("sizeByH", f",{th}", (max(1, round(w * th / h)), th)),
                   ("sizeByW", f"{tw_safe},", (tw_safe, max(1, round(h * tw_safe / w))))]
    options.append(("sizeByWh", f"{tw},{th}", (tw, th)))
    for feature, param, size in options:
        if feature in features:
            return param, size
    return None


def _listed_size_param(version: int, size: tuple[int, int]) -> str:
    """How each spec asks for a listed size: ``w,`` in 1.x/2.x, ``w,h`` in 3.0."""
    return f"{size[0]},{size[1]}" if version >= 3 else f"{size[0]},"


def _max_size(service: ImageService) -> str:
    return "max" if service.version >= 3 else "full"


def _fit(w: int, h: int, max_side: int) -> tuple[int, int]:
    """Scale ``w``x``h`` down (never up) so the longest side is at most ``max_side``."""
    if max(w, h) <= max_side:
        return (w, h)
    scale = max_side / max(w, h)
    if w >= h:
        return (max_side, max(1, min(max_side, round(h * scale))))
    return (max(1, min(max_side, round(w * scale))), max_side)


def _clamp(region: Box | None, full_w: int, full_h: int) -> tuple[int, int, int, int] | None:
    """Integer region clamped to the image; None when it is the whole image."""
    if region is None:
        return None
    x0 = min(max(0, round(region.x)), full_w)
    y0 = min(max(0, round(region.y)), full_h)
    x1 = min(max(0, round(region.x + region.w)), full_w)
    y1 = min(max(0, round(region.y + region.h)), full_h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"region {region.as_xywh()} lies outside the {full_w}x{full_h} image")
    if (x0, y0, x1, y1) == (0, 0, full_w, full_h):
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def _format(service: ImageService, fmt: str) -> str:
    """``fmt`` when the service offers it, else ``jpg`` (required at every level)."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "jpeg":
        fmt = "jpg"
    offered = set(service.formats) | {"jpg"}
    if service.level == 2:
        offered |= _LEVEL2_FORMATS
    return fmt if fmt in offered else "jpg"


def _base(service: ImageService) -> str:
    base = service.id.rstrip("/")
    return base[: -len("/info.json")] if base.endswith("/info.json") else base


def _url(service: ImageService, region: str, size: str, fmt: str) -> str:
    quality = "native" if service.version == 1 else "default"
    return f"{_base(service)}/{region}/{size}/0/{quality}.{fmt}"
