"""The vector index: Loupe's points, in the compact store (local mode's default), Qdrant
local mode, or a Qdrant server (by URL).

Indexing jobs write it, the search service reads it; it lives here with its main reader.
"""

from .errors import (
    CursorError,
    FilterError,
    IndexLockedError,
    QueryError,
    UnknownVectorError,
    VectorIndexError,
)
from .filters import SearchFilters
from .points import KINDS, IndexPoint, point_id, year_from
from .vector_index import SearchHit, SearchPage, UpsertResult, VectorIndex
from .views import automatic_views

__all__ = [
    "KINDS", "CursorError", "FilterError", "IndexLockedError", "IndexPoint", "QueryError", "SearchFilters",
    "SearchHit", "SearchPage", "UnknownVectorError", "UpsertResult", "VectorIndex", "VectorIndexError",
    "automatic_views", "point_id", "year_from",
]
