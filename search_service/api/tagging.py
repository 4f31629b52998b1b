"""Zero-shot tagging over HTTP, curators' vocabularies, and reviews of machine annotations.

- ``POST /api/tag``: labels with scores for an uploaded image or a region of the collection;
- ``GET /api/vocabularies``, ``GET|PUT|DELETE /api/vocabularies/<key>``: the label lists;
- ``POST /api/machine-annotations/<id>/review``: a curator accepts or rejects a machine tag.

Tagging uses the configured model (setting ``model``), the one ``loupe tag`` stores tags with,
so a tag shown here and a stored one agree. Writes need an API key.
"""

from __future__ import annotations

import threading
from typing import Any, Mapping

from flask import Blueprint, Flask, current_app, request

from loupe_tagging import (
    LabelEmbeddingCache,
    RegionNotFound,
    ReviewError,
    ScopeError,
    Tagger,
    Vocabulary,
    VocabularyError,
    VocabularyStore,
    default_vocabulary,
    resolve_scope,
    set_review,
)
from loupe_tagging.default_vocabulary import DEFAULT_NAME
from loupe_tagging.machine_tags import DECISIONS
from loupe_tagging.scope import ALL, VocabularyChooser, named_vocabulary
from loupe_tagging.scoring import LOGIT_SCALE, MAX_TOP_K
from loupe_tagging.vocabulary import MAX_INLINE_LABELS, make_vocabulary, parse_vocabulary
from search_service.auth import require_api_key
from search_service.errors import ApiError, bad_request, not_found
from search_service.params import reject_url_fields
from search_service.references import parse_reference, resolve_reference
from search_service.responses import json_response
from search_service.services import Services, get_services
from search_service.uploads import has_upload, read_uploaded_image

bp = Blueprint("tagging", __name__)

DEFAULT_TOP_K = 5
TAG_FIELDS = ("image_base64", "reference", "vocabulary", "top_k")
SCORE_MEANING = (f"softmax over the vocabulary of {LOGIT_SCALE:g} x cosine(image, label): the label's share "
                 "among this vocabulary's labels (the scores of all labels sum to 1); relative, not the "
                 "probability that the thing is present")
EXTENSION = "loupe_tagging"
PUT_TYPES = {"application/json": "json", "text/plain": "txt", "text/csv": "csv"}


class TaggingState:
    """What the tagging views keep between requests: label embeddings and the store."""

    def __init__(self, services: Services, cache: LabelEmbeddingCache | None = None) -> None:
        self.services = services
        self.cache = cache or LabelEmbeddingCache(services.settings.cache_dir / "label_embeddings")
        self._store: VocabularyStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> VocabularyStore:
        with self._lock:
            if self._store is None:
                self._store = VocabularyStore(self.services.catalog.engine)
            return self._store

    def tagger(self) -> Tagger:
        from loupe_models import load_model

        return Tagger(load_model(self.services.settings, cache=self.services.model_cache), self.cache)


def install_state(app: Flask, state: TaggingState) -> None:
    """Use ``state`` (for example with a label-embedding cache shared by tests) in ``app``."""
    app.extensions[EXTENSION] = state


def _state() -> TaggingState:
    app: Flask = current_app
    state = app.extensions.get(EXTENSION)
    if state is None:
        state = app.extensions.setdefault(EXTENSION, TaggingState(get_services()))
    return state


# --- POST /api/tag -----------------------------------------------------------------------------


