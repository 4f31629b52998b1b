"""Absolute URLs of the service, and the stable short keys that name catalog resources in them.

IIIF documents need absolute ids. They are built from the ``public_url`` setting when the
service runs behind a proxy, else from the request. Manifests, collections and canvases are
named in URLs by a short hash of their URI (``uri_key``), so that a URL never contains
another URL and stays the same for as long as the resource keeps its URI.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from flask import request

from loupe_core.settings import Settings

KEY_LENGTH = 16  # hex characters: 64 bits, collisions are not a concern at catalog sizes


def uri_key(uri: str) -> str:
    """The stable short key of a IIIF URI (its SHA-256, first 16 hex characters)."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()[:KEY_LENGTH]


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
