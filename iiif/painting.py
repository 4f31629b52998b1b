"""Images painted onto canvases: the bodies of painting annotations (v3 ``body``, v2
``resource``), including Choices (v3 ``items``, v2 ``default``/``item``) and
SpecificResources that paint part of an image (v3 ``source``, v2 ``full``, with an
ImageApiSelector or xywh FragmentSelector)."""

from __future__ import annotations

from typing import Any

from iiif._context import ReadContext, join
from iiif._values import (
    as_list,
    clean_id,
    first_string,
    id_key,
    is_absolute_uri,
    node_type,
    raw_id,
    to_int,
    with_article,
)
from iiif.image_service import image_service
from iiif.language import language_map
from iiif.model import Box, Image
from iiif.selectors import parse_selector

_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".webp", ".jp2", ".bmp")


def _is_image(obj: dict, kind: str | None) -> bool:
    if kind == "Image":
        return True
    if kind is not None:
        return False
    fmt = first_string(obj.get("format")) or ""
    ident = raw_id(obj)
    return (fmt.startswith("image/") or "service" in obj
            or (isinstance(ident, str) and ident.lower().split("?")[0].endswith(_IMAGE_EXTENSIONS)))


def _image(obj: Any, path: str, ctx: ReadContext, target_box: Box | None, annotation_id: str | None) -> Image | None:
    if isinstance(obj, str):
        if not is_absolute_uri(obj.strip()):
            ctx.error(path, f"painted resource is neither an object nor a URI: {obj!r}"[:200])
            return None
        ctx.warn(path, "image given only by URI; its format and size are unknown")
        return Image(id=obj.strip(), target_box=target_box, annotation_id=annotation_id)
    if not isinstance(obj, dict):
        ctx.error(path, f"painted resource is not an object: {obj!r}"[:200])
        return None
    kind = node_type(obj)
    if not _is_image(obj, kind):
        if kind is None:
            ctx.warn(path, "painted resource has no type; assumed to be an image")
        else:
            ctx.warn(path, f"painted resource is {with_article(kind)}, not an image; Loupe reads images only")
            return None
    elif kind is None:
        ctx.warn(path, "painted resource has no type; assumed to be an image")
    service = image_service(obj.get("service"), join(path, "service"), ctx,
                            default_version=2 if ctx.version == 2 else 3)
    ident = clean_id(raw_id(obj), join(path, id_key(obj)), ctx, kind="image", required=service is None)
    if ident is None:
        if service is None:
            return None
        ctx.warn(join(path, id_key(obj)), f"image has no usable id; using its image service {service.id}")
        ident = service.id
    return Image(
        id=ident,
        format=first_string(obj.get("format")),
        width=to_int(obj.get("width"), join(path, "width"), ctx, "width"),
        height=to_int(obj.get("height"), join(path, "height"), ctx, "height"),
        service=service,
        target_box=target_box,
        label=language_map(obj.get("label"), join(path, "label"), ctx),
        annotation_id=annotation_id,
    )


def _specific_image(obj: dict, path: str, ctx: ReadContext, target_box: Box | None,
                    annotation_id: str | None) -> Image | None:
    key = "source" if "source" in obj else "full"
    source = obj.get(key)
    if source is None:
        ctx.error(path, "SpecificResource has no source (v3) or full (v2) image")
        return None
    image = _image(source, join(path, key), ctx, target_box, annotation_id)
    if image is None:
        return None
    if "selector" in obj:
        width = image.width or (image.service.width if image.service else None)
        height = image.height or (image.service.height if image.service else None)
        region = parse_selector(obj["selector"], join(path, "selector"), ctx, (width, height))
        image.source_box = region.box
        if region.rotation:
            ctx.warn(join(path, "selector"), f"image rotation {region.rotation} is not applied to region geometry")
    if obj.get("style") or obj.get("styleClass"):
        ctx.warn(path, "CSS style on the painted image (e.g. rotation) is ignored")
    return image


def images_from_body(value: Any, path: str, ctx: ReadContext, *, target_box: Box | None = None,
                     annotation_id: str | None = None) -> list[Image]:
    """The images painted by one painting annotation's body (a Choice yields one image whose
    ``alternatives`` hold the other options)."""
    if value is None:
        ctx.error(path, "painting annotation has no body/resource")
        return []
    out: list[Image] = []
    items = as_list(value)
    for i, item in enumerate(items):
        here = join(path, i) if isinstance(value, list) else path
        kind = node_type(item)
        if kind == "Choice":
            options = [(join(here, "default"), o) for o in as_list(item.get("default"))]
            for key in ("item", "items"):
                options += [(join(join(here, key), j), o) for j, o in enumerate(as_list(item.get(key)))]
            images = []
            for where, option in options:
                if option == "rdf:nil":  # v2 "no image" option
                    continue
                read_option = _specific_image if node_type(option) == "SpecificResource" else _image
                image = read_option(option, where, ctx, target_box, annotation_id)
                if image is not None:
                    images.append(image)
            if not images:
                ctx.warn(here, "Choice offers no image")
                continue
            images[0].alternatives = images[1:]
            out.append(images[0])
        elif kind == "SpecificResource":
            image = _specific_image(item, here, ctx, target_box, annotation_id)
            if image is not None:
                out.append(image)
        else:
            image = _image(item, here, ctx, target_box, annotation_id)
            if image is not None:
                out.append(image)
    return out
