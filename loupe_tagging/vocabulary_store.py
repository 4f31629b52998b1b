"""Curators' vocabularies, kept in the catalog database in a small table of their own.

Why the catalog database and not JSON files under the data directory: in the scale-out
deployment the API, the workers and the CLI run in different containers that share the
catalog (PostgreSQL) but not necessarily a data volume, and a vocabulary set through
``PUT /api/vocabularies/<key>`` must be what the next ``loupe tag`` in a worker uses. One
transaction per change also means readers never see half a list. The table has its own
SQLAlchemy metadata, created on first use, so the catalog's schema module stays untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from connector.catalog.schema import utcnow

from .vocabulary import Vocabulary, VocabularyError, make_vocabulary

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


ALL = "all"  # the key of the list for every collection without its own


class _Base(DeclarativeBase):
    pass


class VocabularyRow(_Base):
    __tablename__ = "loupe_vocabularies"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    # What the list applies to: a source (all its manifests), a IIIF collection (and the
    # collections below it), or neither (key "all": every collection without its own list).
    source_id: Mapped[int | None] = mapped_column(Integer, index=True)
    collection_uri: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(500))
    labels: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class StoredVocabulary:
    key: str
    source_id: int | None
    collection_uri: str | None
    title: str | None
    vocabulary: Vocabulary
    updated_at: datetime

    def summary(self) -> dict:
        return {"key": self.key, "source_id": self.source_id, "collection": self.collection_uri,
                "title": self.title, "size": len(self.vocabulary), "digest": self.vocabulary.digest[:16],
                "updated_at": self.updated_at.isoformat() + "Z"}

    def as_json(self) -> dict:
        return {**self.summary(), "labels": [t.as_json() for t in self.vocabulary.terms]}


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise VocabularyError(f"vocabulary key {key!r}: use 1 to 100 letters, digits, '.', '_' or '-'")
    return key


class VocabularyStore:
    """Reads and writes ``loupe_vocabularies`` on the catalog's engine."""

    def __init__(self, engine: Engine) -> None:
        _Base.metadata.create_all(engine, checkfirst=True)
        self._session = sessionmaker(engine, expire_on_commit=False)

    def list(self) -> list[StoredVocabulary]:
        with self._session() as s:
            return [_stored(r) for r in s.scalars(select(VocabularyRow).order_by(VocabularyRow.key))]

    def get(self, key: str) -> StoredVocabulary | None:
        with self._session() as s:
            row = s.get(VocabularyRow, key)
            return None if row is None else _stored(row)

    def applying_to(self, collection_uris: list[str], source_id: int | None) -> list[StoredVocabulary]:
        """The lists that may apply to a manifest in those collections of that source: theirs,
        the source's, and ``all`` (one query, whatever the number of lists stored)."""
        wanted = [VocabularyRow.key == ALL]
        if collection_uris:
            wanted.append(VocabularyRow.collection_uri.in_(collection_uris))
        if source_id is not None:
            wanted.append((VocabularyRow.source_id == source_id) & VocabularyRow.collection_uri.is_(None))
        with self._session() as s:
            return [_stored(r) for r in s.scalars(select(VocabularyRow).where(or_(*wanted)).order_by(VocabularyRow.key))]

    def put(self, key: str, vocabulary: Vocabulary, *, source_id: int | None = None,
            collection_uri: str | None = None, title: str | None = None) -> StoredVocabulary:
        """Create or replace the list under ``key``."""
        check_key(key)
        with self._session() as s:
            row = s.get(VocabularyRow, key)
            if row is None:
                row = VocabularyRow(key=key)
                s.add(row)
            row.source_id, row.collection_uri, row.title = source_id, collection_uri, title
            row.labels = [t.as_json() for t in vocabulary.terms]
            row.updated_at = utcnow()
            s.commit()
            return _stored(row)

    def delete(self, key: str) -> bool:
        with self._session() as s:
            row = s.get(VocabularyRow, key)
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True


def _stored(row: VocabularyRow) -> StoredVocabulary:
    return StoredVocabulary(row.key, row.source_id, row.collection_uri, row.title,
                            make_vocabulary(row.key, row.labels), row.updated_at)
