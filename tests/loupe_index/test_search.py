"""Searching: nearest neighbours, filters, pagination, one result per canvas — each through
the compact store, Qdrant local mode's exact in-memory mirror and Qdrant local's own search,
which must agree."""

from __future__ import annotations

import numpy as np
import pytest

from loupe_index import CursorError, FilterError, IndexPoint, QueryError, SearchFilters, UnknownVectorError
from loupe_index.vector_index import VectorIndex

from .conftest import BY, CC0, DIM, VECTOR


def all_ids(index: VectorIndex, q, **kw) -> list[str]:
    return [h.id for h in index.search(q, VECTOR, limit=500, **kw).hits]


def test_exact_duplicate_is_found_first(filled, points):
    for p in points[::7]:
        hit = filled.search(p.vector, VECTOR, limit=3).hits[0]
        assert hit.id == p.id
        assert hit.score == pytest.approx(1.0, abs=1e-5)
        assert hit.canvas == p.canvas and hit.manifest == p.manifest and hit.kind == p.kind
        assert hit.xywh == list(p.xywh)
        assert hit.payload["vector"] == VECTOR and hit.payload["labels"] == list(p.labels)


def test_scores_are_sorted_cosines(filled, points):
    q = np.random.default_rng(5).standard_normal(DIM)
    hits = filled.search(q, limit=50).hits  # the active vector by default
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    by_id = {p.id: p for p in points}
    for h in hits[:5]:
        v = np.asarray(by_id[h.id].vector)
        assert h.score == pytest.approx(float(v @ q / np.linalg.norm(v) / np.linalg.norm(q)), abs=1e-5)


FILTER_CASES = {
    "source by name": (SearchFilters(source="rijks"), lambda p: p.source == "rijks"),
    "source by id": (SearchFilters(source=[2]), lambda p: p.source_id == 2),
    "source by id as text, or name": (SearchFilters(source=["2", "rijks"]), lambda p: True),
    "collection": (SearchFilters(collection="https://example.org/coll/b"),
                   lambda p: p.collection == "https://example.org/coll/b"),
    "manifest": (SearchFilters(manifest=["https://example.org/manifest/1", "https://example.org/manifest/4"]),
                 lambda p: p.manifest in ("https://example.org/manifest/1", "https://example.org/manifest/4")),
    "canvas": (SearchFilters(canvas="https://example.org/canvas/7"), lambda p: p.canvas.endswith("/7")),
    "kind list": (SearchFilters(kind=["image", "region"]), lambda p: p.kind in ("image", "region")),
    "rights": (SearchFilters(rights=BY), lambda p: p.rights == BY),
    "year range": (SearchFilters(year_from=1550, year_to=1620), lambda p: p.year is not None and 1550 <= p.year <= 1620),
    "year from only": (SearchFilters(year_from=1700), lambda p: p.year is not None and p.year >= 1700),
    "combined": (SearchFilters(source="getty", kind="view", rights=CC0, year_to=1650),
                 lambda p: p.source == "getty" and p.kind == "view" and p.rights == CC0
                 and p.year is not None and p.year <= 1650),
    "unknown value": (SearchFilters(manifest="https://example.org/none"), lambda p: False),
}


@pytest.mark.parametrize("case", FILTER_CASES, ids=list(FILTER_CASES))
def test_each_filter_returns_exactly_the_matching_points(filled, points, case):
    filters, predicate = FILTER_CASES[case]
    q = np.random.default_rng(1).standard_normal(DIM)
    expected = {p.id for p in points if predicate(p)}
    assert set(all_ids(filled, q, filters=filters)) == expected


def test_bad_filters_are_refused_with_a_reason():
    with pytest.raises(FilterError, match="kind"):
        SearchFilters(kind="painting")
    with pytest.raises(FilterError, match="after"):
        SearchFilters(year_from=1900, year_to=1800)
    with pytest.raises(FilterError, match="whole year"):
        SearchFilters(year_from="about 1500")
    with pytest.raises(FilterError, match="usable"):
        SearchFilters(manifest=[""])


