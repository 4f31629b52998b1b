"""Curators' reviews of machine annotations: ``POST /api/machine-annotations/<id>/review``
(API key required)."""

from __future__ import annotations

import math
from typing import Any, Mapping

from flask import Blueprint, Response, request

from loupe_tagging import Correction, InvalidCorrection, RegionNotFound, ReviewError, set_review
from loupe_tagging.machine_tags import DECISIONS, MAX_LABEL_LENGTH

from ..auth import key_name, require_api_key
from ..cors import keyed_cross_origin
from ..errors import ApiError, bad_request, not_found
from ..responses import json_response
from ..services import get_services
from .openapi_shared import ERROR_JSON, ERRORS, KEY_SECURITY, WRITE_ERRORS

bp = Blueprint("reviews", __name__)


@bp.post("/api/machine-annotations/<int:region_id>/review")
@keyed_cross_origin  # a curator's own Mirador on another site (review_origins)
@require_api_key
def review(region_id: int) -> Response:
    """A curator's decision on a machine annotation: ``{"decision": "accepted"|"rejected"}``,
    an acceptance optionally corrected first (``label``, ``xywh`` in canvas units)."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, Mapping) or "decision" not in body:
        raise bad_request('send JSON {"decision": "accepted"} or {"decision": "rejected"}', field="decision")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}", field=unknown[0],
                          code="unknown_parameter")
    if body["decision"] not in DECISIONS:
        raise bad_request(f"'decision' must be one of {', '.join(DECISIONS)}, not {body['decision']!r}",
                          field="decision")
    correction = _correction(body)
    reviewer = key_name()
    try:
        region = set_review(get_services().catalog, region_id, body["decision"], reviewer=reviewer,
                            correction=correction)
    except RegionNotFound as e:
        raise not_found(str(e), code="unknown_annotation") from None
    except InvalidCorrection as e:
        raise bad_request(str(e), field=e.field) from None
    except ReviewError as e:  # a curator's own annotation
        raise ApiError(409, "not_machine_annotation", str(e)) from None
    return json_response(region)


FIELDS = ("decision", "label", "xywh")


def _correction(body: Mapping) -> Correction | None:
    label, xywh = body.get("label"), body.get("xywh")
    if label is None and xywh is None:
        return None
    if label is not None and (not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH):
        raise bad_request(f"'label' must be a text of 1 to {MAX_LABEL_LENGTH} characters", field="label")
    box = None
    if xywh is not None:
        if not (isinstance(xywh, list) and len(xywh) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in xywh)):
            raise bad_request("'xywh' must be four numbers [x, y, w, h] in canvas units", field="xywh")
        box = tuple(float(v) for v in xywh)
    return Correction(label=label, box=box)


# --- OpenAPI ---------------------------------------------------------------------------------

_REGION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "canvas_id": {"type": "integer"}, "motivation": {"type": "string"},
    "xywh": {"type": ["array", "null"], "items": {"type": "number"}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "made_by": {"type": "string"}, "model": {"type": ["string", "null"]}, "model_version": {"type": ["string", "null"]},
    "confidence": {"type": ["number", "null"]}, "review": {"enum": ["proposed", "accepted", "rejected", None]},
    "created_at": {"type": ["string", "null"], "format": "date-time"},
    "reviewed_by": {"type": ["string", "null"], "description": "The name of the curator's key (`loupe keys add NAME`), or "
                                                                 "for a key of the api_keys setting the first 12 hex "
                                                                 "characters of its SHA-256 (a key itself is never stored)."},
    "reviewed_at": {"type": ["string", "null"], "format": "date-time"},
    "corrected_from": {"type": ["object", "null"], "description": "The model's proposal, when the curator "
                                                                    "corrected its label or box: {tags, xywh}."}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/machine-annotations/{region_id}/review": {"post": {
        "tags": ["tagging"], "summary": "Accept or reject a machine annotation (API key)",
        "description": "Records a curator's decision on a machine tag proposed by `loupe tag`, who took it (the "
                       "key's name, or a fingerprint of a key of the api_keys setting) and when. An accepted one may "
                       "be corrected first (`label`, `xywh` in canvas units); it is then served in the canvas's AnnotationPage with `loupe:review` "
                       "`accepted`, its model's provenance kept. Decisions are kept when tagging runs again, and a "
                       "decided tag (or the proposal a correction replaced) is never proposed again; rejected ones "
                       "are no longer served.",
        "security": KEY_SECURITY,
        "parameters": [{"name": "region_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision"], "additionalProperties": False,
            "properties": {"decision": {"enum": ["accepted", "rejected"]},
                           "label": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_LENGTH},
                           "xywh": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                                    "description": "The corrected box, canvas units."}}}}}},
        "responses": {"200": {"description": "The annotation with its new review state.",
                              "content": {"application/json": {"schema": _REGION}}},
                      **ERRORS, **WRITE_ERRORS,
                      "409": {"description": "Not a machine annotation.", "content": ERROR_JSON}}}},
}
