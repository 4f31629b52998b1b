"""IIIF Image API service blocks (embedded in manifests) and ``info.json`` documents, for
Image API 1.x, 2.x and 3.0, read into ``ImageService``.

The version comes from, in order: the ``type`` (``ImageService1/2/3``), the ``@context``,
the ``profile`` URI; only then the caller's guess (with a warning). The compliance level
comes from the profile: ``level0``/``level1``/``level2`` as a v3 name, a v2 URI
(``http://iiif.io/api/image/2/level1.json``) or a v1 URI (``...compliance.html#level1``).
"""

from __future__ import annotations

import re
from typing import Any

from iiif._context import ReadContext, join
from iiif._values import as_list, id_key, node_type, raw_id, to_float
from iiif.model import ImageService, Problem

_LEVEL = re.compile(r"level\s*([0-2])", re.IGNORECASE)


def _context_version(obj: dict) -> int | None:
    for ctx_uri in as_list(obj.get("@context")):
        if not isinstance(ctx_uri, str):
            continue
        if "iiif.io/api/image/3" in ctx_uri:
            return 3
        if "iiif.io/api/image/2" in ctx_uri:
            return 2
        if "iiif.io/api/image/1" in ctx_uri or "library.stanford.edu/iiif/image-api" in ctx_uri:
            return 1
    return None


def _profile_strings(obj: dict) -> list[str]:
    return [p.strip() for p in as_list(obj.get("profile")) if isinstance(p, str) and p.strip()]


def _profile_version(profiles: list[str]) -> int | None:
    for p in profiles:
        if "iiif.io/api/image/3" in p:
            return 3
        if "iiif.io/api/image/2" in p:
            return 2
        if "library.stanford.edu/iiif/image-api" in p or "iiif.io/api/image/1" in p:
            return 1
        if re.fullmatch(r"level[0-2]", p):
            return 3
    return None


def service_version(obj: Any) -> int | None:
    """The Image API major version a service block declares, or ``None`` when it does not
    look like an image service at all (auth, search, a web page...)."""
    if not isinstance(obj, dict):
        return None
    kind = node_type(obj) or ""
    m = re.fullmatch(r"ImageService([123])", kind)
    if m:
        return int(m.group(1))
    return _context_version(obj) or _profile_version(_profile_strings(obj))


def _looks_like_image_service(obj: dict) -> bool:
    return any(k in obj for k in ("width", "height", "tiles", "sizes", "scale_factors"))


def _base_uri(ident: str) -> str:
    ident = ident.strip()
    if ident.endswith("/info.json"):
        ident = ident[: -len("/info.json")]
    return ident.rstrip("/")


def _positive_int(value: Any) -> int | None:
    number = to_float(value)
    if number is None or number <= 0:
        return None
    return int(round(number))


