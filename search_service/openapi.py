"""The OpenAPI 3.1 description of the service (``/openapi.json``) and its docs page (``/docs``).

Each blueprint module documents its own endpoints in ``OPENAPI_PATHS`` (OpenAPI path items
keyed by path, ``{name}`` for path parameters) and may add shared pieces in
``OPENAPI_COMPONENTS`` (``{"schemas": {...}, "parameters": {...}, ...}``); this module merges
those of every registered blueprint with the common components below. The docs page is
one self-contained HTML file (no CDN, nothing external) that renders the spec in the browser.
"""

from __future__ import annotations

import copy
from importlib import resources
from types import ModuleType
from typing import Any, Iterable

from flask import Blueprint, Response, current_app

from loupe_core import __version__

from .responses import json_response
from .security_headers import inline_policy
from .services import get_services
from .urls import base_url

bp = Blueprint("openapi", __name__)

MODULES_EXTENSION = "loupe_blueprint_modules"
DOCS_PAGE = "openapi_docs.html"

DESCRIPTION = """\
Loupe finds images and details in IIIF collections by a sentence, by an example image or
region, or by an image plus a sentence that changes it; it answers in JSON and in IIIF
(`format=iiif`, or `Accept: application/ld+json`), offers IIIF Content Search 1.0/2.0 over
the collection's annotations, and publishes its machine annotations as AnnotationPages.

Read endpoints need no key and send CORS headers. Write and admin endpoints need an API key
(`X-API-Key: KEY` or `Authorization: Bearer KEY`; named keys come from `loupe keys add NAME`,
others from the LOUPE_API_KEYS setting; with none configured they answer 403, a revoked key 401). Every error is JSON: `{"error": {"code", "message",
"field"?}}`.

Composed search without a trained Combiner uses the zero-shot baseline
`query = normalise((1 - w) * image + w * text)` of the unit CLIP embeddings, where
w = `text_weight` (default 0.5).

The server never fetches a URL sent by a client: search by an uploaded image, or by a
`reference` {manifest, canvas, xywh} to a region the catalog knows.
"""

# Sections of the docs page, in this order; tags of blueprints not listed here come after.
TAGS = [
    {"name": "search", "description": "Find images and details by text, image, region, or image plus text."},
    {"name": "IIIF Content Search", "description": "Content Search 1.0 and 2.0 over annotations and machine tags."},
    {"name": "IIIF annotations", "description": "Loupe's machine annotations per canvas, for viewers."},
    {"name": "tagging", "description": "Zero-shot tagging against vocabularies."},
    {"name": "published", "description": "Collections published as static IIIF with `loupe publish`."},
    {"name": "system", "description": "Health, status and models."},
    {"name": "admin", "description": "Jobs and switches; API key required."},
    {"name": "docs", "description": "This description."},
]

_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "example": "invalid_parameter"},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "The parameter at fault, when there is one."}}}}}


def _error(description: str, code: str, message: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"error": {"code": code, "message": message}}}}}


def _list_filter(name: str, description: str, example: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "example": example, "style": "form",
            "explode": True, "schema": {"type": "array", "items": {"type": "string"}}}


COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "Bearer": {"type": "http", "scheme": "bearer"},
    },
    "parameters": {
        "source": _list_filter("source", "Only results from these sources (id or name); repeat for several.", "demo"),
        "collection": _list_filter("collection", "Only results from these IIIF Collections (URIs).",
                                   "https://example.org/iiif/collection.json"),
        "manifest": _list_filter("manifest", "Only results from these manifests (URIs).",
                                 "https://example.org/iiif/manifest/1"),
        "canvas": _list_filter("canvas", "Only results on these canvases (URIs).", "https://example.org/iiif/canvas/1"),
        "kind": _list_filter("kind", "image (whole images), region (annotated details), view (automatic crops); "
                             "repeat or comma-separate.", "region"),
        "rights": _list_filter("rights", "Only results under these rights statements or licences (URIs).",
                               "http://creativecommons.org/publicdomain/zero/1.0/"),
        "year_from": {"name": "year_from", "in": "query", "schema": {"type": "integer"}, "example": 1500,
                      "description": "Only works dated from this year on (inclusive; undated works are left out)."},
        "year_to": {"name": "year_to", "in": "query", "schema": {"type": "integer"}, "example": 1600,
                    "description": "Only works dated up to this year (inclusive)."},
        "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                                                               "default": 20}},
        "cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"},
                   "description": "The previous page's `next_cursor`; valid only for the same query."},
        "one_per_canvas": {"name": "one_per_canvas", "in": "query", "schema": {"type": "boolean", "default": False},
                           "description": "At most one result (the best) per canvas."},
        "format": {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "iiif"]},
                   "description": "iiif: the results as a IIIF AnnotationPage (Content Search 2.0 style)."},
    },
    "schemas": {
        "Error": _ERROR_SCHEMA,
        "Reference": {"type": "object", "required": ["canvas"], "properties": {
            "manifest": {"type": "string", "format": "uri"},
            "canvas": {"type": "string", "format": "uri"},
            "xywh": {"oneOf": [{"type": "string", "example": "100,200,640,480"},
                               {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}],
                     "description": "Region in canvas coordinates; left out: the whole canvas."}}},
        "Filters": {"type": "object", "properties": {
            **{name: {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
               for name in ("source", "collection", "manifest", "canvas", "kind", "rights")},
            "year_from": {"type": "integer"}, "year_to": {"type": "integer"}}},
        "ImageSearchRequest": {"type": "object", "properties": {
            "image_base64": {"type": "string", "description": "JPEG, PNG or WEBP, base64 (a data: URL prefix is fine)."},
            "reference": {"$ref": "#/components/schemas/Reference"},
            "filters": {"$ref": "#/components/schemas/Filters"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100}, "cursor": {"type": "string"},
            "one_per_canvas": {"type": "boolean"}, "format": {"type": "string", "enum": ["json", "iiif"]}}},
        "ComposedSearchRequest": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "example": "at night"},
            "text_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "reference": {"$ref": "#/components/schemas/Reference"},
            "image_base64": {"type": "string"},
            "point_id": {"type": "string", "format": "uuid", "description": "Start from a search result."},
            "filters": {"$ref": "#/components/schemas/Filters"},
            "limit": {"type": "integer"}, "cursor": {"type": "string"}, "one_per_canvas": {"type": "boolean"}}},
        "Result": {"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid", "description": "Result id: GET /api/similar/{id}."},
            "score": {"type": "number", "description": "Cosine similarity (higher is closer)."},
            "kind": {"type": "string", "enum": ["image", "region", "view"]},
            "xywh": {"type": "array", "items": {"type": "integer"}, "description": "Region in canvas coordinates."},
            "manifest": {"type": "object", "properties": {"id": {"type": "string"}, "label": {"type": "string"}}},
            "canvas": {"type": "object", "properties": {"id": {"type": "string"}, "label": {"type": "string"}}},
            "label": {"type": "string"}, "texts": {"type": "array", "items": {"type": "string"}},
            "view": {"type": ["string", "null"]},
            "thumbnail": {"type": ["string", "null"], "description": "IIIF Image API URL of the region (level 0: the "
                          "whole image at a listed size)."},
            "content_state": {"type": ["string", "null"], "description": "IIIF Content State (encoded) of the region."},
            "viewer": {"type": ["string", "null"], "description": "The region in the viewer_url viewer, when set."},
            "source": {"type": ["string", "null"]}, "collection": {"type": ["string", "null"]},
            "rights": {"type": ["string", "null"]}, "date": {"type": ["string", "null"]},
            "year": {"type": ["integer", "null"], "description": "The year date filters use."},
            "similar": {"type": "string"}}},
        "SearchResponse": {"type": "object", "properties": {
            "query": {"type": "object"}, "model": {"type": "string"}, "vector": {"type": "string"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
            "next_cursor": {"type": ["string", "null"]}, "next": {"type": ["string", "null"]},
            "rankers": {"type": "array", "items": {"type": "string", "enum": ["text", "vector"]},
                        "description": "What ranked the results: `text` (the catalog's words: labels, metadata, "
                                       "annotation texts), `vector` (the model of `vector`); both: fused by "
                                       "reciprocal rank, `score` is then the fused score."},
            "timings_ms": {"type": "object"}}},
        "AnnotationPage": {"type": "object", "description": "IIIF Presentation 3 AnnotationPage.",
                           "required": ["id", "type", "items"],
                           "properties": {"id": {"type": "string"}, "type": {"const": "AnnotationPage"},
                                          "items": {"type": "array", "items": {"type": "object"}}}},
    },
    "responses": {
        "BadRequest": _error("Invalid parameters.", "invalid_parameter", "'limit' must be a whole number from 1 to 100"),
        "NotFound": _error("Unknown resource.", "not_found", "the catalog has no canvas https://example.org/canvas/9"),
        "TooLarge": _error("Upload too large (bytes: `upload_too_large`; pixels: `too_many_pixels`, setting "
                           "`max_upload_pixels`).", "upload_too_large",
                           "the image is 12,000,000 bytes; the limit is 10,485,760 bytes (setting max_upload_bytes)"),
        "UnsupportedMediaType": _error("Not JPEG, PNG or WEBP.", "unsupported_media_type",
                                       "GIF images are not accepted: send JPEG, PNG or WEBP"),
        "Unauthorized": _error("Missing, wrong or revoked API key.", "missing_api_key", "this endpoint needs an API key"),
        "Forbidden": _error("No API keys configured on the server.", "api_keys_not_configured",
                            "set LOUPE_API_KEYS ..."),
        "Unavailable": {**_error("Index or model not ready (`index_unavailable`, `model_unavailable`...), or the "
                                 "server busy with other image requests (`busy`, with `Retry-After` in seconds).",
                                 "index_unavailable", "the index holds no vectors yet: index the catalog first"),
                        "headers": {"Retry-After": {"description": "With `busy`: seconds to wait before trying again.",
                                                    "schema": {"type": "integer"}}}},
        "RateLimited": {**_error("Too many requests that run the model from this client (settings "
                                 "`model_rate_per_minute`, `model_rate_burst`); requests with an API key are not "
                                 "limited.", "rate_limited", "too many requests that run the model from your address"),
                        "headers": {"Retry-After": {"description": "Seconds until the next request is accepted.",
                                                    "schema": {"type": "integer"}}}},
    },
}


