"""Stable short keys that name catalog resources (``uri_key``), and which manifest,
collection or canvas a key names.

The service names manifests, collections and canvases in URLs by a short hash of their URI,
so that a URL never contains another URL and stays the same for as long as the resource
keeps its URI.

Keys are hashes, so finding the URI means hashing the catalog's URIs: done once, kept in
memory, and redone on a miss (at most every ``refresh_s``), so a resource harvested a moment
ago is found and a flood of unknown keys cannot make the service rehash all the time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Literal

from sqlalchemy import select

from .schema import CanvasRow, CollectionRow, ManifestRow
from .store import Catalog

KEY_LENGTH = 16  # hex characters: 64 bits, collisions are not a concern at catalog sizes



def uri_key(uri: str) -> str:
    """The stable short key of a IIIF URI (its SHA-256, first 16 hex characters)."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()[:KEY_LENGTH]


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
