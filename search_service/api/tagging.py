"""Zero-shot tagging over HTTP: ``POST /api/tag`` scores a vocabulary's labels for an
uploaded image or a region of the collection.

Tagging uses the configured model (setting ``model``), the one ``loupe tag`` stores tags with,
so a tag shown here and a stored one agree.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, request

from loupe_tagging import ScopeError, Vocabulary, VocabularyError, default_vocabulary
from loupe_tagging.scope import ALL, named_vocabulary, vocabulary_for_manifest, vocabulary_key
from loupe_tagging.scoring import LOGIT_SCALE, MAX_TOP_K
from loupe_tagging.vocabulary import MAX_INLINE_LABELS, make_vocabulary

from ..catalog_reads import find_canvas
from ..errors import ApiError, bad_request
from ..image_work import image_work, model_rate_limited
from ..params import reject_url_fields
from ..references import parse_reference, resolve_reference
from ..responses import json_response
from ..services import Services, get_services
from ..uploads import has_upload, read_uploaded_image
from .openapi_shared import ERRORS, LABEL

bp = Blueprint("tagging", __name__)

DEFAULT_TOP_K = 5
TAG_FIELDS = ("image_base64", "reference", "vocabulary", "top_k")
SCORE_MEANING = (f"softmax over the vocabulary of {LOGIT_SCALE:g} x cosine(image, label): the label's share "
                 "among this vocabulary's labels (the scores of all labels sum to 1); relative, not the "
                 "probability that the thing is present")


@bp.post("/api/tag")
@model_rate_limited
@image_work
def tag_image() -> Response:
    """Labels of an image (multipart ``image`` or JSON ``image_base64``) or of a region of the
    collection (JSON ``reference``), against a vocabulary (a name, or a list of labels)."""
    services = get_services()
    body = _request_fields()
    reject_url_fields(body.keys())
    unknown = sorted(set(body) - set(TAG_FIELDS) - {"image"})
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: image (upload), {', '.join(TAG_FIELDS)}",
                          field=unknown[0], code="unknown_parameter")
    top_k = _top_k(body.get("top_k"))
    vocabulary = _explicit_vocabulary(services, body.get("vocabulary"))  # checked before any pixels
    uploaded = has_upload(body)
    if uploaded and body.get("reference") is not None:
        raise bad_request("send either an image or a 'reference', not both", field="reference")
    reference = None
    if uploaded:
        picture = read_uploaded_image(services.settings, body).image
    elif body.get("reference") is not None:
        reference = parse_reference(body["reference"])
        resolved = resolve_reference(reference, services.catalog, services.images)
        picture = resolved.image
    else:
        raise ApiError(400, "missing_image", "send an image (multipart field 'image' or JSON 'image_base64') or "
                       "a 'reference': {\"manifest\", \"canvas\", \"xywh\"} of the collection", field="image")
    if vocabulary is None:
        vocabulary = _implicit_vocabulary(services, reference)
    tagger = services.tagger()
    labels = tagger.tag_image(picture, vocabulary, top_k)
    return json_response({
        "labels": [{"label": label, "score": round(score, 5)} for label, score in labels],
        "vocabulary": {"name": vocabulary.name, "size": len(vocabulary), "digest": vocabulary.digest[:16]},
        "model": tagger.model.name,
        "model_version": tagger.model.version,
        "reference": reference.describe() if reference else None,
        "score": SCORE_MEANING,
    })


def _request_fields() -> dict[str, Any]:
    """JSON object, or the form fields of a multipart/urlencoded request."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, Mapping):
            raise bad_request("the body must be a JSON object", code="invalid_json")
        return dict(body)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields: dict[str, Any] = {k: request.form.get(k) for k in request.form}
        if "reference" in fields:
            raise bad_request("send a 'reference' as JSON (application/json)", field="reference")
        if "vocabulary" in fields and "\n" in (fields["vocabulary"] or ""):  # a pasted list, one label a line
            fields["vocabulary"] = [v for v in fields["vocabulary"].splitlines() if v.strip()]
        return fields
    if not request.content_length and not request.mimetype:
        return {}
    raise ApiError(415, "unsupported_media_type",
                   "send JSON (application/json) or a form with the image (multipart/form-data)")


