"""Search hits as results people and viewers can use: labels, thumbnail, content-state link.

JSON (one object per hit)::

    {"id": POINT, "score": 0.83, "kind": "region", "xywh": [x, y, w, h],
     "manifest": {"id": URI, "label": "..."}, "canvas": {"id": URI, "label": "..."},
     "label": "Detail: ...", "texts": [...], "view": null, "thumbnail": IMAGE_API_URL,
     "content_state": ENCODED, "viewer": VIEWER_URL?iiif-content=..., "source": ..., "collection": ...,
     "rights": ..., "date": ..., "year": 1665, "similar": URL}

``xywh`` is in canvas coordinates. The thumbnail is an Image API URL of the region where the
image server can crop (level 1 and up); where it cannot (level 0, every published folder, or
no image service), the region cut by this service from its own copy of the image
(``/thumbnails/...``); whole images come from the image server at one of its listed sizes. IIIF form (``iiif_page``): an AnnotationPage in the Content Search 2.0 style,
each result an annotation whose target is the region of the canvas, ``partOf`` its manifest.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from iiif.geometry import canvas_to_image
from iiif.image_api import can_crop, thumbnail_url
from iiif.language import pick
from iiif.model import Box, Image
from iiif.writers.annotations import MachineAnnotation
from iiif.writers.content_search import search_response_v2
from iiif.writers.content_state import content_state_for_region, content_state_link, encode_content_state
from loupe_core.settings import Settings
from loupe_index import SearchHit

from .catalog_reads import CanvasDetails, canvas_details
from .thumbnails import thumbnail_url as service_thumbnail_url

THUMBNAIL_SIDE = 300


def results_json(hits: Sequence[SearchHit], catalog, settings: Settings, *,  # noqa: ANN001
                 base: str | None = None) -> list[dict[str, Any]]:
    """Result objects for ``hits``; ``base`` (this service's URL) adds the ``similar`` links."""
    details = canvas_details(catalog, {(h.manifest, h.canvas) for h in hits if h.manifest and h.canvas})
    return [result_json(h, details.get((h.manifest, h.canvas)), settings, base) for h in hits]


def result_json(hit: SearchHit, canvas: CanvasDetails | None, settings: Settings, base: str | None) -> dict[str, Any]:
    p = hit.payload
    xywh = p.get("xywh")
    labels = [str(t) for t in p.get("labels") or ()]
    manifest_label = pick(canvas.manifest_label) if canvas else ""
    canvas_label = pick(canvas.canvas_label) if canvas else ""
    if hit.kind == "region" and labels:
        label = labels[0]
    else:
        label = manifest_label or (labels[0] if labels else "")
    box = Box(*xywh) if xywh and hit.kind != "image" else None
    state = content_state_for_region(hit.manifest, hit.canvas, box) if hit.manifest and hit.canvas else None
    out: dict[str, Any] = {
        "id": hit.id,
        "score": round(float(hit.score), 5),
        "kind": hit.kind,
        "xywh": xywh,
        "manifest": {"id": hit.manifest, "label": manifest_label or (labels[0] if labels else "")},
        "canvas": {"id": hit.canvas, "label": canvas_label},
        "label": label,
        "texts": labels,
        "view": p.get("view"),
        "thumbnail": thumbnail_for(canvas, xywh, hit.kind, settings if base else None) if canvas else None,
        "content_state": encode_content_state(state) if state else None,
        "viewer": content_state_link(settings.viewer_url, state) if state and settings.viewer_url else None,
        "source": p.get("source"),
        "collection": p.get("collection"),
        "rights": p.get("rights"),
        "date": p.get("date"),
        "year": p.get("year"),
    }
    if base:
        out["similar"] = f"{base}/api/similar/{hit.id}"
    return out


def thumbnail_for(canvas: CanvasDetails, xywh: Sequence[float] | None, kind: str | None,
                  settings: Settings | None = None) -> str | None:
    """A URL showing the region (canvas coordinates) of the canvas's image: the image
    server's own where it can cut regions; else, with ``settings`` (inside a request), this
    service's thumbnail cut from its copy of the image (``thumbnails``)."""
    image = canvas.image
    if image is None:
        return None
    region_wanted = bool(xywh) and kind != "image"
    if settings is not None and region_wanted and (image.service is None or not can_crop(image.service)):
        return service_thumbnail_url(settings, canvas.manifest, canvas.canvas, xywh)
    if image.service is None:
        return image.id  # no Image API: the image itself (viewers scale it)
    service = image.service
    if not (service.width and service.height) and image.width and image.height:
        service = dataclasses.replace(service, width=image.width, height=image.height)
    region = None
    if xywh and kind != "image":
        region = canvas_to_image(_with_size(image, service), Box(*xywh), canvas.width, canvas.height)
    try:
        return thumbnail_url(service, region, THUMBNAIL_SIDE)
    except ValueError:  # size unknown, or the region misses the image
        try:
            return thumbnail_url(service, None, THUMBNAIL_SIDE)
        except ValueError:
            return None


def iiif_page(page_id: str, results: Sequence[dict[str, Any]], *, next_page: str | None = None) -> dict[str, Any]:
    """The results as a Content Search 2.0 style AnnotationPage (motivation ``highlighting``;
    body: the result's label; order: best first). Only Presentation 3 properties are used at
    the page level, so it validates against the v3 schema as well."""
    annotations = [
        MachineAnnotation(id=f"{page_id.split('?', 1)[0]}#{r['id']}", canvas_id=r["canvas"]["id"],
                          manifest_id=r["manifest"]["id"], box=Box(*r["xywh"]) if r.get("xywh") else None,
                          motivation="highlighting", body_value=r.get("label") or None, language=None)
        for r in results if r["canvas"]["id"] and r["manifest"]["id"]]
    page = search_response_v2(page_id, annotations)
    if next_page:
        items = page.pop("items")
        page["next"] = {"id": next_page, "type": "AnnotationPage"}
        page["items"] = items
    return page


def _with_size(image: Image, service) -> Image:  # noqa: ANN001
    if image.width and image.height:
        return image
    return dataclasses.replace(image, width=service.width, height=service.height)
