"""API keys for every endpoint that writes or administers.

``@require_api_key`` on a view: the request must carry one of the keys of the ``api_keys``
setting (LOUPE_API_KEYS, comma-separated) or an active named key (``loupe keys add NAME``,
``key_store``) as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``. ``key_name()`` then says
who it is, as reviews record it: the name of a named key, the fingerprint of a setting's key.
Whitespace around a key is ignored, in the setting and in the request (HTTP strips it from
header values anyway), so no key starts or ends with a space. Without any key configured
such endpoints answer 403 saying how to configure one, so a fresh installation is read-only
rather than open. A missing, wrong or revoked key is 401. Views so
marked are write endpoints: they never get CORS headers (see ``cors``), so a web page of
another origin cannot call them from a visitor's browser.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import wraps
from typing import Callable, TypeVar

from flask import g, request

from .errors import ApiError
from .services import get_services

F = TypeVar("F", bound=Callable)
WRITE_MARK = "loupe_write"
NO_KEYS_MESSAGE = ("this endpoint changes data and needs an API key, and this server has none configured: make a "
                   "named key with `loupe keys add NAME`, or set LOUPE_API_KEYS (setting api_keys: one or more "
                   "comma-separated secret keys) and restart the server; then send the key as 'X-API-Key: KEY' "
                   "or 'Authorization: Bearer KEY'")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="loupe"'}


def require_api_key(view: F) -> F:
    """Decorator: the view runs only for requests that carry a configured API key."""

    @wraps(view)
    def checked(*args, **kwargs):  # noqa: ANN202 - whatever the view returns
        check_api_key()
        return view(*args, **kwargs)

    setattr(checked, WRITE_MARK, True)
    return checked  # type: ignore[return-value]


def is_write_view(view: Callable | None) -> bool:
    return bool(view is not None and getattr(view, WRITE_MARK, False))


def presented_key() -> str | None:
    """The key the request carries, if any."""
    key = request.headers.get("X-API-Key", "").strip()
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def key_fingerprint(key: str) -> str:
    """A stable, anonymous name of an API key (first 12 hex characters of its SHA-256), for
    recording who did something without storing the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def check_api_key() -> str:
    """The caller's name (``key_name``); ApiError 403 (no keys configured) or 401 (missing,
    wrong or revoked key)."""
    services = get_services()
    setting_keys = services.settings.api_key_set
    given = presented_key()
    name = _name_of(given)
    if name is None:
        if not setting_keys and services.api_keys.active_count() == 0:
            raise ApiError(403, "api_keys_not_configured", NO_KEYS_MESSAGE)
        if given is None:
            raise ApiError(401, "missing_api_key", "this endpoint needs an API key: send 'X-API-Key: KEY' or "
                           "'Authorization: Bearer KEY'", headers=CHALLENGE)
        raise ApiError(401, "invalid_api_key", "the API key is not one this server accepts (unknown or revoked)",
                       headers=CHALLENGE)
    g.loupe_key_name = name
    return name


def has_valid_key() -> bool:
    """Does the request carry a valid key? (Never raises; for views open to everyone that
    treat key holders differently, such as rate limits.)"""
    if getattr(g, "loupe_key_name", None):
        return True
    name = _name_of(presented_key())
    if name is not None:
        g.loupe_key_name = name
    return name is not None


def _name_of(given: str | None) -> str | None:
    """The name of a key (a setting key's fingerprint), None for no key or an unknown one."""
    if given is None:
        return None
    services = get_services()
    # Compare with every key, in constant time for each, so timing says nothing about keys.
    matches = [hmac.compare_digest(given.encode(), k.encode()) for k in services.settings.api_key_set]
    return key_fingerprint(given) if any(matches) else services.api_keys.name_of(given)


def key_name() -> str:
    """Who the request's key belongs to: a named key's name, or the fingerprint of a key of the
    api_keys setting (checked again if the view did not check it)."""
    return getattr(g, "loupe_key_name", None) or check_api_key()
