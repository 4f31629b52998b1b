"""The compact store: local mode's home for vectors, sized for a museum on one small machine.

Files, in ``<index_dir>/compact/``:

- ``store.sqlite`` (WAL): the vector names and dimensions, the active vector, the codes of
  filter values, and per vector a table of points: id, slot, payload (JSON), and the
  columns that deletes and ``indexed_keys`` look up (content_key, manifest, kind).
- per vector, append-only slot files (``slot_files``): float32 unit vectors, int8 codes,
  filter fields.

Search. The int8 codes and filter fields of every point are in memory (about 560 bytes a
point at 512 dimensions); a query masks by filter, scans the codes (``quantized``), takes
the best ``max(MIN_CANDIDATES, RESCORE_FACTOR x wanted)`` and rescores those with their
float32 vectors read from disk, so scores are exact and the order is the exact order
wherever the true best points are among the candidates (recall@10 measured at 1.0 over
500,000 points). Where the filter leaves fewer points than candidates, all of them are
rescored: the answer is exact.

Writes. A batch is appended to the slot files and synced, then committed to SQLite in one
transaction: the commit is when a point exists, so a process killed at any moment loses no
committed point, and what it left half-written is never referred to (the next open cuts it
off). A replaced point takes a new slot and its old slot dies; when dead slots are as many
as the living, ``compact`` rewrites the files into a new generation and switches in one commit.

Readers never wait for the writer: a search works on a snapshot of the in-memory arrays
(``_Arrays``: codes, ids, filter fields of each slot) that writes extend and then publish,
and reads the current payloads by id through its own SQLite connection (WAL lets readers
run beside the one writer).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Sequence

import numpy as np

from loupe_core.settings import Settings

from .columns import ROW_DTYPE, FilterColumns, Vocabulary
from .errors import VectorIndexError
from .export import ExportedPoint
from .filters import SearchFilters
from .quantized import Scanner, quantize
from .results import SearchHit
from .slot_files import ID_BYTES, STORED_ROW, SlotFiles
from .store import DELETE_FIELDS, Store

log = logging.getLogger(__name__)

DB_FILE = "store.sqlite"
SCHEMA_VERSION = 1
MIN_CANDIDATES = 100  # rescored at least, whatever the page size
RESCORE_FACTOR = 4  # rescored per hit wanted (offset + limit)
GATHER_BELOW = 1 / 3  # scan only the matching rows when a filter keeps less than this share
COMPACT_MIN_DEAD = 50_000  # dead slots worth a rewrite (once they also outnumber the living)
SQL_BATCH = 900  # values per IN (...) list
EXPORT_PAGE = 4_096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS vectors (
    name TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, dim INTEGER NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS terms (
    field TEXT NOT NULL, value TEXT NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (field, value));
"""


def _points_schema(table: str) -> str:
    return f"""
    CREATE TABLE {table} (
        id TEXT NOT NULL UNIQUE, slot INTEGER NOT NULL, content_key TEXT, manifest TEXT, kind TEXT,
        payload TEXT NOT NULL);
    CREATE INDEX {table}_slot ON {table} (slot);
    CREATE INDEX {table}_content_key ON {table} (content_key);
    CREATE INDEX {table}_manifest ON {table} (manifest);
    CREATE INDEX {table}_kind ON {table} (kind, content_key);
    """


@dataclass(frozen=True)
class _Arrays:
    """What searches read: slots ``0 .. n`` of one vector, never changed once published.
    Writers fill rows beyond ``n`` (invisible here), then publish a new ``_Arrays`` with a
    larger ``n`` and a new copy of ``alive`` (half a megabyte at 500,000 points)."""

    codes: np.ndarray  # (capacity, dim) int8
    steps: np.ndarray  # (capacity,) float32
    ids: np.ndarray  # (capacity,) the point id of each slot, ASCII bytes
    columns: FilterColumns
    alive: np.ndarray  # (capacity,) bool
    files: SlotFiles
    n: int

    @property
    def capacity(self) -> int:
        return len(self.alive)


@dataclass
class _Vector:
    name: str
    number: int
    dim: int
    generation: int
    files: SlotFiles
    count: int
    arrays: _Arrays | None = None
    # Odd while a compaction renumbers slots; a lookup by slot that saw it change starts again.
    epoch: int = 0

    @property
    def table(self) -> str:
        return f"points_{self.number}"