@bp.post("/api/tag")
def tag_image():  # noqa: ANN201
    """Labels of an image (multipart ``image`` or JSON ``image_base64``) or of a region of the
    collection (JSON ``reference``), against a vocabulary (a name, or a list of labels)."""
    state = _state()
    body = _request_fields()
    reject_url_fields(body.keys())
    unknown = sorted(set(body) - set(TAG_FIELDS) - {"image"})
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: image (upload), {', '.join(TAG_FIELDS)}",
                          field=unknown[0], code="unknown_parameter")
    top_k = _top_k(body.get("top_k"))
    vocabulary = _explicit_vocabulary(state, body.get("vocabulary"))  # checked before any pixels
    uploaded = has_upload(body)
    if uploaded and body.get("reference") is not None:
        raise bad_request("send either an image or a 'reference', not both", field="reference")
    reference = None
    if uploaded:
        picture = read_uploaded_image(state.services.settings, body).image
    elif body.get("reference") is not None:
        reference = parse_reference(body["reference"])
        resolved = resolve_reference(reference, state.services.catalog, state.services.images)
        picture = resolved.image
    else:
        raise ApiError(400, "missing_image", "send an image (multipart field 'image' or JSON 'image_base64') or "
                       "a 'reference': {\"manifest\", \"canvas\", \"xywh\"} of the collection", field="image")
    if vocabulary is None:
        vocabulary = _implicit_vocabulary(state, reference)
    tagger = state.tagger()
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


def _implicit_vocabulary(state: TaggingState, reference) -> Vocabulary:  # noqa: ANN001
    """No vocabulary asked for: a reference's collection list, an upload's ``all`` list, or
    the default."""
    if reference is not None:
        return _collection_vocabulary(state, reference)
    stored = state.store.get(ALL)
    return stored.vocabulary if stored is not None else default_vocabulary()


def _explicit_vocabulary(state: TaggingState, value: Any) -> Vocabulary | None:
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
            return named_vocabulary(state.store, _canonical_key(state, value.strip()))
        except ScopeError as e:
            raise ApiError(404, "unknown_vocabulary", str(e), field="vocabulary") from None
    raise bad_request("'vocabulary' must be a vocabulary's name or a list of labels", field="vocabulary")


def _collection_vocabulary(state: TaggingState, reference) -> Vocabulary:  # noqa: ANN001
    from search_service.catalog_reads import find_canvas

    found = find_canvas(state.services.catalog, reference.canvas, reference.manifest)
    if len(found) != 1:
        return default_vocabulary()
    manifest_collection = _manifest_collection(state, found[0].manifest)
    return VocabularyChooser(state.services.catalog, state.store).choose(found[0].source_id, manifest_collection)


def _manifest_collection(state: TaggingState, manifest: str) -> str | None:
    from sqlalchemy import select

    from connector.catalog.schema import ManifestRow

    with state.services.catalog.session() as s:
        return s.scalar(select(ManifestRow.collection_uri).where(ManifestRow.uri == manifest))


def _canonical_key(state: TaggingState, key: str) -> str:
    """A stored key as it is, else the key of the collection or source it names."""
    if key in (DEFAULT_NAME,) or state.store.get(key) is not None:
        return key
    try:
        return resolve_scope(state.services.catalog, key).key
    except ScopeError:
        return key


# --- vocabularies --------------------------------------------------------------------------------


@bp.get("/api/vocabularies")
def list_vocabularies():  # noqa: ANN201
    default = default_vocabulary()
    rows = [{"key": DEFAULT_NAME, "source_id": None, "collection": None, "title": "built-in default",
             "size": len(default), "digest": default.digest[:16], "updated_at": None}]
    rows += [v.summary() for v in _state().store.list()]
    return json_response({"vocabularies": rows})


@bp.get("/api/vocabularies/<key>")
def get_vocabulary(key: str):  # noqa: ANN201
    state = _state()
    if key == DEFAULT_NAME:
        return json_response({**default_vocabulary().as_json(), "key": DEFAULT_NAME})
    canonical = _canonical_key(state, key)
    found = state.store.get(canonical)
    if found is None:
        raise not_found(f"no vocabulary {key!r}: that collection has no list of its own and is tagged with the "
                        "'all' list if there is one, else 'default' (GET /api/vocabularies lists them)",
                        code="unknown_vocabulary")
    return json_response(found.as_json())


