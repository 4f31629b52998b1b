"""The trained Combiners for composed search: ``GET /api/combiners`` lists them per index
vector with their evaluation, ``POST /api/admin/active-combiner`` switches the one a vector's
composed search uses, or back to the zero-shot baseline (API key required). Training them is
the ``combiner`` job (``POST /api/admin/combiner``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from loupe_models.training.combiner_store import CombinerStore, StoredCombiner

from ..auth import require_api_key
from ..errors import ApiError, bad_request
from ..responses import json_response
from ..services import get_services
from .openapi_shared import ERRORS, KEY_SECURITY, WRITE_ERRORS

bp = Blueprint("combiners_api", __name__)


def _row(stored: StoredCombiner, active: StoredCombiner | None) -> dict[str, Any]:
    info = stored.info()
    return {"vector": stored.vector, "version": stored.version, "name": stored.name, "active": stored == active,
            "created": info.get("created"), "triplets": info.get("triplets"), "evaluation": info.get("evaluation")}


@bp.get("/api/combiners")
def list_combiners() -> Response:
    store = CombinerStore(get_services().settings)
    rows, active = [], {}
    for stored in store.list():
        if stored.vector not in active:
            active[stored.vector] = store.active(stored.vector)
        rows.append(_row(stored, active[stored.vector]))
    return json_response({"combiners": rows,
                          "active": {v: (a.name if a else None) for v, a in active.items()}})


@bp.post("/api/admin/active-combiner")
@require_api_key
def set_active_combiner() -> Response:
    """``{"vector": NAME, "version": N}`` makes version N that vector's Combiner;
    ``"version": null`` returns its composed search to the zero-shot baseline."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("vector"), str) or "version" not in body:
        raise bad_request('send {"vector": NAME, "version": N} (null: the zero-shot baseline); '
                          "GET /api/combiners lists them", field="vector")
    version = body["version"]
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise bad_request("version must be an integer or null", field="version")
    store = CombinerStore(get_services().settings)
    held = store.list()
    if body["vector"] not in {c.vector for c in held}:
        raise ApiError(404, "unknown_vector", f"no Combiner has been trained for vector {body['vector']!r}; "
                       f"trained for: {', '.join(sorted({c.vector for c in held})) or 'none'}", field="vector")
    if version is None:
        store.deactivate(body["vector"])
        return json_response({"vector": body["vector"], "active": None, "method": "zero-shot-weighted-sum"})
    stored = store.get(body["vector"], version)
    if stored is None:
        versions = ", ".join(str(c.version) for c in held if c.vector == body["vector"])
        raise ApiError(404, "unknown_combiner", f"vector {body['vector']!r} has no Combiner version {version}; "
                       f"versions: {versions}", field="version")
    store.activate(stored)
    return json_response({"vector": stored.vector, "active": stored.name, "method": stored.name})


OPENAPI_PATHS: dict[str, Any] = {
    "/api/combiners": {"get": {
        "tags": ["search"], "summary": "Trained Combiners for composed search, per vector, the active one marked",
        "responses": {"200": {"description": "One row per trained version with its evaluation.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/api/admin/active-combiner": {"post": {
        "tags": ["admin"], "summary": "Switch the Combiner a vector's composed search uses, or back to the baseline",
        "security": KEY_SECURITY,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["vector", "version"], "additionalProperties": False, "properties": {
                "vector": {"type": "string"},
                "version": {"type": ["integer", "null"], "description": "null: the zero-shot baseline"}}},
            "example": {"vector": "mobileclip2-s0__dfndr2b", "version": 2}}}},
        "responses": {"200": {"description": "The vector's active Combiner now (null: the baseline)."},
                      **ERRORS, **WRITE_ERRORS}}},
}
