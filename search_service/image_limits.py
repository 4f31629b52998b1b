"""Limits on the image work of requests: how much at once, and of what shape.

``ImageGate``: how many requests do image work (decode, crop, model run) at once. At most
``slots`` hold a slot; up to ``QUEUE_PER_SLOT`` times as many wait up to ``wait_s`` for one,
and the rest are refused at once with ``Busy`` (answered 503 with Retry-After). A PNG is
decoded whole, 4 bytes a pixel, before it is reduced, so the slots bound the memory uploads
can take: about slots x max_upload_pixels x 4 bytes. As a slot is given back, memory the
allocator holds free is handed back to the system: glibc otherwise keeps the freed blocks of
large images in the arena of the thread that used them, where the next request's thread
does not find them, and the process grows with each burst of uploads and stays large.

``check_aspect``: the model enlarges an image's *shorter* side to its input size, so a 1 x
80,000 image would become 256 x 20 million pixels on the way in; images and regions with one
side more than ``MAX_ASPECT`` times the other are refused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from .request_errors import Busy, InvalidRequest

QUEUE_PER_SLOT = 4
RETRY_AFTER_S = 5
MAX_ASPECT = 20


class ImageGate:
    def __init__(self, slots: int, wait_s: float, *, queue: int | None = None) -> None:
        self.slots = max(1, slots)
        self.wait_s = max(0.0, wait_s)
        self.queue = QUEUE_PER_SLOT * self.slots if queue is None else queue
        self._free = threading.Semaphore(self.slots)
        self._lock = threading.Lock()
        self._waiting = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the duration of the block; ``Busy`` when none can be had."""
        if not self._free.acquire(blocking=False):
            self._wait_for_slot()
        try:
            yield
        finally:
            release_free_memory()
            self._free.release()

    def _wait_for_slot(self) -> None:
        with self._lock:
            if self._waiting >= self.queue:
                raise self._refusal(f"{self._waiting} more are waiting already")
            self._waiting += 1
        try:
            acquired = self._free.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise self._refusal(f"none came free within {self.wait_s:g} s")

    def _refusal(self, why: str) -> Busy:
        return Busy(f"the server is busy with other image requests ({self.slots} at a time; {why}): "
                    f"try again in {RETRY_AFTER_S} s", retry_after_s=RETRY_AFTER_S)


def check_aspect(width: int, height: int, *, what: str, field: str) -> None:
    """InvalidRequest when one side is more than MAX_ASPECT times the other."""
    if min(width, height) * MAX_ASPECT < max(width, height):
        raise InvalidRequest(f"{what} is {width}x{height} pixels: one side may be at most {MAX_ASPECT} times the "
                             "other (the model enlarges the shorter side to its input size)",
                             field=field, code="unsupported_shape")


def release_free_memory() -> None:
    """Give memory that is free inside the allocator back to the system (glibc; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None
