"""Loupe's polite and safe HTTP client: every network read of the connector goes through here.

Per request, in this order:

1. **Guard** (``connector.netguard``): http/https only; the host and every address it
   resolves to must be public unless the host and port are in the source's allowance
   (``FetchPolicy.private``); cloud metadata addresses never pass. Repeated on every
   redirect hop (redirects are followed here), and the connection is made to an address
   that was checked (``connector.transport``), so DNS rebinding cannot switch it.
2. **robots.txt** (``connector.robots``), fetched once per origin through this same path.
3. **Per-host rate and concurrency limit** (``connector.ratelimit``); Crawl-delay raises it.
4. **Retries** on 429, 5xx (not 501), timeouts and connection errors: ``Retry-After``
   (seconds or HTTP-date) when given, exponential backoff with jitter otherwise, at most
   ``max_retries``; a server asking for more than ``max_retry_after_s`` fails the request.
   A kept-alive connection that the server closed meanwhile is not an error: the request is
   sent again on a new connection at once, and that is not counted as a retry.
5. **Size cap** from ``Content-Length`` up front and again while streaming, counted on the
   *decoded* bytes (``Accept-Encoding: gzip, deflate``; decoding is bounded per read, so
   gzip bombs are caught without inflating them), and ``total_timeout_s`` per response,
   checked between reads (so a response may overrun it by up to one ``read_timeout_s``).

Steps 2 and 3 are skipped for ``FetchPolicy(polite=False)``, which only the benchmark uses,
on loopback. The client is thread-safe: a harvest shares one across its worker threads.

The transport is the standard library's ``http.client`` over a small keep-alive pool
(``connector.transport``): HTTP/1.1 only, TLS verified against certifi's CA bundle plus
``ca_bundle``. An explicit ``proxy_url`` is used (``connector.proxy``: CONNECT for https,
forwarding for http, the guard still applied first); environment variables such as
``HTTPS_PROXY`` are ignored. Cookies are neither stored nor sent.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import functools
import http.client
import ipaddress
import json
import logging
import random
import ssl
import threading
import time
import zlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit

from connector.errors import FetchError
from connector.netguard import (
    NO_ALLOWANCE,
    CheckedTarget,
    PrivateAllowance,
    Resolver,
    address_problem,
    check_url,
    system_resolver,
)
from connector.proxy import ProxyRefused, proxy_from_settings
from connector.ratelimit import HostRateLimiter
from connector.robots import ROBOTS_MAX_BYTES, RobotsCache
from connector.transport import (
    ConnectError,
    ConnectionPool,
    ContentDecoder,
    PoolKey,
    Response,
    UnsupportedEncoding,
    host_header,
)
from loupe_core.settings import Settings, SettingsError

__all__ = ["IIIF_ACCEPT", "FetchPolicy", "FetchResult", "FetchError", "HttpClient", "HttpStats"]

log = logging.getLogger(__name__)

IIIF_ACCEPT = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json", application/json;q=0.9, */*;q=0.1'

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
DRAIN_BYTES = 64 * 1024  # unused bodies up to this size are read so the connection can be reused
ACCEPT_ENCODING = "gzip, deflate"


def _is_retryable_status(status: int) -> bool:
    """429 and server errors that may go away; 501/505 say "never" and are not retried."""
    return status == 429 or (500 <= status < 600 and status not in (501, 505))


class SourceLike(Protocol):
    """What ``FetchPolicy.for_source`` reads of a source (``connector.catalog.SourceInfo``)."""

    url: str
    allow_private: bool
    polite: bool


@dataclass(frozen=True)
class FetchPolicy:
    """How one source may be fetched."""

    # The (host, port) pairs this source may reach on loopback/private addresses
    # (``--allow-private`` for the source's own host, ``--allow-host`` for others); empty:
    # public addresses only. Never "any private address": see ``connector.netguard``.
    private: PrivateAllowance = NO_ALLOWANCE
    # robots.txt and per-host rate/concurrency limits; off only for the loopback benchmark.
    polite: bool = True

    @classmethod
    def allowing(cls, *hosts: str, polite: bool = True) -> "FetchPolicy":
        """Private addresses allowed on ``hosts``: ``HOST``, ``HOST:PORT`` or http(s) URLs
        (a URL covers its own host and port). ValueError for an unusable entry."""
        return cls(private=PrivateAllowance.of(hosts), polite=polite)

    @classmethod
    def for_source(cls, source: SourceLike) -> "FetchPolicy":
        """The policy of a catalog source: with ``allow_private`` its own host and port (an
        http(s) URL; a local list of URLs has none), plus its ``allowed_hosts``."""
        entries = list(getattr(source, "allowed_hosts", None) or ())
        if source.allow_private and source.url.startswith(("http://", "https://")):
            entries.insert(0, source.url)
        return cls(private=PrivateAllowance.of(entries), polite=source.polite)

    @property
    def allow_private(self) -> bool:
        """Whether any host may be private (the allowance is not empty)."""
        return bool(self.private)


@dataclass
class FetchResult:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int  # 2xx (normally 200), or 304 for a conditional GET that matched
    content: bytes  # b"" for 304
    etag: str | None
    last_modified: str | None
    content_type: str | None
    elapsed_s: float  # wall time of the whole call: robots, waits, retries and download

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def json(self) -> Any:
        """The body as JSON; FetchError(kind="invalid") naming line and column otherwise."""
        if self.not_modified:
            raise FetchError(self.final_url, "invalid", "304 Not Modified carries no body; use the cached copy")
        try:
            return json.loads(self.content)
        except json.JSONDecodeError as e:
            raise FetchError(self.final_url, "invalid",
                             f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
        except UnicodeDecodeError as e:
            raise FetchError(self.final_url, "invalid",
                             f"not valid JSON: not UTF-8/16/32 text ({e.reason} at byte {e.start})") from None
        except RecursionError:
            raise FetchError(self.final_url, "invalid", "not usable JSON: nested too deeply") from None


@dataclass
class HttpStats:
    """Counters for progress reports and tests; thread-safe increments via ``add``."""

    requests: int = 0  # requests sent over the network (each attempt and hop; robots.txt included;
    #                    not the resend after a kept-alive connection turned out closed)
    retries: int = 0
    not_modified: int = 0
    bytes: int = 0  # body bytes received (decoded)
    robots_fetches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "not_modified": self.not_modified,
                    "bytes": self.bytes, "robots_fetches": self.robots_fetches}


class _Headers(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...  # case-insensitive (transport.ResponseHeaders)


@dataclass
class _Response:
    """One answer read from the network (body read unless it is a redirect or an error)."""

    url: str
    status: int
    reason: str
    headers: _Headers
    content: bytes = b""


class _Retryable(Exception):
    """A failed attempt that may succeed when repeated (connection error, timeout).

    ``before_connect``: no connection was made, so nothing reached the server."""

    def __init__(self, kind: str, detail: str, *, before_connect: bool = False) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.before_connect = before_connect


@functools.lru_cache(maxsize=1024)
def _is_private(address: str) -> bool:
    return address_problem(ipaddress.ip_address(address)) is not None


@functools.lru_cache(maxsize=256)
def _all_loopback(addresses: tuple[str, ...]) -> bool:
    return all(ipaddress.ip_address(a).is_loopback for a in addresses)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class HttpClient:
    """Thread-safe, polite, SSRF-guarded GET. Use as a context manager or call ``close``.

    ``ssl_context``: the ``ssl.SSLContext`` for https (another CA bundle, e.g. in tests);
    by default certificates are verified against certifi's bundle and the ``ca_bundle``
    setting, host names against the URL's host. ``resolver`` replaces DNS for the guard
    (tests). SettingsError for an unusable ``proxy_url`` or a missing ``ca_bundle``.
    """

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None,
                 resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.user_agent = settings.user_agent
        self.stats = HttpStats()
        self._resolver = resolver or system_resolver
        if settings.ca_bundle and not Path(settings.ca_bundle).exists():
            raise SettingsError(f"setting 'ca_bundle' = {settings.ca_bundle!r}: no such file or folder")
        self._proxy = proxy_from_settings(settings)
        pool = max(10, settings.harvest_workers * 2, settings.concurrency_per_host * 2)
        self._pool = ConnectionPool(connect_timeout=settings.connect_timeout_s, read_timeout=settings.read_timeout_s,
                                    ssl_context=ssl_context, ca_bundle=settings.ca_bundle,
                                    max_idle_per_key=pool, max_keys=max(256, pool))
        self._limiter = HostRateLimiter(settings.rate_limit_per_host, settings.concurrency_per_host)
        self._robots = RobotsCache(self._fetch_robots, self.user_agent,
                                   error_retry_s=settings.robots_error_retry_s)
        self._random = random.Random()
        # robots.txt is fetched with the policy of the request that needed it (thread-local,
        # because the robots cache calls back without one).
        self._local = threading.local()
        self._warned_hosts: set[str] = set()
        self._warned_lock = threading.Lock()

    # --- public API ----------------------------------------------------------------------
    def get(self, url: str, *, policy: FetchPolicy = FetchPolicy(), etag: str | None = None,
            last_modified: str | None = None, accept: str = "*/*", max_bytes: int | None = None) -> FetchResult:
        """GET ``url`` (see the module docstring for what happens on the way).

        ``etag``/``last_modified`` make it conditional: a 304 gives ``status=304`` and no
        content. ``max_bytes`` defaults to the largest download Loupe accepts at all
        (``max(max_json_bytes, max_image_bytes)``). Raises ``FetchError``.
        """
        started = time.monotonic()
        limit = max_bytes if max_bytes is not None else max(self.settings.max_json_bytes, self.settings.max_image_bytes)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._follow(url, policy, headers, limit, check_robots=True, truncate=False)
        if response.status == 304:
            self.stats.add(not_modified=1)
        return FetchResult(
            url=url,
            final_url=response.url,
            status=response.status,
            content=response.content,
            etag=response.headers.get("ETag") or (etag if response.status == 304 else None),
            last_modified=response.headers.get("Last-Modified") or (last_modified if response.status == 304 else None),
            content_type=response.headers.get("Content-Type"),
            elapsed_s=time.monotonic() - started,
        )

    def get_json(self, url: str, *, policy: FetchPolicy = FetchPolicy(), etag: str | None = None,
                 last_modified: str | None = None) -> FetchResult:
        """``get`` for IIIF JSON: IIIF Accept header, capped at ``max_json_bytes``."""
        return self.get(url, policy=policy, etag=etag, last_modified=last_modified,
                        accept=IIIF_ACCEPT, max_bytes=self.settings.max_json_bytes)

    def ready_in(self, host: str) -> float:
        """Seconds until a polite request to ``host`` may start (``connector.host_dispatch``)."""
        return self._limiter.ready_in(host)

    def close(self) -> None:
        """Close the kept-alive connections (the client stays usable; it reconnects)."""
        self._pool.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- redirects, guard, robots ----------------------------------------------------------
    def _follow(self, url: str, policy: FetchPolicy, headers: dict[str, str], limit: int, *,
                check_robots: bool, truncate: bool) -> _Response:
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            try:
                target = check_url(current, allow=policy.private, resolver=self._resolver,
                                   unresolved_ok=self._proxy is not None)
                if not policy.polite:
                    self._warn_if_impolite_off_loopback(target)
                if check_robots and policy.polite and self.settings.respect_robots:
                    self._check_robots(target, policy)
                response = self._with_retries(target, policy, headers, limit, truncate)
            except FetchError as e:
                if current == url:
                    raise
                # Name the URL the caller asked for; say where the redirects led.
                raise FetchError(url, e.kind, f"redirected to {current}: {e.detail}", status=e.status) from None
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                following = urljoin(current, location.strip())
                log.debug("redirect %s %s -> %s", response.status, current, following)
                current = following
                continue
            if response.status in REDIRECT_STATUSES:
                raise FetchError(current, "http", f"HTTP {response.status} redirect without a Location header",
                                 status=response.status)
            if url != current:
                log.debug("fetched %s via redirects as %s", url, current)
            return response
        raise FetchError(url, "http", f"more than {self.settings.max_redirects} redirects (last: {current}); "
                         "max_redirects limits them")

    def _warn_if_impolite_off_loopback(self, target: CheckedTarget) -> None:
        """polite=False is meant for benchmarks against this machine; say so when it is not."""
        if _all_loopback(target.addresses):
            return
        with self._warned_lock:
            if target.host in self._warned_hosts:
                return
            self._warned_hosts.add(target.host)
        log.warning("robots.txt and rate limits are OFF for %s, which is not this machine "
                    "(FetchPolicy(polite=False) is meant for loopback benchmarks)", target.host)

    def _check_robots(self, target: CheckedTarget, policy: FetchPolicy) -> None:
        self._local.policy = policy
        rules = self._robots.check(target.url)
        if rules.crawl_delay:
            self._limiter.raise_interval(target.host, rules.crawl_delay)

    def _fetch_robots(self, robots_url: str) -> bytes:
        policy = getattr(self._local, "policy", FetchPolicy())
        self.stats.add(robots_fetches=1)
        response = self._follow(robots_url, policy, {"Accept": "text/plain, */*;q=0.1"}, ROBOTS_MAX_BYTES,
                                check_robots=False, truncate=True)
        return response.content

    # --- one hop, with retries -----------------------------------------------------------
    def _slot(self, host: str, policy: FetchPolicy) -> ContextManager[Any]:
        return self._limiter.slot(host) if policy.polite else nullcontext()

    def _with_retries(self, target: CheckedTarget, policy: FetchPolicy, headers: dict[str, str],
                      limit: int, truncate: bool) -> _Response:
        settings = self.settings
        addresses = target.addresses or ("",)  # "": a name the proxy resolves
        attempt = 0
        next_address = 0
        while True:
            address = addresses[next_address % len(addresses)]
            next_address += 1
            try:
                with self._slot(target.host, policy):
                    response = self._send(target, address, headers, limit, truncate, policy.polite)
            except _Retryable as e:
                if e.before_connect and next_address % len(addresses):
                    # Like socket.create_connection: an address that refuses or cannot be
                    # reached (a dead IPv6 route) is followed at once by the next one.
                    log.debug("cannot connect to %s at %s (%s); trying the next address",
                              target.host, address, e.detail)
                    continue
                if attempt >= settings.max_retries:
                    raise FetchError(target.url, e.kind, f"{e.detail} (gave up after {attempt + 1} attempts)") from None
                wait = self._backoff(attempt)
                why = e.detail
            else:
                if not _is_retryable_status(response.status):
                    if response.status >= 400:
                        raise FetchError(target.url, "http", f"HTTP {response.status} {response.reason}".strip(),
                                         status=response.status)
                    return response
                status_text = f"HTTP {response.status} {response.reason}".strip()
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > settings.max_retry_after_s:
                    raise FetchError(target.url, "http",
                                     f"{status_text}: the server asks to wait {retry_after:.0f} s (Retry-After), "
                                     f"longer than max_retry_after_s={settings.max_retry_after_s:g}; try again later",
                                     status=response.status)
                if attempt >= settings.max_retries:
                    raise FetchError(target.url, "http", f"{status_text} (gave up after {attempt + 1} attempts; "
                                     f"max_retries={settings.max_retries})", status=response.status)
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                why = status_text + (f", Retry-After {retry_after:g} s" if retry_after is not None else "")
            attempt += 1
            self.stats.add(retries=1)
            log.info("retry %d/%d of %s in %.2f s (%s)", attempt, settings.max_retries, target.url, wait, why)
            if policy.polite:
                self._limiter.defer(target.host, wait)  # other threads leave the host alone too
            time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2**attempt."""
        delay = min(self.settings.backoff_base_s * (2 ** attempt), self.settings.max_retry_after_s)
        return delay / 2 + self._random.uniform(0, delay / 2)

    def _send(self, target: CheckedTarget, address: str, headers: dict[str, str], limit: int,
              truncate: bool, polite: bool = False) -> _Response:
        settings = self.settings
        key = self._pool_key(target, address)
        request_headers = {"Host": host_header(target.scheme, target.host, target.port),
                           "User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING, **headers}
        authorization = _basic_auth(target.url)
        if authorization:
            request_headers["Authorization"] = authorization
        started = time.monotonic()
        self.stats.add(requests=1)
        try:
            conn, raw = self._pool.request(key, _request_target(target.url), request_headers)
        except ConnectError as e:
            cause = e.cause
            if isinstance(cause, ProxyRefused) and not _is_retryable_status(cause.status):
                raise FetchError(target.url, "network", str(cause)) from None
            if isinstance(cause, ssl.SSLError):  # before TimeoutError/OSError: it is an OSError
                raise FetchError(target.url, "network", f"TLS error: {_reason(cause)}") from None
            if isinstance(cause, TimeoutError):
                raise _Retryable("timeout", f"no connection within connect_timeout_s={settings.connect_timeout_s:g} s",
                                 before_connect=True) from None
            raise _Retryable("network", f"connection failed: {' '.join(str(e).split())}",
                             before_connect=True) from None
        except (ValueError, http.client.InvalidURL) as e:  # an illegal header value (a hostile ETag) or URL
            raise FetchError(target.url, "invalid", f"request failed: {_reason(e)}") from None
        except TimeoutError:
            raise _Retryable("timeout", f"no response within read_timeout_s={settings.read_timeout_s:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise _Retryable("network", f"connection failed: {_reason(e)}") from None
        if polite:  # the server has the request: the per-host interval counts from here
            self._limiter.answered(target.host)
        reusable = False
        try:
            response = _Response(target.url, raw.status, raw.reason or "", raw.msg)
            if raw.status in REDIRECT_STATUSES or raw.status >= 400 or raw.status == 304:
                reusable = _drain(raw)
                return response
            declared = raw.msg.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit and not truncate:
                raise FetchError(target.url, "too_large",
                                 f"response is {int(declared):,} bytes (Content-Length), "
                                 f"over the limit of {limit:,} bytes")
            response.content, reusable = self._read_body(target, raw, limit, truncate, started)
            return response
        finally:
            if reusable:
                self._pool.release(key, conn, raw)
            else:
                self._pool.discard(conn, raw)

    def _pool_key(self, target: CheckedTarget, address: str) -> PoolKey:
        """Direct to the checked ``address``, or through the proxy: not for hosts in
        ``proxy_bypass`` nor for private addresses (reachable only with the source's
        allowance, and an egress proxy is for the internet)."""
        route = self._proxy
        if route is None or route.bypasses(target.host) or (address and _is_private(address)):
            if not address:
                raise FetchError(target.url, "network", f"cannot resolve host {target.host!r} "
                                 "(it is in proxy_bypass, so it is not left to the proxy)")
            return PoolKey(target.scheme, target.host, target.port, address)
        pinned = address if route.pin_address and target.scheme == "https" else ""
        return PoolKey(target.scheme, target.host, target.port, pinned, route.proxy)

    def _read_body(self, target: CheckedTarget, raw: Response, limit: int, truncate: bool,
                   started: float) -> tuple[bytes, bool]:
        """The (decoded) body, and whether it was read to its end (the connection can be reused)."""
        settings = self.settings
        try:
            decoder = ContentDecoder(raw.msg.get("Content-Encoding"))
        except UnsupportedEncoding as e:
            raise FetchError(target.url, "invalid", f"cannot decode the response body: Content-Encoding {e} "
                             f"(only {ACCEPT_ENCODING} were asked for)") from None
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                data = raw.read1(CHUNK_BYTES)
                if not data:
                    break
                if time.monotonic() - started > settings.total_timeout_s:
                    raise FetchError(target.url, "timeout",
                                     f"download took longer than total_timeout_s={settings.total_timeout_s:g} s")
                chunk = decoder.decode(data, limit - total) if decoder.active else data
                total += len(chunk)
                self.stats.add(bytes=len(chunk))
                if total > limit:
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (total - limit)])
                        return b"".join(chunks), False
                    raise FetchError(target.url, "too_large",
                                     f"response exceeds the limit of {limit:,} bytes (stopped reading at {total:,})")
                chunks.append(chunk)
            if not raw.chunked and raw.length:  # the server closed before Content-Length bytes came
                raise http.client.IncompleteRead(b"", raw.length)
            if decoder.active:
                tail = decoder.flush()
                if tail:
                    total += len(tail)
                    self.stats.add(bytes=len(tail))
                    if total > limit and not truncate:
                        raise FetchError(target.url, "too_large", f"response exceeds the limit of {limit:,} bytes")
                    chunks.append(tail[: len(tail) - max(0, total - limit)])
            raw.read()  # marks a Content-Length body as complete (b"" here), for reuse
        except TimeoutError:
            raise _Retryable("timeout",
                             f"body stalled longer than read_timeout_s={settings.read_timeout_s:g} s") from None
        except zlib.error as e:
            raise FetchError(target.url, "invalid", f"cannot decode the response body: {_reason(e)}") from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise _Retryable("network", f"connection broke while reading: {_reason(e)}") from None
        return b"".join(chunks), True


