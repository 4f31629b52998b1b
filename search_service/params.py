"""Search parameters from a query string, a form or a JSON body, checked with clear messages.

Query strings and forms are flat: ``limit``, ``cursor``, ``one_per_canvas`` and the filters
``source``, ``collection``, ``manifest``, ``canvas``, ``kind``, ``rights`` (repeat a
parameter for several values; ``kind`` also takes a comma-separated list), ``year_from``,
``year_to``. JSON bodies carry the filters in an object ``filters`` (each a string or a list
of strings; ``source`` may be a number), at most ``MAX_FILTER_VALUES`` values each. Unknown
parameters are refused rather than ignored, so a misspelt filter never silently returns
unfiltered results. A cursor must look like one the service gave out (base64url text);
``loupe_index.cursor`` checks what it says.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

from werkzeug.datastructures import MultiDict

from loupe_index import FilterError, SearchFilters
from loupe_index.points import KINDS

from .request_errors import InvalidRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR = 500  # characters; the cursors given out have under 100 (base64url)
MAX_FILTER_VALUES = 200  # values of one filter
LIST_FILTERS = ("source", "collection", "manifest", "canvas", "kind", "rights")
YEAR_FILTERS = ("year_from", "year_to")
FILTER_PARAMS = (*LIST_FILTERS, *YEAR_FILTERS)
PAGING_PARAMS = ("limit", "cursor", "one_per_canvas")
# Names that would carry a URL for the server to fetch: refused with their own message.
URL_PARAMS = ("url", "image_url", "imageUrl", "uri", "href", "src")
URL_REFUSAL = ("the server never fetches a URL sent by a client: upload the image (multipart field 'image' "
               "or JSON 'image_base64'), or name a region of the collection with 'reference': "
               "{'manifest', 'canvas', 'xywh'}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class SearchQuery:
    """What every kind of search shares: filters, page size, cursor, one result per canvas."""

    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    one_per_canvas: bool = False

    def describe(self) -> dict[str, Any]:
        filters = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.filters).items()
                   if v not in ((), None)}
        return {"filters": filters, "limit": self.limit, "one_per_canvas": self.one_per_canvas}


def reject_url_fields(names: Iterable[str], where: str = "") -> None:
    """400 when a parameter would make the server fetch a URL."""
    for name in names:
        if name in URL_PARAMS:
            raise InvalidRequest(code="url_not_allowed", message=f"{where}{name}: {URL_REFUSAL}", field=f"{where}{name}")


def query_from_args(args: MultiDict, *, extra: Iterable[str] = ()) -> SearchQuery:
    """From a query string or form (``extra``: further names the endpoint itself reads)."""
    reject_url_fields(args.keys())
    known = {*FILTER_PARAMS, *PAGING_PARAMS, "format", *extra}
    unknown = sorted(set(args.keys()) - known)
    if unknown:
        raise InvalidRequest(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                          field=unknown[0], code="unknown_parameter")
    values: dict[str, Any] = {}
    for name in LIST_FILTERS:
        items = [v for raw in args.getlist(name) for v in (raw.split(",") if name == "kind" else [raw])]
        if any(not v.strip() for v in items):
            raise InvalidRequest(f"filter {name!r} has an empty value", field=name)
        values[name] = tuple(v.strip() for v in items)
    for name in YEAR_FILTERS:
        values[name] = _year(args.get(name), name)
    return SearchQuery(filters=_filters(values), limit=_limit(args.get("limit")), cursor=_cursor(args.get("cursor")),
                       one_per_canvas=_bool(args.get("one_per_canvas"), "one_per_canvas"))


def query_from_json(body: Mapping[str, Any], *, extra: Iterable[str] = ()) -> SearchQuery:
    """From a JSON object (``extra``: further top-level names the endpoint itself reads)."""
    reject_url_fields(body.keys())
    known = {*PAGING_PARAMS, "filters", "format", *extra}
    unknown = sorted(set(body) - known)
    if unknown:
        hint = " (filters go inside \"filters\")" if set(unknown) & set(FILTER_PARAMS) else ""
        raise InvalidRequest(f"unknown field(s) {', '.join(unknown)}{hint}; known: {', '.join(sorted(known))}",
                          field=unknown[0], code="unknown_parameter")
    raw_filters = body.get("filters") or {}
    if not isinstance(raw_filters, Mapping):
        raise InvalidRequest("'filters' must be an object, e.g. {\"kind\": [\"region\"]}", field="filters")
    unknown = sorted(set(raw_filters) - set(FILTER_PARAMS))
    if unknown:
        raise InvalidRequest(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(FILTER_PARAMS)}",
                          field=f"filters.{unknown[0]}", code="unknown_parameter")
    values: dict[str, Any] = {}
    for name in LIST_FILTERS:
        values[name] = _json_list(raw_filters.get(name), name)
    for name in YEAR_FILTERS:
        v = raw_filters.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, str))):
            raise InvalidRequest(f"filter {name!r} must be a whole year, not {v!r}", field=f"filters.{name}")
        values[name] = _year(None if v is None else str(v), f"filters.{name}")
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", field="limit")
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise InvalidRequest("'cursor' must be the text of a previous response's next_cursor", field="cursor")
    one = body.get("one_per_canvas", False)
    if not isinstance(one, bool):
        raise InvalidRequest("'one_per_canvas' must be true or false", field="one_per_canvas")
    return SearchQuery(filters=_filters(values), limit=_limit(None if limit is None else str(limit)),
                       cursor=_cursor(cursor), one_per_canvas=one)


def parse_float(raw: Any, name: str, *, default: float, low: float, high: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{name!r} must be a number from {low:g} to {high:g}, not {raw!r}", field=name) from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name!r} must be from {low:g} to {high:g}, not {value:g}", field=name)
    return value


def _filters(values: dict[str, Any]) -> SearchFilters:
    for name in LIST_FILTERS:
        if len(values.get(name, ())) > MAX_FILTER_VALUES:
            raise InvalidRequest(f"filter {name!r} has {len(values[name]):,} values; at most {MAX_FILTER_VALUES}",
                                 field=name, code="invalid_filter")
    bad_kinds = [k for k in values.get("kind", ()) if k not in KINDS]
    if bad_kinds:
        raise InvalidRequest(f"unknown kind {', '.join(map(repr, bad_kinds))}; use {', '.join(KINDS)}", field="kind")
    try:
        return SearchFilters(**values)
    except FilterError as e:
        raise InvalidRequest(code="invalid_filter", message=str(e)) from None


def _json_list(value: Any, name: str) -> tuple:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        ok = isinstance(v, str) and v.strip() or (name == "source" and isinstance(v, int) and not isinstance(v, bool))
        if not ok:
            raise InvalidRequest(f"filter {name!r} takes text values (a string or a list of strings), not {v!r}",
                              field=f"filters.{name}")
        out.append(v.strip() if isinstance(v, str) else v)
    return tuple(out)


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}", field="limit")
    return value


def _cursor(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_CURSOR or not _CURSOR.fullmatch(raw):
        raise InvalidRequest(code="invalid_cursor", message="the cursor is not one this service gave out; start again without a cursor",
                       field="cursor")
    return raw


def _year(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidRequest(f"{name!r} must be a whole year such as 1650, not {raw!r}", field=name) from None


def _bool(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    s = raw.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise InvalidRequest(f"{name!r} must be true or false, not {raw!r}", field=name)
