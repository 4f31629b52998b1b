"""Reading JSON request bodies within limits: the app's JSON provider (``app.json``), so that
every ``request.get_json()`` of every view goes through it.

Python's parser recurses once per level of nesting: a 2 KB body of 1,000 nested brackets
raises RecursionError deep inside it. So the depth is measured before parsing, on the text
with its strings taken out (a linear scan that stops at the first level too deep). Also
refused, as what no API of this service takes: numbers of more than ``MAX_DIGITS`` digits,
NaN and Infinity (not JSON), and strings holding NUL or unpaired surrogates (no database and
no UTF-8 response can hold them). Each refusal is an ``InvalidRequest`` (400
``invalid_json``), raised even by ``get_json(silent=True)``, which only silences syntax
errors: the views answer those with what they expected instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from .request_errors import InvalidRequest

MAX_DEPTH = 32
MAX_DIGITS = 40
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class RequestJSONProvider(DefaultJSONProvider):
    """Flask's provider, with ``loads`` that parses within the limits above."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode(json.detect_encoding(s), "surrogatepass") if isinstance(s, (bytes, bytearray)) else s
        check_depth(text)
        value = json.loads(text, parse_constant=_not_json, parse_int=_whole_number, parse_float=_number, **kwargs)
        _check_strings(value)
        return value


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """InvalidRequest when arrays and objects in ``text`` nest more than ``limit`` deep."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                raise InvalidRequest(f"the JSON body nests arrays and objects more than {limit} levels deep",
                                     code="invalid_json")
        else:
            depth -= 1


def _not_json(name: str) -> None:
    raise InvalidRequest(f"{name} is not a JSON number", code="invalid_json")


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise InvalidRequest(f"a number in the JSON body has more than {MAX_DIGITS} digits", code="invalid_json")
    return int(digits)


def _number(text: str) -> float:
    if len(text) > MAX_DIGITS * 2:
        raise InvalidRequest(f"a number in the JSON body has more than {MAX_DIGITS * 2} characters", code="invalid_json")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidRequest(f"the number {text[:20]} in the JSON body is too large", code="invalid_json")
    return value


def _check_strings(value: Any) -> None:
    """Keys and strings must be text a database and a UTF-8 response can hold."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidRequest("the JSON body holds a NUL character (\\u0000)", code="invalid_json")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest("the JSON body holds an unpaired surrogate (\\ud800-\\udfff)",
                                 code="invalid_json") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
