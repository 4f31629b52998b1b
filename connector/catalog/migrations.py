"""Additive schema changes for catalogs created by an earlier Loupe.

``create_all`` makes missing tables but never touches existing ones, so a column added to
the ORM later (``sources.allowed_hosts``) would be missing from an older catalog and every
query of that table would fail. New columns are always nullable, so adding them is safe on
SQLite and PostgreSQL alike, and an older Loupe reading the catalog simply ignores them.
"""

from __future__ import annotations

import logging

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from .schema import Base

log = logging.getLogger(__name__)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add every nullable ORM column that an existing table lacks; ``table.column`` of each."""
    inspector = inspect(engine)
    added: list[str] = []
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"catalog table {table.name} lacks the required column {column.name}; "
                                       "it cannot be added in place")
                kind = column.type.compile(dialect=engine.dialect)
                preparer = engine.dialect.identifier_preparer
                conn.execute(text(f"ALTER TABLE {preparer.quote(table.name)} "
                                  f"ADD COLUMN {preparer.quote(column.name)} {kind}"))
                added.append(f"{table.name}.{column.name}")
    for name in added:
        log.info("catalog: added column %s", name)
    return added
