"""Per-client rate limits on the anonymous endpoints that run a model (``@model_rate_limited``
in ``image_work``: text, image and composed search, tagging), and on the lens's statistics
(``api.lens_stats``: batches of visitors' events; its own limiter, named ``lens``).

Each client may make ``model_rate_per_minute`` such requests a minute on average, and
``model_rate_burst`` in a row after a pause; beyond that it is answered 429 with Retry-After
(whole seconds until its next request would be accepted). A request with a valid API key is
not limited (a curator's tools, an aggregator given a key). The algorithm is GCRA (a token
bucket stored as one time per client: the "theoretical arrival time"), exact and O(1).

Where the counts live: with ``redis_url`` set (several gunicorn workers, several API
containers) in Redis, so that a client meets one limit whichever process answers; otherwise
in this process's memory (the embedded default is one process). If Redis cannot be reached
the request is let through and a warning logged: a limiter must not take search down.

Who a client is: the address the connection comes from, or behind ``trusted_proxy_hops``
reverse proxies the address that many entries from the right of ``X-Forwarded-For`` (each
proxy appends the address it saw; entries further left are the client's own word and can
be forged). IPv6 clients are counted per /64, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from typing import Callable, Protocol

import redis
from flask import Request

from loupe_core.settings import Settings

from .request_errors import RateLimited

log = logging.getLogger(__name__)
MAX_CLIENTS = 100_000  # memory: forget the oldest beyond this many clients


class Limiter(Protocol):
    def wait_s(self, client: str) -> float:
        """0 when the client may go now (the request is counted), else seconds to wait."""


class MemoryLimiter:
    """GCRA in this process's memory."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute
        self.burst = max(1, burst)
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        now = self.clock()
        with self._lock:
            tat = max(self._tat.get(client, now), now)
            allowed_at = tat + self.interval - self.burst * self.interval
            if now < allowed_at:
                return allowed_at - now
            self._tat.pop(client, None)  # re-inserted last: the dict stays in order of use
            self._tat[client] = tat + self.interval
            if len(self._tat) > MAX_CLIENTS:
                del self._tat[next(iter(self._tat))]
            return 0.0


# GCRA in Redis, atomic: KEYS[1] the client's key; ARGV interval and burst. Redis's own clock,
# so every API process agrees. Returns the wait in seconds as text ("0": go).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - burst * interval
if now < allowed_at then return tostring(allowed_at - now) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil((tat + interval - now) * 1000) + 1000)
return '0'
"""


class RedisLimiter:
    """GCRA in Redis, shared by every API process."""

    def __init__(self, url: str, per_minute: float, burst: int, prefix: str = "loupe:ratelimit:") -> None:
        self.interval = 60.0 / per_minute
        self.burst = max(1, burst)
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_GCRA)

    def wait_s(self, client: str) -> float:
        try:
            return float(self._script(keys=[self.prefix + client], args=[self.interval, self.burst]))
        except redis.RedisError as e:
            log.warning("rate limit not checked (Redis unreachable: %s); request let through", e)
            return 0.0

    def close(self) -> None:
        self._redis.close()


def make_limiter(settings: Settings, per_minute: float | None = None, burst: int | None = None,
                 name: str = "model") -> Limiter | None:
    """The limiter the settings ask for (by default the model endpoints': ``model_rate_per_minute``,
    ``model_rate_burst``); None when its rate is 0 (off). ``name`` keeps limiters apart in Redis."""
    per_minute = settings.model_rate_per_minute if per_minute is None else per_minute
    burst = settings.model_rate_burst if burst is None else burst
    if per_minute <= 0:
        return None
    if settings.redis_url:
        prefix = "loupe:ratelimit:" if name == "model" else f"loupe:ratelimit:{name}:"
        return RedisLimiter(settings.redis_url, per_minute, burst, prefix=prefix)
    return MemoryLimiter(per_minute, burst)


def client_of(req: Request, proxy_hops: int) -> str:
    """The client as counted: its address (IPv6: its /64), after ``proxy_hops`` trusted proxies."""
    address = req.remote_addr or "unknown"
    if proxy_hops > 0:
        forwarded = [a.strip() for a in ",".join(req.headers.getlist("X-Forwarded-For")).split(",") if a.strip()]
        if len(forwarded) >= proxy_hops:
            address = forwarded[-proxy_hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def check_rate(limiter: Limiter | None, settings: Settings, req: Request) -> None:
    """Count an anonymous request that runs the model; RateLimited (429) beyond the limit."""
    limit_client(limiter, settings, req, lambda seconds: (
        f"too many requests that run the model from your address: at most {settings.model_rate_per_minute:g} a "
        f"minute, {settings.model_rate_burst} in a row; try again in {seconds} s (or send an API key)"))


def limit_client(limiter: Limiter | None, settings: Settings, req: Request, message: Callable[[int], str]) -> None:
    """Count the request against its client's limit; RateLimited (429, ``message(seconds)``) beyond it."""
    if limiter is None:
        return
    wait = limiter.wait_s(client_of(req, settings.trusted_proxy_hops))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(message(seconds), retry_after_s=seconds)
