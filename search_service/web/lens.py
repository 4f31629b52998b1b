"""The lens: the visitors' web app, its guides' bundles, and their anonymous statistics.

    /lens/                                  the guides (HTML)
    /lens/<guide>/                          the app for a guide (lens/dist/index.html)
    /lens/<guide>/qr                        a printable page with the QR code that opens it
    /lens/<guide>/stats                     the curators' dashboard (the data needs a key)
    /lens/<guide>/current.json              which bundle version is current (no-cache)
    /lens/<guide>/v<N>/<path>               the bundle's files (immutable: a version never changes)
    /lens/_app/<file>, /lens/sw.js          the built app (lens/dist/) and its service worker
    POST /api/lens/<guide>/events           a batch of anonymous events (rate-limited per client)
    GET  /api/lens/<guide>/stats[.csv]      the report, k-anonymous (key required)

Bundles are what `loupe lens build` writes under ``<data_dir>/lens/<guide>/`` (lens/BUNDLE.md);
a guide is known once its ``current.json`` exists. Files are served only from inside that
folder (``..``, absolute paths and links leading out are refused). The app is built by ``npm
run build`` in ``lens/`` (scripts/install-npm-deps.sh runs it); without it the pages answer
503 saying so.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, send_file
from werkzeug.security import safe_join

from loupe_stats import LensStatsStore, aggregate, parse_batch
from loupe_stats.plots import report_plots

from ..auth import require_api_key
from ..errors import ApiError, bad_request, not_found
from ..rate_limit import RateLimiter
from ..responses import json_response
from ..services import get_services

log = logging.getLogger(__name__)

bp = Blueprint("lens", __name__, template_folder="templates")

DIST_CONFIG = "LOUPE_LENS_DIST"  # app.config key: where the built app is (tests may point elsewhere)
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "lens" / "dist"
BUILD_HINT = "run `npm ci && npm run build` in lens/ (or `make test`, which does both)"
GUIDE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IMMUTABLE = "public, max-age=31536000, immutable"
# The app: its own scripts only. OpenCV.js (Emscripten's embind) makes its function wrappers
# with `new Function`, hence 'unsafe-eval'; TensorFlow.js and OpenCV.js compile WebAssembly.
# Cards play audio and video from wherever the curators' IIIF says (https).
LENS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self'; "
               "img-src 'self' data: blob:; media-src 'self' https: blob:; connect-src 'self' data: blob:; "
               "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'")
# The QR page and the dashboard: their own script, plots as data: URLs.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")
CAMERA_PERMISSION = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
TYPES = {".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
         ".json": "application/json", ".bin": "application/octet-stream", ".webmanifest": "application/manifest+json"}
PAGES = {"app": "index.html", "qr": "qr.html", "stats": "stats.html"}
LIMITER = "loupe_lens_limiter"
STATS_STORE = "loupe_lens_stats"
_lock = threading.Lock()
_bundles: dict[Path, tuple[float, dict]] = {}


# --- guides and bundles -------------------------------------------------------------------


def lens_dir() -> Path:
    return get_services().settings.data_dir / "lens"


def dist_dir() -> Path:
    return Path(current_app.config.get(DIST_CONFIG) or DEFAULT_DIST)


def current_version(guide: str) -> int | None:
    """The guide's current bundle version; None when the guide is unknown (or its
    current.json unreadable, which is logged)."""
    if not GUIDE.match(guide):
        return None
    path = lens_dir() / guide / "current.json"
    try:
        version = json.loads(path.read_text(encoding="utf-8")).get("version")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as e:
        log.warning("lens guide %s: unreadable %s: %s", guide, path, e)
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else None


def known_guide(guide: str) -> int:
    version = current_version(guide)
    if version is None:
        raise not_found(f"no lens guide {guide[:80]!r}: build one with `loupe lens build GUIDE`",
                        code="unknown_guide")
    return version


def guide_bundle(guide: str, version: int) -> dict | None:
    """The version's bundle.json (read once per change of the file); None if unreadable."""
    path = lens_dir() / guide / f"v{version}" / "bundle.json"
    try:
        mtime = path.stat().st_mtime
        with _lock:
            cached = _bundles.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("lens guide %s: unreadable %s: %s", guide, path, e)
        return None
    if not isinstance(bundle, dict):
        return None
    with _lock:
        _bundles[path] = (mtime, bundle)
    return bundle


