"""HttpClient basics against a real local server: headers, JSON, conditional GET, size and
time limits, redirects."""

from __future__ import annotations

import pickle
import time

import pytest

from connector.http import IIIF_ACCEPT, FetchError, FetchPolicy
from tests.support.httpserver import Reply, http_date


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)
FAST = {"rate_limit_per_host": 1000.0}


def test_user_agent_and_accept_headers(http_server, make_client, settings) -> None:
    http_server.json("/m.json", {"id": "m"})
    client = make_client(**FAST)
    result = client.get_json(http_server.url("/m.json"), policy=local(http_server))
    assert result.status == 200 and result.json() == {"id": "m"}
    assert result.content_type == "application/json" and result.final_url == result.url
    (request,) = http_server.requests_for("/m.json")
    assert request.headers["user-agent"] == settings.user_agent
    assert request.headers["user-agent"].startswith("Loupe/") and settings.contact in request.headers["user-agent"]
    assert request.headers["accept"] == IIIF_ACCEPT
    assert client.stats.requests == 2  # robots.txt + the document
    assert client.stats.robots_fetches == 1


def test_invalid_json_names_line_and_column(http_server, make_client) -> None:
    http_server.bytes("/bad.json", b'{\n  "id": "x",\n  oops\n}', "application/json")
    result = make_client(**FAST).get_json(http_server.url("/bad.json"), policy=local(http_server))
    with pytest.raises(FetchError) as info:
        result.json()
    assert info.value.kind == "invalid"
    assert "line 3 column 3" in str(info.value) and "/bad.json" in str(info.value)


def test_conditional_get_with_etag(http_server, make_client) -> None:
    http_server.json("/m.json", {"v": 1}, etag='"abc"')
    client = make_client(**FAST)
    first = client.get_json(http_server.url("/m.json"), policy=local(http_server))
    assert first.etag == '"abc"'
    second = client.get_json(http_server.url("/m.json"), policy=local(http_server), etag=first.etag)
    assert second.status == 304 and second.not_modified and second.content == b"" and second.etag == '"abc"'
    assert http_server.requests_for("/m.json")[-1].headers["if-none-match"] == '"abc"'
    assert client.stats.not_modified == 1


def test_conditional_get_with_last_modified(http_server, make_client) -> None:
    stamp = http_date(time.time() - 3600)
    http_server.json("/m.json", {"v": 1}, last_modified=stamp)
    client = make_client(**FAST)
    first = client.get(http_server.url("/m.json"), policy=local(http_server))
    assert first.last_modified == stamp
    second = client.get(http_server.url("/m.json"), policy=local(http_server), last_modified=first.last_modified)
    assert second.status == 304 and second.last_modified == stamp
    assert http_server.requests_for("/m.json")[-1].headers["if-modified-since"] == stamp


def test_size_cap_from_content_length(http_server, make_client) -> None:
    http_server.bytes("/big", b"x" * 5000)
    client = make_client(**FAST)
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/big"), policy=local(http_server), max_bytes=1000)
    assert info.value.kind == "too_large" and "Content-Length" in str(info.value)
    assert client.stats.bytes < 1000  # refused before reading


def test_size_cap_while_streaming_without_length(http_server, make_client) -> None:
    http_server.route("/stream", Reply(body=b"y" * 300_000, chunked=True, chunk_size=8192))
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/stream"), policy=local(http_server), max_bytes=100_000)
    assert info.value.kind == "too_large" and "100,000" in str(info.value)


def test_json_limit_comes_from_settings(http_server, make_client) -> None:
    http_server.route("/huge.json", Reply(body=b"[" + b"1," * 5000 + b"1]", chunked=True))
    with pytest.raises(FetchError) as info:
        make_client(max_json_bytes=2000, **FAST).get_json(http_server.url("/huge.json"), policy=local(http_server))
    assert info.value.kind == "too_large"


def test_read_timeout(http_server, make_client) -> None:
    http_server.route("/slow", Reply(body=b"late", delay_s=1.0))
    client = make_client(read_timeout_s=0.2, max_retries=0, **FAST)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/slow"), policy=local(http_server))
    assert time.monotonic() - started < 0.9
    assert info.value.kind == "timeout" and "read_timeout_s" in str(info.value)


def test_total_time_limit_stops_a_trickling_body(http_server, make_client) -> None:
    http_server.route("/trickle", Reply(body=b"z" * 40, chunked=True, chunk_size=4, chunk_delay_s=0.05))
    with pytest.raises(FetchError) as info:
        make_client(total_timeout_s=0.15, **FAST).get(http_server.url("/trickle"), policy=local(http_server))
    assert info.value.kind == "timeout" and "total_timeout_s" in str(info.value)


def test_redirects_are_followed_and_reported(http_server, make_client) -> None:
    http_server.redirect("/old", "/middle", 301)
    http_server.redirect("/middle", http_server.url("/new"), 307)
    http_server.json("/new", {"ok": True})
    result = make_client(**FAST).get_json(http_server.url("/old"), policy=local(http_server))
    assert result.json() == {"ok": True}
    assert result.url == http_server.url("/old") and result.final_url == http_server.url("/new")


def test_too_many_redirects(http_server, make_client) -> None:
    http_server.redirect("/loop", "/loop")
    with pytest.raises(FetchError) as info:
        make_client(max_redirects=3, **FAST).get(http_server.url("/loop"), policy=local(http_server))
    assert info.value.kind == "http" and "more than 3 redirects" in str(info.value)
    assert len(http_server.requests_for("/loop")) == 4


def test_redirect_to_file_scheme_is_refused(http_server, make_client) -> None:
    http_server.redirect("/to-file", "file:///etc/passwd")
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/to-file"), policy=local(http_server))
    assert info.value.kind == "scheme" and "file:///etc/passwd" in str(info.value)


def test_file_urls_are_refused(make_client) -> None:
    with pytest.raises(FetchError) as info:
        make_client().get("file:///etc/passwd", policy=FetchPolicy.allowing("localhost"))
    assert info.value.kind == "scheme"


def test_http_error_is_one_readable_line(http_server, make_client) -> None:
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/missing"), policy=local(http_server))
    error = info.value
    assert (error.kind, error.status) == ("http", 404)
    assert str(error) == f"cannot fetch {http_server.url('/missing')}: HTTP 404 Not Found"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.url, copy.kind, copy.status, str(copy)) == (error.url, error.kind, error.status, str(error))


def test_size_cap_counts_decompressed_bytes(http_server, make_client) -> None:
    import gzip

    packed = gzip.compress(b"\0" * 1_000_000)
    http_server.route("/bomb.json", Reply(body=packed, content_type="application/json",
                                          headers={"Content-Encoding": "gzip"}))
    assert len(packed) < 5000
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/bomb.json"), policy=local(http_server), max_bytes=100_000)
    assert info.value.kind == "too_large"


def test_broken_compression_is_invalid_not_retried(http_server, make_client) -> None:
    http_server.route("/broken.json", Reply(body=b"this is not gzip", content_type="application/json",
                                            headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/broken.json"), policy=local(http_server))
    assert info.value.kind == "invalid" and len(http_server.requests_for("/broken.json")) == 1
