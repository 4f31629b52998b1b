"""Per-client rate limits for endpoints anyone may call (the lens's statistics).

A token bucket per client address, in this process's memory only: addresses are never
written anywhere, and buckets of clients gone quiet are dropped. A request over the limit is
answered 429 with ``Retry-After`` (seconds). Behind a proxy every visitor shares the proxy's
address unless the proxy is trusted (not configured here): give the limit room for that.
"""

from __future__ import annotations

import math
import threading
import time

from .errors import ApiError

MAX_CLIENTS = 50_000  # buckets kept; the oldest go first when more clients appear


class RateLimiter:
    """``per_minute`` requests a minute per client, with bursts of up to ``burst``."""

    def __init__(self, per_minute: float, burst: int | None = None, clock=time.monotonic) -> None:  # noqa: ANN001
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, math.ceil(per_minute)))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """0 when ``client`` may go on now (and one token is taken), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            if not wait:
                tokens -= 1
            self._buckets[client] = (tokens, now)  # re-inserted: the dict stays in order of last use
            if len(self._buckets) > MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            return wait

    def check(self, client: str, what: str) -> None:
        """Raise 429 ``rate_limited`` with Retry-After when ``client`` is over the limit."""
        wait = self.wait_s(client)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, "rate_limited", f"too many {what} from this client: try again in {seconds} s",
                           headers={"Retry-After": str(seconds)})