@pytest.mark.parametrize("one_per_canvas", [False, True], ids=["all", "one-per-canvas"])
@pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "filtered"])
def test_pages_are_disjoint_and_together_equal_the_unpaged_result(filled, one_per_canvas, filtered):
    q = np.random.default_rng(2).standard_normal(DIM)
    filters = SearchFilters(kind=["image", "view"]) if filtered else None
    unpaged = all_ids(filled, q, filters=filters, one_per_canvas=one_per_canvas)
    paged, cursor, pages = [], None, 0
    while True:
        page = filled.search(q, VECTOR, limit=7, filters=filters, cursor=cursor, one_per_canvas=one_per_canvas)
        assert len(page.hits) <= 7
        paged += [h.id for h in page.hits]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == unpaged and len(set(paged)) == len(paged)
    assert pages == -(-len(unpaged) // 7)


def test_one_per_canvas_gives_each_canvas_once_with_its_best_point(filled, points):
    q = np.random.default_rng(3).standard_normal(DIM)
    hits = filled.search(q, VECTOR, limit=500, one_per_canvas=True).hits
    canvases = [h.canvas for h in hits]
    assert len(canvases) == len(set(canvases)) == len({p.canvas for p in points})
    everything = filled.search(q, VECTOR, limit=500).hits
    best = {}
    for h in everything:
        best.setdefault(h.canvas, h.id)
    assert {h.canvas: h.id for h in hits} == best


def test_a_cursor_of_another_query_is_refused(filled):
    q = np.random.default_rng(4).standard_normal(DIM)
    cursor = filled.search(q, VECTOR, limit=5).next_cursor
    assert cursor
    assert filled.search(q * 3.0, VECTOR, limit=5, cursor=cursor).hits  # same direction: same query
    with pytest.raises(CursorError, match="different query"):
        filled.search(q, VECTOR, limit=5, cursor=cursor, filters=SearchFilters(kind="image"))
    with pytest.raises(CursorError, match="different query"):
        filled.search(q, VECTOR, limit=5, cursor=cursor, one_per_canvas=True)
    with pytest.raises(CursorError, match="different query"):
        filled.search(-q, VECTOR, limit=5, cursor=cursor)
    with pytest.raises(CursorError, match="not one this service gave out"):
        filled.search(q, VECTOR, limit=5, cursor="not-a-cursor")


def test_bad_queries_are_refused_with_a_reason(filled):
    with pytest.raises(QueryError, match="dimensions"):
        filled.search(np.ones(DIM + 1), VECTOR)
    with pytest.raises(QueryError, match="zeros"):
        filled.search(np.zeros(DIM), VECTOR)
    with pytest.raises(QueryError, match="limit"):
        filled.search(np.ones(DIM), VECTOR, limit=0)
    with pytest.raises(UnknownVectorError, match="holds no vector 'other__model'.*tiny-test__random"):
        filled.search(np.ones(DIM), "other__model")


def test_the_mirror_and_qdrant_agree(index_opener, points):
    """Same ids, order and scores from both search paths, over random queries and filters."""
    index = index_opener("qdrant", exact_search=True)
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    index.delete_for_images(["key-3"])  # exercise deleted rows in the mirror
    rng = np.random.default_rng(9)
    cases = [None, SearchFilters(source=["getty", 1], kind="region"), SearchFilters(year_from=1600),
             SearchFilters(collection="https://example.org/coll/a", rights=CC0)]
    for filters in cases:
        for one in (False, True):
            for _ in range(3):
                q = rng.standard_normal(DIM)
                kw = dict(limit=9, filters=filters, one_per_canvas=one)
                index.exact_search = True
                a = index.search(q, VECTOR, **kw)
                a2 = index.search(q, VECTOR, cursor=a.next_cursor, **kw) if a.next_cursor else None
                index.exact_search = False
                b = index.search(q, VECTOR, **kw)
                b2 = index.search(q, VECTOR, cursor=b.next_cursor, **kw) if b.next_cursor else None
                assert [h.id for h in a.hits] == [h.id for h in b.hits]
                assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits], abs=1e-5)
                assert [h.payload for h in a.hits] == [h.payload for h in b.hits]
                assert (a2 and [h.id for h in a2.hits]) == (b2 and [h.id for h in b2.hits])


def test_one_per_canvas_looks_past_a_canvas_that_fills_the_top(index_opener):
    """500 near-duplicates on one canvas crowd the best scores; the other canvases still come."""
    rng = np.random.default_rng(12)
    q = rng.standard_normal(DIM)
    crowd = [IndexPoint(vector=q + 0.05 * rng.standard_normal(DIM), canvas="https://example.org/canvas/crowd",
                        content_key="crowd", kind="view", xywh=(i, 0, 10, 10), manifest="m", image="i")
             for i in range(500)]
    others = [IndexPoint(vector=rng.standard_normal(DIM), canvas=f"https://example.org/canvas/{c}",
                         content_key=f"k{c}", kind="image", xywh=None, manifest="m", image="i") for c in range(20)]
    index = index_opener("qdrant", exact_search=True)
    compact = index_opener("compact", data_dir=index.settings.data_dir.parent / "compact")
    pages = []
    for ix in (index, compact):
        ix.ensure_vector(VECTOR, DIM)
        ix.upsert(crowd + others, VECTOR)
    for ix, exact in ((index, True), (index, False), (compact, None)):
        if exact is not None:
            ix.exact_search = exact
        first = ix.search(q, VECTOR, limit=6, one_per_canvas=True)
        second = ix.search(q, VECTOR, limit=6, one_per_canvas=True, cursor=first.next_cursor)
        pages.append([h.canvas for h in first.hits + second.hits])
    assert pages[0] == pages[1] == pages[2]
    assert pages[0][0] == "https://example.org/canvas/crowd" and len(set(pages[0])) == 12


def test_hits_are_copies_and_warm_loads_the_mirror(open_index, points):
    index = open_index(exact_search=True)
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    index.warm()
    hit = index.search(points[0].vector, VECTOR, limit=1).hits[0]
    hit.payload["labels"].append("changed")
    hit.payload["kind"] = "changed"
    again = index.search(points[0].vector, VECTOR, limit=1).hits[0]
    assert again.payload["labels"] == list(points[0].labels) and again.kind == "image"
