"""The lens events in the catalog database (SQLite or PostgreSQL), in a table of their own.

Like the curators' vocabularies: the table has its own SQLAlchemy metadata, created on first
use, so the catalog's schema stays untouched, and API servers, workers and the command line
that share the catalog share the statistics. One row per event; nothing but what
``LensEvent`` holds (no address, no user agent).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Iterator

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
PRUNE_EVERY_S = 3600.0  # old events are looked for at most this often, when a batch arrives


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class LensStatsStore:
    """Writes and reads ``loupe_lens_events`` on the catalog's engine. With `keep_days`, events
    older than that are deleted (every guide's), at most once an hour as batches arrive: the
    retention holds wherever events are received, with no scheduler needed."""

    def __init__(self, engine: Engine, keep_days: int = 0, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.keep_days = keep_days
        self.clock = clock
        self._pruned_at: float | None = None  # monotonic time of the last pruning
        self._lock = threading.Lock()
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
            self._prune_if_due()
        return len(rows)

    def prune(self, before: datetime) -> int:
        """Delete every guide's events older than ``before`` (UTC, naive); how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(LensEventRow).where(LensEventRow.at < before)).rowcount

    def _prune_if_due(self) -> None:
        if self.keep_days <= 0:
            return
        with self._lock:
            now = time.monotonic()
            if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_S:
                return
            self._pruned_at = now
        self.prune(self.clock() - timedelta(days=self.keep_days))

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
