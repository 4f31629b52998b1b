"""The index's life: writing, model vectors side by side, incremental keys, deleting,
persistence across restarts, the local-mode size warning, concurrent search and writes."""

from __future__ import annotations

import logging
import sqlite3
import threading

import numpy as np
import pytest

from loupe_index import IndexPoint, VectorIndexError, point_id
from loupe_models.identity import vector_name

from .conftest import DIM, VECTOR, make_points


def test_upsert_twice_keeps_one_point_per_id(open_index, points):
    index = open_index()
    assert index.ensure_vector(VECTOR, DIM) is True
    assert index.ensure_vector(VECTOR, DIM) is False
    first = index.upsert(points, VECTOR)
    again = index.upsert(make_points(seed=1), VECTOR)  # same ids, new vectors
    assert first.written == again.written == len(points)
    assert first.total == again.total == index.count() == index.count(VECTOR) == len(points)
    assert not first.too_big_for_local
    # the second write replaced the vectors
    newer = make_points(seed=1)[5]
    assert index.search(newer.vector, VECTOR, limit=1).hits[0].id == newer.id


def test_point_ids_are_deterministic_and_distinguish_what_matters():
    a = point_id("c", "k", "region", (1, 2, 3, 4))
    assert a == point_id("c", "k", "region", [1.2, 2, 3, 4.4])  # canvas units rounded
    assert len({a, point_id("c", "k2", "region", (1, 2, 3, 4)), point_id("c", "k", "view", (1, 2, 3, 4)),
                point_id("c", "k", "region", (1, 2, 3, 5)), point_id("c2", "k", "region", (1, 2, 3, 4))}) == 5
    with pytest.raises(ValueError, match="kind"):
        point_id("c", "k", "thing", None)


def test_vector_names_are_derived_from_model_and_weights():
    assert vector_name("MobileCLIP2-S0", "dfndr2b") == "mobileclip2-s0__dfndr2b"
    assert vector_name("ViT-B-32", "laion2b_s34b_b79k") == "vit-b-32__laion2b_s34b_b79k"
    assert vector_name("ViT-B-32", "/models/ft/Epoch 10.pt", version="job 42") == "vit-b-32__epoch-10__job-42"
    assert len(vector_name("x" * 200, "y")) <= 120


