"""One process owns a local index (the compact store, or Qdrant local storage): a lock of our
own, taken before the store opens, and an owner note beside it, so the process that is refused is told who holds it
("the server, pid 4321, since 10:02") and what to do, rather than Qdrant's generic error.

Qdrant takes its own lock later on ``<folder>/.lock``; ours is a different file, because
two locks on one file from one process would conflict with each other.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from .errors import IndexLockedError

log = logging.getLogger(__name__)

LOCK_FILE = "loupe-index.lock"
OWNER_FILE = "loupe-index.owner.json"
SERVER_HINT = ("Local mode allows one process at a time: stop the other process (or let it do "
               "this work: the server runs indexing jobs itself), or run a Qdrant server and set "
               "LOUPE_QDRANT_URL so that several processes can share the index.")


class LocalOwnership:
    """The exclusive right of this object to use the local index in ``folder``."""

    def __init__(self, folder: Path, role: str):
        self.folder = folder
        self.role = role
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        import portalocker  # imported late, as qdrant-client does: it checks writable folders on import

        self.folder.mkdir(parents=True, exist_ok=True)
        f = open(self.folder / LOCK_FILE, "a+")
        try:
            portalocker.lock(f, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.exceptions.LockException:
            f.close()
            raise IndexLockedError(locked_message(self.folder, read_owner(self.folder))) from None
        self._file = f
        note = {"pid": os.getpid(), "role": self.role, "host": socket.gethostname(),
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (self.folder / OWNER_FILE).write_text(json.dumps(note), encoding="utf-8")

    def release(self) -> None:
        if self._file is None:
            return
        import portalocker

        try:
            (self.folder / OWNER_FILE).unlink(missing_ok=True)
            portalocker.unlock(self._file)
        finally:
            self._file.close()
            self._file = None


def read_owner(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def locked_message(folder: Path, owner: dict[str, Any] | None) -> str:
    if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
        return (f"The vector index at {folder} is already open in this process (as {owner.get('role')!r}); "
                f"use that VectorIndex, or close it before opening the index again.")
    if owner:
        who = (f"the {owner.get('role', 'Loupe')} process, pid {owner.get('pid')} on {owner.get('host')}, "
               f"since {owner.get('since')}")
    else:
        who = "probably the server (`loupe serve`) or a running `loupe index`"
    return f"The vector index at {folder} is open in another Loupe process ({who}). {SERVER_HINT}"
