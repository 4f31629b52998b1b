"""The catalog (SQLAlchemy; SQLite by default, PostgreSQL by URL)."""

from .store import (
    Catalog,
    CatalogError,
    FetchState,
    HarvestedManifest,
    HarvestedPage,
    SourceInfo,
    combined_hash,
)

__all__ = ["Catalog", "CatalogError", "FetchState", "HarvestedManifest", "HarvestedPage", "SourceInfo",
           "combined_hash"]
