"""The report on the catalog database (SQLite and PostgreSQL): counts per item, hour, language,
mode and dwell band, every group of fewer than k sessions hidden; its CSV and plots."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine

from loupe_stats import LensStatsStore, aggregate, parse_batch
from loupe_stats.plots import report_plots
from loupe_stats.report import dwell_band

NOW = datetime.now(timezone.utc).replace(microsecond=0)
LABELS = {"venus": {"label": "The Birth of Venus", "kind": "artwork"},
          "venus__zephyr": {"label": "The Birth of Venus · Zephyr", "kind": "detail"},
          "primavera": {"label": "Primavera", "kind": "artwork"}}


def post(store: LensStatsStore, session: int, items: list[tuple[str, str, int]], guide: str = "g",
         language: str = "en", hour_offset: int = 0) -> None:
    at = (NOW - timedelta(hours=hour_offset)).astimezone(timezone(timedelta(hours=1))).isoformat()
    body = {"session": f"session-{session:012d}", "events": [
        {"type": kind, "item": item, "mode": "retrieval", "language": language, "dwell_ms": dwell, "at": at}
        for item, kind, dwell in items]}
    store.add(parse_batch(guide, body))


@pytest.fixture
def store(catalog_settings) -> LensStatsStore:
    engine = create_engine(catalog_settings.catalog)
    catalog_settings.ensure_dirs()
    yield LensStatsStore(engine)
    engine.dispose()


def test_groups_seen_by_fewer_than_k_sessions_are_hidden(store):
    for s in range(6):  # six phones saw Venus and its Zephyr, in English
        post(store, s, [("venus", "recognized", 4000), ("venus__zephyr", "recognized", 2000),
                        ("venus", "card", 40_000 + s)])
    for s in range(6, 8):  # two saw Primavera, in Italian
        post(store, s, [("primavera", "card", 9000)], language="it")
    post(store, 99, [("venus", "card", 1000)], guide="other")  # another guide: not counted

    report = aggregate(store, "g", k=5, labels=LABELS)
    assert report.totals == {"events": 20, "sessions": 8, "recognitions": 12, "cards": 8}
    items = {r["key"]: r for r in report.items}
    assert set(items) == {"venus", "venus__zephyr"}
    assert items["venus"] == {"key": "venus", "events": 12, "sessions": 6, "recognitions": 6, "cards": 6,
                              "dwell_median_s": 22.0, "label": "The Birth of Venus", "kind": "artwork"}
    assert items["venus__zephyr"]["kind"] == "detail"
    assert [r["key"] for r in report.languages] == ["en"]
    assert report.suppressed == {"items": 1, "languages": 1, "dwell": 1}
    assert [r["key"] for r in report.dwell] == ["0-5 s", "30-60 s"]
    assert [r["key"] for r in report.modes] == ["retrieval"]
    assert len(report.hours) == 1 and report.hours[0]["sessions"] == 8

    text = report.csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["section"] == "total" and rows[0]["sessions"] == "8"
    assert {r["key"] for r in rows if r["section"] == "items"} == {"venus", "venus__zephyr"}
    assert "primavera" not in text and "session-" not in text
    assert any(r["section"] == "suppressed" and r["key"] == "items" and r["events"] == "1" for r in rows)

    plots = report_plots(report)
    assert set(plots) == {"top_artworks", "top_details", "hours", "dwell", "languages"}
    assert all(png.startswith(b"\x89PNG") for png in plots.values())

    assert {r["key"] for r in aggregate(store, "g", k=2, labels=LABELS).items} == {"venus", "venus__zephyr",
                                                                                  "primavera"}


def test_fewer_than_k_sessions_in_all_shows_nothing(store):
    for s in range(3):
        post(store, s, [("venus", "card", 10_000)])
    report = aggregate(store, "g", k=5)
    assert report.totals is None and report.items == [] and report.hours == []
    assert report.suppressed["items"] == 1
    assert "venus" not in report.csv()


def test_the_period_counts_only_its_events(store):
    for s in range(5):
        post(store, s, [("venus", "card", 10_000)], hour_offset=48)
        post(store, s + 10, [("primavera", "card", 10_000)])
    since = (NOW - timedelta(hours=24)).replace(tzinfo=None)
    report = aggregate(store, "g", k=5, since=since, labels=LABELS)
    assert [r["key"] for r in report.items] == ["primavera"]
    assert store.delete_before("g", since) == 5
    assert aggregate(store, "g", k=1).totals["events"] == 5


def test_dwell_bands():
    assert [dwell_band(ms) for ms in (0, 4999, 5000, 59_999, 60_000, 299_000, 300_000, 3_600_000)] == [
        "0-5 s", "0-5 s", "5-15 s", "30-60 s", "60-120 s", "120-300 s", "300+ s", "300+ s"]


def test_events_older_than_the_retention_are_deleted_as_batches_arrive(catalog_settings):
    engine = create_engine(catalog_settings.catalog)
    catalog_settings.ensure_dirs()
    keep_all = LensStatsStore(engine)  # keep_days 0: never prunes
    for s in range(5):
        post(keep_all, s, [("venus", "card", 10_000)], hour_offset=24 * 25)  # 25 days ago
    assert aggregate(keep_all, "g", k=1).totals["events"] == 5
    store = LensStatsStore(engine, keep_days=20, clock=lambda: NOW.replace(tzinfo=None))
    try:
        post(store, 9, [("primavera", "card", 10_000)], guide="other")
        assert aggregate(store, "g", k=1).totals is None  # every guide's old events went
        assert aggregate(store, "other", k=1).totals["events"] == 1
        for s in range(3):  # within the hour: no new pruning
            post(store, s, [("venus", "card", 10_000)], hour_offset=24 * 25)
        assert aggregate(store, "g", k=1).totals["events"] == 3
        assert keep_all.prune(NOW.replace(tzinfo=None) - timedelta(days=20)) == 3
    finally:
        engine.dispose()
