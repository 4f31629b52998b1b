"""Names of the Qdrant collections that hold model vectors.

Each vector name (``loupe_models.identity``: which model made the vectors) has its own
collection ``<prefix>__<vector name>``; the alias ``<prefix>`` points at the active one (see
``vector_index`` for why collections rather than named vectors in one).
"""

from __future__ import annotations

from loupe_models.identity import SEPARATOR, check_vector_name


def collection_for(prefix: str, name: str) -> str:
    """The Qdrant collection that holds vector ``name``."""
    return f"{prefix}{SEPARATOR}{check_vector_name(name)}"


def vector_of(prefix: str, collection: str) -> str | None:
    """The vector name held by ``collection``, or ``None`` when it is not one of ours."""
    head = prefix + SEPARATOR
    if not collection.startswith(head) or len(collection) == len(head):
        return None
    return collection[len(head):]
