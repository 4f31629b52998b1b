"""The lens events in the catalog database (SQLite or PostgreSQL), in a table of their own.

Like the curators' vocabularies: the table has its own SQLAlchemy metadata, created on first
use, so the catalog's schema stays untouched, and API servers, workers and the command line
that share the catalog share the statistics. One row per event; nothing but what
``LensEvent`` holds (no address, no user agent).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Iterable, Iterator

from sqlalchemy import DateTime, Index, Integer, String, delete, insert, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .events import LensEvent


class _Base(DeclarativeBase):
    pass


class LensEventRow(_Base):
    __tablename__ = "loupe_lens_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide: Mapped[str] = mapped_column(String(64))
    session: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(201))
    mode: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(40))
    dwell_ms: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    local_hour: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_loupe_lens_events_guide_at", "guide", "at"),)


COLUMNS = ("session", "type", "item", "mode", "language", "dwell_ms", "at", "local_hour")


class LensStatsStore:
    """Writes and reads ``loupe_lens_events`` on the catalog's engine."""

    def __init__(self, engine: Engine) -> None:
        try:
            _Base.metadata.create_all(engine, checkfirst=True)
        except DBAPIError:  # another process or thread made it in between: fine if it is there now
            if not inspect(engine).has_table(LensEventRow.__tablename__):
                raise
        self.engine = engine

    def add(self, events: Iterable[LensEvent]) -> int:
        """Store a batch in one transaction; the number stored."""
        rows = [asdict(e) for e in events]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(LensEventRow), rows)
        return len(rows)

    def rows(self, guide: str, *, since: datetime | None = None, until: datetime | None = None
             ) -> Iterator[tuple]:
        """``COLUMNS`` of the guide's events (UTC ``since`` <= at < ``until``), oldest first."""
        query = select(*(getattr(LensEventRow, c) for c in COLUMNS)).where(LensEventRow.guide == guide)
        if since is not None:
            query = query.where(LensEventRow.at >= since)
        if until is not None:
            query = query.where(LensEventRow.at < until)
        with self.engine.connect() as conn:
            yield from conn.execute(query.order_by(LensEventRow.at, LensEventRow.id)).yield_per(5_000)

    def delete_before(self, guide: str, before: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(LensEventRow).where(LensEventRow.guide == guide,
                                                           LensEventRow.at < before)).rowcount
