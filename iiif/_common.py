"""Pieces shared by the Presentation 2 and 3 readers: the resource's own id, canvas checks,
painting annotations, and validation of enumerated values."""

from __future__ import annotations

from typing import Any

from iiif._context import ReadContext, join
from iiif._values import as_list, clean_id, id_key, node_types, raw_id, reference_id, split_fragment
from iiif.annotations import motivations_of, page_is_embedded, parse_annotation, parse_annotation_page
from iiif.geometry import image_points_to_canvas, image_to_canvas
from iiif.model import Box, Canvas, Image, Target
from iiif.painting import images_from_body
from iiif.selectors import parse_target

VIEWING_DIRECTIONS = frozenset({"left-to-right", "right-to-left", "top-to-bottom", "bottom-to-top"})
V3_BEHAVIORS = frozenset({
    "auto-advance", "no-auto-advance", "repeat", "no-repeat", "unordered", "individuals", "continuous",
    "paged", "facing-pages", "non-paged", "multi-part", "together", "sequence", "thumbnail-nav",
    "no-nav", "hidden",
})
V2_VIEWING_HINTS = frozenset({"individuals", "paged", "continuous", "multi-part", "non-paged", "top", "facing-pages"})


def own_id(doc: dict, path: str, ctx: ReadContext, kind: str) -> str:
    """The id of a top-level resource; the document URL stands in (with a warning) when it
    has none, else an error and an empty id."""
    raw = raw_id(doc)
    if raw is None and ctx.url and not path:
        ctx.warn(join(path, id_key(doc)), f"{kind} has no id; the document URL is used")
        return ctx.url
    ident = clean_id(raw, join(path, id_key(doc)), ctx, kind=kind)
    return ident or ""


def check_enum(value: Any, allowed: frozenset[str], path: str, ctx: ReadContext, what: str) -> None:
    for item in as_list(value):
        if not isinstance(item, str) or item not in allowed:
            ctx.warn(path, f"invalid {what} {item!r} (allowed: {', '.join(sorted(allowed))})")


def canvas_id(raw: Any, path: str, ctx: ReadContext) -> str | None:
    ident = clean_id(raw, path, ctx, kind="canvas")
    if ident is None:
        return None
    base, fragment = split_fragment(ident)
    if fragment is not None:
        ctx.warn(path, f"canvas id carries a fragment ({fragment!r}); it is removed")
    return base


def paint(canvas: Canvas, ann: Any, path: str, ctx: ReadContext, *, v2: bool) -> None:
    """Read one annotation from a canvas's painting list (v3 ``items`` page, v2 ``images``):
    painting ones add images, anything else goes to the canvas's annotations."""
    if not isinstance(ann, dict):
        ctx.error(path, f"expected a painting annotation, found {type(ann).__name__} {ann!r}"[:200])
        return
    motivations = motivations_of(ann, path, ctx)
    if not motivations:
        ctx.warn(path, "painting annotation has no motivation; painting assumed")
    elif "painting" not in motivations:
        if v2:  # v2 "images" holds only painting annotations whatever they say
            ctx.warn(path, f"annotation in images has motivation {motivations}, not sc:painting; read as painting")
        else:
            other = parse_annotation(ann, path, ctx, default_target=canvas.id)
            if other is not None:
                canvas.annotations.append(other)
            return
    body_key = "body" if "body" in ann else "resource"
    if _is_textual(ann.get(body_key)):  # painted text (transcription, caption): an annotation, not an image
        text = parse_annotation(ann, path, ctx, default_target=canvas.id)
        if text is not None:
            canvas.annotations.append(text)
        return
    ident = clean_id(raw_id(ann), join(path, id_key(ann)), ctx, kind="annotation", required=False)
    if ident:
        ctx.register_id(ident, path, "annotation")
    target_key = "target" if "target" in ann else "on"
    target_box = None
    if ann.get(target_key) is None:
        ctx.warn(path, f"painting annotation has no {target_key}; it is assumed to paint the whole canvas")
    else:
        targets = parse_target(ann[target_key], join(path, target_key), ctx)
        mine = [t for t in targets if t.source == canvas.id]
        if targets and not mine:
            ctx.warn(join(path, target_key),
                     f"painting annotation targets {targets[0].source}, not its canvas {canvas.id}")
        chosen = (mine or targets or [None])[0]
        target_box = chosen.box if chosen else None
    images = images_from_body(ann.get(body_key), join(path, body_key), ctx, target_box=target_box, annotation_id=ident)
    canvas.images.extend(images)
    if images:
        _image_annotations(canvas, images, ann.get(body_key), join(path, body_key), ctx)


