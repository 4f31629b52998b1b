"""Curators' overrides of a lens guide's texts and media (API key required):
``GET`` and ``PUT /api/admin/lens/<guide>/items/<item>``. Stored in
``<data_dir>/lens/<guide>/overrides.json``; the next ``loupe lens build`` puts them in the bundle."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from loupe_guide import OVERRIDE_FIELDS, check_guide_id, guide_from_catalog, read_overrides, set_override

from ..auth import require_api_key
from ..errors import bad_request, not_found
from ..responses import json_response
from ..services import get_services
from .openapi_shared import ERRORS, KEY_SECURITY, WRITE_ERRORS

bp = Blueprint("lens_guides", __name__)
ROUTE = "/api/admin/lens/<guide>/items/<item>"


def _known_item(guide: str, item: str) -> None:
    services = get_services()
    found = guide_from_catalog(services.catalog, services.settings.data_dir, check_guide_id(guide)).item(item)
    if found is None:
        raise not_found(f"guide {guide!r} has no item {item!r} (artworks: published file stems; details: "
                        "<artwork>__<detail>)", code="unknown_item")


@bp.get(ROUTE)
@require_api_key
def get_item_overrides(guide: str, item: str) -> Response:
    """The item's overridden fields."""
    check_guide_id(guide)
    return json_response({"guide": guide, "item": item,
                          "overrides": read_overrides(get_services().settings.data_dir, guide).get(item, {})})


@bp.put(ROUTE)
@require_api_key
def put_item_overrides(guide: str, item: str) -> Response:
    """Override fields of an item: ``{"title": {"en": ["..."]}, "audio": {"en": "https://..."}}``;
    a field set to null goes back to what the IIIF says."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise bad_request(f"send a JSON object with one or more of {', '.join(OVERRIDE_FIELDS)}")
    check_guide_id(guide)
    _known_item(guide, item)
    stored = set_override(get_services().settings.data_dir, guide, item, body)
    return json_response({"guide": guide, "item": item, "overrides": stored})


_LANGUAGE_MAP = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                 "description": "IIIF language map"}
_MEDIA = {"type": ["object", "null"], "additionalProperties": {"type": "string", "format": "uri"},
          "description": "language -> http(s) URL"}
_PARAMETERS = [{"name": "guide", "in": "path", "required": True, "schema": {"type": "string"}},
               {"name": "item", "in": "path", "required": True, "schema": {"type": "string"}}]
_ANSWER = {"200": {"description": "The item's overrides.", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"guide": {"type": "string"}, "item": {"type": "string"},
                                     "overrides": {"type": "object"}}}}}}, **ERRORS, **WRITE_ERRORS}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/admin/lens/{guide}/items/{item}": {
        "get": {"tags": ["lens"], "summary": "A lens guide item's overrides (API key)", "security": KEY_SECURITY,
                "parameters": _PARAMETERS, "responses": _ANSWER},
        "put": {"tags": ["lens"], "summary": "Override a lens guide item's texts and media (API key)",
                "description": "Replaces the fields given (title, artist, text: language maps; audio, video: "
                               "language -> URL; links); null restores what the IIIF says. Used by the next "
                               "`loupe lens build`.",
                "security": KEY_SECURITY, "parameters": _PARAMETERS,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": False, "minProperties": 1,
                    "properties": {"title": _LANGUAGE_MAP, "artist": _LANGUAGE_MAP, "text": _LANGUAGE_MAP,
                                   "audio": _MEDIA, "video": _MEDIA, "links": {"type": ["array", "null"]}}}}}},
                "responses": _ANSWER}},
}
