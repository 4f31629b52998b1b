"""IIIF Content Search 1.0 and 2.0, with autocomplete, for every manifest and collection.

URLs (``KEY``: ``urls.uri_key`` of the manifest's or collection's URI; or leave it out and
pass ``?uri=URI``)::

    /iiif/search/{1|2}/{manifest|collection}/KEY?q=...&motivation=...&page=N
    /iiif/autocomplete/{1|2}/{manifest|collection}/KEY?q=...&motivation=...&min=N
    /iiif/services/{manifest|collection}/KEY     the service blocks to paste into the manifest

``q`` searches the harvested annotation texts and tags (curators') and Loupe's machine tags
(unless a curator rejected them): case-insensitive, diacritics folded, each word a word
prefix, all words required (``text_match``), answered from the catalog's full-text index
(``connector.catalog.fulltext``) with the same answers as reading every region. ``motivation`` keeps annotations with one of
the listed motivations (space-separated; ``oa:``/``sc:`` prefixes accepted). ``date`` and
``user`` are not supported and, like any other unknown parameter, are listed in
``ignored``. Results are paged (``page``, page size ``LOUPE_IIIF_PAGE_SIZE``, default 100).

Validation: the annotations and every Presentation 3 property validate against the v3
schema; the Content Search 2.0 additions (``ignored``, ``startIndex``, match
``annotations``, an embedded ``partOf`` AnnotationCollection) are outside what the
Presentation 3 schema allows on an AnnotationPage (see ``iiif.validation``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from flask import Blueprint, Response, current_app, request

from connector.catalog import Catalog, fulltext
from connector.catalog.text_words import TAG
from iiif.writers.content_search import (
    Paging,
    Term,
    TextMatch,
    autocomplete_response_v1,
    autocomplete_response_v2,
    search_response_v1,
    search_response_v2,
    search_service_v1,
    search_service_v2,
    with_query_param,
)

from .annotations_out import loupe_context_url
from .catalog_reads import (
    RegionText,
    TextScope,
    collection_manifests,
    matching_region_texts,
    regions_in_scope,
    search_regions,
)
from .errors import bad_request, not_found
from .named_resources import resolve_named
from .region_annotations import MACHINE_MOTIVATION, annotation_id, motivation_of, region_annotation
from .responses import PRESENTATION_3_PROFILE, SEARCH_1_PROFILE, iiif_response, json_response
from .services import get_services
from .text_match import FoldedText, query_words, snippet, words_with_prefix
from .urls import absolute, base_url

bp = Blueprint("iiif_search", __name__)

VERSIONS = (1, 2)
SCOPES = ("manifest", "collection")
DEFAULT_PAGE_SIZE = 100
MAX_TERMS = 100
SEARCH_PARAMS = ("q", "motivation", "page")
AUTOCOMPLETE_PARAMS = ("q", "motivation", "min")


# --- routes ----------------------------------------------------------------------------


@bp.get("/iiif/search/<int:version>/<scope>/<key>")
@bp.get("/iiif/search/<int:version>/<scope>", defaults={"key": None})
def search(version: int, scope: str, key: str | None) -> Response:
    _check(version, scope)
    uri, key = resolve_named(scope, key)
    q = request.args.get("q", "")
    words = query_words(q)
    text_scope = _text_scope(scope, uri)
    page = _page_number(request.args.get("page"))
    size = int(current_app.config.get("LOUPE_IIIF_PAGE_SIZE", DEFAULT_PAGE_SIZE))
    total, chosen = find_regions(get_services().catalog, text_scope, words, offset=(page - 1) * size, limit=size)
    settings = get_services().settings
    search_url = absolute(settings, f"/iiif/search/{version}/{scope}/{key}",
                          [("q", q or None), ("motivation", request.args.get("motivation"))])
    pages = max(1, -(-total // size))
    if page > pages:
        raise bad_request(f"page {page} is past the last page ({pages})", field="page")
    paging = Paging.for_page(search_url, page, size, total)
    page_id = _page_id(search_url, page, paging)
    base = base_url(settings)
    annotations = [region_annotation(r, base) for r in chosen]
    hits = _text_matches([(r, [FoldedText(t) for t in r.all_texts]) for r in chosen], words, base)
    ignored = _ignored(SEARCH_PARAMS)
    if version == 1:
        doc = search_response_v1(page_id, annotations, paging=paging, ignored=ignored, matches=hits)
        return iiif_response(doc, SEARCH_1_PROFILE)
    doc = search_response_v2(page_id, annotations, paging=paging, ignored=ignored, matches=hits,
                             loupe_context=loupe_context_url(settings))
    return iiif_response(doc, PRESENTATION_3_PROFILE)


@bp.get("/iiif/autocomplete/<int:version>/<scope>/<key>")
@bp.get("/iiif/autocomplete/<int:version>/<scope>", defaults={"key": None})
def autocomplete(version: int, scope: str, key: str | None) -> Response:
    _check(version, scope)
    uri, key = resolve_named(scope, key)
    q = request.args.get("q", "")
    words = query_words(q)
    if not words:
        raise bad_request("give the beginning of a word as 'q'", field="q")
    minimum = _positive(request.args.get("min"), "min", default=1)
    *leading, last = words
    counts, forms = word_counts(get_services().catalog, _text_scope(scope, uri), leading, last)
    settings = get_services().settings
    search_path = f"/iiif/search/{version}/{scope}/{key}"
    prefix = _typed_prefix(q) if leading else ""
    terms = []
    for word, total in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]:
        if total < minimum:
            continue
        value = prefix + forms[word].most_common(1)[0][0]
        terms.append(Term(value=value, total=total,
                          search_url=absolute(settings, search_path, [("q", value),
                                                                      ("motivation", request.args.get("motivation"))])))
    response_id = absolute(settings, request.path if key is None else f"/iiif/autocomplete/{version}/{scope}/{key}",
                           list(request.args.items(multi=True)))
    ignored = _ignored(AUTOCOMPLETE_PARAMS)
    if version == 1:
        doc = autocomplete_response_v1(response_id, terms, search_url=absolute(settings, search_path), ignored=ignored)
        return iiif_response(doc, SEARCH_1_PROFILE)
    return iiif_response(autocomplete_response_v2(response_id, terms, ignored=ignored), PRESENTATION_3_PROFILE)


@bp.get("/iiif/services/<scope>/<key>")
@bp.get("/iiif/services/<scope>", defaults={"key": None})
def service_blocks(scope: str, key: str | None) -> Response:
    """The ``service`` entries (Content Search 2.0 and 1.0, each with its autocomplete) to
    add to the manifest or collection, so that viewers offer search in it."""
    if scope not in SCOPES:
        raise not_found(f"no such scope {scope!r}; use {' or '.join(SCOPES)}")
    uri, key = resolve_named(scope, key)
    settings = get_services().settings
    v2 = search_service_v2(absolute(settings, f"/iiif/search/2/{scope}/{key}"),
                           absolute(settings, f"/iiif/autocomplete/2/{scope}/{key}"))
    v1 = search_service_v1(absolute(settings, f"/iiif/search/1/{scope}/{key}"),
                           absolute(settings, f"/iiif/autocomplete/1/{scope}/{key}"))
    body: dict[str, Any] = {"id": uri, "type": scope.capitalize(), "key": key, "service": [v2, v1]}
    if scope == "manifest":
        body["annotations"] = absolute(settings, f"/iiif/annotations/manifest/{key}.json")
    return json_response(body, conditional=True)


# --- helpers ----------------------------------------------------------------------------


def _check(version: int, scope: str) -> None:
    if version not in VERSIONS:
        raise not_found(f"IIIF Content Search version {version} is not offered; use 1 or 2")
    if scope not in SCOPES:
        raise not_found(f"no such scope {scope!r}; use {' or '.join(SCOPES)}")


def _text_scope(scope: str, uri: str) -> TextScope:
    return TextScope(scope, uri, frozenset(_motivations(request.args.get("motivation"))), MACHINE_MOTIVATION)


def find_regions(catalog: Catalog, scope: TextScope, words: list[str], *, offset: int = 0,
                 limit: int | None = None) -> tuple[int, list[RegionText]]:
    """(regions in scope with every word as a word prefix, those from ``offset``): from the
    full-text index; by reading every region in scope only for a word longer than it keeps."""
    if not fulltext.needs_check(words):
        return search_regions(catalog, scope, words, offset=offset, limit=limit)
    found = [r for r, _ in scan_regions(catalog, scope, words)]
    return len(found), found[offset:None if limit is None else offset + limit]


def word_counts(catalog: Catalog, scope: TextScope, leading: list[str], last: str
                ) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """For autocomplete: in how many regions in scope (with every ``leading`` word) each folded
    word starting with ``last`` appears, and how often in each original form."""
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    if fulltext.needs_check([*leading, last]):
        texts_of = [r.all_texts for r, _ in scan_regions(catalog, scope, [*leading, last])]
    else:
        texts_of = [fulltext.region_texts(t, g) for _, t, g in matching_region_texts(catalog, scope, [*leading, last])]
    for texts in texts_of:
        found = words_with_prefix([TAG.sub(" ", t) for t in texts], last)  # as FoldedText(t).original
        for folded, original in found:
            forms[folded][original] += 1
        counts.update({folded for folded, _ in found})
    return counts, forms


def scan_regions(catalog: Catalog, scope: TextScope, words: list[str]) -> list[tuple[RegionText, list[FoldedText]]]:
    """Every region in scope with every word as a word prefix, by reading each one (what the
    full-text index answers; kept for words longer than the index keeps, and as a check)."""
    manifests = [scope.uri] if scope.kind == "manifest" else collection_manifests(catalog, scope.uri)
    out = []
    for region in regions_in_scope(catalog, manifests):
        if scope.motivations and motivation_of(region) not in scope.motivations:
            continue
        texts = [FoldedText(t) for t in region.all_texts]
        if _matches(texts, words):
            out.append((region, texts))
    return out


def _matches(texts: list[FoldedText], words: list[str]) -> bool:
    """Every word matches a word start in one of the texts (no words: everything matches)."""
    return all(any(t.find(w) is not None for t in texts) for w in words)


def _text_matches(chosen: list[tuple[RegionText, list[FoldedText]]], words: list[str], base: str) -> list[TextMatch]:
    out = []
    for region, texts in chosen:
        for word in words:
            found = next((s for s in (snippet(t, word) for t in texts) if s is not None), None)
            if found is not None:
                out.append(TextMatch([annotation_id(region, base)], found.exact, found.prefix, found.suffix))
    return out


def _typed_prefix(q: str) -> str:
    """``q`` as typed up to its last word: "Zephyr a" -> "Zephyr "."""
    last = list(re.finditer(r"\w+", q))[-1]
    return q[:last.start()]


def _motivations(raw: str | None) -> set[str]:
    return {m.split(":", 1)[-1] for m in (raw or "").split() if m}


def _page_number(raw: str | None) -> int:
    return _positive(raw, "page", default=1)


def _positive(raw: str | None, name: str, *, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise bad_request(f"{name!r} must be a whole number of at least 1, not {raw!r}", field=name)
    return value


def _page_id(search_url: str, page: int, paging: Paging | None) -> str:
    if paging is None:
        return search_url
    return with_query_param(search_url, "page", str(page))


def _ignored(supported: tuple[str, ...]) -> list[str]:
    return [k for k in dict.fromkeys(request.args.keys()) if k not in supported and k != "uri"]


# --- OpenAPI ----------------------------------------------------------------------------

_VERSION = {"name": "version", "in": "path", "required": True, "schema": {"type": "integer", "enum": [1, 2]}}
_SCOPE = {"name": "scope", "in": "path", "required": True, "schema": {"type": "string", "enum": list(SCOPES)}}
_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "description": "The first 16 hex characters of the SHA-256 of the manifest's or collection's URI "
                       "(GET /iiif/services/{scope}?uri=URI gives it)."}
_URI = {"name": "uri", "in": "query", "required": True, "schema": {"type": "string", "format": "uri"},
        "description": "The manifest's or collection's URI, instead of its key."}
_Q = {"name": "q", "in": "query", "schema": {"type": "string"}, "example": "venus",
      "description": "Words to find (each a word prefix; all required; case and accents ignored)."}
_MOTIVATION = {"name": "motivation", "in": "query", "schema": {"type": "string"}, "example": "commenting tagging"}
_PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}}
_MIN = {"name": "min", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}}
_IIIF_OK = {"description": "A Content Search response (1.0: sc:AnnotationList; 2.0: AnnotationPage).",
            "content": {"application/ld+json": {"schema": {"type": "object"}}}}
_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
_BAD = {"$ref": "#/components/responses/BadRequest"}


def _search_item(params: list, summary: str) -> dict:
    return {"get": {"tags": ["IIIF Content Search"], "summary": summary, "parameters": params,
                    "responses": {"200": _IIIF_OK, "400": _BAD, "404": _NOT_FOUND}}}


OPENAPI_PATHS: dict[str, Any] = {
    "/iiif/search/{version}/{scope}/{key}": _search_item(
        [_VERSION, _SCOPE, _KEY, _Q, _MOTIVATION, _PAGE],
        "Content Search 1.0/2.0 over a manifest's or collection's annotations and machine tags"),
    "/iiif/search/{version}/{scope}": _search_item([_VERSION, _SCOPE, _URI, _Q, _MOTIVATION, _PAGE],
                                                   "The same, naming the manifest or collection by ?uri="),
    "/iiif/autocomplete/{version}/{scope}/{key}": _search_item(
        [_VERSION, _SCOPE, _KEY, {**_Q, "required": True, "example": "ven"}, _MOTIVATION, _MIN],
        "Content Search autocomplete: words starting with q, with counts"),
    "/iiif/autocomplete/{version}/{scope}": _search_item(
        [_VERSION, _SCOPE, _URI, {**_Q, "required": True}, _MOTIVATION, _MIN], "The same, by ?uri="),
    "/iiif/services/{scope}/{key}": {"get": {
        "tags": ["IIIF Content Search"], "summary": "Service blocks to paste into the manifest's `service`",
        "parameters": [_SCOPE, _KEY],
        "responses": {"200": {"description": "`service`: [SearchService2, SearchService1], each with autocomplete."},
                      "404": _NOT_FOUND}}},
    "/iiif/services/{scope}": {"get": {
        "tags": ["IIIF Content Search"], "summary": "The same, by ?uri= (also tells the key)",
        "parameters": [_SCOPE, _URI],
        "responses": {"200": {"description": "As above."}, "404": _NOT_FOUND}}},
}
