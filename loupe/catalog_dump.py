"""The catalog as portable JSON Lines: the same dump from SQLite and PostgreSQL, restorable
into either.

``dump_catalog`` reads every table of the database (reflected, so tables of every package
that keeps its data in the catalog database are included: connector, jobs, vocabularies, API keys,
lens statistics) and writes one gzipped JSON Lines file, all of it from one moment of the database (one
transaction, while the service goes on writing): a header line per table, then its rows, values encoded
by column type (dates as ISO 8601, bytes as base64, JSON as JSON). ``load_catalog`` creates
the schema from Loupe's own models and inserts the rows in foreign-key order, then moves
PostgreSQL's id sequences past the restored ids. Rows are streamed both ways.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import JSON, Boolean, Date, DateTime, Engine, Integer, MetaData, Table, func, insert, select, text

from connector.catalog import fulltext
from connector.catalog.schema import Base
from loupe_stats.store import LensEventRow
from loupe_tagging.vocabulary_store import VocabularyRow
from search_service.key_store import ApiKeyRow
from training_worker.jobs.store import JobRow

BATCH = 1000


def app_metadata() -> list[MetaData]:
    """The schemas of everything Loupe keeps in the catalog database."""
    return [Base.metadata, JobRow.metadata, VocabularyRow.metadata, ApiKeyRow.metadata,
            LensEventRow.metadata]  # the lens's statistics and batch receipts


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decoder(column_type: Any) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1 and not isinstance(column_type, JSON):
            if "$date" in value:
                parsed = dt.datetime.fromisoformat(value["$date"])
                return parsed.date() if isinstance(column_type, Date) and not isinstance(column_type, DateTime) else parsed
            if "$bytes" in value:
                return base64.b64decode(value["$bytes"])
        if isinstance(column_type, Boolean) and value is not None:
            return bool(value)
        return value
    return decode


def dump_catalog(engine: Engine, path: Path, progress: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, int]:
    """Write every table's rows to ``path`` (gzipped JSON Lines); returns rows per table."""
    reflected = MetaData()
    reflected.reflect(engine)
    counts: dict[str, int] = {}
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out, _snapshot(engine) as conn:
        for table in reflected.sorted_tables:
            columns = [c.name for c in table.columns]
            out.write(json.dumps({"table": table.name, "columns": columns}) + "\n")
            n = 0
            for row in conn.execution_options(yield_per=BATCH).execute(select(table)):
                out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
                n += 1
            counts[table.name] = n
            progress(table.name, n)
    return counts


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Any]:
    """A connection that sees one moment of the database for all its reads, while others
    go on writing: a REPEATABLE READ transaction in PostgreSQL, a read transaction in SQLite
    (WAL keeps it consistent)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            yield conn
        return
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def _read(path: Path) -> Iterator[tuple[str, list[str], list[list[Any]]]]:
    """(table, columns, a batch of rows), table by table as written."""
    table, columns, batch = None, [], []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if isinstance(item, dict):
                if table is not None:
                    yield table, columns, batch
                table, columns, batch = item["table"], item["columns"], []
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                yield table, columns, batch
                batch = []
    if table is not None:
        yield table, columns, batch


def load_catalog(engine: Engine, path: Path, progress: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, int]:
    """Create Loupe's schema in an empty database and insert the dump's rows. Tables the dump
    has but this Loupe does not know are skipped (named in the result with -1)."""
    metadatas = app_metadata()
    for metadata in metadatas:
        metadata.create_all(engine)
    tables: dict[str, Table] = {t.name: t for m in metadatas for t in m.tables.values()}
    counts: dict[str, int] = {}
    # The dump lists parents before children (sorted_tables), so rows stream straight in.
    with engine.begin() as conn:
        for name, columns, rows in _read(path):
            table = tables.get(name)
            if table is None:
                counts[name] = -1
                continue
            known = [(i, table.columns[c]) for i, c in enumerate(columns) if c in table.columns]
            decoders = [(i, col.name, _decoder(col.type)) for i, col in known]
            if rows:
                conn.execute(insert(table), [{key: decode(row[i]) for i, key, decode in decoders} for row in rows])
            counts[name] = counts.get(name, 0) + len(rows)
            progress(name, counts[name])
        if engine.dialect.name == "postgresql":
            _advance_sequences(conn, tables.values())
        fulltext.rebuild(conn)  # the documents are derived: made again from the rows loaded
    return counts


def _advance_sequences(conn: Any, tables: Any) -> None:
    """Inserting explicit ids leaves PostgreSQL's sequences at 1: move each past its max."""
    for table in tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false) "
                    f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (to compare a restore with its backup); the full-text index's tables,
    derived from the others, are left out."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in reflected.sorted_tables
                if not fulltext.is_index_table(t.name)}
