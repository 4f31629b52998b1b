"""The published static IIIF collections (``loupe publish``) at ``/published/NAME/...``.

`loupe publish`'s default base URL is ``http://HOST:PORT/published/NAME``, so with `loupe
serve` running, what was published is online at once: collection, manifests, info.json and
image derivatives (a level-0 Image API). Files are served with ETag and Last-Modified
(answering conditional requests with 304), CORS for viewers, and only from inside
``published_dir``: ``..``, absolute paths and links pointing outside are refused. A folder
answers with the IIIF document it holds (collection.json, manifest.json, info.json), as the
Image API's ``{id}`` → ``{id}/info.json`` convention expects.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, request, send_file
from werkzeug.security import safe_join

from .errors import not_found
from .services import get_services

bp = Blueprint("published", __name__)

FOLDER_DOCUMENTS = ("collection.json", "manifest.json", "info.json")
CACHE_SECONDS = 60
JSON_TYPE = "application/ld+json"


@bp.get("/published/<path:subpath>")
def published_file(subpath: str) -> Response:
    root = get_services().settings.published_dir.resolve()
    try:
        path = _published_path(root, subpath)
    except (OSError, ValueError):  # a name too long for the file system, a NUL character
        path = None
    if path is None:
        raise not_found(f"no published file {subpath[:200]!r}")
    if path.is_dir():
        document = next((path / n for n in FOLDER_DOCUMENTS if (path / n).is_file()), None)
        if document is None:
            raise not_found(f"no published file {subpath!r} (folders are not listed)")
        if not request.path.endswith("/") and document.name == "info.json":
            return redirect(request.path + "/info.json", 303)
        path = document
    mimetype = JSON_TYPE if path.suffix == ".json" else None
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=CACHE_SECONDS)
    return response


def _published_path(root: Path, subpath: str) -> Path | None:
    """The file or folder ``subpath`` names inside ``root``; None when it is outside or absent."""
    joined = safe_join(str(root), subpath)
    if joined is None:
        return None
    path = Path(joined).resolve()
    if path != root and root not in path.parents:  # a link leading out of the folder
        return None
    return path if path.is_dir() or path.is_file() else None


OPENAPI_PATHS = {
    "/published/{subpath}": {"get": {
        "tags": ["published"], "summary": "Files of collections published with `loupe publish`",
        "parameters": [{"name": "subpath", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "demo/collection.json"}],
        "responses": {"200": {"description": "The file (JSON-LD documents, images)."},
                      "304": {"description": "Not modified (If-None-Match / If-Modified-Since)."},
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
}
