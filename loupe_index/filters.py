"""Search filters: one small value object, turned into a Qdrant filter for the server and
read directly by the exact local search, so both apply the same rules.

Rules: fields are combined with AND, the values of one field with OR; a point without the
field does not match a filter on it; ``year_from``/``year_to`` are inclusive years.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Iterable

from qdrant_client import models

from .errors import FilterError
from .points import KINDS

KEYWORD_FILTERS = ("collection", "manifest", "canvas", "kind", "rights")


def _values(name: str, value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        value = (value,)
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (str, int)) or (isinstance(v, str) and not v.strip()):
            raise FilterError(f"filter {name!r}: {v!r} is not a usable value")
        out.append(v.strip() if isinstance(v, str) else v)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search. Each field takes one value or several (any of them matches).

    ``source`` matches a source's numeric id or its name; the other keyword fields match
    URIs (``collection``, ``manifest``, ``canvas``, ``rights``) or a kind
    (``image``, ``region``, ``view``).
    """

    source: tuple[str | int, ...] = ()
    collection: tuple[str, ...] = ()
    manifest: tuple[str, ...] = ()
    canvas: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    rights: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    def __post_init__(self) -> None:
        for name in ("source", *KEYWORD_FILTERS):
            vals = _values(name, getattr(self, name))
            if name != "source" and any(not isinstance(v, str) for v in vals):
                raise FilterError(f"filter {name!r} takes text values, not {vals!r}")
            object.__setattr__(self, name, vals)
        bad = [k for k in self.kind if k not in KINDS]
        if bad:
            raise FilterError(f"filter 'kind': unknown {', '.join(map(repr, bad))}; use {', '.join(KINDS)}")
        for name in ("year_from", "year_to"):
            v = getattr(self, name)
            if v is not None:
                try:
                    if isinstance(v, bool) or float(v) != int(v):
                        raise ValueError
                    object.__setattr__(self, name, int(v))
                except (TypeError, ValueError):
                    raise FilterError(f"filter {name!r} must be a whole year, not {v!r}") from None
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise FilterError(f"year_from ({self.year_from}) is after year_to ({self.year_to})")

    @property
    def source_ids(self) -> tuple[int, ...]:
        """Sources given by id (numbers, or digit strings as they come from a query string)."""
        return tuple(dict.fromkeys(int(v) for v in self.source if isinstance(v, int) or v.isdigit()))

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(str(v) for v in self.source if isinstance(v, str))

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) not in ((), None) for f in fields(self))

    def key(self) -> str:
        """A canonical text of the filters, for cursor checks."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["source"] = sorted(map(str, self.source))
        for name in KEYWORD_FILTERS:
            data[name] = sorted(data[name])
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


def qdrant_filter(filters: SearchFilters | None, extra: Iterable[models.Condition] = ()) -> models.Filter | None:
    """The Qdrant filter for ``filters`` (``None`` when nothing is filtered)."""
    must: list[models.Condition] = list(extra)
    if filters is not None:
        if filters.source:
            either: list[models.Condition] = []
            if filters.source_ids:
                either.append(models.FieldCondition(key="source_id", match=models.MatchAny(any=list(filters.source_ids))))
            if filters.source_names:
                either.append(models.FieldCondition(key="source", match=models.MatchAny(any=list(filters.source_names))))
            must.append(either[0] if len(either) == 1 else models.Filter(should=either))
        for name in KEYWORD_FILTERS:
            vals = getattr(filters, name)
            if vals:
                must.append(models.FieldCondition(key=name, match=models.MatchAny(any=list(vals))))
        if filters.year_from is not None or filters.year_to is not None:
            must.append(models.FieldCondition(key="year", range=models.Range(gte=filters.year_from, lte=filters.year_to)))
    return models.Filter(must=must) if must else None


def payload_matches(filters: SearchFilters, payload: dict[str, Any]) -> bool:
    """Whether a point with ``payload`` passes ``filters`` (the rules above; hits made
    outside the vector store, such as the text ranker's, are filtered with it)."""
    if filters.source and not (payload.get("source_id") in filters.source_ids
                               or payload.get("source") in filters.source_names):
        return False
    for name in KEYWORD_FILTERS:
        values = getattr(filters, name)
        if values and payload.get(name) not in values:
            return False
    if filters.year_from is not None or filters.year_to is not None:
        year = payload.get("year")
        if year is None or (filters.year_from is not None and year < filters.year_from) \
                or (filters.year_to is not None and year > filters.year_to):
            return False
    return True
