"""The viewer page at ``/viewer``: Mirador 4 with Loupe's plugin, against this service.

    /viewer                           the first manifest of the catalog
    /viewer?manifest=URL              a manifest
    /viewer?iiif-content=STATE        a IIIF content state: its manifest, canvas and region
    /viewer/static/FILE               the plugin's built bundle (viewer_plugin/dist/)

The bundle is built by ``npm run build`` in ``viewer_plugin/`` (scripts/install-npm-deps.sh
runs it); without it the page answers 503 saying so. The page's script reads its settings
from the page (this service's address, the manifest or content state, the catalog's
manifests for Mirador's "add resource" list) and starts Mirador: nothing is inlined but data.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, current_app, make_response, render_template, request, send_from_directory
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import ManifestRow

from ..errors import not_found
from ..security_headers import VIEWER_POLICY
from ..services import get_services
from ..urls import base_url

log = logging.getLogger(__name__)

bp = Blueprint("viewer", __name__, static_folder="viewer_static", static_url_path="/viewer/page",
               template_folder="templates")

DIST_CONFIG = "LOUPE_VIEWER_DIST"  # app.config key: where the built bundle is (tests may point elsewhere)
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "viewer_plugin" / "dist"
BUNDLE = "loupe-mirador.js"
MAX_CATALOG = 200  # manifests offered in Mirador's list; more would not be usable there
CACHE_SECONDS = 300
BUILD_HINT = "run `npm ci && npm run build` in viewer_plugin/ (or `make test`, which does both)"


def dist_dir() -> Path:
    return Path(current_app.config.get(DIST_CONFIG) or DEFAULT_DIST)


@bp.get("/viewer")
def viewer_page() -> Response:
    services = get_services()
    bundle_ready = (dist_dir() / BUNDLE).is_file()
    try:
        manifests = catalog_manifests(services.catalog)
    except Exception as e:  # noqa: BLE001 - the page still opens a manifest given in its URL
        log.warning("viewer page: cannot list manifests: %s", e)
        manifests = []
    response = make_response(render_template(
        "web/viewer.html", bundle_ready=bundle_ready, build_hint=BUILD_HINT, endpoint=base_url(services.settings),
        manifest=request.args.get("manifest") or (manifests[0] if manifests else ""),
        content_state=request.args.get("iiif-content", ""), catalog=manifests,
    ), 200 if bundle_ready else 503)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = VIEWER_POLICY
    return response


@bp.get("/viewer/static/<path:filename>")
def viewer_bundle(filename: str) -> Response:
    folder = dist_dir()
    if not (folder / BUNDLE).is_file():
        raise not_found(f"the viewer bundle is not built: {BUILD_HINT}", code="viewer_not_built")
    return send_from_directory(folder, filename, max_age=CACHE_SECONDS)


def catalog_manifests(catalog: Catalog) -> list[str]:
    """URIs of live manifests, in harvest order (the first is the page's default)."""
    with catalog.session() as s:
        return list(s.scalars(select(ManifestRow.uri).where(ManifestRow.status != "deleted")
                              .order_by(ManifestRow.id).limit(MAX_CATALOG)))
