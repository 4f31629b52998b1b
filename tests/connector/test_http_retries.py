"""Retry-After, exponential backoff and giving up, against a real local server."""

from __future__ import annotations

import socket
import time

import pytest

from connector.http import FetchError, FetchPolicy, parse_retry_after
from tests.support.httpserver import Reply, http_date


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)
FAST = {"rate_limit_per_host": 1000.0, "respect_robots": False}


def test_retry_after_seconds_is_honoured(http_server, make_client) -> None:
    http_server.route("/busy", [Reply(429, headers={"Retry-After": "1"}), Reply(200, b"done")])
    client = make_client(**FAST)
    assert client.get(http_server.url("/busy"), policy=local(http_server)).content == b"done"
    first, second = (r.time for r in http_server.requests_for("/busy"))
    assert second - first >= 1.0
    assert client.stats.retries == 1


def test_retry_after_http_date_is_honoured(http_server, make_client) -> None:
    http_server.route("/busy", [Reply(503, headers={"Retry-After": http_date(time.time() + 2)}),
                                Reply(200, b"done")])
    assert make_client(**FAST).get(http_server.url("/busy"), policy=local(http_server)).content == b"done"
    first, second = (r.time for r in http_server.requests_for("/busy"))
    assert second - first >= 0.9  # HTTP-dates have whole seconds: the wait is between 1 and 2 s


def test_retry_after_beyond_the_cap_fails_clearly(http_server, make_client) -> None:
    http_server.route("/busy", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/busy"), policy=local(http_server))
    assert info.value.kind == "http" and info.value.status == 429
    assert "3600 s" in str(info.value) and "max_retry_after_s" in str(info.value)
    assert len(http_server.requests_for("/busy")) == 1


def test_backoff_on_503_then_success(http_server, make_client) -> None:
    http_server.route("/flaky", [Reply(503), Reply(502), Reply(200, b"ok")])
    client = make_client(backoff_base_s=0.1, **FAST)
    assert client.get(http_server.url("/flaky"), policy=local(http_server)).content == b"ok"
    times = [r.time for r in http_server.requests_for("/flaky")]
    assert len(times) == 3 and client.stats.retries == 2
    # Equal jitter: attempt n waits between half and all of base * 2**n.
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1


def test_gives_up_after_max_retries(http_server, make_client) -> None:
    http_server.status("/down", 503)
    with pytest.raises(FetchError) as info:
        make_client(max_retries=2, **FAST).get(http_server.url("/down"), policy=local(http_server))
    assert len(http_server.requests_for("/down")) == 3
    assert info.value.kind == "http" and info.value.status == 503
    assert "gave up after 3 attempts" in str(info.value) and http_server.url("/down") in str(info.value)


@pytest.mark.parametrize("status", [400, 404, 501])
def test_client_errors_and_501_are_not_retried(http_server, make_client, status: int) -> None:
    http_server.status("/nope", status)
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/nope"), policy=local(http_server))
    assert info.value.status == status and len(http_server.requests_for("/nope")) == 1


def test_dropped_connection_is_retried(http_server, make_client) -> None:
    http_server.route("/drop", [Reply(drop=True), Reply(200, b"back")])
    assert make_client(**FAST).get(http_server.url("/drop"), policy=local(http_server)).content == b"back"
    assert len(http_server.requests_for("/drop")) == 2


def test_connection_refused_gives_up_as_network_error(make_client) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(max_retries=1, **FAST)
    with pytest.raises(FetchError) as info:
        client.get(f"http://127.0.0.1:{port}/x", policy=FetchPolicy.allowing(f"127.0.0.1:{port}"))
    assert info.value.kind == "network" and "gave up after 2 attempts" in str(info.value)
    assert client.stats.retries == 1


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(http_date(now + 30), now=now) == pytest.approx(30.0)
    assert parse_retry_after(http_date(now - 30), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-5") is None
