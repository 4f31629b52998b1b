"""Adopting an index written by Qdrant local mode (local mode's store before the compact one).

The first time the compact store opens beside a Qdrant local folder, it copies every
vector's points over (ids, float32 vectors and payloads as they are: nothing is
re-encoded) and the active vector; the Qdrant folder is left untouched, and can be
deleted once the copy is checked. A copy interrupted half way starts again at the next open.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from loupe_core.settings import Settings

from .compact_store import CompactStore
from .qdrant_store import QdrantStore

log = logging.getLogger(__name__)

MARK = "adopted_qdrant_local"  # meta key: "started", then "done"


def adopt_qdrant_local(store: CompactStore, folder: Path, settings: Settings) -> dict[str, int] | None:
    """Copy the points of the Qdrant local storage in ``folder`` into ``store`` once;
    returns points copied per vector, ``None`` when there was nothing to do."""
    mark = store.get_meta(MARK)
    if mark == "done" or not (folder / "meta.json").is_file():
        return None
    if mark is None and store.vector_names():
        store.put_meta(MARK, "done")  # the compact store was in use first: leave the old folder alone
        return None
    for name in store.vector_names():  # a copy that was interrupted: start again
        store.drop_vector(name)
    store.put_meta(MARK, "started")
    source = QdrantStore.open_local(folder, settings, exact_search=False)
    counts: dict[str, int] = {}
    try:
        for name in source.vector_names():
            dim = source.vector_dim(name)
            assert dim is not None
            store.create_vector(name, dim)
            counts[name] = 0
            batch: list = []
            for point in source.points(name):
                batch.append(point)
                if len(batch) == 1024:
                    counts[name] += _write(store, name, batch)
                    batch = []
            counts[name] += _write(store, name, batch)
        store.set_active(source.active())
    finally:
        source.close()
    store.put_meta(MARK, "done")
    log.warning("index: copied %s points from Qdrant local mode (%s) into the compact store at %s; the old "
                "folder is no longer read and can be deleted", counts, folder, store.location)
    return counts


def _write(store: CompactStore, name: str, batch: list) -> int:
    if batch:
        store.write(name, [p[0] for p in batch], np.stack([p[1] for p in batch]), [p[2] for p in batch])
    return len(batch)
