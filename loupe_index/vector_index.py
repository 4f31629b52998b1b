"""The vector index: Loupe's points in Qdrant, local mode by default or a server by URL.

Layout. One collection per model vector, ``<prefix>__<vector name>`` (one named vector of
that name inside), and the alias ``<prefix>`` pointing at the active one. qdrant-client
1.20 cannot add a named vector through ``update_collection`` (it only changes existing
ones); newer servers have ``create_vector_name``, but a point shared by two models would
then lose the other model's vector on every ``upsert`` (which replaces whole points), and
the new vector could not get its own HNSW and quantization settings. Separate collections
keep each model's indexing independent, work with any server version, and switching is
one atomic alias change; dropping an old model drops its collection.

Local mode. One process owns the storage (``ownership``); that process keeps an exact
in-memory mirror for search (``exact``), because Qdrant local's own search is too slow
with filters and grouping. Qdrant local storage remains what persists.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import itertools
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Iterable, Iterator, Sequence

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.common.version_check import is_compatible

from loupe_core.settings import Settings
from loupe_models.identity import check_vector_name

from .config import collection_config, payload_indexes, search_params, vectors_config
from .cursor import decode_cursor, encode_cursor, query_fingerprint
from .errors import IndexLockedError, QueryError, UnknownVectorError, VectorIndexError
from .exact import ExactIndex, normalised
from .export import iter_points, read_manifest, write_export
from .filters import SearchFilters, qdrant_filter
from .local_storage import tune_local_storage
from .names import collection_for, vector_of
from .ownership import SERVER_HINT, LocalOwnership
from .points import IndexPoint

log = logging.getLogger(__name__)

MAX_LIMIT = 500  # hits per page
MAX_DEPTH = 5_000  # deepest hit reachable by paging
WRITE_BATCH = 256
SCROLL_PAGE = 1_024
DELETE_KEYS_BATCH = 512


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    payload: dict[str, Any]

    @property
    def manifest(self) -> str | None:
        return self.payload.get("manifest")

    @property
    def canvas(self) -> str | None:
        return self.payload.get("canvas")

    @property
    def xywh(self) -> list[int] | None:
        return self.payload.get("xywh")

    @property
    def kind(self) -> str | None:
        return self.payload.get("kind")


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None


@dataclass(frozen=True)
class UpsertResult:
    written: int
    total: int  # points now held for the vector
    too_big_for_local: bool = False
    message: str | None = None


@dataclass
class _State:
    dims: dict[str, int] = field(default_factory=dict)
    exact: dict[str, ExactIndex] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    alias: str | None = None  # local mode caches the active pointer
    alias_known: bool = False


class VectorIndex:
    """Loupe's points: write them (indexing jobs), search them (the search service)."""

    def __init__(self, client: QdrantClient, settings: Settings, *, mode: str, location: str,
                 ownership: LocalOwnership | None = None, exact_search: bool = False):
        if mode not in ("local", "server"):
            raise ValueError(f"mode must be 'local' or 'server', not {mode!r}")
        if exact_search and mode != "local":
            raise ValueError("exact in-memory search is for local mode only: with a server, other processes write too")
        self.settings = settings
        self.mode = mode
        self.location = location
        self.prefix = settings.qdrant_collection
        self.exact_search = exact_search
        self._client: QdrantClient | None = client
        self._ownership = ownership
        self._state = _State()
        # Local mode's objects are not thread-safe; a server client is.
        self._guard: ContextManager[Any] = threading.RLock() if mode == "local" else contextlib.nullcontext()

    # --- opening and closing -----------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, role: str = "loupe", exact_search: bool | None = None) -> "VectorIndex":
        """The index the settings point at: a Qdrant server when ``qdrant_url`` is set, else
        local mode in ``settings.index_dir / "qdrant"``, owned by this process (``role``
        names it in the message another process gets, e.g. "server", "loupe index")."""
        if settings.qdrant_url:
            return cls._open_server(settings, exact_search)
        folder = settings.index_dir / "qdrant"
        ownership = LocalOwnership(settings.index_dir, role)
        ownership.acquire()
        try:
            client = QdrantClient(path=str(folder))
        except RuntimeError as e:
            ownership.release()
            if "already accessed" in str(e):
                raise IndexLockedError(
                    f"The vector index at {folder} is held by a program that is not Loupe (or an older "
                    f"Loupe) through qdrant-client. {SERVER_HINT}") from None
            raise
        except BaseException:
            ownership.release()
            raise
        tune_local_storage(client)
        index = cls(client, settings, mode="local", location=str(folder), ownership=ownership,
                    exact_search=True if exact_search is None else exact_search)
        for name in index.vector_names():
            index._check_size(name, index.count(name))
        return index

    @classmethod
    def _open_server(cls, settings: Settings, exact_search: bool | None) -> "VectorIndex":
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

    def close(self) -> None:
        with self._guard:
            if self._client is None:
                return
            try:
                self._client.close()
            finally:
                self._client = None
                self._state = _State()
                if self._ownership is not None:
                    self._ownership.release()

    def __enter__(self) -> "VectorIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self) -> QdrantClient:
        if self._client is None:
            raise VectorIndexError("the vector index is closed; open it again with VectorIndex.open(settings)")
        return self._client

    # --- model vectors -----------------------------------------------------------------
    def vector_names(self) -> list[str]:
        """Vector names held, sorted."""
        with self._guard:
            names = [vector_of(self.prefix, c.name) for c in self.client.get_collections().collections]
        return sorted(n for n in names if n)

    def vector_dim(self, name: str) -> int:
        dim = self._state.dims.get(name)
        if dim is not None:
            return dim
        coll = collection_for(self.prefix, name)
        with self._guard:
            if not self.client.collection_exists(coll):
                held = ", ".join(self.vector_names()) or "none yet"
                raise UnknownVectorError(f"the index holds no vector {name!r} (it holds: {held}); index with that model first")
            params = self.client.get_collection(coll).config.params.vectors
        dim = params[name].size if isinstance(params, dict) else params.size
        self._state.dims[name] = dim
        return dim

    def ensure_vector(self, name: str, dim: int) -> bool:
        """Make room for vectors ``name`` of ``dim`` dimensions beside the others; ``True``
        when created. The first vector becomes the active one."""
        check_vector_name(name)
        if int(dim) != dim or dim < 1:
            raise ValueError(f"a vector needs a positive whole number of dimensions, not {dim!r}")
        coll = collection_for(self.prefix, name)
        with self._guard:
            try:
                existing = self.vector_dim(name)
            except UnknownVectorError:
                existing = None
            if existing is not None:
                if existing != dim:
                    raise VectorIndexError(f"vector {name!r} already holds {existing}-dimensional vectors, not {dim}; "
                                           f"a model of another size needs another vector name")
                return False
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
                    if self.vector_dim(name) != dim:
                        raise VectorIndexError(f"vector {name!r} was just created by another process with "
                                               f"{self.vector_dim(name)} dimensions, not {dim}") from None
                    return False
                raise
            self._state.dims[name] = dim
            log.info("index: created %s for vector %s (%d dimensions)", coll, name, dim)
            if self.active_vector() is None:
                self.set_active(name)
            return True

    def drop_vector(self, name: str) -> None:
        """Remove a model's vectors and points (not the active one: switch first)."""
        if name == self.active_vector():
            raise VectorIndexError(f"{name!r} is the active vector; set_active() another one before dropping it")
        self.vector_dim(name)
        self._drop_collection(name)

    def active_vector(self) -> str | None:
        """The vector that searches use when none is named (persisted as a Qdrant alias)."""
        target = self._alias_target()
        return vector_of(self.prefix, target) if target else None

    def set_active(self, name: str) -> None:
        """Switch searches to ``name`` at once (one atomic alias change)."""
        self.vector_dim(name)
        coll = collection_for(self.prefix, name)
        with self._guard:
            current = self._alias_target()
            if current == coll:
                return
            ops: list[models.AliasOperations] = []
            if current is not None:
                ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.prefix)))
            ops.append(models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=coll, alias_name=self.prefix)))
            self.client.update_collection_aliases(change_aliases_operations=ops)
            self._state.alias_known = False
        log.info("index: active vector is now %s (was %s)", name, vector_of(self.prefix, current) if current else None)

    def _alias_target(self) -> str | None:
        if self.mode == "local" and self._state.alias_known:  # the only writer knows it
            return self._state.alias
        with self._guard:
            target = next((a.collection_name for a in self.client.get_aliases().aliases
                           if a.alias_name == self.prefix), None)
            if self.mode == "local":
                self._state.alias, self._state.alias_known = target, True
        return target

    def _drop_collection(self, name: str) -> None:
        coll = collection_for(self.prefix, name)
        with self._guard:
            if self._alias_target() == coll:
                self.client.update_collection_aliases(change_aliases_operations=[
                    models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.prefix))])
            self.client.delete_collection(coll)
            self._state.alias_known = False
            self._state.dims.pop(name, None)
            self._state.exact.pop(name, None)
        log.info("index: dropped vector %s", name)

    # --- writing -----------------------------------------------------------------------
    def upsert(self, points: Iterable[IndexPoint], vector_name: str, *, batch_size: int = WRITE_BATCH) -> UpsertResult:
        """Write points (same id: replaced). Within the call, ``image`` points are written
        after their regions and views, so an image counts as indexed (``indexed_keys``) only
        once all its points are in, even if the process dies half way."""
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
        structs = [models.PointStruct(id=pid, vector={name: vec.tolist()}, payload=payload)
                   for pid, vec, payload in zip(ids, unit, payloads)]
        with self._guard:
            self.client.upsert(collection_for(self.prefix, name), points=structs, wait=True)
            mirror = self._state.exact.get(name)
            if mirror is not None:
                mirror.upsert(ids, unit, payloads)

    def delete_for_images(self, content_keys: Iterable[str]) -> int:
        """Delete every point (of every vector) of these images; returns points deleted."""
        keys = sorted(set(content_keys))
        return sum(self._delete_where(models.FieldCondition(key="content_key", match=models.MatchAny(any=keys[i:i + DELETE_KEYS_BATCH])))
                   for i in range(0, len(keys), DELETE_KEYS_BATCH))

    def delete_for_manifest(self, manifest_uri: str) -> int:
        """Delete every point (of every vector) of a manifest; returns points deleted."""
        return self._delete_where(models.FieldCondition(key="manifest", match=models.MatchValue(value=manifest_uri)))

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

    # --- reading -----------------------------------------------------------------------
    def count(self, vector_name: str | None = None) -> int:
        """Points held for ``vector_name`` (default: the active vector; 0 when none)."""
        name = vector_name or self.active_vector()
        if name is None:
            return 0
        self.vector_dim(name)
        with self._guard:
            return self.client.count(collection_for(self.prefix, name), exact=True).count

    def indexed_keys(self, vector_name: str) -> set[str]:
        """content_keys of the images completely indexed for ``vector_name`` (see ``upsert``)."""
        self.vector_dim(vector_name)
        flt = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="image"))])
        keys: set[str] = set()
        for page in self._scroll(collection_for(self.prefix, vector_name), flt, with_payload=["content_key"]):
            keys.update(r.payload["content_key"] for r in page if r.payload and r.payload.get("content_key"))
        return keys

    def vector_of(self, point_id: str, vector_name: str | None = None) -> np.ndarray | None:
        """The stored (unit) vector of a point, to search for similar ones."""
        name = vector_name or self._require_active()
        self.vector_dim(name)
        mirror = self._state.exact.get(name)
        if mirror is not None:
            return mirror.vector(str(point_id))
        with self._guard:
            recs = self.client.retrieve(collection_for(self.prefix, name), ids=[str(point_id)], with_vectors=[name],
                                        with_payload=False)
        return np.asarray(recs[0].vector[name], dtype=np.float32) if recs else None

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
        if self.exact_search:
            found = [SearchHit(h.id, h.score, h.payload) for h in
                     self._exact_for(name).search(q, filters, offset=offset, limit=take + 1, one_per_canvas=one_per_canvas)]
        else:
            found = self._search_qdrant(q, name, filters, offset, take + 1, one_per_canvas)
        more = len(found) > take and offset + take < MAX_DEPTH
        return SearchPage(found[:take], encode_cursor(offset + take, fingerprint) if more else None)

    def _search_qdrant(self, q: np.ndarray, name: str, filters: SearchFilters, offset: int, limit: int,
                       one_per_canvas: bool) -> list[SearchHit]:
        coll = collection_for(self.prefix, name)
        flt = qdrant_filter(filters)
        params = search_params(self.settings) if self.mode == "server" else None  # local mode is exact
        with self._guard:
            if one_per_canvas:  # groups have no offset: ask for all groups up to this page
                res = self.client.query_points_groups(
                    coll, group_by="canvas", query=q.tolist(), using=name, query_filter=flt, search_params=params,
                    limit=offset + limit, group_size=1, with_payload=True)
                points = [g.hits[0] for g in res.groups[offset:] if g.hits]
            else:
                points = self.client.query_points(
                    coll, query=q.tolist(), using=name, query_filter=flt, search_params=params,
                    limit=limit, offset=offset, with_payload=True).points
        return [SearchHit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def warm(self, vector_name: str | None = None) -> None:
        """Load what the first search would (local mode: the exact mirror, about 2 s for
        20,000 points of 512 dimensions), e.g. in a thread at server start."""
        name = vector_name or self.active_vector()
        if name is not None and self.exact_search:
            self._exact_for(name)

    def _exact_for(self, name: str) -> ExactIndex:
        mirror = self._state.exact.get(name)
        if mirror is not None:  # searches do not wait for writes in progress
            return mirror
        with self._guard:  # loading under the guard: no write can slip between pages
            mirror = self._state.exact.get(name)
            if mirror is None:
                dim = self.vector_dim(name)
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

    def _require_active(self) -> str:
        name = self.active_vector()
        if name is None:
            raise VectorIndexError("the index holds no vectors yet; run `loupe index` first")
        return name

    # --- size, status ------------------------------------------------------------------
    def _check_size(self, name: str, total: int) -> tuple[bool, str | None]:
        limit = self.settings.local_points_warning
        if self.mode != "local" or total <= limit:
            return False, None
        message = (f"The index holds {total:,} points for {name}, more than Qdrant local mode is meant for "
                   f"({limit:,}): start-up, memory and indexing grow with every point. Move to a Qdrant server: "
                   f"run one (the `qdrant` service of docker-compose.yml), set LOUPE_QDRANT_URL (and "
                   f"LOUPE_QDRANT_API_KEY), then import an export of this index there or run `loupe index` again.")
        if name not in self._state.warned:
            self._state.warned.add(name)
            log.warning("%s", message)
        return True, message

    def status(self) -> dict[str, Any]:
        """What the index holds, for the CLI and the dashboard."""
        vectors = {n: {"dim": self.vector_dim(n), "points": self.count(n)} for n in self.vector_names()}
        warnings = [m for n, v in vectors.items() for big, m in [self._check_size(n, v["points"])] if big]
        return {"mode": self.mode, "location": self.location, "collection_prefix": self.prefix,
                "active": self.active_vector(), "vectors": vectors, "exact_search": self.exact_search,
                "warnings": warnings}

    # --- backup ------------------------------------------------------------------------
    def export(self, path: str | Path) -> dict[str, Any]:
        """Write every vector's points to one archive (see ``export``); returns its manifest.
        Writes wait meanwhile in local mode; searches go on."""
        with self._guard:
            dims = {n: self.vector_dim(n) for n in self.vector_names()}

            def points_of(name: str) -> Iterator[tuple[str, np.ndarray, dict[str, Any]]]:
                for page in self._scroll(collection_for(self.prefix, name), None, with_vectors=[name]):
                    for r in page:
                        yield str(r.id), np.asarray(r.vector[name], dtype=np.float32), dict(r.payload or {})

            manifest = write_export(Path(path), prefix=self.prefix, active=self.active_vector(), dims=dims,
                                    points_of=points_of)
        log.info("index: exported %s to %s", {n: v["points"] for n, v in manifest["vectors"].items()}, path)
        return manifest

    def import_export(self, path: str | Path, *, replace: bool = True) -> dict[str, int]:
        """Restore an export: each vector in it replaces the one of the same name (or, with
        ``replace=False``, must not exist yet); other vectors stay. The export's active
        vector becomes active. Returns points imported per vector."""
        path = Path(path)
        manifest = read_manifest(path)
        counts: dict[str, int] = {}
        with self._guard:
            held = set(self.vector_names())
            for name, spec in manifest["vectors"].items():
                check_vector_name(name)
                if name in held:
                    if not replace:
                        raise VectorIndexError(f"the index already holds vector {name!r}; import with replace=True to overwrite it")
                    self._drop_collection(name)
                self.ensure_vector(name, int(spec["dim"]))
                n = 0
                points = iter_points(path, manifest, name)
                while chunk := list(itertools.islice(points, WRITE_BATCH)):
                    self._write(name, [c[0] for c in chunk], np.stack([c[1] for c in chunk]), [c[2] for c in chunk])
                    n += len(chunk)
                counts[name] = n
            if manifest.get("active") in counts:
                self.set_active(manifest["active"])
        log.info("index: imported %s from %s", counts, path)
        return counts

    def snapshot(self) -> list[str]:
        """Server mode: a Qdrant snapshot of each vector collection (``collection/snapshot``
        names, stored by the server). Local mode has none: use ``export``."""
        if self.mode == "local":
            raise VectorIndexError("Qdrant local mode has no snapshots; write an export instead (VectorIndex.export)")
        names = []
        for name in self.vector_names():
            coll = collection_for(self.prefix, name)
            described = self.client.create_snapshot(coll, wait=True)
            if described is not None:
                names.append(f"{coll}/{described.name}")
        return names