def _with_annotations(value: Any, path: str) -> list[tuple[dict, str]]:
    """Painted resources (inside Choices and SpecificResources too) that carry ``annotations``."""
    found: list[tuple[dict, str]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += _with_annotations(item, join(path, i))
    elif isinstance(value, dict):
        if "annotations" in value:
            found.append((value, join(path, "annotations")))
        for key in ("items", "item", "default", "source", "full"):
            if key in value and isinstance(value[key], (dict, list)):
                found += _with_annotations(value[key], join(path, key))
    return found


def _image_annotations(canvas: Canvas, images: list[Image], body: Any, path: str, ctx: ReadContext) -> None:
    """Annotations embedded in a painted image (e.g. on one layer of a Choice) are kept on the
    canvas, their targets moved from image pixels to canvas units."""
    by_id: dict[str, Image] = {}
    for image in images:
        for option in [image, *image.alternatives]:
            by_id[option.id] = option
            if option.service is not None:
                by_id[option.service.id] = option
    for holder, pages_path in _with_annotations(body, path):
        pages = holder.get("annotations")
        for i, page in enumerate(as_list(pages)):
            here = join(pages_path, i) if isinstance(pages, list) else pages_path
            if not page_is_embedded(page):
                ref = reference_id(page)
                if ref and ref not in canvas.annotation_refs:
                    canvas.annotation_refs.append(ref)
                continue
            for ann in parse_annotation_page(page, here, ctx).annotations:
                ann.targets = [_to_canvas(t, by_id, canvas, here, ctx) for t in ann.targets]
                canvas.annotations.append(ann)


def _to_canvas(target: Target, by_id: dict[str, Image], canvas: Canvas, path: str, ctx: ReadContext) -> Target:
    image = by_id.get(target.source)
    if image is None:
        return target
    w, h = canvas.width, canvas.height
    if target.box:
        box = image_to_canvas(image, target.box, w, h)
        if box is None:
            ctx.warn(path, "region on the image cannot be placed on the canvas "
                           "(outside the painted part, or sizes unknown)")
    else:  # the whole image: where it is painted
        box = image.target_box or (Box(0, 0, w, h) if w and h else None)
    polygon = image_points_to_canvas(image, target.polygon, w, h) if target.polygon else None
    point = image_points_to_canvas(image, [target.point], w, h) if target.point else None
    return Target(source=canvas.id, box=box, selector=target.selector, polygon=polygon,
                  point=point[0] if point else None, svg=target.svg, manifest=target.manifest)


def _is_textual(body: Any) -> bool:
    """Whether every painted body is text (TextualBody, cnt:ContentAsText)."""
    bodies = as_list(body)
    if not bodies:
        return False
    for item in bodies:
        types = node_types(item)
        if "Choice" in types:
            options = as_list(item.get("default")) + as_list(item.get("item")) + as_list(item.get("items"))
            if not _is_textual([o for o in options if o != "rdf:nil"]):
                return False
        elif not set(types) & {"TextualBody", "ContentAsText"}:
            return False
    return True


def check_canvas(canvas: Canvas, path: str, ctx: ReadContext) -> None:
    """Warnings about a canvas Loupe cannot use as intended."""
    if (canvas.width is None) != (canvas.height is None):
        ctx.warn(path, "canvas has only one of width and height")
    if canvas.images and (canvas.width is None or canvas.height is None):
        ctx.warn(path, "canvas has no width/height; regions on it cannot be mapped to image pixels")
    if not canvas.images:
        if canvas.duration is not None:
            ctx.warn(path, f"time-based canvas (duration {canvas.duration:g}s) paints no image; "
                           "Loupe reads still images only")
        else:
            ctx.warn(path, "canvas paints no image")
