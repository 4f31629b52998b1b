"""Jobs over HTTP (API key required): one endpoint per job kind to queue it
(``POST /api/admin/<kind>``), the jobs list, one job, cancel and retry.

The endpoints, their field lists and their OpenAPI schemas come from the job kinds
(``training_worker.kinds``): a new kind appears here without a line of this file changing.
Every write goes through a job, as everywhere in Loupe.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, request, url_for

from training_worker.jobs import STATES, JobRecord
from training_worker.jobs.kind import JobKind
from training_worker.kinds import JOB_KINDS

from ..auth import require_api_key
from ..errors import ApiError, bad_request
from ..responses import json_response
from ..services import get_services

bp = Blueprint("jobs_api", __name__)

# Job ids are SQL integers: anything larger names no job (and must not reach the database).
MAX_JOB_ID = 2**63 - 1
MAX_LIST = 500


def _submit_view(kind: JobKind) -> Callable[[], Response]:
    def submit() -> Response:
        sent = request.content_length or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
        body = request.get_json(silent=True) if sent else (None if kind.params.required_fields() else {})
        if not isinstance(body, dict):
            raise bad_request(f"the body must be a JSON object: {kind.params.shape()}", code="invalid_json")
        services = get_services()
        params = kind.prepare({k: v for k, v in body.items() if v is not None}, services.settings, services.catalog)
        return _queued(services.job_queue().submit(kind.name, params.as_dict()))

    submit.__name__ = f"submit_{kind.name}"
    submit.__doc__ = f"Queue a {kind.name} job: {kind.title}; 202 with the job and the URL that follows it."
    return require_api_key(submit)


for _kind in JOB_KINDS.values():
    bp.add_url_rule(f"/api/admin/{_kind.name}", view_func=_submit_view(_kind), methods=["POST"])


def _queued(job: JobRecord) -> Response:
    url = url_for("jobs_api.job", job_id=job.id)
    response = json_response({"job": job.as_dict(with_log=False), "url": url}, 202)
    response.headers["Location"] = url
    return response


@bp.get("/api/admin/jobs")
@require_api_key
def jobs() -> Response:
    """Recent jobs, newest first: ``?state=`` (repeatable), ``?kind=``, ``?limit=``."""
    states = request.args.getlist("state")
    unknown = sorted(set(states) - set(STATES))
    if unknown:
        raise bad_request(f"unknown state(s) {', '.join(unknown)}; known: {', '.join(STATES)}", field="state")
    kind = request.args.get("kind")
    if kind is not None and kind not in JOB_KINDS:
        raise bad_request(f"unknown job kind {kind!r}; known: {', '.join(JOB_KINDS)}", field="kind")
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST:
        raise bad_request(f"'limit' must be a whole number from 1 to {MAX_LIST}, not {raw!r}", field="limit")
    records = get_services().job_queue().store.list(limit=int(raw), states=states or None, kind=kind)
    return json_response({"jobs": [r.as_dict(with_log=False) for r in records]})


@bp.get("/api/admin/jobs/<int:job_id>")
@require_api_key
def job(job_id: int) -> Response:
    """A job's state, progress, result and log."""
    return json_response({"job": get_services().job_queue().store.get(_job_id(job_id)).as_dict()})


@bp.post("/api/admin/jobs/<int:job_id>/cancel")
@require_api_key
def cancel(job_id: int) -> Response:
    """Cancel a queued job at once, or ask a running one to stop after its current batch."""
    return json_response({"job": get_services().job_queue().cancel(_job_id(job_id)).as_dict(with_log=False)})


@bp.post("/api/admin/jobs/<int:job_id>/retry")
@require_api_key
def retry(job_id: int) -> Response:
    """Queue a failed, cancelled or interrupted job again; it resumes where it stopped."""
    return _queued(get_services().job_queue().retry(_job_id(job_id)))


def _job_id(job_id: int) -> int:
    if job_id > MAX_JOB_ID:
        raise ApiError(404, "unknown_job", f"there is no job {job_id}")
    return job_id


# --- OpenAPI ----------------------------------------------------------------------------

_ADMIN = [{"ApiKey": []}, {"Bearer": []}]
_AUTH_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"}}
_JOB_ID = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]


def _submit_doc(kind: JobKind) -> dict[str, Any]:
    schema = kind.params.json_schema()
    return {"post": {
        "tags": ["jobs"], "summary": f"Queue a job: {kind.title}", "description": kind.description,
        "security": _ADMIN,
        "requestBody": {"required": bool(schema.get("required")),
                        "content": {"application/json": {"schema": schema}}},
        "responses": {"202": {"description": "Queued: the job, and its URL (also in Location) to follow it.",
                              "content": {"application/json": {"example": {
                                  "job": {"id": 7, "kind": kind.name, "state": "queued"},
                                  "url": "/api/admin/jobs/7"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"},
                      "404": {"$ref": "#/components/responses/NotFound"}, **_AUTH_ERRORS}}}


OPENAPI_PATHS: dict[str, Any] = {
    **{f"/api/admin/{kind.name}": _submit_doc(kind) for kind in JOB_KINDS.values()},
    "/api/admin/jobs": {"get": {
        "tags": ["jobs"], "summary": "Recent jobs, newest first", "security": _ADMIN,
        "parameters": [
            {"name": "state", "in": "query", "schema": {"type": "array", "items": {"enum": list(STATES)}},
             "style": "form", "explode": True},
            {"name": "kind", "in": "query", "schema": {"enum": list(JOB_KINDS)}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST,
                                                         "default": 50}}],
        "responses": {"200": {"description": "The jobs, without their logs."},
                      "400": {"$ref": "#/components/responses/BadRequest"}, **_AUTH_ERRORS}}},
    "/api/admin/jobs/{job_id}": {"get": {
        "tags": ["jobs"], "summary": "A job's state, progress, result and log", "security": _ADMIN,
        "parameters": _JOB_ID,
        "responses": {"200": {"description": "The job."}, "404": {"$ref": "#/components/responses/NotFound"},
                      **_AUTH_ERRORS}}},
    "/api/admin/jobs/{job_id}/cancel": {"post": {
        "tags": ["jobs"], "summary": "Cancel a job", "security": _ADMIN, "parameters": _JOB_ID,
        "responses": {"200": {"description": "The job, cancelled or asked to stop."},
                      "404": {"$ref": "#/components/responses/NotFound"},
                      "409": {"description": "The job has already ended."}, **_AUTH_ERRORS}}},
    "/api/admin/jobs/{job_id}/retry": {"post": {
        "tags": ["jobs"], "summary": "Retry a failed, cancelled or interrupted job", "security": _ADMIN,
        "parameters": _JOB_ID,
        "responses": {"202": {"description": "Queued again."}, "404": {"$ref": "#/components/responses/NotFound"},
                      "409": {"description": "The job cannot be retried in its state."}, **_AUTH_ERRORS}}},
}
