"""The service itself: health (cheap liveness), status (index, catalog, model, jobs), models;
and switching the active index vector (API key required). Jobs have their own endpoints
(``api.jobs``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from loupe_core import __version__
from loupe_models import describe_models, get_spec
from loupe_models.identity import vector_name
from training_worker.broker import broker_location

from ..auth import require_api_key
from ..errors import ApiError, bad_request
from ..responses import json_response
from ..services import get_services

bp = Blueprint("system_api", __name__)


@bp.get("/api/health")
def health() -> Response:
    """Liveness only: touches neither the index nor the model."""
    return json_response({"status": "ok", "version": __version__})


@bp.get("/api/status")
def status() -> Response:
    services = get_services()
    settings = services.settings
    out: dict[str, Any] = {"version": __version__, "model": {"configured": settings.model}}
    try:
        index = services.index.status()
        out["index"] = index
        out["model"]["active_vector"] = index.get("active")
    except Exception as e:  # noqa: BLE001 - the status page reports what is wrong instead of failing
        out["index"] = {"error": str(e)}
    try:
        out["catalog"] = services.catalog.stats()
    except Exception as e:  # noqa: BLE001
        out["catalog"] = {"error": str(e)}

    out["jobs"] = {"broker": broker_location(settings), "submits_to_worker": services.jobs_attached}
    return json_response(out)


@bp.get("/api/models")
def models() -> Response:
    """Every registry model: is it available here, which index vector it makes, how many
    points that vector holds, and which vector is active."""

    services = get_services()
    try:
        held = services.index.status()
    except Exception as e:  # noqa: BLE001 - still list the models
        held = {"active": None, "vectors": {}, "error": str(e)}
    rows = []
    for status_ in describe_models(services.settings):
        spec = get_spec(status_.name)
        vector = vector_name(spec.name, spec.pretrained)
        rows.append({**status_.as_json(), "default": status_.default, "languages": status_.languages,
                     "where": status_.where, "vector": vector,
                     "indexed_points": held["vectors"].get(vector, {}).get("points", 0),
                     "active": held.get("active") == vector})
    return json_response({"models": rows, "active_vector": held.get("active"), "vectors": held.get("vectors", {})})


@bp.post("/api/admin/active-vector")
@require_api_key
def set_active_vector() -> Response:
    """Switch searches to another indexed vector at once (``{"vector": NAME}``)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("vector"), str):
        raise bad_request("send {\"vector\": NAME}; GET /api/models lists the vectors held", field="vector")
    index = get_services().index
    if body["vector"] not in index.vector_names():
        raise ApiError(404, "unknown_vector", f"the index holds no vector {body['vector']!r}; held: "
                       f"{', '.join(index.vector_names()) or 'none'}", field="vector")
    index.set_active(body["vector"])
    return json_response({"active_vector": index.active_vector()})


# --- OpenAPI ----------------------------------------------------------------------------

_ADMIN = [{"ApiKey": []}, {"Bearer": []}]
_AUTH_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/health": {"get": {"tags": ["system"], "summary": "Liveness",
                            "responses": {"200": {"description": "The server answers.", "content": {
                                "application/json": {"example": {"status": "ok", "version": __version__}}}}}}},
    "/api/status": {"get": {"tags": ["system"], "summary": "Index, catalog, model and jobs",
                            "responses": {"200": {"description": "Counts and settings in use.",
                                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/api/models": {"get": {"tags": ["system"], "summary": "Models known, available, indexed and active",
                            "responses": {"200": {"description": "One row per registry model.",
                                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/api/admin/active-vector": {"post": {
        "tags": ["admin"], "summary": "Switch searches to another indexed model vector", "security": _ADMIN,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["vector"], "properties": {"vector": {"type": "string"}}},
            "example": {"vector": "mobileclip2-s0__dfndr2b"}}}},
        "responses": {"200": {"description": "The active vector now."},
                      "404": {"$ref": "#/components/responses/NotFound"}, **_AUTH_ERRORS}}},
}
