"""The service itself: health (cheap liveness), status (index, catalog, model, jobs), models;
and the admin endpoints (API key required): queue an indexing or a tagging job, follow a job,
switch the active index vector. Writes happen through jobs, as everywhere in Loupe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from loupe_core import __version__

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
    from training_worker.broker import broker_location

    out["jobs"] = {"broker": broker_location(settings), "submits_to_worker": services.jobs_attached}
    return json_response(out)


@bp.get("/api/models")
def models() -> Response:
    """Every registry model: is it available here, which index vector it makes, how many
    points that vector holds, and which vector is active."""
    from loupe_models import describe_models, get_spec
    from loupe_models.identity import vector_name

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


INDEX_JOB_FIELDS = ("source", "model", "activate")
TAG_JOB_FIELDS = ("collection", "vocabulary", "threshold", "top_k", "regions", "model")


def _job_body(fields: tuple[str, ...], *, required: bool) -> dict[str, Any]:
    """The JSON object that parameterises a job: no unknown fields, a known model. An empty
    body is ``{}`` unless the job needs parameters."""
    from loupe_models import UnknownModel, get_spec

    body = request.get_json(silent=True) if request.content_length else (None if required else {})
    shape = "{" + ", ".join(f'"{f}"' + ("" if required and i == 0 else "?") for i, f in enumerate(fields)) + "}"
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object: {shape}", code="invalid_json")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(fields)}",
                          field=unknown[0], code="unknown_parameter")
    if body.get("model") is not None:
        try:
            get_spec(str(body["model"]))
        except UnknownModel as e:
            raise bad_request(str(e), field="model") from None
    return body


@bp.post("/api/admin/index")
@require_api_key
def submit_index_job() -> Response:
    """Queue an indexing job (``{"source"?, "model"?, "activate"?}``); 202 with the job."""
    from training_worker.indexing import IndexParams

    body = _job_body(INDEX_JOB_FIELDS, required=False)
    if body.get("activate") is not None and not isinstance(body["activate"], bool):
        raise bad_request("'activate' must be true or false", field="activate")
    services = get_services()
    if body.get("source") is not None:
        from connector.catalog import CatalogError

        try:
            services.catalog.get_source(str(body["source"]))
        except CatalogError as e:
            raise ApiError(404, "unknown_source", str(e), field="source") from None
    try:
        params = IndexParams.from_dict({k: v for k, v in body.items() if v is not None}).as_dict()
    except (TypeError, ValueError) as e:
        raise bad_request(str(e)) from None
    job = services.job_queue().submit("index", params)
    return json_response({"job": job.as_dict(with_log=False)}, 202)


@bp.post("/api/admin/tag")
@require_api_key
def submit_tag_job() -> Response:
    """Queue a zero-shot tagging job (``{"collection", "vocabulary"?, "threshold"?, "top_k"?,
    "regions"?, "model"?}``); 202 with the job and the URL that follows it."""
    from loupe_tagging import ScopeError, VocabularyError, VocabularyStore, resolve_scope
    from loupe_tagging.scope import named_vocabulary
    from training_worker.tagging_job import TagParams

    body = _job_body(TAG_JOB_FIELDS, required=True)
    try:
        params = TagParams.from_dict({k: v for k, v in body.items() if v is not None})
    except ValueError as e:  # the messages start with the field's name; VocabularyError's not always
        first = str(e).split(" ", 1)[0]
        field = "vocabulary" if isinstance(e, VocabularyError) else (first if first in TAG_JOB_FIELDS else None)
        raise bad_request(str(e), field=field) from None
    catalog = get_services().catalog
    try:
        resolve_scope(catalog, params.collection)
    except ScopeError as e:
        raise ApiError(404, "unknown_collection", str(e), field="collection") from None
    if isinstance(params.vocabulary, str):
        try:
            named_vocabulary(VocabularyStore(catalog.engine), params.vocabulary)
        except ScopeError as e:
            raise ApiError(404, "unknown_vocabulary", str(e), field="vocabulary") from None
    job = get_services().job_queue().submit("tag", params.as_dict())
    url = url_for("system_api.job", job_id=job.id)
    response = json_response({"job": job.as_dict(with_log=False), "url": url}, 202)
    response.headers["Location"] = url
    return response


@bp.get("/api/admin/jobs/<int:job_id>")
@require_api_key
def job(job_id: int) -> Response:
    from training_worker.jobs import JobNotFound

    try:
        record = get_services().job_queue().store.get(job_id)
    except JobNotFound:
        raise ApiError(404, "unknown_job", f"there is no job {job_id}") from None
    return json_response({"job": record.as_dict()})


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
    "/api/admin/index": {"post": {
        "tags": ["admin"], "summary": "Queue an indexing job", "security": _ADMIN,
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "source": {"type": "string", "description": "id, name or URL of one source; default: all"},
            "model": {"type": "string", "description": "registry model; default: the model setting"},
            "activate": {"type": "boolean", "description": "make this model's vector active when done"}}},
            "example": {"model": "MobileCLIP2-S0", "activate": True}}}},
        "responses": {"202": {"description": "Queued; follow it at /api/admin/jobs/{id}."},
                      "400": {"$ref": "#/components/responses/BadRequest"}, **_AUTH_ERRORS}}},
    "/api/admin/tag": {"post": {
        "tags": ["admin"], "summary": "Queue a zero-shot tagging job for a collection", "security": _ADMIN,
        "description": "Tags every image (and annotated region) of the collection and stores the tags as machine "
                       "annotations for curators to review, as `loupe tag` does. Rerunning replaces the model's "
                       "earlier proposals and keeps curators' decisions.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["collection"], "properties": {
                "collection": {"type": "string",
                               "description": "'all', a source id or name, a IIIF Collection URI or key"},
                "vocabulary": {"description": "a stored list's key or 'default', or inline labels (strings or "
                                              "{label, language?, prompt?}), or {name?, labels}; default: each "
                                              "collection's curator list, else the built-in list",
                               "oneOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
                "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2,
                              "description": "keep tags with at least this score (softmax over the vocabulary)"},
                "top_k": {"type": "integer", "minimum": 1, "default": 3,
                          "description": "at most this many tags per image or region"},
                "regions": {"type": "boolean", "default": True, "description": "also tag annotated regions"},
                "model": {"type": "string", "description": "registry model; default: the model setting"}}},
            "example": {"collection": "all", "vocabulary": ["Annunciation", "sunflowers"], "top_k": 2}}}},
        "responses": {"202": {"description": "Queued: the job, and its URL (also in Location) to follow it.",
                              "content": {"application/json": {"example": {
                                  "job": {"id": 7, "kind": "tag", "state": "queued"},
                                  "url": "/api/admin/jobs/7"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"},
                      "404": {"$ref": "#/components/responses/NotFound"}, **_AUTH_ERRORS}}},
    "/api/admin/jobs/{job_id}": {"get": {
        "tags": ["admin"], "summary": "A job's state, progress, result and log", "security": _ADMIN,
        "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The job."}, "404": {"$ref": "#/components/responses/NotFound"},
                      **_AUTH_ERRORS}}},
    "/api/admin/active-vector": {"post": {
        "tags": ["admin"], "summary": "Switch searches to another indexed model vector", "security": _ADMIN,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["vector"], "properties": {"vector": {"type": "string"}}},
            "example": {"vector": "mobileclip2-s0__dfndr2b"}}}},
        "responses": {"200": {"description": "The active vector now."},
                      "404": {"$ref": "#/components/responses/NotFound"}, **_AUTH_ERRORS}}},
}
