"""When a scheduled source is due: interval, window (crossing midnight too), parsing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connector.schedule import ScheduleError, in_window, is_due, parse_every, parse_window

NOON = datetime(2026, 5, 1, 12, 0)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("1d", 86400),
                                           ("1.5h", 5400)])
def test_intervals(text, seconds):
    assert parse_every(text) == seconds


@pytest.mark.parametrize("bad", ["", "soon", "6 hours", "-1h", "0s"])
def test_bad_intervals_say_what_is_expected(bad):
    with pytest.raises(ScheduleError, match="interval"):
        parse_every(bad)


@pytest.mark.parametrize("bad", ["22-06", "24:00-01:00", "10:00-10:00", "10:00"])
def test_bad_windows(bad):
    with pytest.raises(ScheduleError, match="HH:MM-HH:MM"):
        parse_window(bad)


def test_windows_including_across_midnight():
    assert in_window(None, NOON) and in_window("11:00-13:00", NOON) and not in_window("13:00-14:00", NOON)
    assert in_window("22:00-06:00", NOON.replace(hour=23)) and in_window("22:00-06:00", NOON.replace(hour=5))
    assert not in_window("22:00-06:00", NOON) and not in_window("11:00-12:00", NOON)  # the end is excluded


def test_due_after_the_interval_inside_the_window():
    assert not is_due(None, None, None, NOON)
    assert is_due(3600, None, None, NOON)  # never harvested
    assert not is_due(3600, None, NOON - timedelta(minutes=59), NOON)
    assert is_due(3600, None, NOON - timedelta(minutes=60), NOON)
    assert not is_due(3600, "22:00-06:00", NOON - timedelta(days=1), NOON)
