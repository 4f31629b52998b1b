"""Curators' label lists over HTTP: ``GET /api/vocabularies``, ``GET|PUT|DELETE
/api/vocabularies/<key>`` (writes need an API key)."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, request

from loupe_tagging import ScopeError, Vocabulary, VocabularyError, default_vocabulary, resolve_scope
from loupe_tagging.default_vocabulary import DEFAULT_NAME
from loupe_tagging.scope import vocabulary_key
from loupe_tagging.vocabulary import make_vocabulary, parse_vocabulary

from ..auth import require_api_key
from ..errors import ApiError, bad_request, not_found
from ..responses import json_response
from ..services import get_services
from .openapi_shared import ERROR_JSON, ERRORS, KEY_SECURITY, LABEL, WRITE_ERRORS

bp = Blueprint("vocabularies", __name__)

PUT_TYPES = {"application/json": "json", "text/plain": "txt", "text/csv": "csv"}


@bp.get("/api/vocabularies")
def list_vocabularies() -> Response:
    default = default_vocabulary()
    rows = [{"key": DEFAULT_NAME, "source_id": None, "collection": None, "title": "built-in default",
             "size": len(default), "digest": default.digest[:16], "updated_at": None}]
    rows += [v.summary() for v in get_services().vocabularies.list()]
    return json_response({"vocabularies": rows})


@bp.get("/api/vocabularies/<key>")
def get_vocabulary(key: str) -> Response:
    services = get_services()
    if key == DEFAULT_NAME:
        return json_response({**default_vocabulary().as_json(), "key": DEFAULT_NAME})
    try:
        found = services.vocabularies.get(vocabulary_key(services.catalog, services.vocabularies, key))
    except ScopeError:
        found = None
    if found is None:
        raise not_found(f"no vocabulary {key!r}: that collection has no list of its own and is tagged with the "
                        "'all' list if there is one, else 'default' (GET /api/vocabularies lists them)",
                        code="unknown_vocabulary")
    return json_response(found.as_json())


@bp.put("/api/vocabularies/<key>")
@require_api_key
def put_vocabulary(key: str) -> Response:
    """Replace the list of a collection (its URL key), a source (its name) or ``all``. Body:
    JSON ``{"labels": [...], "title"?}`` (labels: strings or {label, language?, prompt?}),
    or text/plain (one label a line), or text/csv (a label column)."""
    services = get_services()
    if key == DEFAULT_NAME:
        raise ApiError(409, "read_only_vocabulary", "the built-in 'default' vocabulary cannot be changed; "
                       "set 'all' to give every collection without its own list another one")
    try:
        scope = resolve_scope(services.catalog, key)
    except ScopeError as e:
        raise not_found(str(e), code="unknown_collection") from None
    vocabulary, title = _vocabulary_from_body(scope.key)
    existed = services.vocabularies.get(scope.key) is not None
    stored = services.vocabularies.put(scope.key, vocabulary, source_id=scope.source_id, collection_uri=scope.collection_uri,
                             title=title)
    return json_response(stored.as_json(), 200 if existed else 201)


@bp.delete("/api/vocabularies/<key>")
@require_api_key
def delete_vocabulary(key: str) -> Response:
    services = get_services()
    try:
        canonical = vocabulary_key(services.catalog, services.vocabularies, key)
    except ScopeError:
        canonical = key
    if not services.vocabularies.delete(canonical):
        raise not_found(f"no vocabulary {key!r}", code="unknown_vocabulary")
    return json_response({"deleted": canonical})


def _vocabulary_from_body(key: str) -> tuple[Vocabulary, str | None]:
    kind = PUT_TYPES.get(request.mimetype)
    if kind is None:
        raise ApiError(415, "unsupported_media_type",
                       "send the labels as JSON {\"labels\": [...]}, text/plain (one a line) or text/csv")
    try:
        if kind != "json":
            return parse_vocabulary(request.get_data(as_text=True), kind, key), None
        body = request.get_json(silent=True)
        if not isinstance(body, Mapping) or not isinstance(body.get("labels"), list):
            raise bad_request('the body must be {"labels": [...], "title"?: "..."}', field="labels",
                              code="invalid_json")
        unknown = sorted(set(body) - {"labels", "title"})
        if unknown:
            raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: labels, title", field=unknown[0],
                              code="unknown_parameter")
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > 500):
            raise bad_request("'title' must be text of at most 500 characters", field="title")
        return make_vocabulary(key, body["labels"]), title
    except VocabularyError as e:
        raise bad_request(str(e), field="labels", code="invalid_vocabulary") from None


# --- OpenAPI ---------------------------------------------------------------------------------

_VOCABULARY_SUMMARY = {"type": "object", "properties": {
    "key": {"type": "string"}, "source_id": {"type": ["integer", "null"]},
    "collection": {"type": ["string", "null"]}, "title": {"type": ["string", "null"]},
    "size": {"type": "integer"}, "digest": {"type": "string"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"}}}
_VOCABULARY = {"allOf": [_VOCABULARY_SUMMARY, {"type": "object", "properties": {
    "labels": {"type": "array", "items": {"type": "object", "properties": {
        "label": {"type": "string"}, "language": {"type": "string"}, "prompt": {"type": "string"}}}}}}]}
_VOCABULARY_JSON = {"application/json": {"schema": _VOCABULARY}}
_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100},
        "description": "`default` (built in, read-only), `all` (every collection without its own list), a "
                       "source's name, or a collection's URL key (16 hex digits, as in the service's other URLs)."}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/vocabularies": {"get": {
        "tags": ["tagging"], "summary": "The vocabularies: the built-in default and curators' lists",
        "responses": {"200": {"description": "Summaries.", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"vocabularies": {"type": "array", "items": _VOCABULARY_SUMMARY}}}}}}}}},
    "/api/vocabularies/{key}": {
        "parameters": [_KEY],
        "get": {"tags": ["tagging"], "summary": "The labels of a vocabulary",
                "responses": {"200": {"description": "The vocabulary.",
                                      "content": {"application/json": {"schema": _VOCABULARY}}}, **ERRORS}},
        "put": {"tags": ["tagging"], "summary": "Set a collection's vocabulary (API key)",
                "description": "Replaces the list of `all`, a source or a collection. `loupe tag` then tags that "
                               "collection's images with it (the most specific list wins: collection, its parents, "
                               "source, `all`, default).",
                "security": KEY_SECURITY,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "required": ["labels"], "properties": {
                        "labels": {"type": "array", "items": LABEL}, "title": {"type": "string"}}},
                        "example": {"labels": ["Annunciation",
                                               {"label": "lily", "prompt": "a white lily, symbol of purity"},
                                               {"label": "ange", "language": "fr"}], "title": "Renaissance"}},
                    "text/plain": {"schema": {"type": "string"}, "example": "Annunciation\nlily\nskull\n"},
                    "text/csv": {"schema": {"type": "string"}, "example": "label,language,prompt\nlily,en,\n"}}},
                "responses": {"200": {"description": "Replaced.", "content": _VOCABULARY_JSON},
                              "201": {"description": "Created.", "content": _VOCABULARY_JSON},
                              **ERRORS, **WRITE_ERRORS,
                              "409": {"description": "'default' is read-only.", "content": ERROR_JSON},
                              "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}},
        "delete": {"tags": ["tagging"], "summary": "Forget a collection's vocabulary (API key)",
                   "security": KEY_SECURITY,
                   "responses": {"200": {"description": "Deleted."}, **ERRORS, **WRITE_ERRORS}}},
}
