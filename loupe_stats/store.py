"""The lens events in the catalog database (SQLite or PostgreSQL), in a table of their own.

Like the curators' vocabularies: the table has its own SQLAlchemy metadata, created on first
use, so the catalog's schema stays untouched, and API servers, workers and the command line
that share the catalog share the statistics. One row per event; nothing but what
``LensEvent`` holds (no address, no user agent).

Phones send a batch again when they could not see its answer (a beacon, a lost response), under
the same random batch id: ``loupe_lens_batches`` holds a receipt per (guide, batch id), written
in the transaction that stores the batch's events, so each batch is stored once however often
it comes. A receipt holds the batch id and the minute it came, nothing else; receipts go once no
resent batch could be accepted any more (``events.MAX_AGE`` plus a day).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Iterator

from sqlalchemy import DateTime, Index, Integer, String, delete, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.dml import Insert

from .events import MAX_AGE, LensBatch, LensEvent


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


class LensBatchRow(_Base):
    """The receipt of a stored batch: its random id (drawn by the phone) and the minute it came."""

    __tablename__ = "loupe_lens_batches"
    guide: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch: Mapped[str] = mapped_column(String(64), primary_key=True)
    received: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_loupe_lens_batches_received", "received"),)


COLUMNS = ("session", "type", "item", "mode", "language", "dwell_ms", "at", "local_hour")
PRUNE_EVERY_S = 3600.0  # old events and receipts are looked for at most this often, when a batch arrives
KEEP_RECEIPTS = MAX_AGE + timedelta(days=1)  # a batch resent later holds events too old to be accepted


class _Duplicate(Exception):
    """The batch was stored before (raised inside the transaction, to roll it back)."""


def _receipt_insert(dialect: str) -> Insert:
    """INSERT of a receipt, giving back its id, or nothing when the receipt is there (no error
    in PostgreSQL's log)."""
    if dialect == "postgresql":
        return postgresql.insert(LensBatchRow).on_conflict_do_nothing().returning(LensBatchRow.batch)
    if dialect == "sqlite":
        return sqlite.insert(LensBatchRow).on_conflict_do_nothing().returning(LensBatchRow.batch)
    return insert(LensBatchRow).returning(LensBatchRow.batch)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class LensStatsStore:
    """Writes and reads ``loupe_lens_events`` on the catalog's engine. With `keep_days`, events
    older than that are deleted (every guide's), at most once an hour as batches arrive: the
    retention holds wherever events are received, with no scheduler needed. Batch receipts
    older than ``KEEP_RECEIPTS`` go at the same time, whatever `keep_days`."""

    def __init__(self, engine: Engine, keep_days: int = 0, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.keep_days = keep_days
        self.clock = clock
        self._pruned_at: float | None = None  # monotonic time of the last pruning
        self._lock = threading.Lock()
        try:
            _Base.metadata.create_all(engine, checkfirst=True)
        except DBAPIError:  # another process or thread made them in between: fine if they are there now
            found = inspect(engine)
            if not all(found.has_table(name) for name in _Base.metadata.tables):
                raise
        self.engine = engine

    def add(self, events: LensBatch | Iterable[LensEvent], *, batch: str | None = None) -> int:
        """Store a batch in one transaction; the number stored. With ``batch`` (the phone's id of
        it; a ``LensBatch`` brings its own), a batch of the same guide and id stored before stores
        nothing and gives 0, even when both come at the same moment."""
        batch = getattr(events, "id", None) if batch is None else batch
        rows = [asdict(e) for e in events]
        if not rows:
            return 0
        try:
            with self.engine.begin() as conn:
                if batch is not None:
                    receipt = {"guide": rows[0]["guide"], "batch": batch,
                               "received": self.clock().replace(second=0, microsecond=0)}
                    try:  # stored before, or right now elsewhere (waits for that transaction): no row
                        if conn.execute(_receipt_insert(conn.dialect.name), receipt).first() is None:
                            raise _Duplicate
                    except IntegrityError as error:  # a database without ON CONFLICT: its primary key
                        raise _Duplicate from error
                conn.execute(insert(LensEventRow), rows)
            stored = len(rows)
        except _Duplicate:
            stored = 0
        self._prune_if_due()
        return stored

    def seen(self, guide: str, batch: str) -> bool:
        """Whether the batch ``batch`` of ``guide`` was stored (and its receipt kept)."""
        with self.engine.connect() as conn:
            return conn.execute(select(LensBatchRow.batch).where(LensBatchRow.guide == guide,
                                                                 LensBatchRow.batch == batch)).first() is not None

    def prune(self, before: datetime) -> int:
        """Delete every guide's events older than ``before`` (UTC, naive); how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(LensEventRow).where(LensEventRow.at < before)).rowcount

    def prune_receipts(self, before: datetime) -> int:
        """Delete the receipts of batches received before ``before`` (UTC, naive); how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(LensBatchRow).where(LensBatchRow.received < before)).rowcount

    def _prune_if_due(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_S:
                return
            self._pruned_at = now
        today = self.clock()
        if self.keep_days > 0:
            self.prune(today - timedelta(days=self.keep_days))
        self.prune_receipts(today - KEEP_RECEIPTS)

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