def _top_k(raw: Any) -> int:
    if raw is None or raw == "":
        return DEFAULT_TOP_K
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_TOP_K:
        raise bad_request(f"'top_k' must be a whole number from 1 to {MAX_TOP_K}, not {raw!r}", field="top_k")
    return value


def _implicit_vocabulary(services: Services, reference) -> Vocabulary:  # noqa: ANN001
    """No vocabulary asked for: a reference's collection list, an upload's ``all`` list, or
    the default."""
    if reference is not None:
        found = find_canvas(services.catalog, reference.canvas, reference.manifest)
        if len(found) != 1:
            return default_vocabulary()
        return vocabulary_for_manifest(services.catalog, services.vocabularies, found[0].manifest)
    stored = services.vocabularies.get(ALL)
    return stored.vocabulary if stored is not None else default_vocabulary()


def _explicit_vocabulary(services: Services, value: Any) -> Vocabulary | None:
    """A name (``default``, a stored key, or a collection/source the store has a list for) or
    an inline list (at most MAX_INLINE_LABELS); None when left out."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        if len(value) > MAX_INLINE_LABELS:
            raise bad_request(f"an inline vocabulary may have at most {MAX_INLINE_LABELS} labels, not {len(value)}; "
                              "store a longer list with PUT /api/vocabularies/<key>", field="vocabulary")
        try:
            return make_vocabulary("inline", value, limit=MAX_INLINE_LABELS)
        except VocabularyError as e:
            raise bad_request(str(e), field="vocabulary", code="invalid_vocabulary") from None
    if isinstance(value, str):
        try:
            key = vocabulary_key(services.catalog, services.vocabularies, value.strip())
            return named_vocabulary(services.vocabularies, key)
        except ScopeError as e:
            raise ApiError(404, "unknown_vocabulary", str(e), field="vocabulary") from None
    raise bad_request("'vocabulary' must be a vocabulary's name or a list of labels", field="vocabulary")


# --- OpenAPI ---------------------------------------------------------------------------------

OPENAPI_PATHS: dict[str, Any] = {
    "/api/tag": {"post": {
        "tags": ["tagging"], "summary": "Zero-shot tags of an image or a region of the collection",
        "description": "Scores every label of a vocabulary for an uploaded image (multipart `image` or JSON "
                       "`image_base64`) or a `reference` {manifest, canvas, xywh} of the collection, and returns "
                       f"the `top_k` best. A score is the {SCORE_MEANING}. `vocabulary`: a name (`default`, a "
                       f"stored key) or an inline list of at most {MAX_INLINE_LABELS} labels; left out, a "
                       "reference uses its collection's curator list and an upload the `all` list, both falling "
                       "back to the default. The server never fetches a URL sent by a client.",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": False, "properties": {
                "image_base64": {"type": "string"}, "reference": {"$ref": "#/components/schemas/Reference"},
                "vocabulary": {"oneOf": [{"type": "string"},
                                         {"type": "array", "maxItems": MAX_INLINE_LABELS, "items": LABEL}]},
                "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": DEFAULT_TOP_K}}},
                "examples": {"reference": {"value": {"reference": {"canvas": "https://example.org/iiif/canvas/1",
                                                                   "xywh": "100,200,640,480"}, "top_k": 3}},
                             "inline": {"value": {"image_base64": "/9j/4AAQSkZJRg...",
                                                  "vocabulary": ["lily", "skull", "ship"]}}}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
                "image": {"type": "string", "format": "binary"},
                "vocabulary": {"type": "string", "description": "A name, or labels one a line."},
                "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K}}}}}},
        "responses": {
            "200": {"description": "The best labels, best first.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "labels": {"type": "array", "items": {"type": "object", "properties": {
                        "label": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1}}}},
                    "vocabulary": {"type": "object", "properties": {"name": {"type": "string"},
                                                                    "size": {"type": "integer"},
                                                                    "digest": {"type": "string"}}},
                    "model": {"type": "string"}, "model_version": {"type": "string"},
                    "reference": {"type": ["object", "null"]}, "score": {"type": "string"}}}}}},
            **ERRORS,
            "413": {"$ref": "#/components/responses/TooLarge"},
            "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
            "429": {"$ref": "#/components/responses/RateLimited"},
            "503": {"$ref": "#/components/responses/Unavailable"}}}},
}
