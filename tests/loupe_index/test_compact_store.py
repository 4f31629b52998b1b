"""The compact store's own promises: recall against exact float32 search, filters that agree
with exact filtered search, no committed point lost when the writer is killed, readers that
keep answering while a writer writes, a fast open, compaction, and adopting an index that
Qdrant local mode wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from loupe_index import IndexPoint, SearchFilters, VectorIndex
from loupe_index.compact_store import MIN_CANDIDATES
from loupe_index.quantized import Scanner, quantize

from .conftest import DIM, VECTOR, make_points

PROJECT = Path(__file__).resolve().parents[2]


def random_points(n: int, dim: int, seed: int = 0) -> list[IndexPoint]:
    """``n`` points with random (structureless: the hardest case for recall) vectors, ten per
    canvas, kinds and sources spread like the benchmark's."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    kinds = ("image", "region") + ("view",) * 8
    return [IndexPoint(vector=vectors[i], canvas=f"https://example.org/canvas/{i // 10}", content_key=f"k{i // 10}",
                       kind=kinds[i % 10], xywh=(i % 10, 0, 50, 50), manifest=f"https://example.org/manifest/{i // 50}",
                       image=f"https://example.org/img/{i // 10}", source_id=1 + (i // 10) % 5,
                       source=f"source-{(i // 10) % 5}", collection=f"https://example.org/coll/{(i // 500) % 4}",
                       year=1400 + (i // 10) % 300) for i in range(n)]


def unit_matrix(points: list[IndexPoint]) -> np.ndarray:
    return np.stack([np.asarray(p.vector) / np.linalg.norm(p.vector) for p in points])


def exact_top(points: list[IndexPoint], matrix: np.ndarray, q: np.ndarray, k: int, keep=lambda p: True) -> list[str]:
    """Ids of the ``k`` best points by exact float32 cosine, among those ``keep`` accepts."""
    scores = matrix @ (q / np.linalg.norm(q))
    order = [i for i in np.argsort(-scores, kind="stable") if keep(points[i])]
    return [points[i].id for i in order[:k]]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """4,000 random points of 128 dimensions in a compact store (shared, read-only)."""
    from loupe_core.settings import Settings

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path_factory.mktemp("big") / "var")
    points = random_points(4_000, 128)
    index = VectorIndex.open(settings, role="test")
    index.ensure_vector(VECTOR, 128)
    index.upsert(points, VECTOR, batch_size=1_000)
    yield index, points, unit_matrix(points)
    index.close()


def test_recall_at_10_against_exact_float32(big):
    index, points, matrix = big
    rng = np.random.default_rng(7)
    found = []
    for q in rng.standard_normal((40, 128)):
        hits = index.search(q, VECTOR, limit=10).hits
        truth = exact_top(points, matrix, q, 10)
        found.append(len({h.id for h in hits} & set(truth)) / 10)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert np.mean(found) >= 0.99


FILTERS = {
    "source": (SearchFilters(source="source-2"), lambda p: p.source == "source-2"),
    "collection": (SearchFilters(collection="https://example.org/coll/1"), lambda p: p.collection.endswith("/1")),
    "kind": (SearchFilters(kind="image"), lambda p: p.kind == "image"),
    "combined": (SearchFilters(source=[1, "source-3"], kind=["image", "region"], year_from=1450),
                 lambda p: p.source_id in (1, 4) and p.kind in ("image", "region") and p.year >= 1450),
    "few": (SearchFilters(manifest=["https://example.org/manifest/3", "https://example.org/manifest/70"]),
            lambda p: p.manifest.endswith(("/3", "/70"))),
}


@pytest.mark.parametrize("case", FILTERS)
def test_filtered_search_agrees_with_exact_filtered_search(big, case):
    index, points, matrix = big
    filters, keep = FILTERS[case]
    matching = sum(map(keep, points))
    rng = np.random.default_rng(8)
    recall = []
    by_id = {p.id: p for p in points}
    for q in rng.standard_normal((15, 128)):
        hits = index.search(q, VECTOR, limit=10, filters=filters).hits
        truth = exact_top(points, matrix, q, 10, keep)
        assert all(keep(by_id[h.id]) for h in hits)
        if matching <= MIN_CANDIDATES:  # every match is rescored: exactly the exact answer
            assert [h.id for h in hits] == truth
        recall.append(len({h.id for h in hits} & set(truth)) / len(truth))
    assert np.mean(recall) >= 0.99
    assert index.count(VECTOR, filters) == matching


def test_the_scan_finds_the_best_codes_with_masks_rows_and_threads():
    rng = np.random.default_rng(3)
    unit = rng.standard_normal((5_000, 64)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    codes, steps = quantize(unit)
    assert np.abs(codes.astype(np.float32) * steps[:, None] - unit).max() <= steps.max() / 2 + 1e-6
    q = unit[17] + 0.01 * rng.standard_normal(64).astype(np.float32)
    q /= np.linalg.norm(q)
    approx = (codes.astype(np.int32) @ quantize(q[None])[0][0].astype(np.int32)) * steps
    mask = np.arange(5_000) % 3 == 0
    scanner = Scanner(2)
    try:
        import loupe_index.quantized as quantized

        for min_part in (32_768, 1_000):  # one part, then split across both threads
            quantized.MIN_PART, saved = min_part, quantized.MIN_PART
            try:
                assert set(scanner.top(codes, steps, q, 20)) == set(np.argsort(-approx)[:20])
                best_masked = np.flatnonzero(mask)[np.argsort(-approx[mask])[:20]]
                assert set(scanner.top(codes, steps, q, 20, mask=mask)) == set(best_masked)
                assert set(scanner.top(codes, steps, q, 20, rows=np.flatnonzero(mask))) == set(best_masked)
            finally:
                quantized.MIN_PART = saved
    finally:
        scanner.close()


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from loupe_core.settings import Settings
    from loupe_index import VectorIndex
    from tests.loupe_index.test_compact_store import random_points
    index = VectorIndex.open(Settings.load(env={}, config_file=None, data_dir=Path(sys.argv[1])), role="writer")
    index.ensure_vector("tiny-test__random", 64)
    points = random_points(100_000, 64, seed=5)
    for start in range(0, len(points), 500):
        index.upsert(points[start:start + 500], "tiny-test__random", batch_size=100)
        print(start + 500, flush=True)  # committed: upsert has returned
""")


@pytest.mark.parametrize("delay", [0.0, 0.13, 0.31])
def test_a_killed_writer_loses_no_committed_point(settings, delay):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(settings.data_dir)], stdout=subprocess.PIPE,
                              text=True, cwd=PROJECT)
    try:
        committed = 0
        while committed < 1_000:  # at least two calls have returned
            line = writer.stdout.readline()
            assert line, "the writer stopped before writing"
            committed = int(line)
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
        committed = max([committed, *(int(line) for line in writer.stdout.read().split())])
    finally:
        if writer.poll() is None:
            writer.kill()
    index = VectorIndex.open(settings, role="test")  # the lock of the killed process is free
    try:
        points = random_points(committed, 64, seed=5)
        assert index.count("tiny-test__random") >= committed
        for p in points[:: max(1, committed // 200)] + points[-5:]:
            v = np.asarray(p.vector) / np.linalg.norm(p.vector)
            assert index.vector_of(p.id, "tiny-test__random") == pytest.approx(v, abs=1e-6)
            hit = index.search(p.vector, "tiny-test__random", limit=1).hits[0]
            assert hit.id == p.id and hit.payload == p.payload("tiny-test__random")
        assert index.indexed_keys("tiny-test__random") >= {p.content_key for p in points}
        more = random_points(committed + 300, 64, seed=5)[-300:]  # the store takes writes again
        index.upsert(more, "tiny-test__random")
        assert index.search(more[-1].vector, "tiny-test__random", limit=1).hits[0].id == more[-1].id
    finally:
        index.close()


def test_a_write_that_fails_before_its_commit_leaves_nothing_behind(index_opener, points, settings, monkeypatch):
    index = index_opener("compact")
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points[:40], VECTOR)
    index.warm()
    real = index.store._slots_of

    def fail(*args):
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(index.store, "_slots_of", fail)  # after the slot files are written, before the commit
    with pytest.raises(RuntimeError):
        index.upsert(points[40:80], VECTOR)
    monkeypatch.setattr(index.store, "_slots_of", real)
    assert index.count() == 40
    assert all(h.id in {p.id for p in points[:40]} for h in index.search(points[50].vector, VECTOR, limit=100).hits)
    index.close()
    for f in (settings.index_dir / "compact").glob("v1.g0.vectors"):
        with open(f, "ab") as out:  # and a torn row at the end, as a kill during a write leaves
            out.write(b"\x01\x02\x03")
    again = index_opener("compact")
    assert again.count() == 40
    again.upsert(points[40:], VECTOR)
    assert again.count() == len(points)
    for p in points[::9]:
        assert again.search(p.vector, VECTOR, limit=1).hits[0].id == p.id


def test_readers_keep_answering_while_a_writer_writes(index_opener):
    index = index_opener("compact")
    index.ensure_vector(VECTOR, DIM)
    first = make_points(n_canvases=50, seed=30)
    index.upsert(first, VECTOR)
    more = [IndexPoint(**{**p.__dict__, "content_key": f"new-{i}-{p.content_key}"})
            for i in range(10) for p in make_points(n_canvases=50, seed=31 + i)]
    done = threading.Event()
    answers = [0, 0, 0]
    errors: list[BaseException] = []

    def read(k: int) -> None:
        try:
            while not done.is_set() or answers[k] < 5:
                p = first[(answers[k] * 7 + k) % len(first)]
                hits = index.search(p.vector, VECTOR, limit=5, filters=SearchFilters(kind=p.kind)).hits
                assert hits[0].id == p.id and hits[0].score == pytest.approx(1.0, abs=1e-5)
                answers[k] += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    readers = [threading.Thread(target=read, args=(k,)) for k in range(3)]
    for r in readers:
        r.start()
    for i in range(0, len(more), 100):
        index.upsert(more[i:i + 100], VECTOR, batch_size=50)
    index.delete_for_images([p.content_key for p in more[:200]])
    done.set()
    for r in readers:
        r.join(30)
    assert not errors, errors[0]
    assert all(a >= 5 for a in answers)
    assert index.count() == len(first) + len(more) - 200


def test_opening_an_existing_store_is_fast(settings):
    with VectorIndex.open(settings) as index:
        index.ensure_vector(VECTOR, 256)
        index.upsert(random_points(20_000, 256, seed=2), VECTOR, batch_size=5_000)
    t = time.perf_counter()
    with VectorIndex.open(settings) as index:
        index.warm()
        hits = index.search(np.ones(256), VECTOR, limit=10).hits
        took = time.perf_counter() - t
    assert len(hits) == 10
    assert took < 1.5, f"open, load and first search of 20,000 points took {took:.2f} s"


def test_compaction_drops_dead_slots_and_keeps_every_answer(settings, points):
    from loupe_index.compact_store import CompactStore

    folder = settings.index_dir / "compact"
    with VectorIndex.open(settings) as index:
        index.store.compact_min_dead = 50
        index.ensure_vector(VECTOR, DIM)
        index.upsert(points, VECTOR)
        q = np.random.default_rng(4).standard_normal(DIM)
        before = [(h.id, h.score) for h in index.search(q, VECTOR, limit=50).hits]
        index.upsert(make_points(seed=1), VECTOR)  # every point replaced: 120 dead slots
        assert not (folder / "v1.g0.vectors").exists() and (folder / "v1.g1.vectors").exists()
        assert (folder / "v1.g1.vectors").stat().st_size == len(points) * DIM * 4
        index.upsert(points, VECTOR)  # and back
        after = index.search(q, VECTOR, limit=50).hits
        assert [h.id for h in after] == [b[0] for b in before]
        assert [h.score for h in after] == pytest.approx([b[1] for b in before], abs=1e-6)
    store = CompactStore(folder, settings)
    try:
        assert store.count(VECTOR) == len(points)
        assert sorted(f.name.split(".")[1] for f in folder.glob("v1.*")) == ["g2"] * 3
    finally:
        store.close()


def test_an_index_of_qdrant_local_mode_is_adopted_once(settings, points):
    old = settings.replace(local_index="qdrant")
    with VectorIndex.open(old) as index:
        index.ensure_vector(VECTOR, DIM)
        index.ensure_vector("second__model", 8)
        index.upsert(points, VECTOR)
        index.upsert(make_points(n_canvases=3, dim=8), "second__model")
        index.set_active("second__model")
        q = np.random.default_rng(1).standard_normal(DIM)
        expected = [(h.id, h.payload) for h in index.search(q, VECTOR, limit=30).hits]
    with VectorIndex.open(settings) as index:
        assert index.store.kind == "compact"
        assert index.active_vector() == "second__model"
        assert index.count(VECTOR) == len(points) and index.count("second__model") == 12
        assert [(h.id, h.payload) for h in index.search(q, VECTOR, limit=30).hits] == expected
        index.delete_for_images(["key-0"])
    with VectorIndex.open(settings) as index:  # adopted once: deletions since then stay
        assert index.count(VECTOR) == len(points) - 4
        index.store.put_meta("adopted_qdrant_local", "started")  # as if killed while copying
    with VectorIndex.open(settings) as index:
        assert index.count(VECTOR) == len(points)


def test_points_move_between_the_compact_store_and_qdrant_without_re_encoding(settings, points, tmp_path):
    compact = VectorIndex.open(settings)
    try:
        compact.ensure_vector(VECTOR, DIM)
        compact.upsert(points, VECTOR)
        manifest = compact.export(tmp_path / "from-compact.tar.gz")
    finally:
        compact.close()
    assert manifest["vectors"] == {VECTOR: {"dim": DIM, "points": len(points), "file": f"points/{VECTOR}.jsonl"}}
    with VectorIndex.open(settings.replace(local_index="qdrant", data_dir=tmp_path / "q")) as qdrant:
        assert qdrant.import_export(tmp_path / "from-compact.tar.gz") == {VECTOR: len(points)}
        qdrant.export(tmp_path / "from-qdrant.tar.gz")
        there = {pid: (v, p) for pid, v, p in qdrant.points(VECTOR)}
    with VectorIndex.open(settings.replace(data_dir=tmp_path / "c")) as back:
        back.import_export(tmp_path / "from-qdrant.tar.gz")
        here = {pid: (v, p) for pid, v, p in back.points(VECTOR)}
    assert here.keys() == there.keys() == {p.id for p in points}
    for pid in here:
        assert here[pid][1] == there[pid][1]
        assert np.allclose(here[pid][0], there[pid][0], atol=1e-6)


def test_searches_during_compactions_see_the_right_payloads(settings):
    """A compaction renumbers slots; a search overlapping it never pairs a point with another's payload."""
    points = random_points(3_000, 32, seed=9)
    with VectorIndex.open(settings) as index:
        index.store.compact_min_dead = 500
        index.ensure_vector(VECTOR, 32)
        index.upsert(points, VECTOR, batch_size=1_000)
        index.warm()
        done = threading.Event()
        checked = [0]
        errors: list[BaseException] = []

        def read() -> None:
            try:
                while not done.is_set():
                    p = points[(checked[0] * 37) % len(points)]
                    hit = index.search(p.vector, VECTOR, limit=3).hits[0]
                    assert (hit.id, hit.payload) == (p.id, p.payload(VECTOR))
                    v = index.vector_of(p.id, VECTOR)
                    assert v is not None and float(v @ np.asarray(p.vector)) > 0
                    checked[0] += 1
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        generations = []
        for _ in range(4):  # each round replaces every point: their old slots die, compaction follows
            index.upsert(points, VECTOR, batch_size=1_000)
            generations.append(index.store._vectors[VECTOR].generation)
        done.set()
        reader.join(30)
    assert not errors, errors[0]
    assert checked[0] > 0 and generations[-1] >= 4
