"""A catalog made before a column existed gets it in place when opened, keeping its rows."""

from __future__ import annotations

import sqlite3

from connector.catalog import Catalog


def test_sources_of_an_older_catalog_gain_allowed_hosts(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    Catalog.from_url(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:  # what a catalog written before --allow-host looks like
        db.execute("ALTER TABLE sources DROP COLUMN allowed_hosts")
        db.execute("INSERT INTO sources (url, kind, allow_private, polite, created_at) "
                   "VALUES ('http://127.0.0.1:8765/c.json', 'collection', 1, 1, '2024-01-01 00:00:00')")
    catalog = Catalog.from_url(f"sqlite:///{path}")
    try:
        old = catalog.get_source(1)
        assert (old.allow_private, old.allowed_hosts) == (True, ())
        new = catalog.add_source("http://127.0.0.1:8765/c.json", "collection", allow_private=True,
                                 allowed_hosts=["10.0.0.5:8182", "10.0.0.5:8182", " images.intranet "])
        assert new.allowed_hosts == ("10.0.0.5:8182", "images.intranet")
    finally:
        catalog.close()
    with sqlite3.connect(path) as db:
        assert "allowed_hosts" in {row[1] for row in db.execute("PRAGMA table_info(sources)")}
