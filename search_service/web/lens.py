"""The lens: the visitors' web app, its QR page and dashboard, and the guides' bundles.

    /lens/                                  the guides (HTML)
    /lens/<guide>/                          the app for a guide (lens/dist/index.html)
    /lens/<guide>/qr                        a printable page with the QR code that opens it
    /lens/<guide>/stats                     the curators' dashboard (the data needs a key)
    /lens/<guide>/current.json              which bundle version is current (no-cache)
    /lens/<guide>/v<N>/<path>               the bundle's files (immutable: a version never changes)
    /lens/_app/<file>, /lens/sw.js          the built app (lens/dist/) and its service worker

Bundles are what `loupe lens build` writes under ``<data_dir>/lens/<guide>/`` (lens/BUNDLE.md;
``lens_bundles``); the statistics are ``api/lens_stats``. Files are served only from inside that
folder (``..``, absolute paths and links leading out are refused). The app is built by ``npm
run build`` in ``lens/`` (scripts/install-npm-deps.sh runs it); without it the pages answer
503 saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, send_file
from werkzeug.security import safe_join

from loupe_guide.paths import GUIDE_ID

from ..errors import not_found
from ..lens_bundles import (
    GUIDE_PARAMETER,
    UNKNOWN_GUIDE_RESPONSE,
    current_version,
    guides,
    known_guide,
    lens_dir,
)
from ..responses import json_response

bp = Blueprint("lens", __name__, template_folder="templates")

DIST_CONFIG = "LOUPE_LENS_DIST"  # app.config key: where the built app is (tests may point elsewhere)
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "lens" / "dist"
BUILD_HINT = "run `npm ci && npm run build` in lens/ (or `make test`, which does both)"
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


def dist_dir() -> Path:
    return Path(current_app.config.get(DIST_CONFIG) or DEFAULT_DIST)


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
    if guide is not None and not GUIDE_ID.fullmatch(guide):
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


# --- OpenAPI ------------------------------------------------------------------------------

OPENAPI_PATHS: dict[str, Any] = {
    "/lens/": {"get": {"tags": ["lens"], "summary": "The lens guides (HTML; JSON with `Accept: application/json` "
                       "or `format=json`)",
                       "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json"]}}],
                       "responses": {"200": {"description": "HTML, or `{\"guides\": [{id, version, title, languages, "
                                             "items}]}`."}}}},
    "/lens/{guide}/": {"get": {"tags": ["lens"], "summary": "The lens app for a guide (HTML)",
                               "parameters": [GUIDE_PARAMETER],
                               "responses": {"200": {"description": "HTML."}, "404": {"description": "No such guide."},
                                             "503": {"description": "The app is not built."}}}},
    "/lens/{guide}/qr": {"get": {"tags": ["lens"], "summary": "A printable page with the QR code that opens the lens",
                                 "parameters": [GUIDE_PARAMETER], "responses": {"200": {"description": "HTML."}}}},
    "/lens/{guide}/stats": {"get": {"tags": ["lens"], "summary": "The curators' statistics dashboard (HTML; its data "
                                    "needs a key)", "parameters": [GUIDE_PARAMETER], "responses": {"200": {"description": "HTML."}}}},
    "/lens/{guide}/current.json": {"get": {
        "tags": ["lens"], "summary": "The guide's current bundle version (no-cache)", "parameters": [GUIDE_PARAMETER],
        "responses": {"200": {"description": "`{\"version\": N}`", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"version": {"type": "integer"}}}}}},
            "404": UNKNOWN_GUIDE_RESPONSE}}},
    "/lens/{guide}/v{version}/{subpath}": {"get": {
        "tags": ["lens"], "summary": "A file of a bundle version (bundle.json, items, models; immutable)",
        "parameters": [GUIDE_PARAMETER, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}},
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
}
