"""robots.txt, Crawl-delay, per-host rate and concurrency limits, measured on a real server."""

from __future__ import annotations

import threading
import time

import pytest

from connector.http import FetchError, FetchPolicy
from tests.support.httpserver import Reply


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)
FAST = {"rate_limit_per_host": 1000.0}


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_robots_disallow_is_honoured_and_fetched_once(http_server, make_client) -> None:
    http_server.robots("User-agent: *\nDisallow: /private/\n")
    http_server.text("/public/a", "a")
    http_server.text("/private/b", "b")
    client = make_client(**FAST)
    assert client.get(http_server.url("/public/a"), policy=local(http_server)).content == b"a"
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/private/b"), policy=local(http_server))
    assert info.value.kind == "robots" and "disallows" in str(info.value)
    client.get(http_server.url("/public/a"), policy=local(http_server))
    assert http_server.requests_for("/private/b") == []
    assert len(http_server.requests_for("/robots.txt")) == 1


def test_group_for_loupe_wins_over_star(http_server, make_client) -> None:
    http_server.robots("User-agent: *\nAllow: /\n\nUser-agent: Loupe\nDisallow: /iiif/\n")
    http_server.text("/iiif/m.json", "{}")
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/iiif/m.json"), policy=local(http_server))
    assert info.value.kind == "robots" and "'loupe'" in str(info.value)


def test_crawl_delay_raises_the_interval(http_server, make_client) -> None:
    http_server.robots("User-agent: *\nCrawl-delay: 0.25\n")
    http_server.text("/x", "x")
    client = make_client(**FAST)
    for _ in range(3):
        client.get(http_server.url("/x"), policy=local(http_server))
    times = [r.time for r in http_server.requests_for("/x")]
    assert all(gap >= 0.22 for gap in gaps(times)), gaps(times)


@pytest.mark.parametrize("status, allowed", [(404, True), (410, True), (401, False), (403, False)])
def test_robots_status_codes(http_server, make_client, status: int, allowed: bool) -> None:
    http_server.robots(None, status=status)
    http_server.text("/x", "x")
    client = make_client(**FAST)
    if allowed:
        assert client.get(http_server.url("/x"), policy=local(http_server)).content == b"x"
    else:
        with pytest.raises(FetchError) as info:
            client.get(http_server.url("/x"), policy=local(http_server))
        assert info.value.kind == "robots" and f"HTTP {status}" in str(info.value)


def test_robots_server_error_disallows_temporarily(http_server, make_client) -> None:
    http_server.route("/robots.txt", [Reply(503), Reply(200, b"User-agent: *\nDisallow:\n")])
    http_server.text("/x", "x")
    client = make_client(max_retries=0, robots_error_retry_s=0.3, **FAST)
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/x"), policy=local(http_server))
    assert info.value.kind == "robots" and "503" in str(info.value) and "RFC 9309" in str(info.value)
    time.sleep(0.35)
    assert client.get(http_server.url("/x"), policy=local(http_server)).content == b"x"
    assert len(http_server.requests_for("/robots.txt")) == 2


def test_rate_limit_per_host(http_server, make_client) -> None:
    http_server.text("/x", "x")
    client = make_client(rate_limit_per_host=5.0, respect_robots=False)
    started = time.monotonic()
    for _ in range(3):
        client.get(http_server.url("/x"), policy=local(http_server))
    assert time.monotonic() - started >= 0.4
    assert all(gap >= 0.17 for gap in gaps([r.time for r in http_server.requests_for("/x")]))


def test_two_hosts_do_not_block_each_other(http_server, make_client) -> None:
    """127.0.0.1 and localhost are different hosts to the limiter (same server here)."""
    http_server.text("/x", "x")
    client = make_client(rate_limit_per_host=4.0, respect_robots=False)
    policy = FetchPolicy.allowing(http_server.base_url, f"localhost:{http_server.port}")

    def three(host: str) -> None:
        for _ in range(3):
            client.get(http_server.url("/x", host=host), policy=policy)

    started = time.monotonic()
    threads = [threading.Thread(target=three, args=(host,)) for host in ("127.0.0.1", "localhost")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 1.0  # serialised, six requests would need >= 1.25 s
    for host in ("127.0.0.1", "localhost"):
        times = [r.time for r in http_server.requests_for("/x") if r.host.startswith(host)]
        assert len(times) == 3 and all(gap >= 0.22 for gap in gaps(times))


def test_concurrency_per_host(http_server, make_client) -> None:
    http_server.route("/slow", Reply(body=b"s", delay_s=0.2))
    client = make_client(rate_limit_per_host=0.0, concurrency_per_host=1, respect_robots=False)
    threads = [threading.Thread(target=client.get, args=(http_server.url("/slow"),), kwargs={"policy": local(http_server)})
               for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 0.6
    assert all(gap >= 0.17 for gap in gaps(sorted(r.time for r in http_server.requests_for("/slow"))))


def test_impolite_policy_skips_robots_and_rate_limit(http_server, make_client) -> None:
    http_server.robots("User-agent: *\nDisallow: /\nCrawl-delay: 10\n")
    http_server.text("/x", "x")
    client = make_client(rate_limit_per_host=1.0)
    started = time.monotonic()
    for _ in range(5):
        client.get(http_server.url("/x"), policy=FetchPolicy.allowing(http_server.base_url, polite=False))
    assert time.monotonic() - started < 0.5
    assert http_server.requests_for("/robots.txt") == []


def test_respect_robots_setting_off(http_server, make_client) -> None:
    http_server.robots("User-agent: *\nDisallow: /\n")
    http_server.text("/x", "x")
    assert make_client(respect_robots=False, **FAST).get(http_server.url("/x"), policy=local(http_server)).content == b"x"
    assert http_server.requests_for("/robots.txt") == []


def test_unreachable_host_is_not_hammered(make_client) -> None:
    """robots.txt unreachable: the request fails as a network error, and later requests to
    the host fail at once from the cached robots state instead of reconnecting."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(max_retries=1, **FAST)
    for _ in range(2):
        with pytest.raises(FetchError) as info:
            client.get(f"http://127.0.0.1:{port}/x", policy=FetchPolicy.allowing(f"127.0.0.1:{port}"))
        assert info.value.kind == "network" and "robots.txt" in str(info.value)
    assert client.stats.requests == 2  # one robots.txt attempt and one retry, nothing after


def test_thread_pool_respects_limits_and_fetches_robots_once(http_server, make_client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(request) -> Reply:
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.05)
        with lock:
            in_flight["now"] -= 1
        return Reply(body=request.path.encode())

    http_server.robots("User-agent: *\nDisallow: /private\n")
    http_server.route("/item", slow)
    client = make_client(rate_limit_per_host=50.0, concurrency_per_host=2)
    urls = [http_server.url(f"/item?n={i}") for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda u: client.get(u, policy=local(http_server)).content, urls))
    assert bodies == [f"/item?n={i}".encode() for i in range(16)]
    assert in_flight["max"] == 2
    assert len(http_server.requests_for("/robots.txt")) == 1
    starts = sorted(r.time for r in http_server.requests_for("/item"))
    assert starts[-1] - starts[0] >= 15 * 0.02 * 0.9  # 50 requests/s at most
