"""The Change Discovery planner: the spec's walk-back algorithm, on in-memory streams."""

from __future__ import annotations

import json

import pytest

from connector.change_discovery import plan_stream

BASE = "https://example.org/activity"


def stream(pages: list[list[dict]]) -> dict[str, dict]:
    """An OrderedCollection with the given pages (oldest first), as url -> document."""
    docs = {f"{BASE}/all": {"type": "OrderedCollection", "id": f"{BASE}/all",
                            "first": {"id": f"{BASE}/p0"}, "last": {"id": f"{BASE}/p{len(pages) - 1}"}}}
    for i, items in enumerate(pages):
        page = {"type": "OrderedCollectionPage", "id": f"{BASE}/p{i}", "orderedItems": items}
        if i > 0:
            page["prev"] = {"id": f"{BASE}/p{i - 1}"}
        if i < len(pages) - 1:
            page["next"] = {"id": f"{BASE}/p{i + 1}"}
        docs[f"{BASE}/p{i}"] = page
    return docs


def act(kind: str, obj: str, when: str, **extra) -> dict:
    return {"type": kind, "object": {"id": obj, "type": "Manifest"}, "endTime": when, **extra}


def fetcher(docs: dict[str, dict], log: list[str] | None = None):
    def fetch(url: str):
        if log is not None:
            log.append(url)
        if url not in docs:
            raise LookupError(f"404 {url}")
        return json.loads(json.dumps(docs[url]))
    return fetch


def test_first_crawl_takes_newest_activity_per_object_across_pages():
    docs = stream([
        [act("Create", "m1", "2024-01-01T00:00:00Z"), act("Create", "m2", "2024-01-02T00:00:00Z")],
        [act("Update", "m1", "2024-02-01T00:00:00Z"), act("Delete", "m2", "2024-02-02T00:00:00Z")],
    ])
    plan = plan_stream(f"{BASE}/all", fetcher(docs), None)
    assert [(o.action, o.uri, o.activity) for o in plan.operations] == [
        ("delete", "m2", "Delete"), ("upsert", "m1", "Update")]
    assert plan.newest_time.startswith("2024-02-02")
    assert plan.complete and not plan.problems


def test_incremental_crawl_stops_at_last_crawl_and_reads_only_needed_pages():
    docs = stream([
        [act("Create", "m1", "2024-01-01T00:00:00Z")],
        [act("Create", "m2", "2024-01-05T00:00:00Z")],
        [act("Update", "m3", "2024-03-01T00:00:00Z")],
    ])
    log: list[str] = []
    plan = plan_stream(f"{BASE}/all", fetcher(docs, log), "2024-02-01T00:00:00+00:00")
    assert [(o.action, o.uri) for o in plan.operations] == [("upsert", "m3")]
    # stops on page 1 (an activity older than the last crawl); page 0 is never fetched
    assert f"{BASE}/p0" not in log
    assert plan.newest_time.startswith("2024-03-01")


def test_move_deletes_the_old_uri_and_fetches_the_target():
    docs = stream([[act("Create", "old", "2024-01-01T00:00:00Z"),
                    act("Move", "old", "2024-01-02T00:00:00Z", target={"id": "new", "type": "Manifest"})]])
    plan = plan_stream(f"{BASE}/all", fetcher(docs), None)
    assert [(o.action, o.uri) for o in plan.operations] == [("delete", "old"), ("upsert", "new")]


def test_refresh_ends_the_walk_and_marks_the_plan_refreshed():
    docs = stream([
        [act("Create", "ancient", "2023-01-01T00:00:00Z")],
        [{"type": "Refresh", "endTime": "2024-01-01T00:00:00Z"}, act("Create", "m1", "2024-01-02T00:00:00Z")],
    ])
    plan = plan_stream(f"{BASE}/all", fetcher(docs), None)
    assert plan.refreshed
    assert [o.uri for o in plan.operations] == ["m1"]


def test_unreadable_page_is_reported_and_plan_marked_incomplete():
    docs = stream([[act("Create", "m1", "2024-01-01T00:00:00Z")], [act("Create", "m2", "2024-01-02T00:00:00Z")]])
    del docs[f"{BASE}/p0"]
    plan = plan_stream(f"{BASE}/all", fetcher(docs), None)
    assert [o.uri for o in plan.operations] == ["m2"]
    assert not plan.complete
    assert any("p0" in p.where and "cannot read" in p.what for p in plan.problems)


@pytest.mark.parametrize("bad", [[], "text", {"type": "OrderedCollection"}])
def test_broken_stream_documents_are_problems_not_exceptions(bad):
    plan = plan_stream("u", lambda url: bad, None)
    assert not plan.complete and plan.problems and not plan.operations


def test_non_manifest_objects_and_unknown_types_are_warned(shared_data):
    # The spec's own example pages read without crashing.
    folder = shared_data / "iiif" / "IIIF-api" / "source" / "discovery" / "1.0" / "extracted"
    page = json.loads((folder / "example-07.json").read_text())
    plan = plan_stream(page["id"], lambda url: page if url == page["id"] else (_ for _ in ()).throw(LookupError(url)), None)
    assert [o.uri for o in plan.operations] == ["https://example.org/iiif/2/manifest", "https://example.org/iiif/9/manifest"]
    docs = stream([[{"type": "Create", "object": {"id": "c1", "type": "Collection"}, "endTime": "2024-01-01T00:00:00Z"},
                    {"type": "Frobnicate", "object": {"id": "m9", "type": "Manifest"}, "endTime": "2024-01-02T00:00:00Z"}]])
    plan = plan_stream(f"{BASE}/all", fetcher(docs), None)
    assert not plan.operations
    whats = " ".join(p.what for p in plan.problems)
    assert "Collection is not harvested" in whats and "unknown activity type 'Frobnicate'" in whats
