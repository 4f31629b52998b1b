"""Mapping regions between canvas coordinates and the pixels of a painted image.

An ``Image`` is painted into ``image.target_box`` on the canvas (the whole canvas when
``None``); the part of the image resource that is painted is ``image.source_box`` (the
whole image when ``None``), in the pixels of the full image, whose size is
``image.width/height`` or, failing those, its image service's ``width/height``. The
mapping is the affine scale between those two rectangles; rotation is not modelled.
"""

from __future__ import annotations

from iiif.model import Box, Image


def image_size(image: Image) -> tuple[int, int] | None:
    """Pixel size of the full image resource, from the image or its service."""
    width = image.width or (image.service.width if image.service else None)
    height = image.height or (image.service.height if image.service else None)
    if width and height and width > 0 and height > 0:
        return width, height
    return None


def _painted_part(image: Image) -> Box | None:
    if image.source_box is not None:
        return image.source_box
    size = image_size(image)
    return Box(0, 0, size[0], size[1]) if size else None


def _canvas_area(image: Image, canvas_w: float | None, canvas_h: float | None) -> Box | None:
    if image.target_box is not None:
        return image.target_box
    if canvas_w and canvas_h and canvas_w > 0 and canvas_h > 0:
        return Box(0, 0, canvas_w, canvas_h)
    return None


def intersect(a: Box, b: Box) -> Box | None:
    """The overlap of two boxes, ``None`` when it has no area."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x0, y0, x1 - x0, y1 - y0)


def _rescale(box: Box, src: Box, dst: Box) -> Box:
    sx, sy = dst.w / src.w, dst.h / src.h
    return Box(dst.x + (box.x - src.x) * sx, dst.y + (box.y - src.y) * sy, box.w * sx, box.h * sy)


def _usable(box: Box | None) -> bool:
    return box is not None and box.w > 0 and box.h > 0


def canvas_to_image(image: Image, box: Box, canvas_w: float | None = None,
                    canvas_h: float | None = None) -> Box | None:
    """``box`` (canvas units) in the pixels of the full image resource, clipped to the
    part of the canvas the image covers and to the image; ``None`` when the box misses the
    image or the sizes needed are unknown."""
    area = _canvas_area(image, canvas_w, canvas_h)
    painted = _painted_part(image)
    if not (_usable(area) and _usable(painted) and _usable(box)):
        return None
    on_image = intersect(box, area)  # type: ignore[arg-type]
    if on_image is None:
        return None
    pixels = _rescale(on_image, area, painted)  # type: ignore[arg-type]
    size = image_size(image)
    return intersect(pixels, Box(0, 0, size[0], size[1])) if size else pixels


def image_to_canvas(image: Image, box: Box, canvas_w: float | None = None,
                    canvas_h: float | None = None) -> Box | None:
    """The inverse of ``canvas_to_image``: ``box`` in full-image pixels to canvas units,
    clipped to the painted part of the image and (when its size is given) the canvas."""
    area = _canvas_area(image, canvas_w, canvas_h)
    painted = _painted_part(image)
    if not (_usable(area) and _usable(painted) and _usable(box)):
        return None
    visible = intersect(box, painted)  # type: ignore[arg-type]
    if visible is None:
        return None
    out = _rescale(visible, painted, area)  # type: ignore[arg-type]
    if canvas_w and canvas_h and canvas_w > 0 and canvas_h > 0:
        return intersect(out, Box(0, 0, canvas_w, canvas_h))
    return out


def image_points_to_canvas(image: Image, points: list[tuple[float, float]], canvas_w: float | None = None,
                           canvas_h: float | None = None) -> list[tuple[float, float]] | None:
    """Points in full-image pixels to canvas units (not clipped); ``None`` when sizes are unknown."""
    area = _canvas_area(image, canvas_w, canvas_h)
    painted = _painted_part(image)
    if not (_usable(area) and _usable(painted)):
        return None
    assert area is not None and painted is not None
    sx, sy = area.w / painted.w, area.h / painted.h
    return [(area.x + (x - painted.x) * sx, area.y + (y - painted.y) * sy) for x, y in points]
