"""Checks every request passes before its view runs.

NUL characters are refused (400) in the path, the query string and form fields: no file name
may hold one (the published files' lookup would fail with "embedded null byte"), PostgreSQL
refuses them in text, and no name, key or search text of this service needs one. JSON
bodies get the same check as they are parsed (``json_body``).
"""

from __future__ import annotations

from typing import Iterable

from flask import Flask, request

from .errors import FORM_TYPES
from .request_errors import InvalidRequest


def refuse_nul_characters() -> None:
    if "\x00" in request.path:
        raise InvalidRequest("the path holds a NUL character (%00)", code="invalid_path")
    if _holds_nul(request.args.items(multi=True)):
        raise InvalidRequest("the query string holds a NUL character (%00)", code="invalid_parameter")
    if request.mimetype in FORM_TYPES and _holds_nul(request.form.items(multi=True)):
        raise InvalidRequest("a form field holds a NUL character", code="invalid_parameter")


def _holds_nul(items: Iterable[tuple[str, str]]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in items)


def register_request_checks(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
