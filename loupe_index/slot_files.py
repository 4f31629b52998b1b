"""Append-only files with one fixed-size row per slot, for the compact store.

Three files per model vector and generation (compaction starts a new generation):
``.vectors`` (float32 unit vectors: the record, read back to rescore and export), ``.codes``
(int8 codes, loaded into memory for the scan) and ``.rows`` (the code step, the point's id
and the filter fields; a slot belongs to one id for ever: a replaced point gets a new slot). ``append`` writes all three and syncs them before returning, so that a row that
SQLite refers to after its commit is on disk. A process killed in the middle of ``append``
leaves a torn or unreferenced tail, which the next open cuts off: the files always end at
the same whole row.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np

from .columns import ROW_DTYPE

ID_BYTES = 36  # a point id: a UUID as text
STORED_ROW = np.dtype([("step", "<f4"), ("id", f"S{ID_BYTES}"), *ROW_DTYPE.descr])
SUFFIXES = (".vectors", ".codes", ".rows")


class SlotFiles:
    """The slot files of one vector; ``rows`` is the number of whole rows in all three."""

    def __init__(self, folder: Path, stem: str, dim: int, *, read_only: bool = False):
        """``read_only``: a reader beside the owning process (``loupe_index.replica``): files
        opened for reading, nothing cut off (the owner may be appending right now)."""
        self.folder, self.stem, self.dim = folder, stem, dim
        self.widths = (4 * dim, dim, STORED_ROW.itemsize)
        # Python file objects rather than bare descriptors: a search still reading an old
        # generation after compaction keeps its files open until it lets them go.
        self._files: list[BinaryIO] = []
        for suffix in SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if read_only:  # files the owner has not made yet (a vector just created) read as empty
                self._files.append(open(path if path.exists() else os.devnull, "rb", buffering=0))
            else:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                self._files.append(os.fdopen(fd, "r+b", buffering=0))
        self.rows = self.whole_rows()
        if read_only:
            return
        for f, w in zip(self._files, self.widths):
            if os.fstat(f.fileno()).st_size != self.rows * w:
                os.ftruncate(f.fileno(), self.rows * w)

    # --- writing ---------------------------------------------------------------------------
    def append(self, vectors: np.ndarray, codes: np.ndarray, rows: np.ndarray, *, sync: bool = True) -> int:
        """Write rows at the end of all three files; returns the first new slot."""
        start = self.rows
        parts = (np.ascontiguousarray(vectors, dtype="<f4"), np.ascontiguousarray(codes, dtype=np.int8),
                 np.ascontiguousarray(rows, dtype=STORED_ROW))
        for f, width, data in zip(self._files, self.widths, parts):
            _write_all(f.fileno(), memoryview(data).cast("B"), start * width)
        if sync:
            self.sync()
        self.rows = start + len(rows)
        return start

    def whole_rows(self) -> int:
        """Whole rows in all three files now."""
        return min(os.fstat(f.fileno()).st_size // w for f, w in zip(self._files, self.widths))

    def sync(self) -> None:
        for f in self._files:
            os.fdatasync(f.fileno())

    # --- reading ---------------------------------------------------------------------------
    def read_vectors(self, slots: Iterable[int] | np.ndarray) -> np.ndarray:
        return self._read(0, np.asarray(slots, dtype=np.int64)).view("<f4").reshape(-1, self.dim)

    def read_codes(self, slots: np.ndarray) -> np.ndarray:
        return self._read(1, np.asarray(slots, dtype=np.int64)).view(np.int8).reshape(-1, self.dim)

    def read_rows(self, slots: np.ndarray) -> np.ndarray:
        return self._read(2, np.asarray(slots, dtype=np.int64)).view(STORED_ROW)

    def read_all_codes(self, into: np.ndarray) -> None:
        """Codes of slots ``0 .. len(into)`` straight into ``into`` (a C-contiguous int8 array)."""
        if not into.size:  # a vector with no rows yet (memoryview cannot cast an empty view)
            return
        _read_all(self._files[1], memoryview(into).cast("B"), f"{self.stem}.codes")

    def read_all_rows(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=STORED_ROW)
        if not n:
            return out
        _read_all(self._files[2], memoryview(out).cast("B"), f"{self.stem}.rows")
        return out

    def _read(self, which: int, slots: np.ndarray) -> np.ndarray:
        """Rows at ``slots`` (any order), reading each run of consecutive slots at once."""
        width = self.widths[which]
        out = np.empty(len(slots) * width, dtype=np.uint8)
        if not len(slots):
            return out
        fd = self._files[which].fileno()
        order = np.argsort(slots, kind="stable")
        ordered = slots[order]
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        buffer = np.empty(len(slots) * width, dtype=np.uint8)
        at = 0
        for run in np.split(ordered, breaks):
            size = len(run) * width
            data = os.pread(fd, size, int(run[0]) * width)
            if len(data) != size:
                raise OSError(f"{self.stem}{SUFFIXES[which]}: slot {int(run[-1])} is beyond the end of the file")
            buffer[at:at + size] = np.frombuffer(data, dtype=np.uint8)
            at += size
        out.reshape(-1, width)[order] = buffer.reshape(-1, width)
        return out

    # --- life --------------------------------------------------------------------------------
    def close(self) -> None:
        for f in self._files:
            f.close()

    def remove(self) -> None:
        """Delete the files (a search still holding this object can go on reading them)."""
        for suffix in SUFFIXES:
            (self.folder / f"{self.stem}{suffix}").unlink(missing_ok=True)


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def _read_all(f: BinaryIO, into: memoryview, name: str) -> None:
    f.seek(0)
    while len(into):
        got = f.readinto(into)
        if not got:
            raise OSError(f"{name}: shorter than expected")
        into = into[got:]