def test_a_second_model_is_indexed_beside_the_first_and_switched_to(open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    assert index.active_vector() == VECTOR  # the first vector becomes active
    new = vector_name("ViT-B-32", "/ckpt/epoch_3.pt", version="ft1")
    assert index.ensure_vector(new, 8)
    small = make_points(n_canvases=5, dim=8, seed=7)
    index.upsert(small, new)
    assert index.active_vector() == VECTOR  # indexing a new model does not switch to it
    assert index.vector_names() == sorted([VECTOR, new])
    assert index.count() == len(points)
    index.set_active(new)
    assert index.active_vector() == new and index.count() == len(small)
    assert index.search(small[2].vector, limit=1).hits[0].id == small[2].id  # the default is now the new vector
    assert index.search(points[2].vector, VECTOR, limit=1).hits[0].id == points[2].id  # the old one is intact
    with pytest.raises(VectorIndexError, match="16-dimensional"):
        index.ensure_vector(VECTOR, 32)
    with pytest.raises(VectorIndexError, match="active vector"):
        index.drop_vector(new)
    index.drop_vector(VECTOR)
    assert index.vector_names() == [new]


def test_indexed_keys_counts_images_whose_image_point_is_in(open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    assert index.indexed_keys(VECTOR) == set()
    # an image whose regions and views were written but not its image point is not indexed yet
    partial = [p for p in points if p.content_key == "key-0" and p.kind != "image"]
    index.upsert(partial, VECTOR)
    assert index.indexed_keys(VECTOR) == set()
    index.upsert(points, VECTOR)
    assert index.indexed_keys(VECTOR) == {p.content_key for p in points}


def test_delete_by_image_and_by_manifest_in_every_vector(open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    index.ensure_vector("other__model", 8)
    index.upsert(make_points(dim=8, seed=3), "other__model")
    q = points[4].vector  # key-1
    assert index.search(q, VECTOR, limit=1).hits[0].id == points[4].id  # loads the mirror before deleting
    assert index.delete_for_images(["key-1", "key-2", "no-such-key"]) == 2 * 4 * 2
    assert index.count(VECTOR) == len(points) - 8 and index.count("other__model") == len(points) - 8
    assert all(h.payload["content_key"] not in ("key-1", "key-2") for h in index.search(q, VECTOR, limit=500).hits)
    assert "key-1" not in index.indexed_keys(VECTOR)
    assert index.delete_for_manifest("https://example.org/manifest/0") == 4 * 2  # key-0 is left of manifest 0
    assert index.delete_for_manifest("https://example.org/manifest/0") == 0
    assert all(h.manifest != "https://example.org/manifest/0" for h in index.search(q, VECTOR, limit=500).hits)
    assert index.vector_of(points[4].id, VECTOR) is None


def test_vector_of_returns_the_stored_unit_vector(open_index, points):
    index = open_index(exact_search=False)
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    v = np.asarray(points[9].vector)
    assert index.vector_of(points[9].id) == pytest.approx(v / np.linalg.norm(v), abs=1e-6)
    assert index.vector_of("00000000-0000-0000-0000-000000000000") is None


def test_the_index_survives_a_restart(settings, open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.ensure_vector("second__model", 8)
    index.upsert(points, VECTOR)
    index.set_active("second__model")
    q = np.random.default_rng(11).standard_normal(DIM)
    before = [(h.id, h.payload) for h in index.search(q, VECTOR, limit=20).hits]
    index.close()
    with pytest.raises(VectorIndexError, match="closed"):
        index.count()
    again = open_index()
    assert again.vector_names() == ["second__model", VECTOR]
    assert again.active_vector() == "second__model"
    assert again.count(VECTOR) == len(points)
    assert [(h.id, h.payload) for h in again.search(q, VECTOR, limit=20).hits] == before


def test_local_mode_warns_when_it_is_outgrown(open_index, points, caplog):
    index = open_index(local_points_warning=100)
    index.ensure_vector(VECTOR, DIM)
    with caplog.at_level(logging.WARNING, logger="loupe_index.vector_index"):
        result = index.upsert(points, VECTOR)
        index.upsert(points[:3], VECTOR)
    assert result.too_big_for_local and result.total == 120
    assert "LOUPE_QDRANT_URL" in result.message and "120" in result.message
    assert len([r for r in caplog.records if "LOUPE_QDRANT_URL" in r.getMessage()]) == 1  # said once, not per batch
    assert index.status()["warnings"] == [result.message]


def test_search_keeps_working_while_indexing(open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    more = make_points(n_canvases=60, seed=21)
    more = [IndexPoint(**{**p.__dict__, "content_key": "new-" + p.content_key}) for p in more]
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(0, len(more), 20):
                index.upsert(more[i:i + 20], VECTOR, batch_size=10)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    searches = 0
    while writer.is_alive() or searches < 5:
        hits = index.search(points[0].vector, VECTOR, limit=5).hits
        assert hits[0].id == points[0].id
        searches += 1
    writer.join()
    assert not errors
    assert index.count() == len(points) + len(more)


def test_status_describes_the_index(open_index, points, local_index):
    index = open_index()
    assert index.status()["active"] is None and index.count() == 0
    with pytest.raises(VectorIndexError, match="loupe index"):
        index.search(np.ones(DIM))
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points[:10], VECTOR)
    status = index.status()
    assert status["mode"] == "local" and status["location"].endswith(local_index)
    assert status["store"] == {"compact": "compact", "qdrant": "qdrant-local"}[local_index]
    assert status["vectors"] == {VECTOR: {"dim": DIM, "points": 10}} and status["active"] == VECTOR


def test_local_storage_commits_in_wal_mode(open_index, settings):
    """Qdrant local commits every point separately; WAL makes that affordable (see
    local_storage). The compact store's readers rely on WAL not to wait for the writer."""
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    files = list(settings.index_dir.rglob("*.sqlite"))
    assert len(files) == 1
    with sqlite3.connect(files[0]) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_search_does_not_wait_for_a_write_in_progress(open_index, points):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    index.warm()
    writing, done = threading.Event(), threading.Event()

    def slow_write() -> None:  # holds the storage as a long upsert batch would
        with index.store.write_lock:
            writing.set()
            done.wait(10)

    writer = threading.Thread(target=slow_write)
    writer.start()
    writing.wait(5)
    try:
        found = []
        searcher = threading.Thread(target=lambda: found.append(index.search(points[0].vector, limit=3)))
        searcher.start()
        searcher.join(2)
        assert found and found[0].hits[0].id == points[0].id
    finally:
        done.set()
        writer.join()
