"""A region of the collection named by a client: ``{"manifest", "canvas", "xywh"}``.

The server resolves it from the catalog (which image is painted on that canvas, where the
region falls on it) and crops the image it fetched for the catalog; a client never sends a
URL to fetch. ``xywh`` is in canvas coordinates, as IIIF viewers report selections: a string
``"x,y,w,h"`` (optionally prefixed ``xywh=``) or a list of four numbers; left out, the whole
canvas. ``manifest`` may be left out when the canvas URI belongs to one manifest only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from PIL import Image as PILImage

from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from iiif.geometry import canvas_to_image, intersect
from iiif.model import Box

from .catalog_reads import CanvasDetails, find_canvas
from .image_limits import check_aspect
from .params import reject_url_fields
from .request_errors import ImageUnavailable, InvalidRequest, NotInCatalog

REFERENCE_FIELDS = ("manifest", "canvas", "xywh")
_XYWH = re.compile(r"^\s*(?:xywh=)?\s*([^,]+),([^,]+),([^,]+),([^,]+)\s*$")


@dataclass(frozen=True)
class Reference:
    canvas: str
    manifest: str | None = None
    xywh: tuple[float, float, float, float] | None = None

    def describe(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "canvas": self.canvas,
                "xywh": [_number(v) for v in self.xywh] if self.xywh else None}


@dataclass(frozen=True)
class ResolvedReference:
    reference: Reference
    canvas: CanvasDetails
    box: Box | None  # on the canvas, clipped to it; None: the whole canvas
    image: PILImage.Image


def parse_reference(value: Any, where: str = "reference") -> Reference:
    """A Reference from a JSON value; InvalidRequest naming the field at fault."""
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{where!r} must be an object {{\"manifest\", \"canvas\", \"xywh\"}}", field=where)
    reject_url_fields(value.keys(), where=f"{where}.")
    unknown = sorted(set(value) - set(REFERENCE_FIELDS))
    if unknown:
        raise InvalidRequest(f"unknown field(s) {', '.join(unknown)} in {where!r}; known: {', '.join(REFERENCE_FIELDS)}",
                          field=f"{where}.{unknown[0]}", code="unknown_parameter")
    canvas = value.get("canvas")
    if not isinstance(canvas, str) or not canvas.strip():
        raise InvalidRequest(f"{where}.canvas must be the URI of a canvas of the collection", field=f"{where}.canvas")
    manifest = value.get("manifest")
    if manifest is not None and (not isinstance(manifest, str) or not manifest.strip()):
        raise InvalidRequest(f"{where}.manifest must be the URI of a manifest of the collection", field=f"{where}.manifest")
    canvas, _, fragment = canvas.strip().partition("#")
    xywh = value.get("xywh")
    if xywh is None and fragment.startswith("xywh="):
        xywh = fragment
    return Reference(canvas=canvas, manifest=manifest.strip() if manifest else None,
                     xywh=parse_xywh(xywh, f"{where}.xywh") if xywh is not None else None)


def parse_xywh(value: Any, field: str = "xywh") -> tuple[float, float, float, float]:
    """(x, y, w, h) from ``"x,y,w,h"`` / ``"xywh=x,y,w,h"`` / four numbers; w and h > 0."""
    numbers: list[Any]
    if isinstance(value, str):
        if value.strip().lower().startswith(("xywh=pct:", "pct:")):
            raise InvalidRequest(f"{field}: percentages are not supported; give x,y,w,h in canvas coordinates", field=field)
        m = _XYWH.match(value)
        if not m:
            raise InvalidRequest(f"{field} must be 'x,y,w,h' in canvas coordinates, not {value!r}", field=field)
        numbers = list(m.groups())
    elif isinstance(value, (list, tuple)) and len(value) == 4:
        numbers = list(value)
    else:
        raise InvalidRequest(f"{field} must be 'x,y,w,h' or a list of four numbers, not {value!r}", field=field)
    try:
        if any(isinstance(n, bool) for n in numbers):
            raise ValueError
        x, y, w, h = (float(n) for n in numbers)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{field} must hold four numbers x,y,w,h, not {value!r}", field=field) from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise InvalidRequest(f"{field} must hold finite numbers, not {value!r}", field=field)
    if w <= 0 or h <= 0:
        raise InvalidRequest(f"{field}: width and height must be greater than 0, not {value!r}", field=field)
    return x, y, w, h


def resolve_reference(reference: Reference, catalog, images: CatalogImages) -> ResolvedReference:  # noqa: ANN001
    """The pixels of the referenced region; NotInCatalog (unknown manifest or canvas), InvalidRequest
    (region outside the canvas, ambiguous canvas) or 502 (the image cannot be fetched)."""

    found = find_canvas(catalog, reference.canvas, reference.manifest)
    if not found:
        where = f" in manifest {reference.manifest}" if reference.manifest else ""
        raise NotInCatalog(code="unknown_canvas", message=f"the catalog has no canvas {reference.canvas}{where}",
                       field="reference.canvas")
    if len(found) > 1:
        raise InvalidRequest(f"canvas {reference.canvas} belongs to {len(found)} manifests; name one in reference.manifest",
                          field="reference.manifest")
    canvas = found[0]
    if canvas.image is None:
        raise NotInCatalog(code="no_image", message=f"canvas {canvas.canvas} has no image to search with", field="reference.canvas")
    box = None
    pixels = None
    if reference.xywh is not None:
        box = Box(*reference.xywh)
        if canvas.width and canvas.height:
            box = intersect(box, Box(0, 0, canvas.width, canvas.height))
        pixels = canvas_to_image(canvas.image, box, canvas.width, canvas.height) if box is not None else None
        if pixels is None or pixels.w < 1 or pixels.h < 1:
            size = f" ({canvas.width}x{canvas.height})" if canvas.width else ""
            raise InvalidRequest(f"reference.xywh {reference.describe()['xywh']} lies outside the image of canvas "
                              f"{canvas.canvas}{size}", field="reference.xywh")
        check_aspect(round(pixels.w), round(pixels.h), what=f"the region {reference.describe()['xywh']}",
                     field="reference.xywh")
    try:
        picture = images.crop(canvas.source_id, canvas.image, pixels)
    except FetchError as e:
        raise ImageUnavailable(code="image_unavailable", message=f"the image of canvas {canvas.canvas} could not be fetched: {e}") from None
    return ResolvedReference(reference, canvas, box, picture)


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v
