"""robots.txt, fetched once per origin per client and obeyed (RFC 9309).

What a robots.txt answer means to Loupe:

* 2xx: parsed with ``urllib.robotparser``; ``Disallow``/``Allow`` of the group naming
  Loupe's product token (``loupe``) or else ``*`` apply; ``Crawl-delay`` (fractional values
  accepted) and ``Request-rate`` raise the per-host interval of the rate limiter.
* 404, 410 and other 4xx: no rules, everything allowed (RFC 9309 §2.3.1.3).
* 401 and 403: everything disallowed. RFC 9309 would allow crawling here too; Loupe keeps
  the older, stricter convention (that of Python's robotparser and many crawlers): a server
  that refuses to show its rules to a robot is not crawled.
* 5xx, 429 after the client's retries, timeouts and network errors: the host is
  *temporarily* disallowed (RFC 9309 §2.3.1.4); robots.txt is asked for again after
  ``settings.robots_error_retry_s``. Refusals then carry kind ``robots`` for an HTTP error,
  and ``network``/``timeout`` when the host could not be reached at all (it is down, and
  the message says so without another connection attempt).
* Too many redirects, or a redirect Loupe refuses to follow: treated as unavailable, so
  allowed (RFC 9309 §2.3.1.2).

Rules are kept for 24 hours (the RFC's ceiling). Only the first 512 KiB are parsed.
Limitations of ``urllib.robotparser``: ``*`` and ``$`` wildcards in paths are not
supported (such rules match literally), and rules are applied in file order, not by the
longest match.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Literal
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from connector.errors import FetchError
from connector.netguard import DEFAULT_PORTS

log = logging.getLogger(__name__)

ROBOTS_TTL_S = 24 * 3600.0
ROBOTS_MAX_BYTES = 512 * 1024

RobotsState = Literal["parsed", "allow_all", "disallow_all", "unavailable"]

#: ``fetch(robots_url) -> body`` for a 2xx answer; raises FetchError otherwise.
RobotsFetcher = Callable[[str], bytes]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{host}:{port}"


def product_token(user_agent: str) -> str:
    """``Loupe/0.1 (...)`` -> ``loupe``: the name robots.txt groups are matched against."""
    return user_agent.split("/", 1)[0].strip().lower()


@dataclass(frozen=True)
class RobotsRules:
    origin: str
    state: RobotsState
    detail: str  # how the answer was obtained, for messages ("HTTP 404", "HTTP 503 ...")
    expires_at: float
    parser: RobotFileParser | None = None
    # Seconds between requests asked for by Crawl-delay/Request-rate for our user agent.
    crawl_delay: float | None = None
    # FetchError kind for refusals while "unavailable": a host whose robots.txt cannot be
    # reached at all reads as "network"/"timeout" (it is down), a 5xx as "robots".
    failure_kind: str = "robots"

    def allows(self, url: str, user_agent: str) -> bool:
        if self.state == "allow_all":
            return True
        if self.state in ("disallow_all", "unavailable"):
            return False
        assert self.parser is not None
        return self.parser.can_fetch(user_agent, url)


def _crawl_delays(lines: list[str]) -> dict[str, float]:
    """Crawl-delay per user-agent token, fractional values included (robotparser takes integers only)."""
    delays: dict[str, float] = {}
    agents: list[str] = []
    in_rules = False
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow", "crawl-delay", "request-rate"):
            in_rules = True
            if key == "crawl-delay":
                try:
                    delay = float(value)
                except ValueError:
                    continue
                if delay >= 0:
                    for agent in agents:
                        delays.setdefault(agent, delay)
    return delays


def _delay_for(lines: list[str], parser: RobotFileParser, user_agent: str) -> float | None:
    token = product_token(user_agent)
    delays = _crawl_delays(lines)
    delay = next((d for agent, d in delays.items() if agent != "*" and agent in token), delays.get("*"))
    rate = parser.request_rate(user_agent)
    if rate is not None and rate.requests > 0:
        delay = max(delay or 0.0, rate.seconds / rate.requests)
    return delay


class RobotsCache:
    """robots.txt rules per origin; thread-safe, one fetch per origin at a time."""

    def __init__(
        self,
        fetch: RobotsFetcher,
        user_agent: str,
        *,
        error_retry_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.user_agent = user_agent
        self.error_retry_s = error_retry_s
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def rules_for(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # other threads for this origin wait for the one fetch
            rules = self._rules.get(origin)
            if rules is None or rules.expires_at <= self._clock():
                rules = self._rules[origin] = self._load(origin)
            return rules

    def check(self, url: str) -> RobotsRules:
        """The origin's rules if they allow ``url``; FetchError(kind="robots") otherwise."""
        rules = self.rules_for(url)
        if rules.allows(url, self.user_agent):
            return rules
        token = product_token(self.user_agent)
        if rules.state == "parsed":
            why = f"robots.txt of {rules.origin} disallows it for user agent {token!r} (or *)"
        elif rules.state == "disallow_all":
            why = (f"robots.txt of {rules.origin} answered {rules.detail}; Loupe treats a host that "
                   "refuses to show its robots.txt as off limits")
        else:
            left = max(0.0, rules.expires_at - self._clock())
            why = (f"robots.txt of {rules.origin} could not be fetched ({rules.detail}); the host counts "
                   f"as disallowed for another {left:.0f} s (robots_error_retry_s), per RFC 9309")
        raise FetchError(url, rules.failure_kind if rules.state == "unavailable" else "robots", why)

    def _load(self, origin: str) -> RobotsRules:
        robots_url = origin_to_url(origin) + "/robots.txt"
        now = self._clock()
        try:
            body = self._fetch(robots_url)
        except FetchError as e:
            state, detail = _state_for_error(e)
            ttl = self.error_retry_s if state == "unavailable" else ROBOTS_TTL_S
            log.log(logging.WARNING if state != "allow_all" else logging.DEBUG,
                    "robots.txt %s: %s -> %s", robots_url, detail, state)
            kind = e.kind if e.kind in ("network", "timeout") else "robots"
            return RobotsRules(origin, state, detail, now + ttl, failure_kind=kind)
        text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
        lines = text.splitlines()
        parser = RobotFileParser(robots_url)
        parser.parse(lines)
        delay = _delay_for(lines, parser, self.user_agent)
        if delay:
            log.info("robots.txt %s asks for %.3g s between requests", robots_url, delay)
        return RobotsRules(origin, "parsed", "HTTP 200", now + ROBOTS_TTL_S, parser, delay)


def origin_to_url(origin: str) -> str:
    """``https://host:443`` -> ``https://host`` (the default port left out, as servers expect)."""
    scheme, rest = origin.split("://", 1)
    host, _, port = rest.rpartition(":")
    return f"{scheme}://{host}" if int(port) == DEFAULT_PORTS.get(scheme) else origin


def _state_for_error(e: FetchError) -> tuple[RobotsState, str]:
    status = e.status
    if e.kind == "http" and status in (401, 403):
        return "disallow_all", f"HTTP {status}"
    if e.kind == "http" and status is not None and 400 <= status < 500 and status != 429:
        return "allow_all", f"HTTP {status}"
    if e.kind == "http" and status is None:  # too many redirects
        return "allow_all", e.detail
    if e.kind in ("blocked", "scheme", "invalid", "too_large", "robots"):
        return "allow_all", f"robots.txt is unusable: {e.detail}"
    return "unavailable", e.detail if status is None else f"HTTP {status}: {e.detail}"
