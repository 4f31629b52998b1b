"""A batch of lens events is checked field by field; a bad one is refused whole, saying where."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loupe_stats import MAX_EVENTS, EventError, parse_batch

NOW = datetime(2026, 12, 3, 22, 30, tzinfo=timezone.utc)
SESSION = "a" * 32


def event(**changes) -> dict:
    base = {"type": "recognized", "item": "starry-night", "mode": "retrieval", "language": "en",
            "dwell_ms": 5400, "at": "2026-12-03T23:10:05+01:00"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_good_batch_keeps_the_local_hour_and_utc_time_to_the_minute():
    events = parse_batch("default", {"session": SESSION, "events": [event(), event(type="card", mode=...)]},
                         now=NOW, known_items={"starry-night"})
    first, second = events
    assert (first.guide, first.session, first.type, first.item, first.mode) == (
        "default", SESSION, "recognized", "starry-night", "retrieval")
    assert first.at == datetime(2026, 12, 3, 22, 10) and first.local_hour == 23
    assert second.type == "card" and second.mode is None
    assert events.id is None and len(events) == 2


def test_a_batch_may_carry_the_phones_random_id_of_it():
    batch = parse_batch("default", {"session": SESSION, "batch": "0f" * 16, "events": [event()]}, now=NOW)
    assert (batch.guide, batch.id, [e.item for e in batch]) == ("default", "0f" * 16, ["starry-night"])


@pytest.mark.parametrize("body,field", [
    ([], None),
    ({"session": SESSION, "events": [event()], "ip": "1.2.3.4"}, "ip"),
    ({"session": "short", "events": [event()]}, "session"),
    ({"session": SESSION, "batch": "short", "events": [event()]}, "batch"),
    ({"session": SESSION, "batch": "b" * 65, "events": [event()]}, "batch"),
    ({"session": SESSION, "batch": "not a batch id!!", "events": [event()]}, "batch"),
    ({"session": SESSION, "batch": 12345678901234567890, "events": [event()]}, "batch"),
    ({"session": SESSION, "batch": None, "events": [event()]}, "batch"),
    ({"session": SESSION, "events": []}, "events"),
    ({"session": SESSION, "events": [event()] * (MAX_EVENTS + 1)}, "events"),
    ({"session": SESSION, "events": [event(), "x"]}, "events[1]"),
    ({"session": SESSION, "events": [event(type="looked")]}, "events[0].type"),
    ({"session": SESSION, "events": [event(item="../etc")]}, "events[0].item"),
    ({"session": SESSION, "events": [event(item="mona-lisa")]}, "events[0].item"),
    ({"session": SESSION, "events": [event(mode="guess")]}, "events[0].mode"),
    ({"session": SESSION, "events": [event(language="English")]}, "events[0].language"),
    ({"session": SESSION, "events": [event(dwell_ms=-1)]}, "events[0].dwell_ms"),
    ({"session": SESSION, "events": [event(dwell_ms=True)]}, "events[0].dwell_ms"),
    ({"session": SESSION, "events": [event(dwell_ms=1.5)]}, "events[0].dwell_ms"),
    ({"session": SESSION, "events": [event(at="2026-12-03T23:10:05")]}, "events[0].at"),
    ({"session": SESSION, "events": [event(at="yesterday")]}, "events[0].at"),
    ({"session": SESSION, "events": [event(at=(NOW - timedelta(days=31)).isoformat())]}, "events[0].at"),
    ({"session": SESSION, "events": [event(at=(NOW + timedelta(hours=1)).isoformat())]}, "events[0].at"),
    ({"session": SESSION, "events": [event(user_agent="Mozilla")]}, "events[0].user_agent"),
])
def test_bad_batches_are_refused_naming_the_field(body, field):
    with pytest.raises(EventError) as caught:
        parse_batch("default", body, now=NOW, known_items={"starry-night"})
    assert caught.value.field == field
    assert caught.value.code == "invalid_event" and str(caught.value)


def test_a_guide_id_must_be_a_slug():
    with pytest.raises(EventError, match="guide"):
        parse_batch("../x", {"session": SESSION, "events": [event()]}, now=NOW)
