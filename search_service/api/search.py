"""The search API: by text, by image (upload or a region of the collection), composed image +
text, and similar to a result. Read-only, so callable from any web page (CORS).

Responses: ``{"query", "model", "vector", "results": [...], "next_cursor", "next"?,
"rankers", "timings_ms"}`` (``rankers``: ``text`` and/or ``vector``, see ``SearchEngine.text``) (result objects: ``search_service.results``), or with ``format=iiif`` /
``Accept: application/ld+json`` a Content Search 2.0 style AnnotationPage of the same results.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, request
from werkzeug.datastructures import CombinedMultiDict

from ..combiner import DEFAULT_TEXT_WEIGHT
from ..engine import SearchOutcome
from ..errors import ApiError, bad_request
from ..image_work import image_work, model_rate_limited
from ..params import SearchQuery, parse_float, query_from_args, query_from_json, reject_url_fields
from ..references import parse_reference
from ..responses import iiif_response, json_response, wants_iiif
from ..results import iiif_page, results_json
from ..services import get_services
from ..uploads import BASE64_FIELD, IMAGE_FIELD, has_upload, read_uploaded_image
from ..urls import absolute, base_url

bp = Blueprint("search_api", __name__)


@bp.get("/api/search")
@model_rate_limited
def search_text() -> Response:
    query = query_from_args(request.args, extra=("q",))
    text = request.args.get("q")
    if text is None:
        raise bad_request("give the text to search for as 'q', e.g. /api/search?q=a+night+sky", field="q")
    return _respond(get_services().engine.text(text, query), get_next=True)


@bp.post("/api/search/image")
@model_rate_limited
@image_work
def search_image() -> Response:
    services = get_services()
    body, query, fmt = _post_input(extra_form=(), extra_json=(BASE64_FIELD, "reference"))
    if has_upload(body):
        if body is not None and "reference" in body:
            raise bad_request("send either an image or a 'reference', not both", field="reference")
        upload = read_uploaded_image(services.settings, body)
        return _respond(services.engine.image(upload.image, query), fmt=fmt)
    if body is not None and "reference" in body:
        return _respond(services.engine.reference(parse_reference(body["reference"]), query), fmt=fmt)
    raise bad_request(f"send an image (multipart field {IMAGE_FIELD!r}, or JSON {BASE64_FIELD!r}) or a JSON "
                      "'reference': {\"manifest\", \"canvas\", \"xywh\"} naming a region of the collection",
                      field=IMAGE_FIELD, code="missing_image")


@bp.post("/api/search/composed")
@model_rate_limited
@image_work
def search_composed() -> Response:
    services = get_services()
    body, query, fmt = _post_input(extra_form=("text", "text_weight"),
                                   extra_json=(BASE64_FIELD, "reference", "point_id", "text", "text_weight"))
    source: Mapping[str, Any] = body if body is not None else request.form
    text = source.get("text")
    weight = parse_float(source.get("text_weight"), "text_weight", default=DEFAULT_TEXT_WEIGHT, low=0.0, high=1.0)
    given = [name for name in ("reference", "point_id") if body is not None and name in body]
    if has_upload(body):
        given.append("image")
    if len(given) != 1:
        problem = f"got {', '.join(given)}" if given else "got none"
        raise bad_request(f"a composed search starts from one image: an upload (multipart {IMAGE_FIELD!r} or JSON "
                          f"{BASE64_FIELD!r}), a 'reference' {{manifest, canvas, xywh}} or a result's 'point_id' "
                          f"({problem})", field="reference", code="missing_image")
    engine = services.engine
    if given[0] == "image":
        image = read_uploaded_image(services.settings, body).image
        outcome = engine.composed(text, query, image=image, text_weight=weight)
    elif given[0] == "reference":
        outcome = engine.composed(text, query, reference=parse_reference(body["reference"]), text_weight=weight)
    else:
        point_id = body["point_id"]
        if not isinstance(point_id, str):
            raise bad_request("'point_id' must be the id of a search result", field="point_id")
        outcome = engine.composed(text, query, point_id=point_id, text_weight=weight)
    return _respond(outcome, fmt=fmt)


@bp.get("/api/similar/<point_id>")
def similar(point_id: str) -> Response:
    query = query_from_args(request.args)
    return _respond(get_services().engine.similar(point_id, query), get_next=True)


# --- helpers ----------------------------------------------------------------------------


def _post_input(*, extra_form: tuple[str, ...], extra_json: tuple[str, ...]
                ) -> tuple[dict[str, Any] | None, SearchQuery, Any]:
    """(JSON body or None for a form, the search query, the format asked for)."""
    if request.mimetype == "application/json":
        unknown = sorted(set(request.args) - {"format"})
        if unknown:
            raise bad_request(f"with a JSON body, parameters go in the body; only 'format' may be in the URL "
                              f"(got {', '.join(unknown)})", field=unknown[0], code="unknown_parameter")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object", code="invalid_json")
        return body, query_from_json(body, extra=extra_json), body.get("format", request.args.get("format"))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields = CombinedMultiDict([request.args, request.form])
        reject_url_fields(request.files.keys())
        unknown_files = sorted(set(request.files) - {IMAGE_FIELD})
        if unknown_files:
            raise bad_request(f"unknown file field(s) {', '.join(unknown_files)}; the image goes in {IMAGE_FIELD!r}",
                              field=unknown_files[0], code="unknown_parameter")
        return None, query_from_args(fields, extra=extra_form), fields.get("format")
    raise ApiError(415, "unsupported_media_type",
                   "send multipart/form-data (an image upload in the field 'image') or application/json "
                   f"(got {request.mimetype or 'no Content-Type'})")


def _respond(outcome: SearchOutcome, *, fmt: Any = None, get_next: bool = False) -> Response:
    services = get_services()
    settings = services.settings
    base = base_url(settings)
    results = results_json(outcome.hits, services.catalog, settings, base=base)
    next_url = None
    if get_next and outcome.next_cursor:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        next_url = absolute(settings, request.path, [*args, ("cursor", outcome.next_cursor)])
    if wants_iiif(fmt):
        page_id = absolute(settings, request.path, list(request.args.items(multi=True)))
        return iiif_response(iiif_page(page_id, results, next_page=next_url), conditional=False)
    body: dict[str, Any] = {"query": outcome.query, "model": outcome.model, "vector": outcome.vector,
                            "results": results, "next_cursor": outcome.next_cursor}
    if get_next:
        body["next"] = next_url
    body["rankers"] = outcome.rankers
    body["timings_ms"] = outcome.timings_ms
    return json_response(body)


# --- OpenAPI ----------------------------------------------------------------------------

_FILTER_PARAMS = [{"$ref": f"#/components/parameters/{name}"} for name in
                  ("source", "collection", "manifest", "canvas", "kind", "rights", "year_from", "year_to",
                   "limit", "cursor", "one_per_canvas", "format")]
_SEARCH_RESPONSES = {
    "200": {"description": "Results, best first (or a IIIF AnnotationPage with format=iiif).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResponse"}},
                        "application/ld+json": {"schema": {"$ref": "#/components/schemas/AnnotationPage"}}}},
    "400": {"$ref": "#/components/responses/BadRequest"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
_UPLOAD_ERRORS = {
    "404": {"$ref": "#/components/responses/NotFound"},
    "413": {"$ref": "#/components/responses/TooLarge"},
    "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
}
_RATE_LIMITED = {"429": {"$ref": "#/components/responses/RateLimited"}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/search": {"get": {
        "tags": ["search"], "summary": "Search images and details by a text (hybrid: words and CLIP)",
        "description": "Two rankings fused. The catalog's words: images whose label, summary, metadata or "
                       "canvas labels, and annotated regions whose curators' texts or tags contain the words "
                       "of `q` (every language present; case and accents ignored; a word inside a word counts: "
                       "`angel` finds `Archangel`), scored by how many words match whole, as a beginning or "
                       "inside. And CLIP's: `q` encoded by the model of the active index vector, the nearest "
                       "images, regions and automatic views. Fused by weighted reciprocal rank: each result "
                       "scores the sum of `w / (60 + rank)` over the rankings that found it, `w` = 1 for CLIP, "
                       "2 x match quality for the words (a title, an artist or a curator's word found whole "
                       "comes before what CLIP alone suggests). When no words match, CLIP alone (its cosine "
                       "scores); when there is no CLIP to ask (nothing indexed, no weights, or an image-only "
                       "model such as efficientnet-lite0), the words alone. `rankers` says which ranked. Page "
                       "with `cursor` (the previous response's `next_cursor`, or follow `next`).",
        "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 1000},
                        "example": "a ship in a storm"}, *_FILTER_PARAMS],
        "responses": {**_SEARCH_RESPONSES, **_RATE_LIMITED}}},
    "/api/search/image": {"post": {
        "tags": ["search"], "summary": "Search by an image: an upload, or a region of the collection",
        "description": "Upload an image (multipart field `image`, or base64 in JSON `image_base64`; JPEG, PNG "
                       "or WEBP, at most `max_upload_bytes`), or name a region of the collection with "
                       "`reference` {manifest, canvas, xywh} (canvas coordinates). The server never fetches a "
                       "URL sent by a client: a `url` field is refused with 400.",
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
                "image": {"type": "string", "format": "binary"}, "limit": {"type": "integer"},
                "kind": {"type": "string"}, "one_per_canvas": {"type": "boolean"}}}},
            "application/json": {"schema": {"$ref": "#/components/schemas/ImageSearchRequest"},
                                 "examples": {"reference": {"value": {
                                     "reference": {"manifest": "https://example.org/iiif/manifest/1",
                                                   "canvas": "https://example.org/iiif/canvas/1",
                                                   "xywh": "100,200,640,480"},
                                     "limit": 10, "filters": {"kind": ["image", "region"]}}},
                                     "upload": {"value": {"image_base64": "/9j/4AAQSkZJRg...", "limit": 10}}}}}},
        "responses": {**_SEARCH_RESPONSES, **_UPLOAD_ERRORS, **_RATE_LIMITED}}},
    "/api/search/composed": {"post": {
        "tags": ["search"], "summary": "Composed search: an image plus a text that changes it",
        "description": "Starts from a reference region, an upload or a result (`point_id`) and a modification "
                       "`text` (\"but at night\"). With a trained Combiner for the active model it makes the "
                       "query; otherwise the zero-shot baseline: `normalise((1 - w) * image + w * text)` of the "
                       "unit CLIP embeddings, with w = `text_weight` (0..1, default 0.5; 0 = image only, "
                       "1 = text only). The response's `query.method` says which was used.",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ComposedSearchRequest"},
                                 "example": {"reference": {"canvas": "https://example.org/iiif/canvas/1"},
                                             "text": "at night", "text_weight": 0.5, "limit": 10}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["image", "text"], "properties": {
                "image": {"type": "string", "format": "binary"}, "text": {"type": "string"},
                "text_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}}}}}},
        "responses": {**_SEARCH_RESPONSES, **_UPLOAD_ERRORS, **_RATE_LIMITED}}},
    "/api/similar/{point_id}": {"get": {
        "tags": ["search"], "summary": "Results similar to a result",
        "description": "Searches with the stored vector of a result (its `id`). The result itself comes first.",
        "parameters": [{"name": "point_id", "in": "path", "required": True,
                        "schema": {"type": "string", "format": "uuid"}}, *_FILTER_PARAMS],
        "responses": {**_SEARCH_RESPONSES, "404": {"$ref": "#/components/responses/NotFound"}}}},
}
