"""Readers of a local index beside its owner (API processes under gunicorn beside `loupe worker
--index-owner`): they open no lock, answer as the owner does, follow its commits and
compactions, and refuse writes. A reader in another process is tested by
tests/test_services_stack.py."""

from __future__ import annotations

import time

import numpy as np
import pytest

from loupe_index import IndexPoint, VectorIndex, VectorIndexError
from loupe_index.filters import SearchFilters

from .conftest import DIM, VECTOR, make_points


def wait_for(check, timeout_s: float = 30.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, "the reader did not follow the owner"
        time.sleep(0.05)
    return result


def ids(page) -> list[str]:  # noqa: ANN001
    return [hit.id for hit in page.hits]


def test_readers_follow_the_owner_and_refuse_writes(settings):
    reading = settings.replace(local_index_access="reader", index_refresh_s=0.05)
    with pytest.raises(VectorIndexError, match="no index at .* yet"):
        VectorIndex.open(reading)
    owner = VectorIndex.open(settings, role="test owner")
    points = make_points()
    owner.ensure_vector(VECTOR, DIM)
    owner.upsert(points[:60], VECTOR)
    owner.set_active(VECTOR)
    first, second = VectorIndex.open(reading), VectorIndex.open(reading)  # no lock: as many as there are workers
    try:
        query = points[0].vector
        assert first.active_vector() == VECTOR and first.count(VECTOR) == 60
        assert ids(first.search(query, VECTOR, limit=10)) == ids(owner.search(query, VECTOR, limit=10))

        owner.upsert(points[60:], VECTOR)
        wait_for(lambda: second.count(VECTOR) == len(points))
        assert ids(second.search(query, VECTOR, limit=10)) == ids(owner.search(query, VECTOR, limit=10))
        rijks = SearchFilters(source=("rijks",))
        assert ids(second.search(query, VECTOR, limit=5, filters=rijks)) == ids(
            owner.search(query, VECTOR, limit=5, filters=rijks))

        owner.delete_for_images(["key-0"])
        wait_for(lambda: first.count(VECTOR) == len(points) - 4)
        assert "key-0" not in [h.payload.get("content_key") for h in first.search(query, VECTOR, limit=10).hits]
        owner.store.compact(VECTOR)  # a new generation of files; the old ones are removed
        wait_for(lambda: first.store.refresh(force=True))
        assert ids(first.search(query, VECTOR, limit=10)) == ids(owner.search(query, VECTOR, limit=10))

        for write in (lambda: first.upsert(points[:1], VECTOR), lambda: first.ensure_vector("tiny-test__new", 4),
                      lambda: first.delete_for_images(["key-1"])):
            with pytest.raises(VectorIndexError, match="open for reading only"):
                write()
        assert owner.count(VECTOR) == len(points) - 4
    finally:
        first.close()
        second.close()
        owner.close()


def test_a_new_vector_of_the_owner_appears(settings):
    owner = VectorIndex.open(settings, role="test owner")
    reader = None
    try:
        owner.ensure_vector(VECTOR, DIM)
        owner.upsert(make_points(5), VECTOR)
        reader = VectorIndex.open(settings.replace(local_index_access="reader", index_refresh_s=0.05))
        owner.ensure_vector("tiny-test__empty", 4)  # a vector with no points yet loads too
        wait_for(lambda: "tiny-test__empty" in reader.vector_names())
        assert reader.count("tiny-test__empty") == 0
        other = [IndexPoint(**{**p.__dict__, "vector": np.ones(8, dtype=np.float32)}) for p in make_points(2)]
        owner.ensure_vector("tiny-test__other", 8)
        owner.upsert(other, "tiny-test__other")
        # The vector is committed before its points: wait for both.
        wait_for(lambda: "tiny-test__other" in reader.vector_names() and reader.count("tiny-test__other") == len(other))
    finally:
        if reader is not None:
            reader.close()
        owner.close()
