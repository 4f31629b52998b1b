"""Every error of the service as JSON: ``{"error": {"code", "message", "field"?}}``.

Views raise ``ApiError`` for what only HTTP knows (keys, routing); everything else raises an
error of its own layer (a request problem, an index, model, catalog or job error) and the
table in ``_from_domain`` is the one place that turns it into a status and a code. Nothing
answers an HTML error page, not even a 404 or 405 from routing, so that API clients and viewers can always
read what went wrong. Unexpected exceptions are logged with their traceback and answered
500 without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from connector.catalog import CatalogError
from connector.catalog.fulltext import FullTextError
from loupe_core.logs import request_id
from loupe_guide import GuideError, InvalidOverride, UnknownGuide, UnknownGuideItem
from loupe_index.errors import (
    CursorError,
    FilterError,
    IndexLockedError,
    QueryError,
    UnknownVectorError,
    VectorIndexError,
)
from loupe_models.errors import (
    ModelDependencyMissing,
    ModelError,
    ModelWeightsMissing,
    TextNotSupported,
    UnknownModel,
)
from loupe_stats import EventError
from training_worker.jobs import JobError, JobNotFound
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import ParamError

from .request_errors import (
    Busy,
    ImageUnavailable,
    InvalidRequest,
    NotInCatalog,
    RateLimited,
    TooLarge,
    UnsupportedImage,
)

log = logging.getLogger(__name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


# Longer messages are cut: one naming every field of a body with 100,000 unknown keys would
# be as large as the body.
MAX_MESSAGE = 2_000


class ApiError(Exception):
    """An error answered as JSON with ``status``; ``code`` is a stable machine-readable word,
    ``message`` says what was wrong and what to do, ``field`` names the parameter at fault."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        message = self.message if len(self.message) <= MAX_MESSAGE else self.message[:MAX_MESSAGE] + " …"
        error: dict[str, Any] = {"code": self.code, "message": message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def bad_request(message: str, *, field: str | None = None, code: str = "invalid_parameter") -> ApiError:
    return ApiError(400, code, message, field=field)


def not_found(message: str, *, field: str | None = None, code: str = "not_found") -> ApiError:
    return ApiError(404, code, message, field=field)


def error_response(error: ApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


# Errors of the layers below -> (status, code). The first matching class decides, so the most
# specific come first. An error that carries its own ``code`` or ``field`` (request problems,
# job parameters) keeps them.
DOMAIN_ANSWERS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], int, str], ...] = (
    (InvalidRequest, 400, "invalid_parameter"),
    (EventError, 400, "invalid_event"),
    (Busy, 503, "busy"),
    (RateLimited, 429, "rate_limited"),
    (NotInCatalog, 404, "not_found"),
    (TooLarge, 413, "upload_too_large"),
    (UnsupportedImage, 415, "unsupported_media_type"),
    (ImageUnavailable, 502, "image_unavailable"),
    (UnknownReference, 404, "not_found"),
    (ParamError, 400, "invalid_parameter"),
    (JobNotFound, 404, "unknown_job"),
    (JobError, 409, "job_conflict"),
    (CursorError, 400, "invalid_cursor"),
    (FilterError, 400, "invalid_filter"),
    (QueryError, 400, "invalid_query"),
    (UnknownVectorError, 409, "unknown_vector"),
    (IndexLockedError, 503, "index_locked"),
    (VectorIndexError, 503, "index_unavailable"),
    (TextNotSupported, 409, "needs_clip_model"),  # text asked of an image-only vector: says where CLIP goes
    (ModelWeightsMissing, 503, "model_weights_missing"),
    (UnknownModel, 503, "unknown_model"),
    ((ModelDependencyMissing, ModelError), 503, "model_unavailable"),
    (CatalogError, 503, "catalog_error"),
    (FullTextError, 503, "fulltext_unavailable"),  # the message says to rebuild (`loupe catalog fulltext`)
    (InvalidOverride, 400, "invalid_parameter"),
    ((UnknownGuide, UnknownGuideItem), 404, "not_found"),
    (GuideError, 400, "invalid_parameter"),
)
# Fields named by errors that do not carry one.
_FIELDS = {CursorError: "cursor"}


def _from_domain(exc: Exception) -> ApiError | None:
    """Errors of the layers below, as the answer they deserve (None: not one we know)."""
    for kinds, status, code in DOMAIN_ANSWERS:
        if isinstance(exc, kinds):
            field = getattr(exc, "field", None) or _FIELDS.get(type(exc))
            retry_after = getattr(exc, "retry_after_s", None)
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return ApiError(status, getattr(exc, "code", None) or code, str(exc), field=field, headers=headers)
    return None


def _too_large_message() -> str:
    """What a 413 was for: the body as a whole, or a form's parts (werkzeug says neither)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if length is not None and (not limit or length <= limit) and request.mimetype in FORM_TYPES:
        parts = current_app.config.get("MAX_FORM_PARTS") or 1_000
        memory = current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000
        return (f"the form has more parts (at most {parts:,}) or larger fields (at most {memory:,} bytes "
                "besides files) than this server accepts")
    return _body_limit_message(limit)


def _body_limit_message(limit: int | None) -> str:
    services = current_app.extensions.get("loupe")
    image_limit = getattr(getattr(services, "settings", None), "max_upload_bytes", None)
    message = "the request body is larger than this server accepts"
    if limit:
        message += f" ({limit:,} bytes)"
    if image_limit:
        message += f"; images may be at most {image_limit:,} bytes (setting max_upload_bytes)"
    return message


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        if error.code == 413:
            code = "upload_too_large"
            message = _too_large_message()
        response = error_response(ApiError(error.code or 500, code, message))
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        known = _from_domain(error)
        if known is not None:
            if known.status >= 500:
                log.warning("%s: %s", known.code, known.message)
            return error_response(known)
        log.exception("unexpected error")
        rid = request_id.get()
        where = f" under request id {rid}" if rid else ""
        return error_response(ApiError(500, "internal_error",
                                       f"the server failed to answer this request; its log has the details{where}"))
