"""The catalog dump (``loupe backup``) keeps the lens's statistics: their events and the batch
receipts that keep a batch sent again from being stored twice, restored into a new database."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine

from loupe.catalog_dump import dump_catalog, load_catalog
from loupe_stats import LensStatsStore, parse_batch


def test_the_lens_statistics_and_their_batch_receipts_are_restored(tmp_path):
    now = datetime.now(timezone.utc)
    body = {"session": "s" * 32, "batch": "f0" * 16, "events": [
        {"type": "card", "item": item, "language": "en", "dwell_ms": 1000, "at": now.isoformat()}
        for item in ("venus", "primavera")]}
    engines = [create_engine(f"sqlite:///{tmp_path / name}") for name in ("old.sqlite", "new.sqlite")]
    try:
        old = LensStatsStore(engines[0])
        assert old.add(parse_batch("g", body)) == 2
        dump_catalog(engines[0], tmp_path / "catalog.jsonl.gz")
        counts = load_catalog(engines[1], tmp_path / "catalog.jsonl.gz")
        assert (counts["loupe_lens_events"], counts["loupe_lens_batches"]) == (2, 1)
        new = LensStatsStore(engines[1])
        assert list(new.rows("g")) == list(old.rows("g"))
        assert new.add(parse_batch("g", body)) == 0  # the phone's resend: still a duplicate
    finally:
        for engine in engines:
            engine.dispose()