def parse_service(obj: Any, path: str, ctx: ReadContext, default_version: int | None = None,
                  *, fallback_id: str | None = None) -> ImageService | None:
    """One service block as an ``ImageService``; ``None`` (no Problem) when it is not an
    image service, ``None`` with a Problem when it is one but unusable."""
    if not isinstance(obj, dict):
        return None
    version = service_version(obj)
    if version is None:
        if default_version is None or not _looks_like_image_service(obj):
            return None
        version = default_version
        ctx.warn(path, f"image service does not say its Image API version; assuming {version}")
    ident = raw_id(obj)
    if not isinstance(ident, str) or not ident.strip():
        if fallback_id:
            ctx.warn(join(path, id_key(obj)), f"image service has no id; using {fallback_id}")
            ident = fallback_id
        else:
            ctx.error(join(path, id_key(obj)), "image service has no id")
            return None
    profiles = _profile_strings(obj)
    level = None
    for p in profiles:
        m = _LEVEL.search(p)
        if m:
            level = int(m.group(1))
            break
    service = ImageService(
        id=_base_uri(ident), version=version, level=level, profile=profiles[0] if profiles else None,
        width=_positive_int(obj.get("width")), height=_positive_int(obj.get("height")),
    )
    for i, size in enumerate(as_list(obj.get("sizes"))):
        w = _positive_int(size.get("width")) if isinstance(size, dict) else None
        h = _positive_int(size.get("height")) if isinstance(size, dict) else None
        if w and h:
            service.sizes.append((w, h))
        else:
            ctx.warn(join(join(path, "sizes"), i), "size without a positive width and height; ignored")
    for i, tile in enumerate(as_list(obj.get("tiles"))):
        w = _positive_int(tile.get("width")) if isinstance(tile, dict) else None
        if not w:
            ctx.warn(join(join(path, "tiles"), i), "tile without a positive width; ignored")
            continue
        factors = [f for f in (_positive_int(s) for s in as_list(tile.get("scaleFactors"))) if f]
        service.tiles.append({"width": w, "height": _positive_int(tile.get("height")) or w, "scaleFactors": factors})
    if version == 1 and obj.get("tile_width"):  # Image API 1.1 info.json
        w = _positive_int(obj.get("tile_width"))
        if w:
            factors = [f for f in (_positive_int(s) for s in as_list(obj.get("scale_factors"))) if f]
            service.tiles.append({"width": w, "height": _positive_int(obj.get("tile_height")) or w,
                                  "scaleFactors": factors})
    features: list[str] = []
    formats: list[str] = []
    for extra in as_list(obj.get("profile")):
        if isinstance(extra, dict):  # Image API 2 profile description
            features += [f for f in as_list(extra.get("supports")) if isinstance(f, str)]
            formats += [f for f in as_list(extra.get("formats")) if isinstance(f, str)]
    features += [f for f in as_list(obj.get("extraFeatures")) if isinstance(f, str)]
    for key in ("formats", "preferredFormats", "extraFormats"):
        formats += [f for f in as_list(obj.get(key)) if isinstance(f, str)]
    service.extra_features = list(dict.fromkeys(features))
    service.formats = list(dict.fromkeys(formats))
    if service.level is None:
        ctx.warn(join(path, "profile"), "image service does not declare a compliance level (level0/1/2)")
    return service


def image_service(value: Any, path: str, ctx: ReadContext, default_version: int) -> ImageService | None:
    """The best image service among an image's ``service`` value (one or a list): the
    highest Image API version on offer."""
    if isinstance(value, dict) and ctx.version >= 3:
        ctx.warn(path, "service must be a list in Presentation 3")
    found: list[ImageService] = []
    items = as_list(value)
    for i, item in enumerate(items):
        here = join(path, i) if isinstance(value, list) else path
        if isinstance(item, str):
            ctx.warn(here, "service given as a bare URI; its Image API version and level are unknown")
            continue
        service = parse_service(item, here, ctx, default_version)
        if service is not None:
            found.append(service)
    if not found:
        return None
    return max(found, key=lambda s: s.version)


def service_blocks(value: Any, path: str, ctx: ReadContext) -> list[dict]:
    """Manifest-level services as plain ``{"id", "type", "profile"}`` dicts."""
    out: list[dict] = []
    items = as_list(value)
    for i, item in enumerate(items):
        here = join(path, i) if isinstance(value, list) else path
        if isinstance(item, str):
            out.append({"id": item.strip(), "type": None, "profile": None})
            continue
        ident = raw_id(item)
        if not isinstance(ident, str) or not ident.strip():
            ctx.warn(here, "service has no id; ignored")
            continue
        profiles = _profile_strings(item)
        out.append({"id": ident.strip(), "type": node_type(item), "profile": profiles[0] if profiles else None})
    return out


def read_info_json(doc: Any, url: str | None = None) -> tuple[ImageService | None, list[Problem]]:
    """Read an Image API ``info.json`` (1.x, 2.x or 3.0). Never raises."""
    ctx = ReadContext(url=url)
    try:
        if not isinstance(doc, dict):
            ctx.error("", f"info.json must be a JSON object, not {type(doc).__name__}")
            return None, ctx.problems
        if service_version(doc) is None:
            ctx.error("", "not an Image API info.json: neither its @context, type nor profile "
                          "names an Image API version")
            return None, ctx.problems
        fallback = _base_uri(url) if url else None
        service = parse_service(doc, "", ctx, fallback_id=fallback)
        if service is not None:
            if service.width is None:
                ctx.error("width", "info.json has no positive width")
            if service.height is None:
                ctx.error("height", "info.json has no positive height")
        return service, ctx.problems
    except Exception as e:  # noqa: BLE001 - the reader never raises
        ctx.error("", f"internal error while reading info.json: {type(e).__name__}: {e}")
        return None, ctx.problems
