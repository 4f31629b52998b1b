"""Which manifest, collection or canvas a URL key names (``urls.uri_key``), and back.

Keys are hashes, so finding the URI means hashing the catalog's URIs: done once, kept in
memory, and redone on a miss (at most every ``refresh_s``), so a resource harvested a moment
ago is found and a flood of unknown keys cannot make the service rehash all the time.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import CanvasRow, CollectionRow, ManifestRow

from .urls import uri_key

Kind = Literal["manifest", "collection", "canvas"]
KINDS: tuple[Kind, ...] = ("manifest", "collection", "canvas")


class KeyDirectory:
    def __init__(self, catalog: Catalog, refresh_s: float = 2.0) -> None:
        self.catalog = catalog
        self.refresh_s = refresh_s
        self._keys: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self._built_at: float | None = None
        self._lock = threading.Lock()

    def uri(self, kind: Kind, key: str) -> str | None:
        """The URI of the live ``kind`` whose key is ``key``; None when there is none."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        with self._lock:
            found = self._keys[kind].get(key)
            if found is None and (self._built_at is None or time.monotonic() - self._built_at >= self.refresh_s):
                self._rebuild()
                found = self._keys[kind].get(key)
            return found

    def _rebuild(self) -> None:
        with self.catalog.session() as s:
            manifests = s.scalars(select(ManifestRow.uri).where(ManifestRow.status != "deleted")).all()
            collections = s.scalars(select(CollectionRow.uri)).all()
            canvases = s.scalars(select(CanvasRow.uri).join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                                 .where(ManifestRow.status != "deleted").distinct()).all()
        self._keys = {"manifest": {uri_key(u): u for u in manifests},
                      "collection": {uri_key(u): u for u in collections},
                      "canvas": {uri_key(u): u for u in canvases}}
        self._built_at = time.monotonic()
