"""Filter fields as numpy columns, so that a filter is a few vectorised comparisons.

Keyword fields hold integer codes from a ``Vocabulary`` (-1: field absent), number fields
hold floats (NaN: absent). ``FilterColumns.mask`` applies ``SearchFilters`` with the rules
of ``filters`` (AND across fields, OR within one, an absent field never matches), and is
shared by the exact mirror of Qdrant local mode and the compact store.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .filters import KEYWORD_FILTERS, SearchFilters

KEYWORD_COLUMNS = ("source", *KEYWORD_FILTERS)
NUMBER_COLUMNS = ("source_id", "year")
# One row of filter fields, as the compact store keeps it on disk.
ROW_DTYPE = np.dtype([(f, "<i4") for f in KEYWORD_COLUMNS] + [(f, "<f8") for f in NUMBER_COLUMNS])


class Vocabulary:
    """Codes of keyword values, per field; codes are dense from 0 and never change."""

    def __init__(self, terms: Iterable[tuple[str, str, int]] = ()):
        self._codes: dict[str, dict[str, int]] = {f: {} for f in KEYWORD_COLUMNS}
        for field, value, code in terms:
            self._codes[field][value] = code

    def code(self, field: str, value: str) -> int | None:
        return self._codes[field].get(value)

    def encode(self, payloads: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[tuple[str, str, int]]]:
        """``ROW_DTYPE`` rows for ``payloads`` and the terms added to give them codes (to
        persist with the rows, or to ``forget`` when they are not written after all)."""
        rows = np.empty(len(payloads), dtype=ROW_DTYPE)
        added: list[tuple[str, str, int]] = []
        for f in KEYWORD_COLUMNS:
            codes = self._codes[f]
            column = rows[f]
            for i, payload in enumerate(payloads):
                v = payload.get(f)
                if v is None:
                    column[i] = -1
                    continue
                v = str(v)
                code = codes.get(v)
                if code is None:
                    code = codes[v] = len(codes)
                    added.append((f, v, code))
                column[i] = code
        for f in NUMBER_COLUMNS:
            rows[f] = [np.nan if p.get(f) is None else float(p[f]) for p in payloads]
        return rows, added

    def forget(self, added: Iterable[tuple[str, str, int]]) -> None:
        for field, value, _ in added:
            self._codes[field].pop(value, None)


class FilterColumns:
    """The filter fields of rows ``0 .. n``, growable; rows may be rewritten in place."""

    def __init__(self, capacity: int = 1024):
        self._keywords = {f: np.full(capacity, -1, dtype=np.int32) for f in KEYWORD_COLUMNS}
        self._numbers = {f: np.full(capacity, np.nan) for f in NUMBER_COLUMNS}

    @property
    def capacity(self) -> int:
        return len(self._keywords["kind"])

    def resized(self, capacity: int, used: int) -> "FilterColumns":
        """A copy with room for ``capacity`` rows holding the first ``used`` rows."""
        out = FilterColumns(capacity)
        for f, a in self._keywords.items():
            out._keywords[f][:used] = a[:used]
        for f, a in self._numbers.items():
            out._numbers[f][:used] = a[:used]
        return out

    def set(self, at: int | np.ndarray, rows: np.ndarray) -> None:
        """Store ``ROW_DTYPE`` rows at position ``at`` onwards (an int) or at positions ``at``."""
        index = slice(at, at + len(rows)) if isinstance(at, (int, np.integer)) else at
        for f in KEYWORD_COLUMNS:
            self._keywords[f][index] = rows[f]
        for f in NUMBER_COLUMNS:
            self._numbers[f][index] = rows[f]

    def keep(self, rows: np.ndarray) -> None:
        """Move ``rows`` (ascending) to the front, in order (compaction)."""
        for arrays in (self._keywords, self._numbers):
            for a in arrays.values():
                a[: len(rows)] = a[rows]

    def codes(self, field: str, n: int) -> np.ndarray:
        return self._keywords[field][:n]

    def mask(self, filters: SearchFilters | None, vocabulary: Vocabulary, n: int) -> np.ndarray | None:
        """Rows ``0 .. n`` that match, or ``None`` when nothing is filtered."""
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(n, dtype=bool)
        if filters.source:
            either = np.zeros(n, dtype=bool)
            if filters.source_ids:
                either |= np.isin(self._numbers["source_id"][:n], np.array(filters.source_ids, dtype=float))
            if filters.source_names:
                either |= self._keyword_mask("source", filters.source_names, vocabulary, n)
            mask &= either
        for f in KEYWORD_FILTERS:
            values = getattr(filters, f)
            if values:
                mask &= self._keyword_mask(f, values, vocabulary, n)
        year = self._numbers["year"][:n]
        with np.errstate(invalid="ignore"):
            if filters.year_from is not None:
                mask &= year >= filters.year_from
            if filters.year_to is not None:
                mask &= year <= filters.year_to
        return mask

    def _keyword_mask(self, field: str, values: Iterable[str], vocabulary: Vocabulary, n: int) -> np.ndarray:
        codes = [c for c in (vocabulary.code(field, v) for v in values) if c is not None]
        column = self._keywords[field][:n]
        if not codes:
            return np.zeros(n, dtype=bool)
        if len(codes) == 1:
            return column == codes[0]
        return np.isin(column, np.array(codes, dtype=np.int32))
