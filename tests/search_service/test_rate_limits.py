"""Per-client rate limits on anonymous requests that run the model: the algorithm on a clock
of its own, who a client is, and the service's 429 (in memory, and shared through Redis)."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder

from search_service.rate_limits import MemoryLimiter, RedisLimiter, client_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_one_request_per_interval():
    clock = Clock()
    limiter = MemoryLimiter(per_minute=30, burst=3, clock=clock)  # one every 2 s
    assert [limiter.wait_s("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.wait_s("a") == pytest.approx(2.0)
    assert limiter.wait_s("b") == 0  # another client has its own
    clock.now += 1.0
    assert limiter.wait_s("a") == pytest.approx(1.0)  # a refused request costs nothing
    clock.now += 1.0
    assert limiter.wait_s("a") == 0 and limiter.wait_s("a") == pytest.approx(2.0)
    clock.now += 60
    assert [limiter.wait_s("a") for _ in range(4)][-1] > 0  # a pause refills the burst, no more


@pytest.mark.parametrize("remote, forwarded, hops, client", [
    ("192.0.2.7", None, 0, "192.0.2.7"),
    ("192.0.2.7", "203.0.113.9", 0, "192.0.2.7"),  # no proxy trusted: the header is the client's word
    ("127.0.0.1", "6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),  # the entry the proxy added
    ("127.0.0.1", "203.0.113.9, 10.0.0.2", 2, "203.0.113.9"),
    ("127.0.0.1", None, 1, "127.0.0.1"),  # fewer entries than proxies: the connection's address
    ("2001:db8:1:2:aaaa::1", None, 0, "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", None, 0, "192.0.2.7"),
])
def test_who_a_client_is(remote, forwarded, hops, client):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": remote}).get_request()
    assert client_of(request, hops) == client


def test_the_service_answers_429_with_retry_after_and_key_holders_pass(make_app):
    app = make_app(model_rate_per_minute=2, model_rate_burst=2, api_keys="k")
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/search?q=lily").status_code == 200
    refused = client.get("/api/search?q=lily", headers={"Origin": "https://viewer.example"})
    assert refused.status_code == 429 and refused.is_json
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "2 a minute" in error["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.headers.get("Access-Control-Allow-Origin")  # a viewer on another site can read why
    image = client.post("/api/search/image", json={"reference": {}})
    assert image.status_code == 429  # counted before the body is looked at
    assert client.get("/api/search?q=lily", headers={"X-API-Key": "k"}).status_code == 200
    assert client.get("/api/search?q=lily", headers={"X-API-Key": "wrong"}).status_code == 429
    other = app.test_client()
    assert other.get("/api/search?q=lily", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/api/similar/1").status_code != 429  # runs no model: not limited


def test_limits_are_shared_through_redis_by_every_api_process(make_app, redis_url):
    first = make_app(model_rate_per_minute=1, model_rate_burst=3, redis_url=redis_url).test_client()
    second = make_app(model_rate_per_minute=1, model_rate_burst=3, redis_url=redis_url).test_client()
    codes = [c.get("/api/search?q=sky").status_code for c in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]
    assert int(first.get("/api/search?q=sky").headers["Retry-After"]) > 50


def test_an_unreachable_redis_lets_requests_through():
    limiter = RedisLimiter("redis://127.0.0.1:9/0", per_minute=1, burst=1)
    assert [limiter.wait_s("a") for _ in range(3)] == [0, 0, 0]
