"""Curators' reviews of machine annotations: ``POST /api/machine-annotations/<id>/review``
(API key required)."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, request

from loupe_tagging import RegionNotFound, ReviewError, set_review
from loupe_tagging.machine_tags import DECISIONS

from ..auth import require_api_key
from ..errors import ApiError, bad_request, not_found
from ..responses import json_response
from ..services import get_services
from .openapi_shared import ERROR_JSON, ERRORS, KEY_SECURITY, WRITE_ERRORS

bp = Blueprint("reviews", __name__)


@bp.post("/api/machine-annotations/<int:region_id>/review")
@require_api_key
def review(region_id: int) -> Response:
    """A curator's decision on a machine annotation: ``{"decision": "accepted"|"rejected"}``."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, Mapping) or "decision" not in body:
        raise bad_request('send JSON {"decision": "accepted"} or {"decision": "rejected"}', field="decision")
    unknown = sorted(set(body) - {"decision"})
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: decision", field=unknown[0],
                          code="unknown_parameter")
    if body["decision"] not in DECISIONS:
        raise bad_request(f"'decision' must be one of {', '.join(DECISIONS)}, not {body['decision']!r}",
                          field="decision")
    try:
        region = set_review(get_services().catalog, region_id, body["decision"])
    except RegionNotFound as e:
        raise not_found(str(e), code="unknown_annotation") from None
    except ReviewError as e:  # a curator's own annotation
        raise ApiError(409, "not_machine_annotation", str(e)) from None
    return json_response(region)


# --- OpenAPI ---------------------------------------------------------------------------------

_REGION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "canvas_id": {"type": "integer"}, "motivation": {"type": "string"},
    "xywh": {"type": ["array", "null"], "items": {"type": "number"}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "made_by": {"type": "string"}, "model": {"type": ["string", "null"]}, "model_version": {"type": ["string", "null"]},
    "confidence": {"type": ["number", "null"]}, "review": {"enum": ["proposed", "accepted", "rejected", None]},
    "created_at": {"type": ["string", "null"], "format": "date-time"}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/machine-annotations/{region_id}/review": {"post": {
        "tags": ["tagging"], "summary": "Accept or reject a machine annotation (API key)",
        "description": "Records a curator's decision on a machine tag proposed by `loupe tag`. Decisions are kept "
                       "when tagging runs again, and a decided tag is never proposed again for that region.",
        "security": KEY_SECURITY,
        "parameters": [{"name": "region_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision"], "additionalProperties": False,
            "properties": {"decision": {"enum": ["accepted", "rejected"]}}}}}},
        "responses": {"200": {"description": "The annotation with its new review state.",
                              "content": {"application/json": {"schema": _REGION}}},
                      **ERRORS, **WRITE_ERRORS,
                      "409": {"description": "Not a machine annotation.", "content": ERROR_JSON}}}},
}