@bp.put("/api/vocabularies/<key>")
@require_api_key
def put_vocabulary(key: str):  # noqa: ANN201
    """Replace the list of a collection (its URL key), a source (its name) or ``all``. Body:
    JSON ``{"labels": [...], "title"?}`` (labels: strings or {label, language?, prompt?}),
    or text/plain (one label a line), or text/csv (a label column)."""
    state = _state()
    if key == DEFAULT_NAME:
        raise ApiError(409, "read_only_vocabulary", "the built-in 'default' vocabulary cannot be changed; "
                       "set 'all' to give every collection without its own list another one")
    try:
        scope = resolve_scope(state.services.catalog, key)
    except ScopeError as e:
        raise not_found(str(e), code="unknown_collection") from None
    vocabulary, title = _vocabulary_from_body(scope.key)
    existed = state.store.get(scope.key) is not None
    stored = state.store.put(scope.key, vocabulary, source_id=scope.source_id, collection_uri=scope.collection_uri,
                             title=title)
    return json_response(stored.as_json(), 200 if existed else 201)


@bp.delete("/api/vocabularies/<key>")
@require_api_key
def delete_vocabulary(key: str):  # noqa: ANN201
    state = _state()
    canonical = _canonical_key(state, key)
    if not state.store.delete(canonical):
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


# --- reviews -------------------------------------------------------------------------------------


