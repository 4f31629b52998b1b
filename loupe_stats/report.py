"""What the curators' dashboard shows: counts per item, hour, language, mode and dwell time,
with every group seen by fewer than ``k`` sessions hidden (k-anonymity).

A group (an item, an hour, a language, a dwell-time band) is shown only when at least ``k``
different sessions (phones on a day) are in it; hidden groups are left out and only their
number is given (``suppressed``). When the whole period has fewer than ``k`` sessions, nothing
is shown but that. Nothing of a single event is ever in a report or its CSV.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .store import LensStatsStore

# Dwell-time bands (seconds, upper bounds; the last is open).
DWELL_BANDS = (5, 15, 30, 60, 120, 300)


def dwell_band(ms: int) -> str:
    seconds = ms / 1000
    low = 0
    for high in DWELL_BANDS:
        if seconds < high:
            return f"{low}-{high} s"
        low = high
    return f"{low}+ s"


BAND_ORDER = [dwell_band(0)] + [dwell_band(b * 1000) for b in DWELL_BANDS]


class _Group:
    __slots__ = ("events", "sessions", "recognitions", "cards", "dwell")

    def __init__(self) -> None:
        self.events = 0
        self.sessions: set[str] = set()
        self.recognitions = 0
        self.cards = 0
        self.dwell: list[int] = []

    def add(self, session: str, kind: str, dwell_ms: int | None) -> None:
        self.events += 1
        self.sessions.add(session)
        if kind == "card":
            self.cards += 1
        else:
            self.recognitions += 1
        if dwell_ms is not None:
            self.dwell.append(dwell_ms)

    def row(self) -> dict[str, Any]:
        return {"events": self.events, "sessions": len(self.sessions), "recognitions": self.recognitions,
                "cards": self.cards,
                "dwell_median_s": round(statistics.median(self.dwell) / 1000, 1) if self.dwell else None}


@dataclass
class Report:
    guide: str
    k: int
    since: datetime | None
    until: datetime | None
    totals: dict[str, int] | None  # None: fewer than k sessions in the period
    items: list[dict] = field(default_factory=list)
    hours: list[dict] = field(default_factory=list)
    languages: list[dict] = field(default_factory=list)
    modes: list[dict] = field(default_factory=list)
    dwell: list[dict] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)

    SECTIONS = ("items", "hours", "languages", "modes", "dwell")

    def as_json(self) -> dict[str, Any]:
        return {"guide": self.guide, "k": self.k,
                "from": self.since.isoformat() + "Z" if self.since else None,
                "to": self.until.isoformat() + "Z" if self.until else None,
                "totals": self.totals, **{s: getattr(self, s) for s in self.SECTIONS},
                "suppressed": self.suppressed}

    def csv(self) -> str:
        """The shown groups, one row each: section, key, counts (hidden groups are not in it)."""
        out = io.StringIO()
        columns = ["events", "sessions", "recognitions", "cards", "dwell_median_s"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "key", "label", *columns])
        if self.totals is not None:
            writer.writerow(["total", "", "", *(self.totals.get(c, "") for c in columns)])
        for section in self.SECTIONS:
            for row in getattr(self, section):
                writer.writerow([section, row["key"], row.get("label", ""),
                                 *("" if row.get(c) is None else row[c] for c in columns)])
        for section, count in self.suppressed.items():
            writer.writerow(["suppressed", section, f"groups with fewer than {self.k} sessions", count, "", "", "", ""])
        return out.getvalue()


def aggregate(store: LensStatsStore, guide: str, *, k: int, since: datetime | None = None,
              until: datetime | None = None, labels: dict[str, dict] | None = None) -> Report:
    """The guide's report; ``labels``: item id -> {"label": title, "kind": artwork|detail}."""
    labels = labels or {}
    total = _Group()
    groups: dict[str, dict[Any, _Group]] = {s: defaultdict(_Group) for s in Report.SECTIONS}
    for session, kind, item, mode, language, dwell_ms, _at, hour in store.rows(guide, since=since, until=until):
        total.add(session, kind, dwell_ms)
        groups["items"][item].add(session, kind, dwell_ms)
        groups["hours"][hour].add(session, kind, dwell_ms)
        groups["languages"][language].add(session, kind, dwell_ms)
        groups["modes"][mode or "unknown"].add(session, kind, dwell_ms)
        if dwell_ms is not None:
            groups["dwell"][dwell_band(dwell_ms)].add(session, kind, dwell_ms)
    report = Report(guide, k, since, until, None)
    if len(total.sessions) < k:
        report.suppressed = {s: len(g) for s, g in groups.items() if g}
        return report
    report.totals = {"events": total.events, "sessions": len(total.sessions),
                     "recognitions": total.recognitions, "cards": total.cards}
    order = {"items": lambda r: (-r["sessions"], -r["events"], str(r["key"])),
             "hours": lambda r: r["key"], "dwell": lambda r: BAND_ORDER.index(r["key"]),
             "languages": lambda r: (-r["sessions"], r["key"]), "modes": lambda r: (-r["sessions"], r["key"])}
    for section, by_key in groups.items():
        shown = []
        for key, group in by_key.items():
            if len(group.sessions) < k:
                report.suppressed[section] = report.suppressed.get(section, 0) + 1
                continue
            row = {"key": key, **group.row()}
            if section == "items":
                row["label"] = labels.get(key, {}).get("label", key)
                row["kind"] = labels.get(key, {}).get("kind", "artwork")
            shown.append(row)
        setattr(report, section, sorted(shown, key=order[section]))
    return report
