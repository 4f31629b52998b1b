"""The vector index: Loupe's points, in one of three stores behind one interface.

- local mode's default, the compact store (``compact_store``): Loupe's own files under
  ``<index_dir>/compact``, made for about half a million points on a small machine;
- Qdrant local mode (``local_index = "qdrant"``, ``qdrant_store``), as Loupe stored points
  before the compact store: fine to about 20,000 points;
- a Qdrant server (``qdrant_url``; HNSW, quantization, payload indexes, shards and
  replicas) when many processes or machines share the index, or it outgrows one machine.

``VectorIndex`` checks every argument, pages with cursors, writes an image's point after
its regions and views, warns when local mode is outgrown, and moves points between stores
with ``export`` and ``import_export`` (vectors travel as float32: nothing is re-encoded).
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from loupe_core.settings import Settings
from loupe_models.identity import check_vector_name

from .compact_store import CompactStore
from .cursor import MAX_OFFSET, decode_cursor, encode_cursor, query_fingerprint
from .errors import QueryError, UnknownVectorError, VectorIndexError
from .export import ExportedPoint, iter_points, read_manifest, write_export
from .filters import SearchFilters
from .migration import adopt_qdrant_local
from .ownership import LocalOwnership
from .points import IndexPoint
from .qdrant_store import QdrantStore
from .ranking import normalised
from .replica import ReplicaStore
from .results import SearchHit, SearchPage, UpsertResult
from .store import Store

__all__ = ["SearchHit", "SearchPage", "UpsertResult", "VectorIndex"]

log = logging.getLogger(__name__)

LOCAL_INDEXES = ("compact", "qdrant")
MAX_LIMIT = 500  # hits per page
MAX_DEPTH = MAX_OFFSET  # deepest hit reachable by paging (cursors past it are refused)
WRITE_BATCH = 256


class VectorIndex:
    """Loupe's points: write them (indexing jobs), search them (the search service)."""

    def __init__(self, store: Store, settings: Settings, *, ownership: LocalOwnership | None = None):
        self.store = store
        self.settings = settings
        self.prefix = settings.qdrant_collection
        self._ownership = ownership
        self._warned: set[str] = set()

    @property
    def mode(self) -> str:
        """``local`` (one process owns the index) or ``server``."""
        return self.store.mode

    @property
    def location(self) -> str:
        return self.store.location

    @property
    def exact_search(self) -> bool:
        return self.store.exact_search

    @exact_search.setter
    def exact_search(self, value: bool) -> None:
        """Qdrant local mode only: search through the exact mirror, or Qdrant's own search."""
        if not isinstance(self.store, QdrantStore) or self.store.mode != "local":
            raise VectorIndexError("only Qdrant local mode has a choice of search path")
        self.store.exact_search = value

    # --- opening and closing -----------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, role: str = "loupe", exact_search: bool | None = None) -> "VectorIndex":
        """The index the settings point at: a Qdrant server when ``qdrant_url`` is set, else
        local mode in ``settings.index_dir``, owned by this process (``role`` names it in the
        message another process gets, e.g. "server", "loupe index"). ``exact_search`` is
        Qdrant local mode's choice of search path (default: its exact in-memory mirror)."""
        if settings.qdrant_url:
            return cls(QdrantStore.open_server(settings, exact_search), settings)
        if settings.local_index not in LOCAL_INDEXES:
            raise VectorIndexError(f"setting local_index is {settings.local_index!r}; use one of {', '.join(LOCAL_INDEXES)}")
        if settings.local_index_access not in ("owner", "reader"):
            raise VectorIndexError(f"setting local_index_access is {settings.local_index_access!r}; use owner or reader")
        if settings.local_index_access == "reader":
            if settings.local_index != "compact":
                raise VectorIndexError("local_index_access = reader needs the compact store (local_index = compact)")
            return cls(ReplicaStore(settings.index_dir / "compact", settings), settings)  # type: ignore[arg-type]
        ownership = LocalOwnership(settings.index_dir, role)
        ownership.acquire()
        try:
            store: Store
            if settings.local_index == "qdrant":
                store = QdrantStore.open_local(settings.index_dir / "qdrant", settings, exact_search)
            else:
                store = CompactStore(settings.index_dir / "compact", settings)
                try:
                    adopt_qdrant_local(store, settings.index_dir / "qdrant", settings)
                except BaseException:
                    store.close()
                    raise
        except BaseException:
            ownership.release()
            raise
        index = cls(store, settings, ownership=ownership)
        for name in index.vector_names():
            index._check_size(name, index.count(name))
        return index

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self._ownership is not None:
                self._ownership.release()
                self._ownership = None

    def __enter__(self) -> "VectorIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- model vectors -----------------------------------------------------------------
    def vector_names(self) -> list[str]:
        """Vector names held, sorted."""
        return self.store.vector_names()

    def vector_dim(self, name: str) -> int:
        dim = self.store.vector_dim(name)
        if dim is None:
            held = ", ".join(self.vector_names()) or "none yet"
            raise UnknownVectorError(f"the index holds no vector {name!r} (it holds: {held}); index with that model first")
        return dim

    def ensure_vector(self, name: str, dim: int) -> bool:
        """Make room for vectors ``name`` of ``dim`` dimensions beside the others; ``True``
        when created. The first vector becomes the active one."""
        check_vector_name(name)
        if int(dim) != dim or dim < 1:
            raise ValueError(f"a vector needs a positive whole number of dimensions, not {dim!r}")
        with self.store.write_lock:
            existing = self.store.vector_dim(name)
            if existing is None and not self.store.create_vector(name, int(dim)):  # another process was quicker
                existing = self.store.vector_dim(name)
                if existing != dim:
                    raise VectorIndexError(f"vector {name!r} was just created by another process with "
                                           f"{existing} dimensions, not {dim}")
            if existing is not None:
                if existing != dim:
                    raise VectorIndexError(f"vector {name!r} already holds {existing}-dimensional vectors, not {dim}; "
                                           f"a model of another size needs another vector name")
                return False
            log.info("index: created vector %s (%d dimensions) in %s", name, dim, self.store.kind)
            if self.active_vector() is None:
                self.set_active(name)
            return True

    def drop_vector(self, name: str) -> None:
        """Remove a model's vectors and points (not the active one: switch first)."""
        if name == self.active_vector():
            raise VectorIndexError(f"{name!r} is the active vector; set_active() another one before dropping it")
        self.vector_dim(name)
        self.store.drop_vector(name)
        log.info("index: dropped vector %s", name)

    def active_vector(self) -> str | None:
        """The vector that searches use when none is named."""
        return self.store.active()

    def set_active(self, name: str) -> None:
        """Switch searches to ``name`` at once."""
        self.vector_dim(name)
        before = self.store.active()
        if before != name:
            self.store.set_active(name)
            log.info("index: active vector is now %s (was %s)", name, before)

    # --- writing -----------------------------------------------------------------------
    def upsert(self, points: Iterable[IndexPoint], vector_name: str, *, batch_size: int = WRITE_BATCH) -> UpsertResult:
        """Write points (same id: replaced). Within the call, ``image`` points are written
        after their regions and views, so an image counts as indexed (``indexed_keys``) only
        once all of its points are in, even if the process stops half way."""
        dim = self.vector_dim(vector_name)
        ordered = sorted(points, key=lambda p: p.kind == "image")
        written = 0
        for start in range(0, len(ordered), batch_size):
            chunk = ordered[start:start + batch_size]
            vectors = np.zeros((len(chunk), dim), dtype=np.float32)
            for i, p in enumerate(chunk):
                v = np.asarray(p.vector, dtype=np.float32).ravel()
                if v.shape != (dim,):
                    raise QueryError(f"point for {p.canvas} ({p.kind} {p.xywh}) has {v.size} dimensions; "
                                     f"vector {vector_name!r} has {dim}")
                vectors[i] = v
            self._write(vector_name, [p.id for p in chunk], vectors, [p.payload(vector_name) for p in chunk])
            written += len(chunk)
        total = self.count(vector_name)
        too_big, message = self._check_size(vector_name, total)
        return UpsertResult(written, total, too_big, message)

    def _write(self, name: str, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict[str, Any]]) -> None:
        try:
            unit = normalised(vectors)
        except ValueError as e:
            raise QueryError(f"cannot index vectors for {name!r}: {e}") from None
        self.store.write(name, list(ids), unit, list(payloads))

    def delete_for_images(self, content_keys: Iterable[str]) -> int:
        """Delete every point (of every vector) of these images; returns points deleted."""
        return self.store.delete_where("content_key", sorted(set(content_keys)))

    def delete_for_manifest(self, manifest_uri: str) -> int:
        """Delete every point (of every vector) of a manifest; returns points deleted."""
        return self.store.delete_where("manifest", [manifest_uri])

    # --- reading -----------------------------------------------------------------------
    def count(self, vector_name: str | None = None, filters: SearchFilters | None = None) -> int:
        """Points held for ``vector_name`` (default: the active vector; 0 when none), those
        matching ``filters`` when given."""
        name = vector_name or self.active_vector()
        if name is None:
            return 0
        self.vector_dim(name)
        return self.store.count(name, filters)

    def indexed_keys(self, vector_name: str) -> set[str]:
        """content_keys of the images completely indexed for ``vector_name`` (see ``upsert``)."""
        self.vector_dim(vector_name)
        return self.store.indexed_keys(vector_name)

    def vector_of(self, point_id: str, vector_name: str | None = None) -> np.ndarray | None:
        """The stored (unit) vector of a point, to search for similar ones."""
        name = vector_name or self._require_active()
        self.vector_dim(name)
        return self.store.vector_of(name, str(point_id))

    def points(self, vector_name: str) -> Iterator[ExportedPoint]:
        """Every point of a vector as ``(id, unit vector, payload)``, in no particular order."""
        self.vector_dim(vector_name)
        return self.store.points(vector_name)

    def search(self, vector: np.ndarray | Sequence[float], vector_name: str | None = None, *, limit: int = 20,
               filters: SearchFilters | None = None, cursor: str | None = None,
               one_per_canvas: bool = False) -> SearchPage:
        """The points nearest to ``vector`` (cosine), best first, a page at a time.

        ``vector_name`` defaults to the active vector. ``cursor`` is the ``next_cursor`` of
        the previous page of the same query; pages never overlap. With ``one_per_canvas``
        each canvas appears once, with its best point, across all pages.
        """
        name = vector_name or self._require_active()
        dim = self.vector_dim(name)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
        q = np.asarray(vector, dtype=np.float32).ravel()
        if q.shape != (dim,):
            raise QueryError(f"the query vector has {q.size} dimensions; vector {name!r} has {dim}")
        if not np.all(np.isfinite(q)) or not np.any(q):
            raise QueryError("the query vector must be finite and not all zeros")
        filters = filters if filters is not None else SearchFilters()
        fingerprint = query_fingerprint(q, name, filters.key(), one_per_canvas)
        offset = decode_cursor(cursor, fingerprint) if cursor else 0
        take = min(limit, MAX_DEPTH - offset)
        if take <= 0:
            return SearchPage([], None)
        found = self.store.search(name, q, filters, offset=offset, limit=take + 1, one_per_canvas=one_per_canvas)
        more = len(found) > take and offset + take < MAX_DEPTH
        return SearchPage(found[:take], encode_cursor(offset + take, fingerprint) if more else None)

    def warm(self, vector_name: str | None = None) -> None:
        """Load what the first search would (e.g. in a thread at server start): the compact
        store's codes (about 0.5 s for 500,000 points), Qdrant local mode's exact mirror."""
        name = vector_name or self.active_vector()
        if name is not None:
            self.store.warm(name)

    def _require_active(self) -> str:
        name = self.active_vector()
        if name is None:
            raise VectorIndexError("the index holds no vectors yet; run `loupe index` first")
        return name

    # --- size, status ------------------------------------------------------------------
    def _check_size(self, name: str, total: int) -> tuple[bool, str | None]:
        limit = self.store.local_limit
        if limit is None or total <= limit:
            return False, None
        move = ("Move to a Qdrant server: run one (the `qdrant` service of docker-compose.yml), set LOUPE_QDRANT_URL "
                "(and LOUPE_QDRANT_API_KEY), then import an export of this index there (VectorIndex.export, "
                "import_export: no re-encoding) or run `loupe index` again.")
        if self.store.kind == "compact":
            message = (f"The index holds {total:,} points for {name}, more than local mode is measured for "
                       f"({limit:,}): searches take longer with every point (up to about 50 ms at a million on 2 cores) "
                       f"and memory grows by about 0.8 KB a point. {move}")
        else:
            message = (f"The index holds {total:,} points for {name}, more than Qdrant local mode is meant for "
                       f"({limit:,}): start-up, memory and indexing grow with every point. Use the compact store "
                       f"(local_index = \"compact\", the default), or: {move}")
        if name not in self._warned:
            self._warned.add(name)
            log.warning("%s", message)
        return True, message

    def status(self) -> dict[str, Any]:
        """What the index holds, for the CLI and the dashboard."""
        vectors = {n: {"dim": self.vector_dim(n), "points": self.count(n)} for n in self.vector_names()}
        warnings = [m for n, v in vectors.items() for big, m in [self._check_size(n, v["points"])] if big]
        return {"mode": self.mode, "store": self.store.kind, "location": self.location,
                "collection_prefix": self.prefix, "active": self.active_vector(), "vectors": vectors,
                "exact_search": self.exact_search, "warnings": warnings}

    # --- backup and moving -------------------------------------------------------------
    def export(self, path: str | Path) -> dict[str, Any]:
        """Write every vector's points to one archive (see ``export``); returns its manifest.
        Writes wait meanwhile in local mode; searches go on."""
        with self.store.write_lock:
            dims = {n: self.vector_dim(n) for n in self.vector_names()}
            manifest = write_export(Path(path), prefix=self.prefix, active=self.active_vector(), dims=dims,
                                    points_of=self.store.points)
        log.info("index: exported %s to %s", {n: v["points"] for n, v in manifest["vectors"].items()}, path)
        return manifest

    def import_export(self, path: str | Path, *, replace: bool = True) -> dict[str, int]:
        """Restore an export, or move one from another store: each vector in it replaces the
        one of the same name (or, with ``replace=False``, must not exist yet); other vectors
        stay. The export's active vector becomes active. Returns points imported per vector."""
        path = Path(path)
        manifest = read_manifest(path)
        counts: dict[str, int] = {}
        with self.store.write_lock:
            held = set(self.vector_names())
            for name, spec in manifest["vectors"].items():
                check_vector_name(name)
                if name in held:
                    if not replace:
                        raise VectorIndexError(f"the index already holds vector {name!r}; import with replace=True to overwrite it")
                    self.store.drop_vector(name)
                self.ensure_vector(name, int(spec["dim"]))
                counts[name] = self.copy_points(name, iter_points(path, manifest, name))
            if manifest.get("active") in counts:
                self.set_active(manifest["active"])
        log.info("index: imported %s from %s", counts, path)
        return counts

    def copy_points(self, name: str, points: Iterator[ExportedPoint]) -> int:
        """Write ``(id, vector, payload)`` triples as they are (an export, another store)."""
        n = 0
        while chunk := list(itertools.islice(points, WRITE_BATCH)):
            self._write(name, [c[0] for c in chunk], np.stack([c[1] for c in chunk]), [c[2] for c in chunk])
            n += len(chunk)
        return n

    def snapshot(self) -> list[str]:
        """Server mode: a Qdrant snapshot of each vector collection (``collection/snapshot``
        names, stored by the server). Local mode has none: use ``export``."""
        return self.store.snapshot()
