"""Absolute URLs of the service.

IIIF documents need absolute ids. They are built from the ``public_url`` setting when the
service runs behind a proxy, else from the request. Manifests, collections and canvases are named in them by ``connector.catalog.keys.uri_key``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from loupe_core.settings import Settings


def base_url(settings: Settings) -> str:
    """``public_url``, else scheme, host and script root of the current request; no final slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return (request.host_url.rstrip("/") + request.script_root).rstrip("/")


def absolute(settings: Settings, path: str, params: dict | list | None = None) -> str:
    """``path`` (starting with "/") on this service, with query ``params`` (None values dropped)."""
    url = base_url(settings) + path
    if params:
        items = params.items() if isinstance(params, dict) else params
        kept = [(k, v) for k, v in items if v is not None]
        if kept:
            url += "?" + urlencode(kept)
    return url
