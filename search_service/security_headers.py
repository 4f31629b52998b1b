"""The headers a public service sends with every response, and the pages' Content-Security-Policy.

Every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, and, when the
request came over https (or through a proxy that says so in ``X-Forwarded-Proto``, or the
configured ``public_url`` is https), ``Strict-Transport-Security``.

HTML pages (``text/html``) also get a Content-Security-Policy (the view's own when it sets
one, else ``PAGE_POLICY``), ``X-Frame-Options`` and CSP ``frame-ancestors`` (only this
server's pages, or the origins of the ``frame_ancestors`` setting), ``Cross-Origin-Opener-
Policy: same-origin`` and a ``Permissions-Policy`` that turns off what no page uses.
Everything else (JSON, IIIF documents, images) gets ``default-src 'none'``: nothing in it
may run or load anything, should a browser ever render it as a page. None of these headers
affect the CORS reads of viewers on other sites.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

from loupe_core.settings import Settings

HSTS = "max-age=31536000"
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
NONE = "'none'"
# The search page: its own script and styles; thumbnails from any IIIF image server, and
# the visitor's own picture (blob:) as a preview; API calls to this server only.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")
# The viewer (Mirador): manifests, annotations and image tiles from any IIIF server; Mirador's
# styling library (emotion) adds <style> elements at run time, so styles may be inline.
VIEWER_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                 "img-src * data: blob:; connect-src *; font-src 'self' data:; object-src 'none'; "
                 "base-uri 'none'; form-action 'self'")
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def inline_policy(html: str) -> str:
    """A policy for a page whose script and styles are inline in it: each block by its hash."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return (f"default-src 'self'; script-src {' '.join(hashes['script']) or NONE}; "
            f"style-src {' '.join(hashes['style']) or NONE}; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'")


def register_security_headers(app: Flask, settings: Settings) -> None:
    embedders = settings.frame_ancestors.split()
    frame_ancestors = " ".join(["'self'", *embedders])
    https_public = settings.public_url.lower().startswith("https://")

    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if https_public or request.is_secure or _forwarded_https():
            headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            policy = headers.get("Content-Security-Policy") or PAGE_POLICY
            headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {frame_ancestors}"
            if not embedders:  # X-Frame-Options cannot name other origins: CSP alone then
                headers["X-Frame-Options"] = "SAMEORIGIN"
            headers["Cross-Origin-Opener-Policy"] = "same-origin"
            headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)  # the lens allows its camera
        else:
            headers.setdefault("Content-Security-Policy", DATA_POLICY)
        return response

    app.after_request(add_headers)


def _forwarded_https() -> bool:
    """A proxy in front says the client used https. Trusting it costs nothing here: browsers
    ignore Strict-Transport-Security received over plain http."""
    return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https"