def _stem(number: int, generation: int) -> str:
    return f"v{number}.g{generation}"


class CompactStore(Store):
    mode = "local"
    kind = "compact"
    exact_search = False  # approximate first pass, exact rescoring

    def __init__(self, folder: Path, settings: Settings, *, compact_min_dead: int = COMPACT_MIN_DEAD,
                 read_only: bool = False):
        """``read_only``: a reader of an index another process owns and writes
        (``loupe_index.replica``): a snapshot of the moment it opens; writes raise."""
        self.folder = folder
        self.location = str(folder)
        self.local_limit = settings.local_points_warning
        self.compact_min_dead = compact_min_dead
        self.read_only = read_only
        if read_only and not (folder / DB_FILE).is_file():
            raise VectorIndexError(f"no index at {folder} yet: the process that owns the index creates it "
                                   "(`loupe worker --index-owner`, or `loupe serve`)")
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()  # writes, loading, compaction
        self._db = self._connect()
        self._readers: list[sqlite3.Connection] = []  # every reading connection, to close
        self._idle_readers: list[sqlite3.Connection] = []  # those not in use now
        self._scanner = Scanner(settings.index_search_threads or _cores())
        self._closed = False
        if not read_only:
            self._db.executescript(_SCHEMA)
        with self._transaction(read=read_only):
            version = self._meta("schema_version")
            if version is None and not read_only:
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            elif version is not None and int(version) > SCHEMA_VERSION:
                raise VectorIndexError(f"the index at {folder} was written by a newer Loupe (format {version}); "
                                       f"upgrade Loupe to open it")
            self._vocab = Vocabulary(self._db.execute("SELECT field, value, code FROM terms"))
            self._vectors: dict[str, _Vector] = {}
            for name, number, dim, generation in self._db.execute(
                    "SELECT name, number, dim, generation FROM vectors").fetchall():
                if not read_only:
                    self._remove_other_generations(number, generation)
                files = SlotFiles(folder, _stem(number, generation), dim, read_only=read_only)
                count = self._db.execute(f"SELECT COUNT(*) FROM points_{number}").fetchone()[0]
                self._vectors[name] = _Vector(name, number, dim, generation, files, count)

    def _connect(self, *, reader: bool = False) -> sqlite3.Connection:
        # Autocommit: transactions are explicit (``_transaction``), so DDL cannot commit early.
        if self.read_only:
            conn = sqlite3.connect(f"{(self.folder / DB_FILE).resolve().as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False, timeout=30, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            return conn
        conn = sqlite3.connect(self.folder / DB_FILE, check_same_thread=False, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # A commit survives the process being killed; files are synced before it (see module doc).
        conn.execute("PRAGMA synchronous=NORMAL")
        if reader:
            conn.execute("PRAGMA query_only=ON")
        return conn

    @contextlib.contextmanager
    def _transaction(self, *, read: bool = False) -> Iterator[None]:
        """A write transaction, or with ``read`` one consistent read."""
        if not read:
            self._check_writable()
        self._db.execute("BEGIN" if read else "BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A reading connection of its own for the caller (WAL: reads never wait for the
        writer); as many are opened as searches run at once, and reused."""
        self._check_open()
        try:
            conn = self._idle_readers.pop()
        except IndexError:
            conn = self._connect(reader=True)
            self._readers.append(conn)
        try:
            yield conn
        finally:
            self._idle_readers.append(conn)

    def _check_writable(self) -> None:
        if self.read_only:
            raise VectorIndexError(f"the index at {self.folder} is open for reading only (local_index_access = "
                                   "reader): the process that owns it writes (`loupe worker --index-owner`)")

    def _check_open(self) -> None:
        if self._closed:
            raise VectorIndexError("the vector index is closed; open it again with VectorIndex.open(settings)")

    @property
    def write_lock(self) -> ContextManager[Any]:
        return self._lock

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._scanner.close()
            for conn in self._readers:
                conn.close()
            self._db.close()
            for vec in self._vectors.values():
                vec.files.close()
            self._vectors = {}

    # --- meta ----------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                             "value = excluded.value", (key, value))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            self._check_open()
            return self._meta(key)

    def put_meta(self, key: str, value: str | None) -> None:
        with self._lock, self._transaction():
            self._check_open()
            self._set_meta(key, value)

    # --- model vectors -------------------------------------------------------------------
    def vector_names(self) -> list[str]:
        self._check_open()
        return sorted(self._vectors)

    def vector_dim(self, name: str) -> int | None:
        self._check_open()
        vec = self._vectors.get(name)
        return vec.dim if vec else None

    def create_vector(self, name: str, dim: int) -> bool:
        with self._lock:
            self._check_open()
            self._check_writable()
            if name in self._vectors:
                return False
            number = self._db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM vectors").fetchone()[0]
            self._remove_other_generations(number, 0)  # leftovers of a vector dropped by a killed process
            with self._transaction():
                self._db.execute("INSERT INTO vectors (name, number, dim, generation) VALUES (?, ?, ?, 0)",
                                 (name, number, dim))
                for statement in _points_schema(f"points_{number}").split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            files = SlotFiles(self.folder, _stem(number, 0), dim)
            self._vectors[name] = _Vector(name, number, dim, 0, files, 0)
            return True

    def drop_vector(self, name: str) -> None:
        with self._lock:
            vec = self._require(name)
            with self._transaction():
                self._db.execute("DELETE FROM vectors WHERE name = ?", (name,))
                self._db.execute(f"DROP TABLE {vec.table}")
                if self._meta("active") == name:
                    self._set_meta("active", None)
            del self._vectors[name]
            vec.files.remove()

    def active(self) -> str | None:
        self._check_open()
        return self._meta("active")

    def set_active(self, name: str | None) -> None:
        with self._lock, self._transaction():
            self._check_open()
            self._set_meta("active", name)

    def _require(self, name: str) -> _Vector:
        self._check_open()
        vec = self._vectors.get(name)
        if vec is None:
            raise VectorIndexError(f"the index holds no vector {name!r}")
        return vec

    def _remove_other_generations(self, number: int, generation: int) -> None:
        """Delete slot files of vector ``number`` that are not of ``generation`` (left by an
        interrupted compaction, or by a dropped vector)."""
        for path in self.folder.glob(f"v{number}.g*"):
            if path.name.split(".")[1] != f"g{generation}":
                path.unlink(missing_ok=True)

    # --- writing -------------------------------------------------------------------------
    def write(self, name: str, ids: Sequence[str], unit: np.ndarray, payloads: Sequence[dict[str, Any]]) -> None:
        last = {pid: i for i, pid in enumerate(ids)}  # an id twice in one batch: the last one counts
        if len(last) < len(ids):
            keep = sorted(last.values())
            ids, unit, payloads = [ids[i] for i in keep], unit[keep], [payloads[i] for i in keep]
        bad = next((pid for pid in ids if len(pid) > ID_BYTES or not pid.isascii()), None)
        if bad is not None:
            raise VectorIndexError(f"point id {bad!r} is not a UUID; Loupe's point ids are (loupe_index.point_id)")
        with self._lock:
            vec = self._require(name)
            self._check_writable()
            codes, steps = quantize(unit)
            fields, added = self._vocab.encode(payloads)
            rows = np.empty(len(ids), dtype=STORED_ROW)
            rows["step"] = steps
            rows["id"] = [pid.encode("ascii") for pid in ids]
            for f in ROW_DTYPE.names:
                rows[f] = fields[f]
            try:
                start = vec.files.append(unit, codes, rows)
                with self._transaction():
                    old = self._slots_of(vec, ids)
                    self._db.executemany("INSERT INTO terms (field, value, code) VALUES (?, ?, ?)", added)
                    self._db.executemany(
                        f"INSERT INTO {vec.table} (id, slot, content_key, manifest, kind, payload) "
                        f"VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, "
                        f"content_key = excluded.content_key, manifest = excluded.manifest, kind = excluded.kind, "
                        f"payload = excluded.payload",
                        [(pid, start + i, p.get("content_key"), p.get("manifest"), p.get("kind"),
                          json.dumps(p, ensure_ascii=False, separators=(",", ":")))
                         for i, (pid, p) in enumerate(zip(ids, payloads))])
            except BaseException:
                self._vocab.forget(added)
                raise
            vec.count += len(ids) - len(old)
            if vec.arrays is not None:
                self._publish(vec, start, codes, steps, rows, np.fromiter(old.values(), dtype=np.int64))
            self._compact_if_worth_it(vec)

    def _slots_of(self, vec: _Vector, ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(ids), SQL_BATCH):
            chunk = ids[i:i + SQL_BATCH]
            found.update(self._db.execute(f"SELECT id, slot FROM {vec.table} WHERE id IN "
                                          f"({','.join('?' * len(chunk))})", chunk).fetchall())
        return found

    def _publish(self, vec: _Vector, start: int, codes: np.ndarray, steps: np.ndarray, rows: np.ndarray,
                 dead: np.ndarray) -> None:
        """Show committed rows to searches, and retire the old slots of replaced points, in
        one step: a search sees a point before or after, never neither nor both."""
        arrays = vec.arrays
        assert arrays is not None
        end = start + len(codes)
        if end > arrays.capacity:
            arrays = _grown(arrays, max(end, arrays.capacity * 3 // 2 + 1024))
        arrays.codes[start:end] = codes
        arrays.steps[start:end] = steps
        arrays.ids[start:end] = rows["id"]
        arrays.columns.set(start, rows)
        alive = arrays.alive.copy()
        alive[start:end] = True
        alive[dead] = False
        vec.arrays = dataclasses.replace(arrays, alive=alive, n=max(arrays.n, end))

    def delete_where(self, field: str, values: Sequence[str]) -> int:
        if field not in DELETE_FIELDS:
            raise ValueError(f"points are deleted by {', '.join(DELETE_FIELDS)}, not {field!r}")
        values = sorted(set(values))
        with self._lock:
            self._check_open()
            dead: dict[str, list[int]] = {}
            with self._transaction():
                for vec in self._vectors.values():
                    slots = dead.setdefault(vec.name, [])
                    for i in range(0, len(values), SQL_BATCH):
                        chunk = values[i:i + SQL_BATCH]
                        slots += [r[0] for r in self._db.execute(
                            f"DELETE FROM {vec.table} WHERE {field} IN ({','.join('?' * len(chunk))}) RETURNING slot",
                            chunk)]
            for name, slots in dead.items():
                vec = self._vectors[name]
                vec.count -= len(slots)
                if vec.arrays is not None and slots:
                    alive = vec.arrays.alive.copy()
                    alive[np.array(slots, dtype=np.int64)] = False
                    vec.arrays = dataclasses.replace(vec.arrays, alive=alive)
                self._compact_if_worth_it(vec)
            return sum(len(s) for s in dead.values())

    # --- compaction ----------------------------------------------------------------------
    def _compact_if_worth_it(self, vec: _Vector) -> None:
        dead = vec.files.rows - vec.count
        if dead >= max(self.compact_min_dead, vec.count):
            self.compact(vec.name)

    def compact(self, name: str) -> None:
        """Rewrite the slot files of ``name`` without dead slots, as a new generation that one
        commit switches to (a process killed meanwhile leaves the old generation in force)."""
        with self._lock:
            vec = self._require(name)
            self._check_writable()
            slots = np.fromiter((r[0] for r in self._db.execute(f"SELECT slot FROM {vec.table} ORDER BY slot")),
                                dtype=np.int64, count=vec.count)
            generation = vec.generation + 1
            self._remove_other_generations(vec.number, vec.generation)
            new = SlotFiles(self.folder, _stem(vec.number, generation), vec.dim)
            try:
                for i in range(0, len(slots), EXPORT_PAGE):
                    chunk = slots[i:i + EXPORT_PAGE]
                    new.append(vec.files.read_vectors(chunk), vec.files.read_codes(chunk), vec.files.read_rows(chunk),
                               sync=False)
                new.sync()
                self._db.execute("CREATE TEMP TABLE IF NOT EXISTS remap (old INTEGER PRIMARY KEY, new INTEGER)")
                vec.epoch += 1  # from here on, slot numbers in SQLite may not be those of vec.arrays
                with self._transaction():
                    self._db.execute("DELETE FROM remap")
                    self._db.executemany("INSERT INTO remap (old, new) VALUES (?, ?)",
                                         zip(slots.tolist(), range(len(slots))))
                    self._db.execute(f"UPDATE {vec.table} SET slot = (SELECT new FROM remap WHERE old = slot)")
                    self._db.execute("UPDATE vectors SET generation = ? WHERE name = ?", (generation, name))
                    self._db.execute("DELETE FROM remap")
            except BaseException:
                if vec.epoch % 2:  # rolled back: nothing was renumbered
                    vec.epoch += 1
                new.close()
                new.remove()
                raise
            old_files = vec.files
            vec.files, vec.generation = new, generation
            if vec.arrays is not None:
                vec.arrays = self._load(vec)
            vec.epoch += 1
            old_files.remove()  # searches still holding the old arrays keep reading the old files
            log.info("index: compacted %s from %d slots to %d", name, old_files.rows, new.rows)

    # --- reading -------------------------------------------------------------------------
    def _arrays(self, vec: _Vector) -> _Arrays:
        arrays = vec.arrays
        if arrays is not None:
            return arrays
        with self._lock:  # no write slips in while loading
            if vec.arrays is None:
                vec.arrays = self._load(vec)
            return vec.arrays

    def _load(self, vec: _Vector) -> _Arrays:
        if self.read_only:  # the owner writes files before it commits: read the slots first
            slots = np.fromiter((r[0] for r in self._db.execute(f"SELECT slot FROM {vec.table}")), dtype=np.int64)
            vec.count = len(slots)
            vec.files.rows = vec.files.whole_rows()
        else:
            slots = None
        files, n = vec.files, vec.files.rows
        capacity = n + max(1024, n // 4)
        codes = np.empty((capacity, vec.dim), dtype=np.int8)
        files.read_all_codes(codes[:n])
        rows = files.read_all_rows(n)
        steps = np.zeros(capacity, dtype=np.float32)
        steps[:n] = rows["step"]
        ids = np.zeros(capacity, dtype=STORED_ROW["id"])
        ids[:n] = rows["id"]
        columns = FilterColumns(capacity)
        columns.set(0, rows)
        alive = np.zeros(capacity, dtype=bool)
        if slots is None:
            slots = np.fromiter((r[0] for r in self._db.execute(f"SELECT slot FROM {vec.table}")), dtype=np.int64,
                                count=vec.count)
        if len(slots) and slots.max() >= n:
            raise VectorIndexError(f"the index at {self.folder} is damaged: {vec.name} refers to slot {slots.max()} "
                                   f"but its files hold {n}; restore an export (VectorIndex.import_export)")
        alive[slots] = True
        log.debug("index: loaded %d points of %s (%d slots)", len(slots), vec.name, n)
        return _Arrays(codes, steps, ids, columns, alive, files, n)

    def warm(self, name: str) -> None:
        self._arrays(self._require(name))

    def count(self, name: str, filters: SearchFilters | None = None) -> int:
        vec = self._require(name)
        if filters is None or filters.is_empty():
            return vec.count
        arrays = self._arrays(vec)
        mask = arrays.columns.mask(filters, self._vocab, arrays.n)
        return int(np.count_nonzero(arrays.alive[: arrays.n] & mask))

    def indexed_keys(self, name: str) -> set[str]:
        vec = self._require(name)
        with self._reading() as db:
            return {r[0] for r in db.execute(
                f"SELECT DISTINCT content_key FROM {vec.table} WHERE kind = 'image' AND content_key IS NOT NULL")}

    def _consistently(self, vec: _Vector, read: Callable[[], Any]) -> Any:
        """``read()`` again until no compaction renumbered slots meanwhile."""
        while True:
            epoch = vec.epoch
            if epoch % 2:  # a compaction is switching over: wait for it
                with self._lock:
                    continue
            result = read()
            if vec.epoch == epoch:
                return result

    def vector_of(self, name: str, point_id: str) -> np.ndarray | None:
        vec = self._require(name)

        def read() -> np.ndarray | None:
            files = vec.files
            with self._reading() as db:
                row = db.execute(f"SELECT slot FROM {vec.table} WHERE id = ?", (point_id,)).fetchone()
            return None if row is None else files.read_vectors([row[0]])[0].copy()

        return self._consistently(vec, read)

    def search(self, name: str, query: np.ndarray, filters: SearchFilters, *, offset: int, limit: int,
               one_per_canvas: bool) -> list[SearchHit]:
        vec = self._require(name)
        arrays = self._arrays(vec)  # a consistent snapshot: its slots, ids and files belong together
        n = arrays.n
        q = (query / np.linalg.norm(query)).astype(np.float32)
        mask = arrays.columns.mask(filters, self._vocab, n)
        keep = arrays.alive[:n] if mask is None else arrays.alive[:n] & mask
        selected = int(np.count_nonzero(keep))
        need = offset + limit
        if selected == 0 or offset >= selected:
            return []
        if not one_per_canvas:
            slots, scores = self._ranked(arrays, q, keep, selected, max(MIN_CANDIDATES, RESCORE_FACTOR * need))
        else:  # the best `k` points hold the best point of their canvases; widen until enough canvases
            canvas = arrays.columns.codes("canvas", n)
            k = max(8 * need, 256)
            while True:
                slots, scores = self._ranked(arrays, q, keep, selected, k)
                grouped = canvas[slots] >= 0  # as Qdrant: no canvas, no group
                slots, scores = slots[grouped], scores[grouped]
                _, first = np.unique(canvas[slots], return_index=True)
                if len(first) >= need or k >= selected:
                    break
                k *= 4
            first = np.sort(first)
            slots, scores = slots[first], scores[first]
        ids = [pid.decode("ascii") for pid in arrays.ids[slots[:need]]]
        payloads = self._payloads(vec, ids[offset:need])
        return [SearchHit(pid, float(score), payloads[pid])
                for pid, score in zip(ids[offset:need], scores[offset:need].tolist())
                if pid in payloads]  # else deleted meanwhile

    def _ranked(self, arrays: _Arrays, q: np.ndarray, keep: np.ndarray, selected: int,
                k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best candidates by exact float32 score, best first (ties: lower slot first)."""
        n = arrays.n
        if selected <= k:
            candidates = np.flatnonzero(keep)
        elif selected < GATHER_BELOW * n:
            candidates = self._scanner.top(arrays.codes, arrays.steps, q, k, rows=np.flatnonzero(keep))
        else:
            candidates = self._scanner.top(arrays.codes[:n], arrays.steps[:n], q, k, mask=keep)
        scores = arrays.files.read_vectors(candidates) @ q
        order = np.lexsort((candidates, -scores))
        return candidates[order], scores[order]

    def _payloads(self, vec: _Vector, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Current payloads by id (the committed ones: a point deleted meanwhile has none)."""
        if not ids:
            return {}
        with self._reading() as db:
            rows = db.execute(f"SELECT id, payload FROM {vec.table} WHERE id IN ({','.join('?' * len(ids))})",
                              ids).fetchall()
        return {pid: json.loads(payload) for pid, payload in rows}

    def points(self, name: str) -> Iterator[ExportedPoint]:
        vec = self._require(name)
        with self._reading() as db:  # one statement: a consistent snapshot throughout
            cursor = db.execute(f"SELECT slot, id, payload FROM {vec.table} ORDER BY slot")
            while page := cursor.fetchmany(EXPORT_PAGE):
                vectors = vec.files.read_vectors(np.array([r[0] for r in page], dtype=np.int64))
                for (_, pid, payload), vector in zip(page, vectors):
                    yield pid, vector, json.loads(payload)


def _grown(arrays: _Arrays, capacity: int) -> _Arrays:
    used = arrays.capacity
    codes = np.empty((capacity, arrays.codes.shape[1]), dtype=np.int8)
    codes[:used] = arrays.codes
    steps = np.zeros(capacity, dtype=np.float32)
    steps[:used] = arrays.steps
    ids = np.zeros(capacity, dtype=arrays.ids.dtype)
    ids[:used] = arrays.ids
    alive = np.zeros(capacity, dtype=bool)
    alive[:used] = arrays.alive
    return dataclasses.replace(arrays, codes=codes, steps=steps, ids=ids, alive=alive,
                               columns=arrays.columns.resized(capacity, used))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
