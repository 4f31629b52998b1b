"""Annotation targets and selectors of Presentation 2 (Open Annotation) and 3 (W3C Web
Annotation) read into ``Target``s in canvas coordinates.

Accepted forms: ``canvas#xywh=x,y,w,h`` (also ``pixel:`` and ``percent:``), objects with
``source`` (v3) or ``full`` (v2) plus a ``selector`` (FragmentSelector, SvgSelector,
PointSelector, ImageApiSelector, a list of selectors, or an ``oa:Choice`` of selectors as
Mirador 2 writes them), canvas objects with an ``id`` carrying a fragment, and lists of
any of those (v2 ``on`` arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iiif._context import ReadContext, join
from iiif._values import as_list, node_type, raw_id, reference_id, split_fragment, to_float
from iiif.model import Box, Target
from iiif.svg import SvgError, bounding_box, has_transform, svg_shapes
from iiif.svg_sanitiser import sanitise_svg

Point = tuple[float, float]
Size = tuple[int | None, int | None]

_UNSUPPORTED_SELECTORS = ("RangeSelector", "TextQuoteSelector", "TextPositionSelector", "DataPositionSelector",
                          "CssSelector", "XPathSelector", "AudioContentSelector", "VisualContentSelector",
                          "AnimationSelector", "WktSelector")


@dataclass
class Region:
    """What one selector (or one fragment) says about the selected part."""

    selector: str | None = None
    box: Box | None = None
    polygon: list[Point] | None = None
    point: Point | None = None
    svg: str | None = None
    rotation: str | None = None  # ImageApiSelector rotation (for painted images)
    unit: str | None = None  # "percent" when the box could not be converted


# --- media fragments ---------------------------------------------------------------------

def fragment_params(fragment: str) -> dict[str, str]:
    """``"xywh=1,2,3,4&t=5"`` -> ``{"xywh": "1,2,3,4", "t": "5"}``."""
    params: dict[str, str] = {}
    for part in fragment.lstrip("#").split("&"):
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip()
    return params


def parse_xywh(value: str) -> tuple[str, tuple[float, float, float, float]]:
    """``"pixel:1,2,3,4"`` -> ``("pixel", (1, 2, 3, 4))``; raises ``ValueError`` with a
    reason for anything else. The unit is ``"pixel"`` (also when omitted) or ``"percent"``."""
    unit = "pixel"
    text = value.strip()
    if ":" in text:
        unit, _, text = text.partition(":")
        unit = unit.strip().lower()
        if unit not in ("pixel", "percent"):
            raise ValueError(f"unknown xywh unit {unit!r}")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError(f"xywh needs 4 numbers, got {value!r}")
    numbers = [to_float(p) for p in parts]
    if any(n is None for n in numbers):
        raise ValueError(f"xywh values are not numbers: {value!r}")
    x, y, w, h = numbers  # type: ignore[misc]
    if w <= 0 or h <= 0:
        raise ValueError(f"xywh width and height must be positive: {value!r}")
    return unit, (x, y, w, h)


def xywh_region(value: str, path: str, ctx: ReadContext, size: Size | None, selector: str) -> Region:
    """A region from the value of an ``xywh=`` fragment, percent converted with ``size``."""
    try:
        unit, (x, y, w, h) = parse_xywh(value)
    except ValueError as e:
        ctx.error(path, f"invalid region: {e}")
        return Region(selector=selector)
    if unit == "percent":
        width, height = size or (None, None)
        name = "percent" if selector == "xywh" else selector
        if not width or not height:
            ctx.warn(path, f"region xywh=percent:{value.split(':', 1)[1]} cannot be converted to canvas "
                           "units because the canvas size is unknown; the whole canvas is targeted")
            return Region(selector=name, unit="percent")
        return Region(selector=name, box=Box(x * width / 100, y * height / 100, w * width / 100, h * height / 100))
    return Region(selector=selector, box=Box(x, y, w, h))


def fragment_region(fragment: str, path: str, ctx: ReadContext, size: Size | None, selector: str) -> Region:
    params = fragment_params(fragment)
    if "xywh" in params:
        return xywh_region(params["xywh"], path, ctx, size, selector)
    ctx.warn(path, f"fragment {fragment!r} is not a spatial xywh region; the whole canvas is targeted")
    return Region()


def image_api_region(region: str, path: str, ctx: ReadContext, size: Size | None) -> Box | None:
    """The ``region`` parameter of the Image API (``x,y,w,h``, ``pct:...``, ``full``,
    ``square``) as a pixel box; ``None`` for the full image."""
    text = region.strip()
    if text in ("", "full"):
        return None
    if text == "square":
        width, height = size or (None, None)
        if not width or not height:
            ctx.warn(path, "region 'square' needs the image size, which is unknown; full image assumed")
            return None
        side = min(width, height)
        return Box((width - side) / 2, (height - side) / 2, side, side)
    percent = text.startswith("pct:")
    try:
        _, (x, y, w, h) = parse_xywh(text[4:] if percent else text)
    except ValueError as e:
        ctx.error(path, f"invalid Image API region: {e}")
        return None
    if percent:
        width, height = size or (None, None)
        if not width or not height:
            ctx.warn(path, f"region {text!r} needs the image size, which is unknown; full image assumed")
            return None
        return Box(x * width / 100, y * height / 100, w * width / 100, h * height / 100)
    return Box(x, y, w, h)


# --- selectors ---------------------------------------------------------------------------

def _svg_region(svg: str, path: str, ctx: ReadContext) -> Region:
    """The outline of an SvgSelector; the SVG kept is its sanitised geometry only."""
    svg, removed = sanitise_svg(svg)
    if removed:
        # Only what could act is reported (iiif.svg_sanitiser): an error, for the curator.
        ctx.error(path, f"SVG selector: removed {', '.join(removed)} (only shapes and their geometry are kept)"[:500])
    try:
        shapes = [s for s in svg_shapes(svg) if s]
    except SvgError as e:
        ctx.error(path, f"SVG selector cannot be read: {e}")
        return Region(selector="SvgSelector", svg=svg)
    if not shapes:
        ctx.error(path, "SVG selector has no path, polygon, rect, circle or ellipse")
        return Region(selector="SvgSelector", svg=svg)
    if has_transform(svg):
        ctx.warn(path, "SVG transform attributes are not applied; the outline may be misplaced")
    if len(shapes) > 1:
        ctx.warn(path, f"SVG has {len(shapes)} shapes; the polygon is the first, the box covers all")
    box = bounding_box([p for shape in shapes for p in shape])
    return Region(selector="SvgSelector", box=Box(*box), polygon=shapes[0], svg=svg)


def _merge(regions: list[Region], name: str | None) -> Region:
    """Combine alternative selectors: the SVG outline is preferred for the polygon, an
    xywh box (as Mirador 2 writes next to its SVG) is kept as the box."""
    regions = [r for r in regions if r.selector or r.box or r.point]
    if not regions:
        return Region(selector=name)
    svg = next((r for r in regions if r.polygon), None)
    boxed = next((r for r in regions if r.box and not r.polygon), None) or svg
    point = next((r for r in regions if r.point), None)
    main = svg or boxed or point or regions[0]
    return Region(
        selector=name or main.selector,
        box=boxed.box if boxed else None,
        polygon=svg.polygon if svg else None,
        point=point.point if point else None,
        svg=svg.svg if svg else next((r.svg for r in regions if r.svg), None),
        rotation=next((r.rotation for r in regions if r.rotation), None),
        unit=next((r.unit for r in regions if r.unit), None),
    )


def parse_selector(value: Any, path: str, ctx: ReadContext, size: Size | None = None) -> Region:
    """One selector value (object, list, Choice or bare fragment string) as a ``Region``."""
    if value is None:
        return Region()
    if isinstance(value, list):
        if any(isinstance(v, list) for v in value):
            ctx.error(path, "nested lists of selectors are not allowed")
            value = [v for v in value if not isinstance(v, list)]
        return _merge([parse_selector(v, join(path, i), ctx, size) for i, v in enumerate(value)], None)
    if isinstance(value, str):
        return fragment_region(value, path, ctx, size, "FragmentSelector")
    if not isinstance(value, dict):
        ctx.error(path, f"selector is not an object: {value!r}"[:200])
        return Region()
    kind = node_type(value)
    if kind == "Choice":
        options = [(join(path, "default"), v) for v in as_list(value.get("default"))]
        for key in ("item", "items"):
            raw = value.get(key)
            options += [(join(path, key) if not isinstance(raw, list) else join(join(path, key), i), v)
                        for i, v in enumerate(as_list(raw))]
        return _merge([parse_selector(v, where, ctx, size) for where, v in options
                       if v != "rdf:nil" and not isinstance(v, list)], "Choice")
    if kind == "FragmentSelector":
        text = value.get("value")
        if not isinstance(text, str):
            ctx.error(path, "FragmentSelector has no value")
            return Region(selector="FragmentSelector")
        return fragment_region(text, join(path, "value"), ctx, size, "FragmentSelector")
    if kind == "SvgSelector":
        svg = value.get("value", value.get("chars"))
        if isinstance(svg, str) and svg.strip():
            return _svg_region(svg, join(path, "value"), ctx)
        if reference_id(value):
            ctx.warn(path, "SvgSelector refers to an external SVG document, which is not fetched")
        else:
            ctx.error(path, "SvgSelector has no value")
        return Region(selector="SvgSelector")
    if kind == "PointSelector":
        x, y = to_float(value.get("x")), to_float(value.get("y"))
        if x is None or y is None:
            ctx.warn(path, "PointSelector has no x/y (a time or 3D point?); the whole canvas is targeted")
            return Region(selector="PointSelector")
        return Region(selector="PointSelector", point=(x, y))
    if kind == "ImageApiSelector":
        region = value.get("region")
        box = image_api_region(region, join(path, "region"), ctx, size) if isinstance(region, str) else None
        rotation = value.get("rotation")
        rotation = str(rotation).strip() if rotation not in (None, "", "0", 0) else None
        return Region(selector="ImageApiSelector", box=box, rotation=rotation)
    if kind in _UNSUPPORTED_SELECTORS:
        ctx.warn(path, f"{kind} is not a spatial selector; the whole resource is targeted")
        return Region(selector=kind)
    if isinstance(value.get("value"), str) and "xywh=" in value["value"]:
        ctx.warn(path, f"selector of type {kind or 'unknown'} read as a FragmentSelector")
        return fragment_region(value["value"], join(path, "value"), ctx, size, "FragmentSelector")
    ctx.warn(path, f"unsupported selector type {kind or '(none)'}; the whole resource is targeted")
    return Region(selector=kind)


# --- targets -----------------------------------------------------------------------------

def _manifest_of(*objs: Any) -> str | None:
    """The manifest a target says it belongs to (v3 ``partOf``, v2 ``within``)."""
    for obj in objs:
        if not isinstance(obj, dict):
            continue
        for key in ("partOf", "within"):
            refs = as_list(obj.get(key))
            typed = [r for r in refs if isinstance(r, dict) and node_type(r) == "Manifest"]
            for ref in typed or refs:
                ident = reference_id(ref)
                if ident:
                    return ident
    return None


def _from_uri(uri: str, path: str, ctx: ReadContext) -> tuple[str, Region]:
    base, fragment = split_fragment(uri)
    if fragment is None or not fragment.strip():
        return base, Region()
    return base, fragment_region(fragment, path, ctx, ctx.canvas_sizes.get(base), "xywh")


def _target(source: str, region: Region, manifest: str | None) -> Target:
    return Target(source=source, box=region.box, selector=region.selector, polygon=region.polygon,
                  point=region.point, svg=region.svg, manifest=manifest)


def parse_target(value: Any, path: str, ctx: ReadContext) -> list[Target]:
    """Targets from a v2 ``on`` or v3 ``target`` value. Canvas sizes for percent regions come
    from ``ctx.canvas_sizes``; problems go to ``ctx``."""
    if isinstance(value, list):
        out: list[Target] = []
        for i, item in enumerate(value):
            if isinstance(item, list):
                ctx.error(join(path, i), "nested lists of targets are not allowed")
                continue
            out.extend(parse_target(item, join(path, i), ctx))
        return out
    if isinstance(value, str):
        if not value.strip():
            ctx.error(path, "target is an empty string")
            return []
        source, region = _from_uri(value, path, ctx)
        return [_target(source, region, None)]
    if not isinstance(value, dict):
        ctx.error(path, f"target is not a URI or an object: {value!r}"[:200])
        return []
    has_selector = "selector" in value
    source_value = value.get("source", value.get("full"))
    if source_value is None and not has_selector and node_type(value) != "SpecificResource":
        ident = raw_id(value)  # the target resource itself, e.g. {"id": "canvas#xywh=..", "type": "Canvas"}
        if not isinstance(ident, str) or not ident.strip():
            ctx.error(path, "target has no id or source")
            return []
        source, region = _from_uri(ident, join(path, "id"), ctx)
        return [_target(source, region, _manifest_of(value))]
    source_path = join(path, "source" if "source" in value else "full")
    source_id = reference_id(source_value)
    if source_id is None:
        ctx.error(source_path, "target has no source")
        return []
    source, region = _from_uri(source_id, source_path, ctx)
    if has_selector:
        selected = parse_selector(value["selector"], join(path, "selector"), ctx, ctx.canvas_sizes.get(source))
        region = _merge([region, selected], selected.selector) if region.selector else selected
    return [_target(source, region, _manifest_of(source_value, value))]
