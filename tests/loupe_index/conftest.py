"""Fixtures for the vector index: real local stores under the test's data dir (the compact
store, Qdrant local storage) and a small synthetic collection of points with random unit
vectors."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

from loupe_index import IndexPoint, VectorIndex

DIM = 16
VECTOR = "tiny-test__random"
CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"
BY = "http://creativecommons.org/licenses/by/4.0/"


def make_points(n_canvases: int = 30, per_canvas: int = 4, seed: int = 0, dim: int = DIM) -> list[IndexPoint]:
    """``per_canvas`` points per canvas (an image, a region, views); three canvases per
    manifest; two sources; two collections; two rights; years 1500, 1510, ... (every fifth
    canvas without a date)."""
    rng = np.random.default_rng(seed)
    points = []
    for c in range(n_canvases):
        year = 1500 + 10 * c if c % 5 else None
        for j in range(per_canvas):
            kind = "image" if j == 0 else "region" if j == 1 else "view"
            points.append(IndexPoint(
                vector=rng.standard_normal(dim).astype(np.float32),
                canvas=f"https://example.org/canvas/{c}", content_key=f"key-{c}", kind=kind,
                xywh=(0, 0, 1000, 800) if j == 0 else (10 * j, 20 * j, 300, 200),
                manifest=f"https://example.org/manifest/{c // 3}", image=f"https://example.org/img/{c}.jpg",
                source_id=1 + c % 2, source=("rijks", "getty")[c % 2],
                collection=("https://example.org/coll/a", "https://example.org/coll/b")[(c // 3) % 2],
                labels=(f"work {c}",), rights=(CC0, BY)[c % 2],
                date=f"{year}-01-01T00:00:00Z" if year else None, year=year,
                view="crop-centre" if kind == "view" else None))
    return points


@pytest.fixture
def points() -> list[IndexPoint]:
    return make_points()


@pytest.fixture
def index_opener(settings) -> Iterator:
    """``index_opener(local_index, exact_search=..., **setting_changes)`` -> an open local
    index in that store, closed after the test."""
    opened: list[VectorIndex] = []

    def open_(local_index: str, exact_search: bool | None = None, role: str = "test", **changes) -> VectorIndex:
        index = VectorIndex.open(settings.replace(local_index=local_index, **changes), role=role,
                                 exact_search=exact_search)
        opened.append(index)
        return index

    yield open_
    for index in opened:
        index.close()


@pytest.fixture(params=["compact", "qdrant"])
def local_index(request) -> str:
    """Each local store in turn: the compact store, and Qdrant local mode on disk."""
    return request.param


@pytest.fixture
def open_index(index_opener, local_index) -> Iterator:
    """``open_index(**setting_changes, exact_search=...)`` -> an open local index of the
    store under test, closed after."""

    def open_(exact_search: bool | None = None, role: str = "test", **changes) -> VectorIndex:
        return index_opener(changes.pop("local_index", local_index), exact_search=exact_search, role=role, **changes)

    return open_


SEARCH_PATHS = {"compact": ("compact", None), "exact-mirror": ("qdrant", True), "qdrant-local": ("qdrant", False)}


@pytest.fixture(params=list(SEARCH_PATHS))
def filled(request, index_opener, points) -> VectorIndex:
    """An index holding ``points``, searched through the compact store, Qdrant local mode's
    exact mirror, or Qdrant local mode's own search."""
    store, exact = SEARCH_PATHS[request.param]
    index = index_opener(store, exact_search=exact)
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    return index
