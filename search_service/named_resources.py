"""Which manifest, collection or canvas a IIIF endpoint's URL names: by its short key in
the path (``/.../<key>.json``), or by ``?uri=`` when the caller has the URI. One rule for
every endpoint, with the same errors."""

from __future__ import annotations

from flask import request

from connector.catalog.keys import Kind, uri_key

from .catalog_reads import canvas_is_live, manifest_exists
from .request_errors import InvalidRequest, NotInCatalog
from .services import get_services


def resolve_named(kind: Kind, key: str | None) -> tuple[str, str]:
    """(URI, key) of the live ``kind`` named by ``key``, or by ``?uri=`` when ``key`` is None.

    A URI is checked against the catalog directly (a manifest harvested a moment ago is
    found at once); a key goes through the key table, rebuilt every few seconds."""
    services = get_services()
    if key is None:
        uri = request.args.get("uri", "").strip()
        if not uri:
            raise InvalidRequest(f"name the {kind} by its key in the URL or by ?uri=", field="uri")
        if kind == "manifest":
            known = manifest_exists(services.catalog, uri)
        elif kind == "canvas":
            known = canvas_is_live(services.catalog, uri)
        else:
            known = services.keys.uri(kind, uri_key(uri)) == uri
        if not known:
            raise NotInCatalog(code=f"unknown_{kind}", message=f"the catalog has no {kind} {uri}", field="uri")
        return uri, uri_key(uri)
    uri = services.keys.uri(kind, key)
    if uri is None:
        raise NotInCatalog(code=f"unknown_{kind}", message=f"no {kind} has the key {key!r}; "
                       f"GET /iiif/services/{kind}?uri=URI gives a URI's key" if kind != "canvas"
                       else f"no canvas has the key {key!r}")
    return uri, key
