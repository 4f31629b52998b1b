"""Sending JSON and IIIF JSON-LD: content negotiation, ETags and conditional requests."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request

from .errors import bad_request

LD_JSON = "application/ld+json"
PRESENTATION_3_PROFILE = "http://iiif.io/api/presentation/3/context.json"
SEARCH_1_PROFILE = "http://iiif.io/api/search/1/context.json"
FORMATS = ("json", "iiif")


def wants_iiif(body_format: Any = None) -> bool:
    """``format=iiif`` (query string or JSON body), or an Accept header that prefers JSON-LD."""
    fmt = body_format if body_format is not None else request.args.get("format")
    if fmt is not None:
        if fmt not in FORMATS:
            raise bad_request(f"'format' must be one of {', '.join(FORMATS)}, not {fmt!r}", field="format")
        return fmt == "iiif"
    return _explicit_quality(LD_JSON) > 0 and _explicit_quality(LD_JSON) >= request.accept_mimetypes["application/json"]


def json_response(data: Any, status: int = 200, *, conditional: bool = False) -> Response:
    response = current_app.response_class(_dumps(data), status=status, mimetype="application/json")
    return _conditional(response) if conditional else response


def iiif_response(doc: dict, profile: str | None = PRESENTATION_3_PROFILE, *, conditional: bool = True) -> Response:
    """A IIIF document: ``application/ld+json`` with its profile when the client asks for
    JSON-LD, plain ``application/json`` otherwise (as the IIIF specifications recommend)."""
    if _explicit_quality(LD_JSON) > 0:
        mimetype = f'{LD_JSON};profile="{profile}"' if profile else LD_JSON
    else:
        mimetype = "application/json"
    response = current_app.response_class(_dumps(doc), mimetype=mimetype)
    response.headers["Vary"] = "Accept"
    return _conditional(response) if conditional else response


def _explicit_quality(mimetype: str) -> float:
    """The quality the Accept header gives ``mimetype`` by name (wildcards do not count)."""
    return max((q for value, q in request.accept_mimetypes if value.split(";")[0].strip() == mimetype), default=0)


def _conditional(response: Response) -> Response:
    response.add_etag()
    return response.make_conditional(request)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