def pick_text(language_map: Any, languages: list[str] | None = None) -> str:
    """One string of a IIIF language map: the first of ``languages`` present, else 'none', else any."""
    if not isinstance(language_map, dict) or not language_map:
        return ""
    for key in [*(languages or []), "en", "none", *language_map]:
        values = language_map.get(key)
        if isinstance(values, list) and values:
            return str(values[0])
        if isinstance(values, str):
            return values
    return ""


def item_labels(bundle: dict | None) -> dict[str, dict]:
    """Item id -> {"label", "kind"} from a bundle (details: "Artwork · detail")."""
    if not bundle:
        return {}
    languages = bundle.get("languages") or []
    items = [i for i in bundle.get("items") or [] if isinstance(i, dict) and isinstance(i.get("id"), str)]
    titles = {i["id"]: pick_text(i.get("title"), languages) or i["id"] for i in items}
    out = {}
    for item in items:
        label = titles[item["id"]]
        if item.get("kind") == "detail" and item.get("parent") in titles:
            label = f"{titles[item['parent']]} · {label}"
        out[item["id"]] = {"label": label, "kind": item.get("kind") or "artwork"}
    return out


def guides() -> list[dict]:
    """Every known guide: id, version, title, languages, items."""
    root = lens_dir()
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        version = current_version(folder.name) if folder.is_dir() else None
        if version is None:
            continue
        bundle = guide_bundle(folder.name, version) or {}
        found.append({"id": folder.name, "version": version,
                      "title": pick_text(bundle.get("label"), bundle.get("languages")) or folder.name,
                      "languages": bundle.get("languages") or [], "items": len(bundle.get("items") or [])})
    return found


# --- pages --------------------------------------------------------------------------------


def _not_built() -> Response:
    response = make_response(f"<!doctype html><title>Loupe lens</title><p>The lens app is not built: {BUILD_HINT}.",
                             503)
    response.mimetype = "text/html"
    return response


