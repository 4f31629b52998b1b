"""The lens's anonymous statistics over HTTP.

    POST /api/lens/<guide>/events           a batch of events from a phone (known guides only,
                                            ``lens_events_per_minute`` batches per client; a
                                            batch id seen before: 200, a duplicate, stored once)
    GET  /api/lens/<guide>/stats[.csv]      the report, k-anonymous (``lens_stats_k``; key required)

What an event holds and how it is checked: ``loupe_stats.events``; the report and its plots:
``loupe_stats.report``, ``loupe_stats.plots``. The dashboard page is ``web/lens``.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request

from loupe_stats import LensStatsStore, aggregate, parse_batch
from loupe_stats.plots import report_plots

from ..auth import require_api_key
from ..errors import ApiError, bad_request
from ..lens_bundles import GUIDE_PARAMETER, UNKNOWN_GUIDE_RESPONSE, guide_bundle, item_labels, known_guide
from ..rate_limits import Limiter, limit_client, make_limiter
from ..responses import json_response
from ..services import get_services

bp = Blueprint("lens_stats", __name__)

LIMITER = "loupe_lens_limiter"
STATS_STORE = "loupe_lens_stats"


def _limiter() -> Limiter | None:
    """The statistics' own limit per client (in Redis when ``redis_url`` is set), apart from
    the model endpoints'; a burst of a minute's worth."""
    if LIMITER not in current_app.extensions:
        settings = get_services().settings
        per_minute = settings.lens_events_per_minute
        current_app.extensions.setdefault(LIMITER, make_limiter(settings, per_minute, max(1, per_minute), name="lens"))
    return current_app.extensions[LIMITER]


def stats_store() -> LensStatsStore:
    store = current_app.extensions.get(STATS_STORE)
    if store is None:
        services = get_services()
        store = current_app.extensions.setdefault(
            STATS_STORE, LensStatsStore(services.catalog.engine, services.settings.lens_stats_days))
    return store


@bp.post("/api/lens/<guide>/events")
def lens_events(guide: str) -> Response:
    limit_client(_limiter(), get_services().settings, request,
                 lambda seconds: f"too many statistics batches from this client: try again in {seconds} s")
    version = known_guide(guide)
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the events as JSON (Content-Type: application/json)")
    bundle = guide_bundle(guide, version)
    items = set(item_labels(bundle)) if bundle else None
    batch = parse_batch(guide, request.get_json(silent=True), known_items=items)  # EventError: 400
    stored = stats_store().add(batch)
    duplicate = batch.id is not None and stored == 0  # sent again (a beacon, a lost answer): stored before
    return json_response({"stored": stored, "duplicate": duplicate}, 200 if duplicate else 202)


def _day(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be a date YYYY-MM-DD", field=name) from None


def _report(guide: str):  # noqa: ANN202 - loupe_stats.Report
    version = known_guide(guide)
    first, last = _day("from"), _day("to")
    since = datetime.combine(first, time()) if first else None
    until = datetime.combine(last + timedelta(days=1), time()) if last else None
    k = get_services().settings.lens_stats_k
    return aggregate(stats_store(), guide, k=k, since=since, until=until,
                     labels=item_labels(guide_bundle(guide, version)))


@bp.get("/api/lens/<guide>/stats")
@require_api_key
def lens_stats(guide: str) -> Response:
    report = _report(guide)
    body = report.as_json()
    if request.args.get("plots", "true").lower() not in ("0", "false", "no"):
        body["plots"] = {name: base64.b64encode(png).decode("ascii") for name, png in report_plots(report).items()}
    response = json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/lens/<guide>/stats.csv")
@require_api_key
def lens_stats_csv(guide: str) -> Response:
    report = _report(guide)
    response = Response(report.csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="lens-{guide}-stats.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- OpenAPI ---------------------------------------------------------------------------------

_DAYS = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
          "description": "First day (UTC) counted."},
         {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
          "description": "Last day (UTC) counted."}]
_EVENT = {"type": "object", "required": ["type", "item", "language", "at"], "additionalProperties": False,
          "properties": {
              "type": {"type": "string", "enum": ["recognized", "card"],
                       "description": "recognized: the item was in view for dwell_ms; card: its card was open."},
              "item": {"type": "string", "description": "An item id of the guide's bundle (artwork or detail)."},
              "mode": {"type": "string", "enum": ["retrieval", "classify", "detect"]},
              "language": {"type": "string", "example": "en"},
              "dwell_ms": {"type": "integer", "minimum": 0, "maximum": 14400000},
              "at": {"type": "string", "format": "date-time", "example": "2026-12-03T23:10:05+01:00",
                     "description": "With the phone's UTC offset (the report's hours are local)."}}}
_ROW = {"type": "object", "properties": {
    "key": {"type": ["string", "integer"]}, "label": {"type": "string"}, "kind": {"type": "string"},
    "events": {"type": "integer"}, "sessions": {"type": "integer"}, "recognitions": {"type": "integer"},
    "cards": {"type": "integer"}, "dwell_median_s": {"type": ["number", "null"]}}}
_ROWS = {"type": "array", "items": {"$ref": "#/components/schemas/LensStatsRow"}}

OPENAPI_COMPONENTS = {"schemas": {
    "LensEvents": {"type": "object", "required": ["session", "events"], "additionalProperties": False,
                   "properties": {
                       "session": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$",
                                   "description": "Random, drawn by the phone, new every day."},
                       "batch": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$",
                                 "description": "Optional: random, drawn by the phone for this batch and sent "
                                                "again with the same events when it could not see the answer; "
                                                "the batch is stored at most once per guide."},
                       "events": {"type": "array", "minItems": 1, "maxItems": 200, "items": _EVENT}}},
    "LensEventsStored": {"type": "object", "required": ["stored", "duplicate"], "properties": {
        "stored": {"type": "integer", "description": "Events stored from this request."},
        "duplicate": {"type": "boolean", "description": "The batch (`batch` id) was stored before."}}},
    "LensStatsRow": _ROW,
    "LensStats": {"type": "object", "properties": {
        "guide": {"type": "string"}, "k": {"type": "integer"},
        "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
        "totals": {"type": ["object", "null"], "description": "null: fewer than k sessions in the period."},
        "items": _ROWS, "hours": _ROWS, "languages": _ROWS, "modes": _ROWS, "dwell": _ROWS,
        "suppressed": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "Per section, the groups hidden for having fewer than k sessions."},
        "plots": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "PNG plots, base64 (top_artworks, top_details, hours, dwell, languages)."}}},
}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/lens/{guide}/events": {"post": {
        "tags": ["lens"], "summary": "Anonymous statistics from a visitor's phone, in batches",
        "description": "Accepted for known guides only, at most `lens_events_per_minute` batches a minute per "
                       "client. Nothing about the client (address, user agent) is stored. A bad event refuses the "
                       "whole batch (400 `invalid_event`, `field` names it: `events[2].item`). A batch sent again "
                       "under a `batch` id already stored is not stored again: 200, `duplicate` true, `stored` 0.",
        "parameters": [GUIDE_PARAMETER],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LensEvents"}}}},
        "responses": {"202": {"description": "Stored.", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/LensEventsStored"}}}},
            "200": {"description": "A duplicate: this guide's batch with this `batch` id was stored before; nothing "
                                   "more is (`stored` 0, `duplicate` true).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LensEventsStored"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "404": UNKNOWN_GUIDE_RESPONSE,
            "415": {"description": "Not JSON."},
            "429": {"description": "Too many batches from this client (`rate_limited`); see Retry-After.",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}}}}}},
    "/api/lens/{guide}/stats": {"get": {
        "tags": ["lens"], "summary": "The guide's statistics, with PNG plots; groups of fewer than k sessions hidden",
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "parameters": [GUIDE_PARAMETER, *_DAYS, {"name": "plots", "in": "query", "schema": {"type": "boolean", "default": True}}],
        "responses": {"200": {"description": "The report.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LensStats"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"}, "404": UNKNOWN_GUIDE_RESPONSE}}},
    "/api/lens/{guide}/stats.csv": {"get": {
        "tags": ["lens"], "summary": "The same report as CSV (section, key, label, counts)",
        "security": [{"ApiKey": []}, {"Bearer": []}], "parameters": [GUIDE_PARAMETER, *_DAYS],
        "responses": {"200": {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"},
                      "403": {"$ref": "#/components/responses/Forbidden"}, "404": UNKNOWN_GUIDE_RESPONSE}}},
}
