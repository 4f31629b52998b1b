"""Loupe's machine annotations, one AnnotationPage per canvas, for viewers.

    /iiif/annotations/CANVASKEY.json              the page (CANVASKEY: connector.catalog.keys.uri_key of the canvas URI)
    /iiif/annotations?uri=CANVAS                  the same page, found by the canvas URI
    /iiif/annotations/manifest/MANIFESTKEY.json   every canvas of a manifest with its page URL
    /iiif/annotations/manifest?uri=MANIFEST       the same, by the manifest URI
    /iiif/context/loupe.jsonld                    the JSON-LD context of Loupe's terms (the pages name it)

A page holds the canvas's regions made by a model (``made_by = machine``) unless a curator
rejected them, proposed and accepted alike: each annotation says which model and version
made it (``generator``), which process (``creator``, a Software agent), when, how sure it was
(``loupe:confidence``) and where its review stands (``loupe:review``: ``proposed``, or
``accepted`` with ``loupe:reviewedBy`` and ``loupe:reviewed``). Page URLs are
stable (they depend only on the canvas URI), so they can be added to the canvas's
``annotations`` in the manifest or loaded into a viewer by hand. An empty page is a valid
answer: the canvas is known, Loupe has said nothing about it yet.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from connector.catalog.keys import uri_key
from iiif.writers.annotations import LOUPE_CONTEXT_DOCUMENT, LOUPE_CONTEXT_PATH, annotation_page

from .catalog_reads import machine_regions, manifest_canvases
from .named_resources import resolve_named
from .region_annotations import region_annotation
from .responses import PRESENTATION_3_PROFILE, iiif_response, json_response
from .services import get_services
from .urls import absolute, base_url

bp = Blueprint("annotations_out", __name__)

PAGE_LABEL = {"en": ["Loupe machine annotations"]}
CONTEXT_PATH = LOUPE_CONTEXT_PATH


@bp.get("/iiif/annotations/<key>.json")
@bp.get("/iiif/annotations", defaults={"key": None})
def canvas_page(key: str | None) -> Response:
    services = get_services()
    canvas, _ = resolve_named("canvas", key)
    settings = services.settings
    page_id = absolute(settings, f"/iiif/annotations/{uri_key(canvas)}.json")
    base = base_url(settings)
    annotations = [region_annotation(r, base) for r in machine_regions(services.catalog, canvas)]
    page = annotation_page(page_id, annotations, label=PAGE_LABEL, loupe_context=loupe_context_url(settings))
    return iiif_response(page, PRESENTATION_3_PROFILE)


@bp.get("/iiif/annotations/manifest/<key>.json")
@bp.get("/iiif/annotations/manifest", defaults={"key": None})
def manifest_pages(key: str | None) -> Response:
    """Each canvas of the manifest with its annotation page, ready for the canvas's
    ``annotations`` property, and how many machine annotations the page holds now."""
    services = get_services()
    manifest, _ = resolve_named("manifest", key)
    settings = services.settings
    canvases = [{"canvas": canvas,
                 "annotations": [{"id": absolute(settings, f"/iiif/annotations/{uri_key(canvas)}.json"),
                                  "type": "AnnotationPage"}],
                 "machine_annotations": count}
                for canvas, count in manifest_canvases(services.catalog, manifest)]
    return json_response({"manifest": manifest, "key": uri_key(manifest), "canvases": canvases}, conditional=True)


@bp.get(CONTEXT_PATH)
def loupe_context() -> Response:
    """The JSON-LD context that Loupe's pages name (``loupe:confidence``, ``loupe:review``...)."""
    return iiif_response(LOUPE_CONTEXT_DOCUMENT, None)


def loupe_context_url(settings) -> str:  # noqa: ANN001 - Settings
    """Where this service serves Loupe's context: the address its pages name."""
    return absolute(settings, CONTEXT_PATH)


_PAGE_OK = {"description": "A IIIF Presentation 3 AnnotationPage (may be empty).",
            "content": {"application/ld+json": {"schema": {"$ref": "#/components/schemas/AnnotationPage"}}}}
_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}

OPENAPI_PATHS: dict[str, Any] = {
    "/iiif/annotations/{key}.json": {"get": {
        "tags": ["IIIF annotations"], "summary": "A canvas's machine annotations (not rejected by curators)",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "First 16 hex characters of the SHA-256 of the canvas URI."}],
        "responses": {"200": _PAGE_OK, "404": _NOT_FOUND}}},
    "/iiif/annotations": {"get": {
        "tags": ["IIIF annotations"], "summary": "The same page, by the canvas URI",
        "parameters": [{"name": "uri", "in": "query", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": _PAGE_OK, "404": _NOT_FOUND}}},
    "/iiif/annotations/manifest/{key}.json": {"get": {
        "tags": ["IIIF annotations"], "summary": "A manifest's canvases with their annotation page URLs",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "{manifest, canvases: [{canvas, annotations, machine_annotations}]}"},
                      "404": _NOT_FOUND}}},
    "/iiif/annotations/manifest": {"get": {
        "tags": ["IIIF annotations"], "summary": "The same, by the manifest URI",
        "parameters": [{"name": "uri", "in": "query", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "As above."}, "404": _NOT_FOUND}}},
    "/iiif/context/loupe.jsonld": {"get": {
        "tags": ["IIIF annotations"], "summary": "JSON-LD context of Loupe's extension (loupe:confidence, loupe:review, ...)",
        "responses": {"200": {"description": "The context document."}}}},
}
