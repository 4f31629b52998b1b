"""A batch of lens events, as a phone sends it, checked field by field.

    {"session": "k3Jx...", "batch": "9f1c...", "events": [
      {"type": "recognized", "item": "starry-night", "mode": "retrieval", "language": "en",
       "dwell_ms": 5400, "at": "2026-12-03T23:10:05+01:00"},
      {"type": "card", "item": "starry-night", "language": "en", "dwell_ms": 31000, "at": "..."}]}

``recognized``: an item was recognised and stayed in view ``dwell_ms``; ``card``: its card was
open ``dwell_ms``. ``at`` carries the phone's UTC offset: the stored hour is the visitor's local
hour, the stored time is UTC, cut to the minute. ``batch`` (optional): the phone's random id of
this batch, the same each time it sends these events again (a beacon whose answer it could not
see, a response lost on the way): the store keeps each (guide, batch) once. Every problem is an
``EventError`` naming the field (``events[2].item``), so that a client can see what it sent wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Collection, Iterator

EVENT_TYPES = ("recognized", "card")
MODES = ("retrieval", "classify", "detect")
MAX_EVENTS = 200  # per batch: a phone sends every few seconds, or when it comes back online
MAX_DWELL_MS = 4 * 3600 * 1000
MAX_AGE = timedelta(days=30)  # a phone offline for weeks still sends what it queued
MAX_AHEAD = timedelta(minutes=10)  # phone clocks drift
SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ITEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
LANGUAGE = re.compile(r"^(none|[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3})$")
GUIDE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
BATCH_FIELDS = ("session", "batch", "events")
FIELDS = {"type", "item", "mode", "language", "dwell_ms", "at"}


class EventError(ValueError):
    """A batch or event that cannot be stored; ``field`` names where."""

    code = "invalid_event"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LensEvent:
    guide: str
    session: str
    type: str
    item: str
    mode: str | None
    language: str
    dwell_ms: int | None
    at: datetime  # UTC, naive, cut to the minute
    local_hour: int


@dataclass(frozen=True)
class LensBatch:
    """A phone's batch: its events (iterating gives them) and its random id, if it sent one."""

    guide: str
    id: str | None
    events: tuple[LensEvent, ...]

    def __iter__(self) -> Iterator[LensEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


def parse_batch(guide: str, body: Any, *, now: datetime | None = None,
                known_items: Collection[str] | None = None) -> LensBatch:
    """The batch ``body``; EventError for the first problem (nothing of a bad batch is kept).
    ``known_items``: the guide's item ids, when known (an unknown item is refused)."""
    if not GUIDE.match(guide or ""):
        raise EventError(f"guide {guide!r} is not a guide id ([a-z0-9][a-z0-9-]{{0,62}})", "guide")
    if not isinstance(body, dict):
        raise EventError("the body must be a JSON object {\"session\": ..., \"events\": [...]}")
    extra = set(body) - set(BATCH_FIELDS)
    if extra:
        raise EventError(f"unknown field(s) {', '.join(sorted(extra))}: a batch has only 'session', 'batch' "
                         "and 'events'", sorted(extra)[0])
    session = body.get("session")
    if not isinstance(session, str) or not SESSION.match(session):
        raise EventError("'session' must be the phone's random id of the day: 16 to 64 letters, digits, '-' or '_'",
                         "session")
    batch = body.get("batch")
    if "batch" in body and (not isinstance(batch, str) or not SESSION.match(batch)):
        raise EventError("'batch' (optional) must be the phone's random id of this batch: 16 to 64 letters, "
                         "digits, '-' or '_'", "batch")
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise EventError("'events' must be a non-empty list", "events")
    if len(events) > MAX_EVENTS:
        raise EventError(f"a batch holds at most {MAX_EVENTS} events, this one {len(events)}: send smaller batches",
                         "events")
    now = now or datetime.now(timezone.utc)
    return LensBatch(guide, batch, tuple(_event(guide, session, e, f"events[{i}]", now, known_items)
                                         for i, e in enumerate(events)))


def _event(guide: str, session: str, raw: Any, where: str, now: datetime,
           known_items: Collection[str] | None) -> LensEvent:
    if not isinstance(raw, dict):
        raise EventError(f"{where} must be an object", where)
    extra = set(raw) - FIELDS
    if extra:
        raise EventError(f"{where}: unknown field(s) {', '.join(sorted(extra))}; known: {', '.join(sorted(FIELDS))}",
                         f"{where}.{sorted(extra)[0]}")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise EventError(f"{where}.type must be one of {', '.join(EVENT_TYPES)}", f"{where}.type")
    item = raw.get("item")
    if not isinstance(item, str) or not ITEM.match(item):
        raise EventError(f"{where}.item must be an item id of the guide", f"{where}.item")
    if known_items is not None and item not in known_items:
        raise EventError(f"{where}.item {item!r} is not an item of guide {guide!r}", f"{where}.item")
    mode = raw.get("mode")
    if mode is not None and mode not in MODES:
        raise EventError(f"{where}.mode must be one of {', '.join(MODES)}", f"{where}.mode")
    language = raw.get("language")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        raise EventError(f"{where}.language must be a language code such as 'en' or 'pt-BR', or 'none'",
                         f"{where}.language")
    dwell = raw.get("dwell_ms")
    if dwell is not None and (isinstance(dwell, bool) or not isinstance(dwell, int) or not 0 <= dwell <= MAX_DWELL_MS):
        raise EventError(f"{where}.dwell_ms must be a whole number of milliseconds from 0 to {MAX_DWELL_MS}",
                         f"{where}.dwell_ms")
    at, hour = _time(raw.get("at"), f"{where}.at", now)
    return LensEvent(guide, session, kind, item, mode, language, dwell, at, hour)


def _time(value: Any, where: str, now: datetime) -> tuple[datetime, int]:
    message = f"{where} must be an ISO 8601 time with the phone's UTC offset, e.g. 2026-12-03T23:10:05+01:00"
    if not isinstance(value, str) or len(value) > 40:
        raise EventError(message, where)
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(message, where) from None
    if local.tzinfo is None:
        raise EventError(message, where)
    utc = local.astimezone(timezone.utc)
    if utc < now - MAX_AGE or utc > now + MAX_AHEAD:
        raise EventError(f"{where} {value} is more than {MAX_AGE.days} days old or in the future", where)
    return utc.replace(tzinfo=None, second=0, microsecond=0), local.hour
