"""CORS: read endpoints may be called from any web page (IIIF viewers on other sites need
the IIIF endpoints, annotations and published files; search pages the search API).

Every response of a view that is not a write endpoint (``auth.require_api_key``) gets
``Access-Control-Allow-Origin: *``. A preflight (OPTIONS) lists the methods of the URL whose
views are read views, with the ``Content-Type`` header that JSON searches by POST need; a
URL that only writes gets no CORS headers at all, so browsers refuse cross-origin calls to
it. Credentials are never allowed cross-origin: API keys are for servers and scripts, not
for visitors' browsers.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from .auth import is_write_view

PREFLIGHT_MAX_AGE_S = 86_400
ALLOWED_HEADERS = "Content-Type, Accept, If-None-Match"
EXPOSED_HEADERS = "ETag, Link"


def add_cors_headers(response: Response) -> Response:
    if request.method == "OPTIONS":
        methods = _read_methods()
        if not methods:
            return response
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    else:
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if is_write_view(view):
            return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _read_methods() -> list[str]:
    """Methods of this URL answered by read views (empty when only write views answer it)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = []
    for method in adapter.allowed_methods():
        if method == "OPTIONS":
            continue
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if not is_write_view(current_app.view_functions.get(rule.endpoint)):
            methods.append(method)
    return sorted(methods + ["OPTIONS"]) if methods else []


def register_cors(app: Flask) -> None:
    app.after_request(add_cors_headers)
