"""Fixtures for the vector index: a real Qdrant local storage under the test's data dir and
a small synthetic collection of points with random unit vectors."""

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
def open_index(settings) -> Iterator:
    """``open_index(**setting_changes, exact_search=...)`` -> an open local index, closed after."""
    opened: list[VectorIndex] = []

    def open_(exact_search: bool | None = None, role: str = "test", **changes) -> VectorIndex:
        index = VectorIndex.open(settings.replace(**changes) if changes else settings, role=role,
                                 exact_search=exact_search)
        opened.append(index)
        return index

    yield open_
    for index in opened:
        index.close()


@pytest.fixture(params=[True, False], ids=["exact-mirror", "qdrant-local"])
def filled(request, open_index, points) -> VectorIndex:
    """An index holding ``points``, searched through the exact mirror or through Qdrant."""
    index = open_index(exact_search=request.param)
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    return index
