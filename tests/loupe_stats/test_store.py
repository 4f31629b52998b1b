"""The store keeps each batch a phone sends once (SQLite and PostgreSQL): a batch sent again
under the same id, even at the same moment from two places, stores nothing more; the receipts
go once no batch that old could be accepted any more, whatever the events' retention."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select

from loupe_stats import EventError, LensStatsStore, parse_batch
from loupe_stats.store import KEEP_RECEIPTS, LensBatchRow

T0 = datetime(2026, 12, 3, 22, 30)


def batch(guide: str, batch_id: str | None, *items: str, now: datetime = T0):  # noqa: ANN201 - LensBatch
    body = {"session": "s" * 32, "events": [
        {"type": "card", "item": item, "language": "en", "dwell_ms": 1000,
         "at": T0.replace(tzinfo=timezone.utc).isoformat()} for item in items]}
    if batch_id is not None:
        body["batch"] = batch_id
    return parse_batch(guide, body, now=now.replace(tzinfo=timezone.utc))


def count(store: LensStatsStore, guide: str = "g") -> int:
    return len(list(store.rows(guide)))


def receipts(store: LensStatsStore) -> set[tuple]:
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(LensBatchRow.guide, LensBatchRow.batch, LensBatchRow.received))}


@pytest.fixture
def engine(catalog_settings):
    """A new engine on the catalog database at each call, as API processes have their own."""
    catalog_settings.ensure_dirs()
    made = []

    def make():  # noqa: ANN202
        made.append(create_engine(catalog_settings.catalog))
        return made[-1]

    yield make
    for e in made:
        e.dispose()


def test_a_batch_sent_again_stores_nothing_more(engine):
    store = LensStatsStore(engine(), clock=lambda: T0 + timedelta(seconds=42))
    first, second = "a1" * 16, "b2" * 16
    assert store.add(batch("g", first, "venus", "primavera")) == 2
    assert store.add(batch("g", first, "venus", "primavera")) == 0  # the beacon's, then the fetch's
    assert store.add(batch("g", first, "venus")) == 0  # the id counts, not what the batch holds
    assert count(store) == 2 and store.seen("g", first) and not store.seen("g", second)
    assert store.add(batch("other", first, "venus")) == 1  # per guide
    assert store.add(batch("g", second, "venus")) == 1
    assert store.add(batch("g", None, "venus")) == 1 and store.add(batch("g", None, "venus")) == 1  # no id: as before
    assert count(store) == 5 and count(store, "other") == 1
    # a receipt holds the random batch id and the minute it came, nothing about the phone
    assert receipts(store) == {("g", first, T0), ("g", second, T0), ("other", first, T0)}
    assert set(LensBatchRow.__table__.columns.keys()) == {"guide", "batch", "received"}


def test_duplicates_at_the_same_moment_from_two_processes_are_stored_once(engine):
    stores = [LensStatsStore(engine()), LensStatsStore(engine())]
    rounds, items = 12, ("venus", "primavera", "venus__zephyr")
    barrier = threading.Barrier(len(stores))
    answers: list[list[int]] = [[] for _ in stores]
    failures: list[BaseException] = []

    def send(i: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=30)
                answers[i].append(stores[i].add(batch("g", f"batch-{r:012d}", *items)))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
            barrier.abort()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert [sorted(pair) for pair in zip(*answers)] == [[0, len(items)]] * rounds, answers
    assert count(stores[0]) == rounds * len(items)


def test_receipts_go_once_older_than_any_batch_still_accepted(engine):
    shared = engine()
    LensStatsStore(shared, clock=lambda: T0).add(batch("g", "old-batch-000001", "venus"))

    def store_at(moment: datetime, keep_days: int) -> LensStatsStore:  # a new process: prunes at its first batch
        return LensStatsStore(shared, keep_days, clock=lambda: moment)

    almost = T0 + KEEP_RECEIPTS - timedelta(minutes=1)
    store_at(almost, 0).add(batch("g", "mid-batch-000001", "venus"))
    assert {r[1] for r in receipts(store_at(almost, 0))} == {"old-batch-000001", "mid-batch-000001"}
    later = T0 + KEEP_RECEIPTS + timedelta(minutes=1)
    store_at(later, 0).add(batch("g", "new-batch-000001", "venus"))
    assert {r[1] for r in receipts(store_at(later, 0))} == {"mid-batch-000001", "new-batch-000001"}
    with pytest.raises(EventError, match="days old"):  # the old batch sent again now: refused anyway
        batch("g", "old-batch-000001", "venus", now=later)
    much_later = later + KEEP_RECEIPTS  # events kept two years (lens_stats_days), receipts not
    store = store_at(much_later, 730)
    store.add(batch("g", "last-batch-00001", "venus"))
    assert {r[1] for r in receipts(store)} == {"new-batch-000001", "last-batch-00001"}
    assert count(store) == 4  # every event kept


def test_the_receipt_and_its_events_are_one_transaction(engine):
    store = LensStatsStore(engine(), clock=lambda: T0)
    good = batch("g", "half-batch-00001", "venus", "primavera")
    broken = replace(good, events=(good.events[0], replace(good.events[1], at="not a time")))
    with pytest.raises(Exception):  # noqa: B017 - whichever error the database driver gives
        store.add(broken)
    assert not store.seen("g", good.id) and count(store) == 0  # no receipt without its events
    assert store.add(good) == 2  # so the phone's next try is stored
