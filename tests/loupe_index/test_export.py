"""Export and import: the local mode's backup, and its way to a server."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest

from loupe_index import VectorIndexError

from .conftest import DIM, VECTOR, make_points


def test_export_then_import_restores_everything(settings, open_index, points, tmp_path):
    index = open_index()
    index.ensure_vector(VECTOR, DIM)
    index.upsert(points, VECTOR)
    index.ensure_vector("second__model", 8)
    second = make_points(n_canvases=4, dim=8, seed=5)
    index.upsert(second, "second__model")
    index.set_active("second__model")
    archive = tmp_path / "backup" / "index.tar.gz"
    manifest = index.export(archive)
    assert manifest["active"] == "second__model"
    assert manifest["vectors"] == {VECTOR: {"dim": DIM, "points": len(points), "file": f"points/{VECTOR}.jsonl"},
                                   "second__model": {"dim": 8, "points": len(second), "file": "points/second__model.jsonl"}}
    assert [p.name for p in archive.parent.iterdir()] == ["index.tar.gz"]  # no partial files left

    def everything(ix, name):
        return {pid: (payload, vector) for pid, vector, payload in ix.points(name)}

    restored = open_index(data_dir=tmp_path / "elsewhere")
    assert restored.import_export(archive) == {VECTOR: len(points), "second__model": len(second)}
    assert restored.active_vector() == "second__model"
    for name in (VECTOR, "second__model"):
        a, b = everything(index, name), everything(restored, name)
        assert a.keys() == b.keys()
        for pid in a:
            assert a[pid][0] == b[pid][0]
            assert np.allclose(a[pid][1], b[pid][1], atol=1e-6)  # Qdrant re-normalises on insert
    q = np.random.default_rng(0).standard_normal(DIM)
    assert [h.id for h in restored.search(q, VECTOR, limit=30).hits] == [h.id for h in index.search(q, VECTOR, limit=30).hits]

    # importing again replaces (no duplicates); refusing to replace says so
    assert restored.import_export(archive)[VECTOR] == len(points) and restored.count(VECTOR) == len(points)
    with pytest.raises(VectorIndexError, match="replace=True"):
        restored.import_export(archive, replace=False)


def test_a_file_that_is_not_an_export_is_refused(open_index, tmp_path):
    index = open_index()
    with pytest.raises(VectorIndexError, match="does not exist"):
        index.import_export(tmp_path / "missing.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar")
    with pytest.raises(VectorIndexError, match="not a readable index export"):
        index.import_export(tmp_path / "junk.tar.gz")
    with tarfile.open(tmp_path / "empty.tar.gz", "w:gz"):
        pass
    with pytest.raises(VectorIndexError, match="no manifest.json"):
        index.import_export(tmp_path / "empty.tar.gz")


def test_snapshots_need_a_server(open_index):
    with pytest.raises(VectorIndexError, match="export"):
        open_index().snapshot()
