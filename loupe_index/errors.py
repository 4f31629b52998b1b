"""Errors of the vector index; each message says what to do about it."""

from __future__ import annotations


class VectorIndexError(RuntimeError):
    """An index operation that cannot be done; the message says why."""


class IndexLockedError(VectorIndexError):
    """Qdrant local mode is held by another process (or another object in this one)."""


class UnknownVectorError(VectorIndexError, KeyError):
    """A model vector name that the index does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class QueryError(VectorIndexError, ValueError):
    """A search parameter (vector, limit, filter) that cannot be used."""


class FilterError(QueryError):
    """A search filter that cannot be used."""


class CursorError(QueryError):
    """A pagination cursor that is malformed or belongs to another query."""