def _page(name: str, guide: str, policy: str, permissions: str | None = None) -> Response:
    if current_version(guide) is None:
        response = make_response(render_template("web/lens_guides.html", guides=guides(), missing=guide), 404)
        response.headers["Cache-Control"] = "no-cache"
        return response
    path = dist_dir() / PAGES[name]
    if not path.is_file():
        return _not_built()
    response = send_file(path, mimetype="text/html", conditional=True, etag=True, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = policy
    if permissions:
        response.headers["Permissions-Policy"] = permissions
    return response


@bp.get("/lens/")
def lens_guides() -> Response:
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        response = json_response({"guides": guides()})
    else:
        response = make_response(render_template("web/lens_guides.html", guides=guides(), missing=None))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/lens")
@bp.get("/lens/<guide>")
def lens_slash(guide: str | None = None) -> Response:
    if guide is not None and not GUIDE.match(guide):
        raise not_found(f"no lens guide {guide[:80]!r}", code="unknown_guide")
    return redirect(f"/lens/{guide}/" if guide else "/lens/", 308)


@bp.get("/lens/<guide>/")
def lens_app(guide: str) -> Response:
    return _page("app", guide, LENS_POLICY, CAMERA_PERMISSION)


@bp.get("/lens/<guide>/qr")
def lens_qr(guide: str) -> Response:
    return _page("qr", guide, PAGE_POLICY)


@bp.get("/lens/<guide>/stats")
def lens_dashboard(guide: str) -> Response:
    return _page("stats", guide, PAGE_POLICY)


# --- files --------------------------------------------------------------------------------


def _inside(root: Path, subpath: str) -> Path | None:
    """The file ``subpath`` names inside ``root``; None when outside, absent or not a file."""
    try:
        joined = safe_join(str(root), subpath)
        if joined is None:
            return None
        path = Path(joined).resolve()
        real_root = root.resolve()
        if real_root not in path.parents or not path.is_file():
            return None
        return path
    except (OSError, ValueError):  # a name too long for the file system
        return None


def _file(path: Path, cache_control: str) -> Response:
    response = send_file(path, mimetype=TYPES.get(path.suffix), conditional=True, etag=True)
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/lens/<guide>/current.json")
def lens_current(guide: str) -> Response:
    known_guide(guide)
    return _file(lens_dir() / guide / "current.json", "no-cache")


@bp.get("/lens/<guide>/v<int:version>/<path:subpath>")
def lens_bundle_file(guide: str, version: int, subpath: str) -> Response:
    known_guide(guide)
    path = _inside(lens_dir() / guide / f"v{version}", subpath)
    if path is None:
        raise not_found(f"guide {guide!r} has no file {subpath[:200]!r} in version {version}")
    return _file(path, IMMUTABLE)


@bp.get("/lens/_app/<path:filename>")
def lens_app_file(filename: str) -> Response:
    folder = dist_dir()
    if not (folder / PAGES["app"]).is_file():
        raise not_found(f"the lens app is not built: {BUILD_HINT}", code="lens_not_built")
    path = _inside(folder, filename)
    if path is None or path.suffix == ".html":
        raise not_found(f"the lens app has no file {filename[:200]!r}")
    return _file(path, "no-cache")  # revalidated (ETag); the service worker answers offline


@bp.get("/lens/sw.js")
def lens_service_worker() -> Response:
    path = dist_dir() / "sw.js"
    if not path.is_file():
        raise not_found(f"the lens app is not built: {BUILD_HINT}", code="lens_not_built")
    response = _file(path, "no-cache")
    # A worker's policy is its script's: it fetches from this server only.
    response.headers["Content-Security-Policy"] = "default-src 'self'"
    return response


# --- statistics ---------------------------------------------------------------------------


def _limiter() -> RateLimiter:
    limiter = current_app.extensions.get(LIMITER)
    if limiter is None:
        limiter = current_app.extensions.setdefault(LIMITER, RateLimiter(get_services().settings.lens_events_per_minute))
    return limiter


def stats_store() -> LensStatsStore:
    store = current_app.extensions.get(STATS_STORE)
    if store is None:
        store = current_app.extensions.setdefault(STATS_STORE, LensStatsStore(get_services().catalog.engine))
    return store


@bp.post("/api/lens/<guide>/events")
def lens_events(guide: str) -> Response:
    _limiter().check(request.remote_addr or "unknown", "statistics batches")
    version = known_guide(guide)
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the events as JSON (Content-Type: application/json)")
    bundle = guide_bundle(guide, version)
    items = set(item_labels(bundle)) if bundle else None
    events = parse_batch(guide, request.get_json(silent=True), known_items=items)  # EventError: 400
    return json_response({"stored": stats_store().add(events)}, 202)


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


# --- OpenAPI ------------------------------------------------------------------------------

_GUIDE = {"name": "guide", "in": "path", "required": True, "example": "default",
          "schema": {"type": "string", "pattern": GUIDE.pattern}}
_UNKNOWN_GUIDE = {"description": "No such guide (no current.json).", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"},
    "example": {"error": {"code": "unknown_guide", "message": "no lens guide 'x'"}}}}}
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
                       "events": {"type": "array", "minItems": 1, "maxItems": 200, "items": _EVENT}}},
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
    "/lens/": {"get": {"tags": ["lens"], "summary": "The lens guides (HTML; JSON with `Accept: application/json` "
                       "or `format=json`)",
                       "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json"]}}],
                       "responses": {"200": {"description": "HTML, or `{\"guides\": [{id, version, title, languages, "
                                             "items}]}`."}}}},
    "/lens/{guide}/": {"get": {"tags": ["lens"], "summary": "The lens app for a guide (HTML)",
                               "parameters": [_GUIDE],
                               "responses": {"200": {"description": "HTML."}, "404": {"description": "No such guide."},
                                             "503": {"description": "The app is not built."}}}},
    "/lens/{guide}/qr": {"get": {"tags": ["lens"], "summary": "A printable page with the QR code that opens the lens",
                                 "parameters": [_GUIDE], "responses": {"200": {"description": "HTML."}}}},
    "/lens/{guide}/stats": {"get": {"tags": ["lens"], "summary": "The curators' statistics dashboard (HTML; its data "
                                    "needs a key)", "parameters": [_GUIDE], "responses": {"200": {"description": "HTML."}}}},
    "/lens/{guide}/current.json": {"get": {
        "tags": ["lens"], "summary": "The guide's current bundle version (no-cache)", "parameters": [_GUIDE],
        "responses": {"200": {"description": "`{\"version\": N}`", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"version": {"type": "integer"}}}}}},
            "404": _UNKNOWN_GUIDE}}},
    "/lens/{guide}/v{version}/{subpath}": {"get": {
        "tags": ["lens"], "summary": "A file of a bundle version (bundle.json, items, models; immutable)",
        "parameters": [_GUIDE, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "subpath", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "bundle.json"}],
        "responses": {"200": {"description": "The file, `Cache-Control: public, max-age=31536000, immutable`."},
                      "304": {"description": "Not modified."}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/lens/_app/{filename}": {"get": {
        "tags": ["lens"], "summary": "The built app's files (scripts, styles, WebAssembly)",
        "parameters": [{"name": "filename", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "lens.js"}],
        "responses": {"200": {"description": "The file."}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/lens/sw.js": {"get": {"tags": ["lens"], "summary": "The app's service worker (offline after the first visit)",
                            "responses": {"200": {"description": "JavaScript."}}}},
    "/api/lens/{guide}/events": {"post": {
        "tags": ["lens"], "summary": "Anonymous statistics from a visitor's phone, in batches",
        "description": "Accepted for known guides only, at most `lens_events_per_minute` batches a minute per "
                       "client. Nothing about the client (address, user agent) is stored. A bad event refuses the "
                       "whole batch (400 `invalid_event`, `field` names it: `events[2].item`).",
        "parameters": [_GUIDE],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LensEvents"}}}},
        "responses": {"202": {"description": "Stored.", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"stored": {"type": "integer"}}}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "404": _UNKNOWN_GUIDE,
            "415": {"description": "Not JSON."},
            "429": {"description": "Too many batches from this client (`rate_limited`); see Retry-After.",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}}}}}},
    "/api/lens/{guide}/stats": {"get": {
        "tags": ["lens"], "summary": "The guide's statistics, with PNG plots; groups of fewer than k sessions hidden",
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "parameters": [_GUIDE, *_DAYS, {"name": "plots", "in": "query", "schema": {"type": "boolean", "default": True}}],
        "responses": {"200": {"description": "The report.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LensStats"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"}, "404": _UNKNOWN_GUIDE}}},
    "/api/lens/{guide}/stats.csv": {"get": {
        "tags": ["lens"], "summary": "The same report as CSV (section, key, label, counts)",
        "security": [{"ApiKey": []}, {"Bearer": []}], "parameters": [_GUIDE, *_DAYS],
        "responses": {"200": {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"},
                      "403": {"$ref": "#/components/responses/Forbidden"}, "404": _UNKNOWN_GUIDE}}},
}