@bp.post("/api/machine-annotations/<int:region_id>/review")
@require_api_key
def review(region_id: int):  # noqa: ANN201
    """A curator's decision on a machine annotation: ``{"decision": "accepted"|"rejected"}``."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, Mapping) or "decision" not in body:
        raise bad_request('send JSON {"decision": "accepted"} or {"decision": "rejected"}', field="decision")
    unknown = sorted(set(body) - {"decision"})
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; known: decision", field=unknown[0],
                          code="unknown_parameter")
    if body["decision"] not in DECISIONS:
        raise bad_request(f"'decision' must be one of {', '.join(DECISIONS)}, not {body['decision']!r}",
                          field="decision")
    try:
        region = set_review(get_services().catalog, region_id, body["decision"])
    except RegionNotFound as e:
        raise not_found(str(e), code="unknown_annotation") from None
    except ReviewError as e:  # a curator's own annotation
        raise ApiError(409, "not_machine_annotation", str(e)) from None
    return json_response(region)


# --- OpenAPI -------------------------------------------------------------------------------------

_LABEL = {"oneOf": [{"type": "string", "maxLength": 200},
                    {"type": "object", "required": ["label"], "additionalProperties": False, "properties": {
                        "label": {"type": "string", "maxLength": 200},
                        "language": {"type": "string", "description": "BCP 47; picks the prompt templates"},
                        "prompt": {"type": "string", "maxLength": 300,
                                   "description": "Used instead of the templates; '{}' stands for the label."}}}]}
_VOCABULARY_SUMMARY = {"type": "object", "properties": {
    "key": {"type": "string"}, "source_id": {"type": ["integer", "null"]},
    "collection": {"type": ["string", "null"]}, "title": {"type": ["string", "null"]},
    "size": {"type": "integer"}, "digest": {"type": "string"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"}}}
_VOCABULARY = {"allOf": [_VOCABULARY_SUMMARY, {"type": "object", "properties": {
    "labels": {"type": "array", "items": {"type": "object", "properties": {
        "label": {"type": "string"}, "language": {"type": "string"}, "prompt": {"type": "string"}}}}}}]}
_VOCABULARY_JSON = {"application/json": {"schema": _VOCABULARY}}
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100},
        "description": "`default` (built in, read-only), `all` (every collection without its own list), a "
                       "source's name, or a collection's URL key (16 hex digits, as in the service's other URLs)."}
_ERRORS = {"400": {"$ref": "#/components/responses/BadRequest"},
           "404": {"$ref": "#/components/responses/NotFound"}}
_WRITE_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
                 "403": {"$ref": "#/components/responses/Forbidden"}}
_KEY_SECURITY = [{"ApiKey": []}, {"Bearer": []}]
_REGION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "canvas_id": {"type": "integer"}, "motivation": {"type": "string"},
    "xywh": {"type": ["array", "null"], "items": {"type": "number"}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "made_by": {"type": "string"}, "model": {"type": ["string", "null"]}, "model_version": {"type": ["string", "null"]},
    "confidence": {"type": ["number", "null"]}, "review": {"enum": ["proposed", "accepted", "rejected", None]},
    "created_at": {"type": ["string", "null"], "format": "date-time"}}}

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
                                         {"type": "array", "maxItems": MAX_INLINE_LABELS, "items": _LABEL}]},
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
            **_ERRORS,
            "413": {"$ref": "#/components/responses/TooLarge"},
            "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
            "503": {"$ref": "#/components/responses/Unavailable"}}}},
    "/api/vocabularies": {"get": {
        "tags": ["tagging"], "summary": "The vocabularies: the built-in default and curators' lists",
        "responses": {"200": {"description": "Summaries.", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"vocabularies": {"type": "array", "items": _VOCABULARY_SUMMARY}}}}}}}}},
    "/api/vocabularies/{key}": {
        "parameters": [_KEY],
        "get": {"tags": ["tagging"], "summary": "The labels of a vocabulary",
                "responses": {"200": {"description": "The vocabulary.",
                                      "content": {"application/json": {"schema": _VOCABULARY}}}, **_ERRORS}},
        "put": {"tags": ["tagging"], "summary": "Set a collection's vocabulary (API key)",
                "description": "Replaces the list of `all`, a source or a collection. `loupe tag` then tags that "
                               "collection's images with it (the most specific list wins: collection, its parents, "
                               "source, `all`, default).",
                "security": _KEY_SECURITY,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "required": ["labels"], "properties": {
                        "labels": {"type": "array", "items": _LABEL}, "title": {"type": "string"}}},
                        "example": {"labels": ["Annunciation",
                                               {"label": "lily", "prompt": "a white lily, symbol of purity"},
                                               {"label": "ange", "language": "fr"}], "title": "Renaissance"}},
                    "text/plain": {"schema": {"type": "string"}, "example": "Annunciation\nlily\nskull\n"},
                    "text/csv": {"schema": {"type": "string"}, "example": "label,language,prompt\nlily,en,\n"}}},
                "responses": {"200": {"description": "Replaced.", "content": _VOCABULARY_JSON},
                              "201": {"description": "Created.", "content": _VOCABULARY_JSON},
                              **_ERRORS, **_WRITE_ERRORS,
                              "409": {"description": "'default' is read-only.", "content": _ERROR_JSON},
                              "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}},
        "delete": {"tags": ["tagging"], "summary": "Forget a collection's vocabulary (API key)",
                   "security": _KEY_SECURITY,
                   "responses": {"200": {"description": "Deleted."}, **_ERRORS, **_WRITE_ERRORS}}},
    "/api/machine-annotations/{region_id}/review": {"post": {
        "tags": ["tagging"], "summary": "Accept or reject a machine annotation (API key)",
        "description": "Records a curator's decision on a machine tag proposed by `loupe tag`. Decisions are kept "
                       "when tagging runs again, and a decided tag is never proposed again for that region.",
        "security": _KEY_SECURITY,
        "parameters": [{"name": "region_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision"], "additionalProperties": False,
            "properties": {"decision": {"enum": ["accepted", "rejected"]}}}}}},
        "responses": {"200": {"description": "The annotation with its new review state.",
                              "content": {"application/json": {"schema": _REGION}}},
                      **_ERRORS, **_WRITE_ERRORS,
                      "409": {"description": "Not a machine annotation.", "content": _ERROR_JSON}}}},
}
