"""CORS: read endpoints may be called from any web page (IIIF viewers on other sites need
the IIIF endpoints, annotations and published files; search pages the search API).

Every response of a view that is not a write endpoint (``auth.require_api_key``) gets
``Access-Control-Allow-Origin: *``. A preflight (OPTIONS) lists the methods of the URL whose
views are read views, with the ``Content-Type`` header that JSON searches by POST need; a
URL that only writes gets no CORS headers at all, so browsers refuse cross-origin calls to
it. Credentials (cookies) are never allowed cross-origin.

One exception, for curators working in their institution's own viewer: a write view marked
``@keyed_cross_origin`` (the review of machine annotations) answers the origins listed in
the ``review_origins`` setting, and only those: its preflight allows its method with the
``X-API-Key`` and ``Authorization`` headers that carry the curator's key, and its answers
name that origin (``Vary: Origin``). The key is still required; with the setting empty
(the default) nothing changes.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from .auth import is_write_view
from .services import get_services

PREFLIGHT_MAX_AGE_S = 86_400
ALLOWED_HEADERS = "Content-Type, Accept, If-None-Match"
KEYED_HEADERS = "Content-Type, Accept, X-API-Key, Authorization"
EXPOSED_HEADERS = "ETag, Link"
KEYED_MARK = "loupe_keyed_cross_origin"

F = TypeVar("F", bound=Callable)


def keyed_cross_origin(view: F) -> F:
    """Decorator (outside ``require_api_key``): this write view may be called with a key from
    the pages of the origins in ``review_origins``."""
    setattr(view, KEYED_MARK, True)
    return view


def add_cors_headers(response: Response) -> Response:
    if request.method == "OPTIONS":
        return _preflight(response)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if is_write_view(view):
        if getattr(view, KEYED_MARK, False) and _allowed_origin():
            _name_origin(response)
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _preflight(response: Response) -> Response:
    read, keyed = _methods()
    if keyed and _allowed_origin():
        _name_origin(response)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted({*read, *keyed, "OPTIONS"}))
        response.headers["Access-Control-Allow-Headers"] = KEYED_HEADERS
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response
    if not read:
        return response
    response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted([*read, "OPTIONS"]))
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _name_origin(response: Response) -> None:
    response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    response.vary.add("Origin")


def _allowed_origin() -> bool:
    origin = request.headers.get("Origin", "").strip().rstrip("/").lower()
    return bool(origin) and origin in get_services().settings.review_origin_set


def _methods() -> tuple[list[str], list[str]]:
    """Methods of this URL answered by read views, and by write views open to keyed cross-origin calls."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    read, keyed = [], []
    for method in adapter.allowed_methods():
        if method == "OPTIONS":
            continue
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        view = current_app.view_functions.get(rule.endpoint)
        if not is_write_view(view):
            read.append(method)
        elif getattr(view, KEYED_MARK, False):
            keyed.append(method)
    return read, keyed


def register_cors(app: Flask) -> None:
    app.after_request(add_cors_headers)
