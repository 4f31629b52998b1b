"""Level-0 IIIF Image API 3.0 derivatives for one image: the files and their info.json.

A level-0 server answers only the requests it has files for, so the published tree holds
exactly the URLs a client builds from ``info.json``:

* ``full/max/0/default.jpg`` (required at level 0) and ``full/{w},{h}/0/default.jpg`` for
  every entry of ``sizes`` (the full size and its halvings down to about 100 px);
* one file per tile, ``{x},{y},{w},{h}/{ws},{hs}/0/default.jpg``, computed with the tile
  algorithm of the Image API 3.0 implementation notes (partial tiles on the right and lower
  edges, sizes rounded up). Where a tile covers the whole image its canonical region is
  ``full``, so ``full/{ws},{hs}/0/default.jpg`` is written as well.

OpenSeadragon (and so Mirador) asks for exactly these: ``x,y,w,h/w,h`` tiles at the scale
factors ``1, 2, 4, ...``; ``full/w,h`` once a level fits in one tile, with
``w,h = ceil(width / s), ceil(height / s)``; ``full/max`` when that level is the full size.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

TILE_SIZE = 512
MIN_SIZE_SIDE = 100  # halvings listed in `sizes` stop before the longest side drops below this
JPEG_QUALITY = 85
IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
IMAGE_PROTOCOL = "http://iiif.io/api/image"


@dataclass(frozen=True)
class ImageRequest:
    """One file of a level-0 service: its path below the service id, and where its pixels
    come from: a box (left, top, right, bottom) of the image scaled down by ``scale_factor``."""

    path: str
    scale_factor: int
    box: tuple[int, int, int, int]

    @property
    def size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]


def scaled_size(width: int, height: int, scale_factor: int) -> tuple[int, int]:
    """Size of the full image at a scale factor, rounded up (as the tile algorithm does)."""
    return -(-width // scale_factor), -(-height // scale_factor)


def size_scale_factors(width: int, height: int, min_side: int = MIN_SIZE_SIDE) -> list[int]:
    """Scale factors 1, 2, 4, ... of the listed sizes: halvings while the longest side stays
    >= ``min_side`` (a small image lists only its full size)."""
    factors = [1]
    while True:
        nxt = factors[-1] * 2
        w, h = scaled_size(width, height, nxt)
        if max(w, h) < min_side or (w, h) == scaled_size(width, height, factors[-1]):
            return factors
        factors.append(nxt)


def level0_sizes(width: int, height: int, min_side: int = MIN_SIZE_SIDE) -> list[tuple[int, int]]:
    """The sizes listed in info.json: full size and halvings, smallest first."""
    return [scaled_size(width, height, s) for s in reversed(size_scale_factors(width, height, min_side))]


def tile_scale_factors(width: int, height: int, tile: int = TILE_SIZE) -> list[int]:
    """Powers of two from 1 up to the first one at which the whole image fits in one tile."""
    factors = [1]
    while max(scaled_size(width, height, factors[-1])) > tile:
        factors.append(factors[-1] * 2)
    return factors


def all_requests(width: int, height: int, tile: int = TILE_SIZE) -> list[ImageRequest]:
    """Every file a level-0 client may ask for (see the module docstring), one per path."""
    out: dict[str, ImageRequest] = {}

    def add(path: str, s: int, box: tuple[int, int, int, int]) -> None:
        out.setdefault(path, ImageRequest(path, s, box))

    add("full/max/0/default.jpg", 1, (0, 0, width, height))
    tiled = tile_scale_factors(width, height, tile)
    for s in sorted(set(size_scale_factors(width, height)) | {tiled[-1]}):
        w, h = scaled_size(width, height, s)
        add(f"full/{w},{h}/0/default.jpg", s, (0, 0, w, h))
    for s in tiled:  # Image API 3.0 implementation notes, "tiles"
        step = tile * s
        for y in range(0, height, step):
            for x in range(0, width, step):
                w, h = min(step, width - x), min(step, height - y)
                ws, hs = -(-w // s), -(-h // s)
                box = (x // s, y // s, x // s + ws, y // s + hs)
                add(f"{x},{y},{w},{h}/{ws},{hs}/0/default.jpg", s, box)
                if (w, h) == (width, height):
                    add(f"full/{ws},{hs}/0/default.jpg", s, box)
    return list(out.values())


def info_json(service_id: str, width: int, height: int, tile: int = TILE_SIZE) -> dict:
    """The ``info.json`` of a level-0 ImageService3 for an image of this size."""
    return {
        "@context": IMAGE_CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": IMAGE_PROTOCOL,
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": [{"width": w, "height": h} for w, h in level0_sizes(width, height)],
        "tiles": [{"width": tile, "height": tile, "scaleFactors": tile_scale_factors(width, height, tile)}],
    }


def service_reference(service_id: str, width: int, height: int, tile: int = TILE_SIZE) -> dict:
    """The ImageService3 block embedded in a manifest: info.json without @context/protocol."""
    info = info_json(service_id, width, height, tile)
    del info["@context"], info["protocol"]
    return info


def write_derivatives(image: Image.Image, target: Path, tile: int = TILE_SIZE,
                      quality: int = JPEG_QUALITY) -> int:
    """Write every level-0 file for ``image`` (mode RGB or L) into the folder ``target``,
    replacing it as a whole: files go to a sibling temporary folder renamed into place, so
    a reader never sees a half-written service. Returns the number of files written."""
    width, height = image.size
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    levels = {1: image}

    def level(s: int) -> Image.Image:
        if s not in levels:  # each level from the one above: cheap, and close to a true pyramid
            levels[s] = level(s // 2).resize(scaled_size(width, height, s), Image.Resampling.LANCZOS)
        return levels[s]

    requests = all_requests(width, height, tile)
    for req in requests:
        src = level(req.scale_factor)
        out = src if req.box == (0, 0, *src.size) else src.crop(req.box)
        path = partial / req.path
        path.parent.mkdir(parents=True, exist_ok=True)
        out.save(path, "JPEG", quality=quality)
    _swap_into_place(partial, target)
    return len(requests)


def _swap_into_place(partial: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(partial, target)
    shutil.rmtree(old, ignore_errors=True)
