"""What ``VectorIndex`` asks of the place its points live.

Two kinds of store: ``CompactStore`` (local mode's default, Loupe's own files) and
``QdrantStore`` (a Qdrant server, or Qdrant local mode). ``VectorIndex`` checks arguments,
pages with cursors, orders writes and warns about size; a store only keeps and finds points.
Vectors reach a store already normalised to unit length, and searches get a finite,
non-zero query of the right size.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ContextManager, Iterator, Sequence

import numpy as np

from .errors import VectorIndexError
from .export import ExportedPoint
from .filters import SearchFilters
from .results import SearchHit

DELETE_FIELDS = ("content_key", "manifest")  # what points can be deleted by


class Store(ABC):
    mode: str  # "local" (one process owns it) or "server"
    kind: str  # "compact", "qdrant-local" or "qdrant-server", for status
    location: str
    exact_search: bool  # whether search results are exact (not approximate)
    local_limit: int | None  # points per vector beyond which local mode is outgrown (None: no limit)

    @property
    @abstractmethod
    def write_lock(self) -> ContextManager[Any]:
        """Held by every write; ``export`` holds it to read a consistent state. Searches
        never take it."""

    @abstractmethod
    def close(self) -> None: ...

    # --- model vectors ---------------------------------------------------------------------
    @abstractmethod
    def vector_names(self) -> list[str]: ...

    @abstractmethod
    def vector_dim(self, name: str) -> int | None:
        """Dimensions of vector ``name``, ``None`` when it is not held."""

    @abstractmethod
    def create_vector(self, name: str, dim: int) -> bool:
        """Make room for ``name``; ``False`` when another process created it meanwhile."""

    @abstractmethod
    def drop_vector(self, name: str) -> None: ...

    @abstractmethod
    def active(self) -> str | None: ...

    @abstractmethod
    def set_active(self, name: str | None) -> None: ...

    # --- points ------------------------------------------------------------------------------
    @abstractmethod
    def write(self, name: str, ids: Sequence[str], unit: np.ndarray, payloads: Sequence[dict[str, Any]]) -> None:
        """Write one batch; the same id replaces the point. All or nothing."""

    @abstractmethod
    def delete_where(self, field: str, values: Sequence[str]) -> int:
        """Delete the points of every vector whose ``field`` (one of ``DELETE_FIELDS``) is
        one of ``values``; returns how many."""

    @abstractmethod
    def count(self, name: str, filters: SearchFilters | None = None) -> int: ...

    @abstractmethod
    def indexed_keys(self, name: str) -> set[str]:
        """content_keys of the points of kind ``image``."""

    @abstractmethod
    def vector_of(self, name: str, point_id: str) -> np.ndarray | None: ...

    @abstractmethod
    def search(self, name: str, query: np.ndarray, filters: SearchFilters, *, offset: int, limit: int,
               one_per_canvas: bool) -> list[SearchHit]:
        """Hits ``offset .. offset + limit`` by descending cosine (ties in a fixed order)."""

    @abstractmethod
    def points(self, name: str) -> Iterator[ExportedPoint]:
        """Every point of ``name`` as ``(id, unit vector, payload)``."""

    def warm(self, name: str) -> None:
        """Load what the first search would."""

    def snapshot(self) -> list[str]:
        raise VectorIndexError("only a Qdrant server keeps snapshots; write an export instead (VectorIndex.export)")
