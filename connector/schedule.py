"""When a source is due for its scheduled harvest (`loupe scheduler`): every so many seconds
(``harvest_every_s``), and only inside its window of the day (``harvest_window``, UTC,
"HH:MM-HH:MM"; a window may cross midnight, "22:00-06:00"). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MIN_EVERY_S = 1


class ScheduleError(ValueError):
    """An interval or window that cannot be used; the message says what is expected."""


def parse_every(text: str) -> int:
    """"90s", "15m", "6h", "1d" or plain seconds -> seconds."""
    match = _DURATION.match(text or "")
    if not match:
        raise ScheduleError(f"interval {text!r}: give a number with s, m, h or d, e.g. 6h or 30m")
    seconds = int(round(float(match.group(1)) * _UNITS[match.group(2)]))
    if seconds < MIN_EVERY_S:
        raise ScheduleError(f"interval {text!r} is shorter than {MIN_EVERY_S} s")
    return seconds


def parse_window(text: str) -> tuple[time, time]:
    match = _WINDOW.match((text or "").strip())
    if not match or match.group(1, 2) == match.group(3, 4):
        raise ScheduleError(f"window {text!r}: give HH:MM-HH:MM in UTC, e.g. 22:00-06:00 (start and end differ)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def in_window(window: str | None, now: datetime) -> bool:
    """Is ``now`` (UTC) inside ``window`` (no window: always)?"""
    if not window:
        return True
    start, end = parse_window(window)
    t = now.time()
    return start <= t < end if start < end else (t >= start or t < end)


def is_due(every_s: int | None, window: str | None, last_harvest_at: datetime | None, now: datetime) -> bool:
    """Is a source scheduled every ``every_s`` and last harvested at ``last_harvest_at`` due now?"""
    if not every_s:
        return False
    if last_harvest_at is not None and now - last_harvest_at < timedelta(seconds=every_s):
        return False
    return in_window(window, now)
