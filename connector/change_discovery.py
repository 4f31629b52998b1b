"""IIIF Change Discovery API 1.0: turn an activity stream into harvest operations.

The spec's consuming algorithm: start from the ``last`` page of the OrderedCollection, walk
back through ``prev`` pages, read each page's ``orderedItems`` in reverse (newest first),
stop at the first activity older than the previous crawl, and act only on the newest
activity per object (de-duplicate). Create/Update/Add fetch the object; Delete/Remove drop
it; Move drops ``object`` and fetches ``target``. A Refresh newer than the previous crawl
means the publisher rebuilt the stream: the activities after it describe the complete
current state, so the walk stops there and anything of this source not mentioned after
it is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from iiif.model import Problem

# (url) -> parsed JSON; raises on failure (the caller reports it).
FetchJson = Callable[[str], object]

MAX_PAGES = 100_000


@dataclass
class Operation:
    action: str  # "upsert" | "delete"
    uri: str
    activity: str  # the activity type that caused it
    time: str | None


@dataclass
class StreamPlan:
    operations: list[Operation] = field(default_factory=list)
    # Newest activity time seen; becomes the next crawl's lower bound.
    newest_time: str | None = None
    refreshed: bool = False  # a Refresh was met: everything not in ``operations`` is stale
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True  # False when a page could not be read (the crawl time is then not advanced)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip().replace("Z", "+00:00")
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t


def _ref_id(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        v = value.get("id") or value.get("@id")
        return v if isinstance(v, str) else None
    return None


def _ref_type(value: object) -> str | None:
    if isinstance(value, dict):
        t = value.get("type") or value.get("@type")
        return t if isinstance(t, str) else None
    return None


def plan_stream(stream_url: str, fetch: FetchJson, last_crawl: str | None) -> StreamPlan:
    """Walk the stream at ``stream_url`` back to ``last_crawl`` (ISO time or None for all)."""
    plan = StreamPlan()
    since = parse_time(last_crawl)
    try:
        top = fetch(stream_url)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        plan.problems.append(Problem(stream_url, f"cannot read the activity stream: {e}"))
        plan.complete = False
        return plan
    if not isinstance(top, dict):
        plan.problems.append(Problem(stream_url, "the activity stream is not a JSON object"))
        plan.complete = False
        return plan
    if top.get("type") == "OrderedCollectionPage":
        page_url = stream_url
        page = top
    else:
        if top.get("type") not in ("OrderedCollection", None):
            plan.problems.append(Problem(stream_url, f"expected an OrderedCollection, found {top.get('type')!r}", "warning"))
        page_url = _ref_id(top.get("last"))
        page = None
        if page_url is None:
            if isinstance(top.get("orderedItems"), list):  # a single unpaged stream
                page_url, page = stream_url, top
            else:
                plan.problems.append(Problem(stream_url, "the OrderedCollection has no 'last' page"))
                plan.complete = False
                return plan
    seen: set[str] = set()
    visited: set[str] = set()
    pages = 0
    while page_url and pages < MAX_PAGES:
        if page_url in visited:
            plan.problems.append(Problem(page_url, "the 'prev' links loop back to a page already read"))
            break
        visited.add(page_url)
        pages += 1
        if page is None:
            try:
                page = fetch(page_url)
            except Exception as e:  # noqa: BLE001
                plan.problems.append(Problem(page_url, f"cannot read the activity page: {e}"))
                plan.complete = False
                break
        if not isinstance(page, dict):
            plan.problems.append(Problem(page_url, "the activity page is not a JSON object"))
            plan.complete = False
            break
        items = page.get("orderedItems")
        if not isinstance(items, list):
            plan.problems.append(Problem(page_url, "the page has no 'orderedItems' list", "warning"))
            items = []
        stop = False
        for index in range(len(items) - 1, -1, -1):
            act = items[index]
            where = f"{page_url} orderedItems[{index}]"
            if not isinstance(act, dict):
                plan.problems.append(Problem(where, "an activity that is not a JSON object"))
                continue
            kind = act.get("type")
            when_raw = act.get("endTime") or act.get("startTime")
            when = parse_time(when_raw)
            if when_raw is not None and when is None:
                plan.problems.append(Problem(where, f"unreadable time {when_raw!r}", "warning"))
            if since is not None and when is not None and when < since:
                stop = True
                break
            if when is not None and (plan.newest_time is None or parse_time(plan.newest_time) < when):
                plan.newest_time = when.isoformat()
            if kind == "Refresh":
                plan.refreshed = True
                stop = True
                break
            obj = _ref_id(act.get("object"))
            if obj is None:
                plan.problems.append(Problem(where, f"{kind} activity without an object id"))
                continue
            if obj in seen:
                continue
            seen.add(obj)
            otype = _ref_type(act.get("object"))
            if otype not in (None, "Manifest", "sc:Manifest"):
                plan.problems.append(Problem(where, f"{kind} of a {otype} is not harvested (only Manifests)", "warning"))
                continue
            if kind in ("Create", "Update", "Add"):
                plan.operations.append(Operation("upsert", obj, kind, when_raw))
            elif kind in ("Delete", "Remove"):
                plan.operations.append(Operation("delete", obj, kind, when_raw))
            elif kind == "Move":
                target = _ref_id(act.get("target"))
                plan.operations.append(Operation("delete", obj, kind, when_raw))
                if target is None:
                    plan.problems.append(Problem(where, "Move activity without a target"))
                elif target not in seen:
                    seen.add(target)
                    plan.operations.append(Operation("upsert", target, kind, when_raw))
            else:
                plan.problems.append(Problem(where, f"unknown activity type {kind!r}", "warning"))
        if stop:
            break
        page_url = _ref_id(page.get("prev"))
        page = None
    return plan
