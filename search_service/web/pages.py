"""The search page at ``/`` and ``/search``: a gallery over the JSON API (``/api/search``,
``/api/search/image``, ``/api/search/composed``, ``/api/similar``, ``/api/tag``).

The page is static apart from the collection filter's options, which are read from the
catalog when the page is served, so that it needs no API of its own to list collections.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, make_response, render_template
from sqlalchemy import func, select

from connector.catalog import Catalog
from connector.catalog.schema import CollectionRow, ManifestRow
from iiif.language import pick

from ..services import get_services

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static/web",
               template_folder="templates")

PAGE_SIZE = 24
MAX_COLLECTIONS = 200  # options in the filter; more would not be usable in a select anyway


@bp.get("/")
@bp.get("/search")
def search_page() -> Response:
    services = get_services()
    try:
        collections = collection_options(services.catalog)
    except Exception as e:  # noqa: BLE001 - the page works without the filter's options
        log.warning("search page: cannot list collections: %s", e)
        collections = []
    response = make_response(render_template("web/search.html", collections=collections, page_size=PAGE_SIZE))
    response.headers["Cache-Control"] = "no-cache"
    return response


def collection_options(catalog: Catalog) -> list[tuple[str, str]]:
    """(collection URI, label) of the collections that hold manifests, by label."""
    with catalog.session() as s:
        used = dict(s.execute(select(ManifestRow.collection_uri, func.count())
                              .where(ManifestRow.status != "deleted", ManifestRow.collection_uri.is_not(None))
                              .group_by(ManifestRow.collection_uri)).all())
        labels = {c.uri: c.label for c in s.scalars(select(CollectionRow).where(CollectionRow.uri.in_(list(used))))}
    options = [(uri, f"{pick(labels.get(uri) or {}) or uri} ({count})") for uri, count in used.items()]
    return sorted(options, key=lambda o: o[1].casefold())[:MAX_COLLECTIONS]
