"""Points in Qdrant: a server (scale-out), or Qdrant local mode (``local_index = "qdrant"``).

Layout. One collection per model vector, ``<prefix>__<vector name>`` (one named vector of
that name inside), and the alias ``<prefix>`` pointing at the active one. qdrant-client
1.20 cannot add a named vector through ``update_collection`` (it only changes existing
ones); newer servers have ``create_vector_name``, but a point shared by two models would
then lose the other model's vector on every ``upsert`` (which replaces whole points), and
the new vector could not get its own HNSW and quantization settings. Separate collections
keep each model's indexing independent, work with any server version, and switching is
one atomic alias change; dropping an old model drops its collection.

Local mode. One process owns the storage; that process keeps an exact in-memory mirror for
search (``exact``), because Qdrant local's own search is too slow with filters and
grouping. Qdrant local storage remains what persists. It costs about 16 KB of memory a
point and minutes to load at 200,000 points (measured), hence ``QDRANT_LOCAL_POINTS``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Iterator, Sequence

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.common.version_check import is_compatible

from loupe_core.settings import Settings

from .config import collection_config, payload_indexes, search_params, vectors_config
from .errors import IndexLockedError, VectorIndexError
from .exact import ExactIndex
from .export import ExportedPoint
from .filters import SearchFilters, qdrant_filter
from .local_storage import tune_local_storage
from .names import collection_for, vector_of
from .ownership import SERVER_HINT
from .results import SearchHit
from .store import DELETE_FIELDS, Store

log = logging.getLogger(__name__)

QDRANT_LOCAL_POINTS = 20_000  # Qdrant local mode's "outgrown" point, whatever local_points_warning says
SCROLL_PAGE = 1_024
DELETE_VALUES_BATCH = 512


@dataclass
class _State:
    dims: dict[str, int] = field(default_factory=dict)
    exact: dict[str, ExactIndex] = field(default_factory=dict)
    alias: str | None = None  # local mode caches the active pointer
    alias_known: bool = False


class QdrantStore(Store):
    def __init__(self, client: QdrantClient, settings: Settings, *, mode: str, location: str,
                 exact_search: bool = False):
        if mode not in ("local", "server"):
            raise ValueError(f"mode must be 'local' or 'server', not {mode!r}")
        if exact_search and mode != "local":
            raise ValueError("exact in-memory search is for local mode only: with a server, other processes write too")
        self.settings = settings
        self.mode = mode
        self.kind = f"qdrant-{mode}"
        self.location = location
        self.prefix = settings.qdrant_collection
        self.exact_search = exact_search
        self.local_limit = min(settings.local_points_warning, QDRANT_LOCAL_POINTS) if mode == "local" else None
        self._client: QdrantClient | None = client
        self._state = _State()
        # Local mode's objects are not thread-safe; a server client is.
        self._guard: ContextManager[Any] = threading.RLock() if mode == "local" else contextlib.nullcontext()

    @classmethod
    def open_local(cls, folder: Path, settings: Settings, exact_search: bool | None) -> "QdrantStore":
        try:
            client = QdrantClient(path=str(folder))
        except RuntimeError as e:
            if "already accessed" in str(e):
                raise IndexLockedError(
                    f"The vector index at {folder} is held by a program that is not Loupe (or an older "
                    f"Loupe) through qdrant-client. {SERVER_HINT}") from None
            raise
        tune_local_storage(client)
        return cls(client, settings, mode="local", location=str(folder),
                   exact_search=True if exact_search is None else exact_search)

    @classmethod
    def open_server(cls, settings: Settings, exact_search: bool | None) -> "QdrantStore":
        # The client's own version check runs in a thread and warns whenever it ends; check here instead.
        client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key or None,
                              timeout=max(1, int(settings.qdrant_timeout_s)), check_compatibility=False)
        try:
            server_version = client.info().version
            client.get_collections()  # needs the API key, where info does not
        except Exception as e:  # noqa: BLE001 - any transport or HTTP error means the same here
            client.close()
            raise VectorIndexError(
                f"cannot reach the Qdrant server at {settings.qdrant_url} ({type(e).__name__}: {e}); "
                f"is it running and is LOUPE_QDRANT_API_KEY right? Unset LOUPE_QDRANT_URL to use local mode.") from None
        client_version = importlib.metadata.version("qdrant-client")
        if not is_compatible(client_version, server_version):
            log.warning("index: Qdrant server %s at %s and qdrant-client %s differ by more than one minor version; "
                        "some requests may fail: use a server of the same minor version", server_version,
                        settings.qdrant_url, client_version)
        return cls(client, settings, mode="server", location=settings.qdrant_url, exact_search=bool(exact_search))

    @property
    def write_lock(self) -> ContextManager[Any]:
        return self._guard

    def close(self) -> None:
        with self._guard:
            if self._client is None:
                return
            try:
                self._client.close()
            finally:
                self._client = None
                self._state = _State()

    @property
    def client(self) -> QdrantClient:
        if self._client is None:
            raise VectorIndexError("the vector index is closed; open it again with VectorIndex.open(settings)")
        return self._client

    # --- model vectors -----------------------------------------------------------------
    def vector_names(self) -> list[str]:
        with self._guard:
            names = [vector_of(self.prefix, c.name) for c in self.client.get_collections().collections]
        return sorted(n for n in names if n)

    def vector_dim(self, name: str) -> int | None:
        dim = self._state.dims.get(name)
        if dim is not None:
            return dim
        coll = collection_for(self.prefix, name)
        with self._guard:
            if not self.client.collection_exists(coll):
                return None
            params = self.client.get_collection(coll).config.params.vectors
        dim = params[name].size if isinstance(params, dict) else params.size
        self._state.dims[name] = dim
        return dim

    def create_vector(self, name: str, dim: int) -> bool:
        coll = collection_for(self.prefix, name)
        with self._guard:
            try:
                if self.mode == "server":
                    self.client.create_collection(coll, **collection_config(self.settings, {name: dim}))
                    for field_name, schema in payload_indexes():
                        self.client.create_payload_index(coll, field_name, field_schema=schema, wait=True)
                else:
                    self.client.create_collection(coll, vectors_config=vectors_config({name: dim}))
                    tune_local_storage(self.client, coll)
            except Exception:
                if self.mode == "server" and self.client.collection_exists(coll):  # another worker was quicker
                    return False
                raise
            self._state.dims[name] = dim
            return True

    def drop_vector(self, name: str) -> None:
        coll = collection_for(self.prefix, name)
        with self._guard:
            if self._alias_target() == coll:
                self.set_active(None)
            self.client.delete_collection(coll)
            self._state.alias_known = False
            self._state.dims.pop(name, None)
            self._state.exact.pop(name, None)

    def active(self) -> str | None:
        target = self._alias_target()
        return vector_of(self.prefix, target) if target else None

    def set_active(self, name: str | None) -> None:
        """Point the alias at ``name`` (one atomic change), or remove it."""
        coll = collection_for(self.prefix, name) if name else None
        with self._guard:
            current = self._alias_target()
            if current == coll:
                return
            ops: list[models.AliasOperations] = []
            if current is not None:
                ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.prefix)))
            if coll is not None:
                ops.append(models.CreateAliasOperation(
                    create_alias=models.CreateAlias(collection_name=coll, alias_name=self.prefix)))
            self.client.update_collection_aliases(change_aliases_operations=ops)
            self._state.alias_known = False

    def _alias_target(self) -> str | None:
        if self.mode == "local" and self._state.alias_known:  # the only writer knows it
            return self._state.alias
        with self._guard:
            target = next((a.collection_name for a in self.client.get_aliases().aliases
                           if a.alias_name == self.prefix), None)
            if self.mode == "local":
                self._state.alias, self._state.alias_known = target, True
        return target

    # --- points --------------------------------------------------------------------------
    def write(self, name: str, ids: Sequence[str], unit: np.ndarray, payloads: Sequence[dict[str, Any]]) -> None:
        structs = [models.PointStruct(id=pid, vector={name: vec.tolist()}, payload=payload)
                   for pid, vec, payload in zip(ids, unit, payloads)]
        with self._guard:
            self.client.upsert(collection_for(self.prefix, name), points=structs, wait=True)
            mirror = self._state.exact.get(name)
            if mirror is not None:
                mirror.upsert(ids, unit, payloads)

    def delete_where(self, field_name: str, values: Sequence[str]) -> int:
        if field_name not in DELETE_FIELDS:
            raise ValueError(f"points are deleted by {', '.join(DELETE_FIELDS)}, not {field_name!r}")
        values = sorted(set(values))
        return sum(self._delete_where(models.FieldCondition(key=field_name, match=models.MatchAny(
            any=values[i:i + DELETE_VALUES_BATCH]))) for i in range(0, len(values), DELETE_VALUES_BATCH))

    def _delete_where(self, condition: models.Condition) -> int:
        flt = models.Filter(must=[condition])
        deleted = 0
        for name in self.vector_names():
            coll = collection_for(self.prefix, name)
            with self._guard:
                if self.mode == "local":  # by id, so that the mirror drops exactly the same points
                    ids = [str(r.id) for page in self._scroll(coll, flt, with_payload=False) for r in page]
                    if ids:
                        self.client.delete(coll, points_selector=models.PointIdsList(points=ids), wait=True)
                        if name in self._state.exact:
                            self._state.exact[name].delete(ids)
                    deleted += len(ids)
                else:
                    n = self.client.count(coll, count_filter=flt, exact=True).count
                    if n:
                        self.client.delete(coll, points_selector=models.FilterSelector(filter=flt), wait=True)
                    deleted += n
        return deleted

    def count(self, name: str, filters: SearchFilters | None = None) -> int:
        with self._guard:
            return self.client.count(collection_for(self.prefix, name), count_filter=qdrant_filter(filters),
                                     exact=True).count

    def indexed_keys(self, name: str) -> set[str]:
        flt = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="image"))])
        keys: set[str] = set()
        for page in self._scroll(collection_for(self.prefix, name), flt, with_payload=["content_key"]):
            keys.update(r.payload["content_key"] for r in page if r.payload and r.payload.get("content_key"))
        return keys

    def vector_of(self, name: str, point_id: str) -> np.ndarray | None:
        mirror = self._state.exact.get(name)
        if mirror is not None:
            return mirror.vector(point_id)
        with self._guard:
            recs = self.client.retrieve(collection_for(self.prefix, name), ids=[point_id], with_vectors=[name],
                                        with_payload=False)
        return np.asarray(recs[0].vector[name], dtype=np.float32) if recs else None

    def search(self, name: str, query: np.ndarray, filters: SearchFilters, *, offset: int, limit: int,
               one_per_canvas: bool) -> list[SearchHit]:
        if self.exact_search:
            return [SearchHit(h.id, h.score, h.payload) for h in
                    self._exact_for(name).search(query, filters, offset=offset, limit=limit, one_per_canvas=one_per_canvas)]
        coll = collection_for(self.prefix, name)
        flt = qdrant_filter(filters)
        params = search_params(self.settings) if self.mode == "server" else None  # local mode is exact
        with self._guard:
            if one_per_canvas:  # groups have no offset: ask for all groups up to this page
                res = self.client.query_points_groups(
                    coll, group_by="canvas", query=query.tolist(), using=name, query_filter=flt, search_params=params,
                    limit=offset + limit, group_size=1, with_payload=True)
                points = [g.hits[0] for g in res.groups[offset:] if g.hits]
            else:
                points = self.client.query_points(
                    coll, query=query.tolist(), using=name, query_filter=flt, search_params=params,
                    limit=limit, offset=offset, with_payload=True).points
        return [SearchHit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def points(self, name: str) -> Iterator[ExportedPoint]:
        for page in self._scroll(collection_for(self.prefix, name), None, with_vectors=[name]):
            for r in page:
                yield str(r.id), np.asarray(r.vector[name], dtype=np.float32), dict(r.payload or {})

    def warm(self, name: str) -> None:
        """Local mode: load the exact mirror (about 2 s for 20,000 points of 512 dimensions)."""
        if self.exact_search:
            self._exact_for(name)

    def _exact_for(self, name: str) -> ExactIndex:
        mirror = self._state.exact.get(name)
        if mirror is not None:  # searches do not wait for writes in progress
            return mirror
        with self._guard:  # loading under the guard: no write can slip between pages
            mirror = self._state.exact.get(name)
            if mirror is None:
                dim = self.vector_dim(name) or 0
                mirror = ExactIndex(dim, capacity=max(1024, self.count(name) + 1024))
                for page in self._scroll(collection_for(self.prefix, name), None, with_vectors=[name]):
                    mirror.upsert([str(r.id) for r in page], np.array([r.vector[name] for r in page], dtype=np.float32),
                                  [dict(r.payload or {}) for r in page])
                self._state.exact[name] = mirror
                log.debug("index: loaded %d points of %s for exact search", len(mirror), name)
            return mirror

    def _scroll(self, coll: str, flt: models.Filter | None, *, with_payload: Any = True,
                with_vectors: Any = False) -> Iterator[list[models.Record]]:
        offset = None
        while True:
            with self._guard:
                page, offset = self.client.scroll(coll, scroll_filter=flt, limit=SCROLL_PAGE, offset=offset,
                                                  with_payload=with_payload, with_vectors=with_vectors)
            if page:
                yield page
            if offset is None:
                return

    def snapshot(self) -> list[str]:
        """A Qdrant snapshot of each vector collection (``collection/snapshot`` names, stored
        by the server). Local mode has none: use ``export``."""
        if self.mode == "local":
            return super().snapshot()
        names = []
        for name in self.vector_names():
            coll = collection_for(self.prefix, name)
            described = self.client.create_snapshot(coll, wait=True)
            if described is not None:
                names.append(f"{coll}/{described.name}")
        return names