def _drain(raw: Response, limit: int = DRAIN_BYTES) -> bool:
    """Read a short unused body (304, redirect, error page) so the connection can go back to
    the pool for keep-alive instead of being closed; long bodies are not worth it. True if
    the body was read to its end."""
    if raw.length == 0:  # 304, 204, Content-Length: 0
        raw.read()
        return True
    if raw.will_close or (raw.length is not None and raw.length > limit):
        return False
    try:
        read = 0
        while read <= limit:
            data = raw.read1(CHUNK_BYTES)
            if not data:
                if not raw.chunked and raw.length:
                    return False
                raw.read()
                return raw.isclosed()
            read += len(data)
    except (OSError, http.client.HTTPException, ValueError):
        pass
    return False


# Characters a request target may carry as they are (RFC 3986 reserved and unreserved, and
# "%" of existing escapes); anything else (spaces, non-ASCII) is percent-encoded as UTF-8,
# like requests did.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
_TARGET_OK = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._" + _TARGET_SAFE)


def _request_target(url: str) -> str:
    """Path and query of ``url`` for the request line (the fragment stays here)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    if not _TARGET_OK.issuperset(target):
        target = quote(target, safe=_TARGET_SAFE)
    return target


def _basic_auth(url: str) -> str | None:
    """``Authorization`` for credentials written in the URL (``https://user:pass@host/``), as requests sent them."""
    if "@" not in url.split("?", 1)[0]:
        return None
    parts = urlsplit(url)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode("latin-1", "replace")
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _reason(error: BaseException) -> str:
    """The innermost useful message of an error, on one line."""
    inner = error
    for _ in range(8):
        nested = getattr(inner, "cause", None)
        if not isinstance(nested, BaseException):
            nested = next((a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)), None)
        if nested is None or nested is inner:
            break
        inner = nested
    if isinstance(inner, http.client.IncompleteRead):
        return f"the body ended early ({inner.expected:,} more bytes expected)" if inner.expected else \
            "the body ended early"
    text = str(inner) or type(inner).__name__
    return " ".join(text.split())[:300]