def build_spec(modules: Iterable[ModuleType], server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI document for the given blueprint modules."""
    paths: dict[str, Any] = {}
    components = copy.deepcopy(COMPONENTS)
    for module in modules:
        for path, item in (getattr(module, "OPENAPI_PATHS", None) or {}).items():
            paths.setdefault(path, {}).update(copy.deepcopy(item))
        for section, entries in (getattr(module, "OPENAPI_COMPONENTS", None) or {}).items():
            components.setdefault(section, {}).update(copy.deepcopy(entries))
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Loupe", "version": __version__, "description": DESCRIPTION,
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "tags": TAGS,
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
    if server_url:
        spec["servers"] = [{"url": server_url}]
    return spec


@bp.get("/openapi.json")
def openapi_json() -> Response:
    modules = current_app.extensions.get(MODULES_EXTENSION, [])
    return json_response(build_spec(modules, base_url(get_services().settings)))


@bp.get("/docs")
def docs() -> Response:
    html = resources.files("search_service").joinpath(DOCS_PAGE).read_text(encoding="utf-8")
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = inline_policy(html)
    return response


OPENAPI_PATHS: dict[str, Any] = {
    "/openapi.json": {"get": {"tags": ["docs"], "summary": "This description (OpenAPI 3.1)",
                              "responses": {"200": {"description": "The OpenAPI document."}}}},
    "/docs": {"get": {"tags": ["docs"], "summary": "The API documentation page",
                      "responses": {"200": {"description": "HTML."}}}},
}
