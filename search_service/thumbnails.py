"""Region thumbnails cut from Loupe's own copy of a catalog image.

    /thumbnails/MANIFESTKEY/CANVASKEY/full.jpg       the canvas's image
    /thumbnails/MANIFESTKEY/CANVASKEY/x,y,w,h.jpg    a region, in canvas units

(keys: ``connector.catalog.keys.uri_key`` of the manifest and canvas URIs). A level 0 image
service (every published folder is one) cannot cut a region, so a search result from it
would show the whole image; ``results`` links here instead. The image is the one the
harvest stored for the catalog (``CatalogImages``: the image cache, or the published folder),
at most ``THUMBNAIL_SIDE`` pixels on its longest side: no URL a client sends is ever fetched,
and the only images read are the catalog's.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, make_response, request
from PIL import Image as PILImage

from connector.catalog.keys import uri_key

from .references import Reference, parse_xywh, resolve_reference
from .request_errors import NotInCatalog
from .services import get_services
from .urls import absolute

bp = Blueprint("thumbnails", __name__)

THUMBNAIL_SIDE = 300
JPEG_QUALITY = 85
CACHE_SECONDS = 86_400


def thumbnail_url(settings, manifest: str, canvas: str, xywh) -> str:  # noqa: ANN001 - Settings, numbers
    """This service's thumbnail of ``xywh`` (canvas units; None: the whole canvas)."""
    region = "full" if not xywh else ",".join(str(int(round(float(v)))) for v in xywh)
    return absolute(settings, f"/thumbnails/{uri_key(manifest)}/{uri_key(canvas)}/{region}.jpg")


@bp.get("/thumbnails/<manifest_key>/<canvas_key>/<region>.jpg")
def region_thumbnail(manifest_key: str, canvas_key: str, region: str) -> Response:
    services = get_services()
    manifest = _named("manifest", manifest_key)
    canvas = _named("canvas", canvas_key)
    xywh = None if region == "full" else parse_xywh(region, "region")
    resolved = resolve_reference(Reference(canvas=canvas, manifest=manifest, xywh=xywh), services.catalog,
                                 services.images)
    picture = resolved.image
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    response = make_response(out.getvalue())
    response.mimetype = "image/jpeg"
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.add_etag()
    return response.make_conditional(request)


def _named(kind: str, key: str) -> str:
    uri = get_services().keys.uri(kind, key)
    if uri is None:
        raise NotInCatalog(code=f"unknown_{kind}", message=f"no {kind} has the key {key!r}")
    return uri


OPENAPI_PATHS: dict[str, Any] = {
    "/thumbnails/{manifest_key}/{canvas_key}/{region}.jpg": {"get": {
        "tags": ["IIIF annotations"],
        "summary": "A region of a catalog image as a small JPEG, cut from Loupe's own copy",
        "description": "For search results whose image server cannot cut regions (IIIF Image API level 0). "
                       f"Longest side at most {THUMBNAIL_SIDE} pixels.",
        "parameters": [
            {"name": "manifest_key", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "canvas_key", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "region", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "`full`, or `x,y,w,h` in canvas units."}],
        "responses": {"200": {"description": "The thumbnail.", "content": {"image/jpeg": {}}},
                      "400": {"$ref": "#/components/responses/BadRequest"},
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
}
