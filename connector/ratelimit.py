"""Per-host politeness: a minimum interval between request starts, and a connection cap.

A harvest runs many threads, but a small museum's image server should see Loupe as one
well-behaved visitor: at most ``rate_limit_per_host`` request starts per second and at most
``concurrency_per_host`` requests in flight per host, whatever the number of workers.
Hosts are independent: a slow host never delays another one.

Slots are *reserved* under a lock (each caller gets the next free start time) and waited
for outside it, so threads queue fairly without busy-waiting. ``answered`` then counts the
interval again from the moment the answer began to arrive: the server had the request by
then, so however late a thread was scheduled between its slot and its send, the server
never sees two requests closer than the interval (measured: ``loupe bench harvest --hosts``). ``defer`` pushes the next
free start time of a host (Retry-After, backoff) for every thread at once, and
``raise_interval`` applies a robots.txt Crawl-delay.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass
class _HostState:
    semaphore: threading.BoundedSemaphore
    next_start: float = 0.0
    # Crawl-delay (or Request-rate) from robots.txt; only ever raises the interval.
    min_interval: float = 0.0


class HostRateLimiter:
    """Thread-safe per-host interval and concurrency limiter.

    ``requests_per_second <= 0`` means no rate limit (the concurrency cap still applies).
    """

    def __init__(
        self,
        requests_per_second: float,
        concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.concurrency = max(1, int(concurrency))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostState] = {}

    def _state(self, host: str) -> _HostState:
        # Caller holds self._lock.
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(threading.BoundedSemaphore(self.concurrency))
        return state

    def interval(self, host: str) -> float:
        with self._lock:
            return max(self.base_interval, self._state(host.lower()).min_interval)

    def ready_in(self, host: str) -> float:
        """Seconds until ``host``'s next request may start (0: now). A scheduler asks this to
        hand a thread work for a host that is ready rather than one it would sleep on."""
        with self._lock:
            state = self._hosts.get(host.lower())
            return 0.0 if state is None else max(0.0, state.next_start - self._clock())

    def answered(self, host: str) -> None:
        """The answer to a request to ``host`` has begun to arrive: the next request starts
        one interval from now at the earliest."""
        with self._lock:
            state = self._state(host.lower())
            state.next_start = max(state.next_start, self._clock() + max(self.base_interval, state.min_interval))

    def raise_interval(self, host: str, seconds: float) -> None:
        """Never start two requests to ``host`` closer than ``seconds`` (robots Crawl-delay)."""
        with self._lock:
            state = self._state(host.lower())
            state.min_interval = max(state.min_interval, float(seconds))

    def defer(self, host: str, seconds: float) -> None:
        """Start no request to ``host`` in the next ``seconds`` (Retry-After, backoff)."""
        with self._lock:
            state = self._state(host.lower())
            state.next_start = max(state.next_start, self._clock() + seconds)

    @contextmanager
    def slot(self, host: str) -> Iterator[float]:
        """Hold one of the host's connections and wait for its next start time.

        Yields the seconds spent waiting for the start time."""
        with self._lock:
            state = self._state(host.lower())
        state.semaphore.acquire()
        try:
            with self._lock:
                now = self._clock()
                start = max(now, state.next_start)
                state.next_start = start + max(self.base_interval, state.min_interval)
            wait = start - now
            if wait > 0:
                self._sleep(wait)
            yield wait
        finally:
            state.semaphore.release()
