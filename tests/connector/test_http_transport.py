"""The transport under HttpClient (connector.transport), against real local servers:
Content-Encoding, keep-alive reuse, connections the server closed, HTTPS with SNI and
verification, and framing errors."""

from __future__ import annotations

import gzip
import ssl
import zlib

import pytest

from connector import transport
from connector.http import FetchError, FetchPolicy
from connector.transport import ContentDecoder, ResponseHeaders, UnsupportedEncoding, request_bytes
from tests.connector.test_http_guard import _make_certificate
from tests.support.httpserver import Reply, TestHTTPServer


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)
FAST = {"rate_limit_per_host": 1000.0, "respect_robots": False}
DOC = b'{"id": "https://example.org/m.json", "label": {"en": ["' + b"words " * 2000 + b'"]}}'


# --- Content-Encoding ----------------------------------------------------------------------
@pytest.mark.parametrize("chunked", [False, True])
def test_gzip_response_is_decoded(http_server, make_client, chunked: bool) -> None:
    http_server.route("/m.json", Reply(body=gzip.compress(DOC), content_type="application/json", chunked=chunked,
                                       chunk_size=1000, headers={"Content-Encoding": "gzip"}))
    client = make_client(**FAST)
    result = client.get_json(http_server.url("/m.json"), policy=local(http_server))
    assert result.content == DOC and result.json()["id"] == "https://example.org/m.json"
    assert http_server.requests_for("/m.json")[0].headers["accept-encoding"] == "gzip, deflate"
    assert client.stats.bytes == len(DOC)  # decoded bytes are counted


@pytest.mark.parametrize("packed", [zlib.compress(DOC), zlib.compress(DOC)[2:-4]], ids=["zlib", "raw"])
def test_deflate_zlib_wrapped_and_raw_are_decoded(http_server, make_client, packed: bytes) -> None:
    http_server.route("/d", Reply(body=packed, headers={"Content-Encoding": "deflate"}))
    assert make_client(**FAST).get(http_server.url("/d"), policy=local(http_server)).content == DOC


def test_concatenated_gzip_members_decode_as_one_body(http_server, make_client) -> None:
    http_server.route("/two", Reply(body=gzip.compress(b"first ") + gzip.compress(b"second"),
                                    headers={"Content-Encoding": "gzip"}))
    assert make_client(**FAST).get(http_server.url("/two"), policy=local(http_server)).content == b"first second"


def test_gzip_bomb_is_refused_without_inflating_it(http_server, make_client) -> None:
    """100 MB of zeros in ~100 KB: refused as too_large after decoding just past the limit."""
    packed = gzip.compress(b"\0" * 100_000_000, compresslevel=9)
    assert len(packed) < 150_000
    http_server.route("/bomb.json", Reply(body=packed, content_type="application/json",
                                          headers={"Content-Encoding": "gzip"}))
    client = make_client(**FAST)
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/bomb.json"), policy=local(http_server), max_bytes=1_000_000)
    assert info.value.kind == "too_large" and "1,000,000" in str(info.value)
    assert client.stats.bytes <= 1_000_001  # never more than one byte past the cap was inflated


def test_gzip_bomb_in_robots_txt_is_truncated(http_server, make_client) -> None:
    from connector.robots import ROBOTS_MAX_BYTES

    rules = b"User-agent: *\nDisallow: /private/\n" + b"#" * 50_000_000
    http_server.route("/robots.txt", Reply(body=gzip.compress(rules), content_type="text/plain",
                                           headers={"Content-Encoding": "gzip"}))
    http_server.text("/private/x", "no")
    client = make_client(rate_limit_per_host=1000.0)
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/private/x"), policy=local(http_server))
    assert info.value.kind == "robots"
    assert client.stats.bytes <= ROBOTS_MAX_BYTES + 1


def test_unrequested_content_encoding_is_invalid(http_server, make_client) -> None:
    http_server.route("/br", Reply(body=b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/br"), policy=local(http_server))
    assert info.value.kind == "invalid" and "Content-Encoding br" in str(info.value)
    assert len(http_server.requests_for("/br")) == 1


def test_content_decoder_bounds_every_call() -> None:
    decoder = ContentDecoder("gzip")
    packed = gzip.compress(b"a" * 1_000_000)
    out = decoder.decode(packed, 10_000)
    assert len(out) == 10_001  # one byte over the room says "too large"
    assert ContentDecoder("identity").decode(b"x", 0) == b"x" and not ContentDecoder(None).active
    with pytest.raises(UnsupportedEncoding):
        ContentDecoder("gzip, gzip")


# --- keep-alive ----------------------------------------------------------------------------
def test_sequential_requests_reuse_one_connection(http_server, make_client) -> None:
    """Bodies of every kind are read to their end, so one connection serves them all."""
    http_server.json("/m.json", {"v": 1}, etag='"v1"')
    http_server.route("/chunked", Reply(body=b"c" * 50_000, chunked=True, chunk_size=7000))
    http_server.redirect("/old", "/m.json")
    client = make_client(rate_limit_per_host=1000.0)  # robots.txt (404 here) too
    first = client.get_json(http_server.url("/m.json"), policy=local(http_server))
    assert client.get_json(http_server.url("/m.json"), policy=local(http_server), etag=first.etag).status == 304
    assert client.get(http_server.url("/chunked"), policy=local(http_server)).content == b"c" * 50_000
    assert client.get(http_server.url("/old"), policy=local(http_server)).final_url == http_server.url("/m.json")
    with pytest.raises(FetchError):
        client.get(http_server.url("/missing"), policy=local(http_server))
    client.get(http_server.url("/m.json"), policy=local(http_server))
    ports = {r.client_port for r in http_server.log}
    assert len(http_server.log) == 8 and len(ports) == 1 and 0 not in ports
    assert client._pool.opened == 1 and client._pool.reused == 7


def test_server_closing_an_idle_connection_is_transparent(http_server, make_client) -> None:
    """The server closes the connection after answering (keep-alive timeout): the next
    request notices before sending and uses a new connection; no retry, no error."""
    http_server.route("/x", Reply(body=b"x", close_after=True))
    client = make_client(**FAST)
    assert [client.get(http_server.url("/x"), policy=local(http_server)).content for _ in range(3)] == [b"x"] * 3
    assert len({r.client_port for r in http_server.log}) == 3
    assert client.stats.retries == 0 and client.stats.requests == 3


def test_connection_closed_just_before_the_request_is_resent_once(http_server, make_client, monkeypatch) -> None:
    """When the close is not yet visible at reuse (a race), the request fails on the
    kept-alive connection before any answer and is sent again on a new one, not counted
    as a retry."""
    monkeypatch.setattr(transport, "_looks_dropped", lambda sock: False)
    http_server.route("/x", Reply(body=b"x", close_after=True))
    client = make_client(max_retries=0, **FAST)
    for _ in range(3):
        assert client.get(http_server.url("/x"), policy=local(http_server)).content == b"x"
    assert client.stats.retries == 0 and client._pool.stale == 2 and len(http_server.log) == 3


def test_request_dropped_on_a_reused_connection_is_resent_once(http_server, make_client) -> None:
    http_server.text("/a", "a")
    http_server.route("/b", [Reply(drop=True), Reply(body=b"b")])
    client = make_client(max_retries=0, **FAST)
    assert client.get(http_server.url("/a"), policy=local(http_server)).content == b"a"
    assert client.get(http_server.url("/b"), policy=local(http_server)).content == b"b"
    first_b, second_b = http_server.requests_for("/b")
    assert first_b.client_port == http_server.requests_for("/a")[0].client_port != second_b.client_port
    assert client.stats.retries == 0 and client._pool.stale == 1


def test_drop_on_a_new_connection_is_an_ordinary_retry(http_server, make_client) -> None:
    http_server.route("/drop", Reply(drop=True))
    client = make_client(max_retries=1, **FAST)
    with pytest.raises(FetchError) as info:
        client.get(http_server.url("/drop"), policy=local(http_server))
    assert info.value.kind == "network" and "gave up after 2 attempts" in str(info.value)
    assert "closed connection without response" in str(info.value)
    assert len(http_server.requests_for("/drop")) == 2 and client._pool.stale == 0


def test_body_shorter_than_content_length_is_a_network_error(http_server, make_client) -> None:
    http_server.route("/short", [Reply(body=b"0123456789", headers={"Content-Length": "100"}, close_after=True),
                                 Reply(body=b"complete")])
    client = make_client(**FAST)
    assert client.get(http_server.url("/short"), policy=local(http_server)).content == b"complete"
    assert client.stats.retries == 1


# --- request framing -----------------------------------------------------------------------
def test_hostile_validator_cannot_inject_headers(http_server, make_client) -> None:
    http_server.text("/x", "x")
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/x"), policy=local(http_server), etag='"v1"\r\nX-Injected: 1')
    assert info.value.kind == "invalid" and http_server.log == []


def test_spaces_and_non_ascii_in_paths_are_percent_encoded(http_server, make_client) -> None:
    http_server.text("/a%20b/%C3%A9.json", "ok")
    result = make_client(**FAST).get(http_server.url("/a b/é.json?q=1"), policy=local(http_server))
    assert result.content == b"ok"
    assert http_server.log[0].path == "/a%20b/%C3%A9.json?q=1"


def test_request_bytes_and_headers() -> None:
    data = request_bytes("/x?y=1", {"Host": "example.org", "Accept": "*/*"})
    assert data == b"GET /x?y=1 HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n"
    for target, headers in [("/a b", {}), ("http://x/", {}), ("/", {"Bad Name": "v"}), ("/", {"X": "a\nb"})]:
        with pytest.raises(ValueError):
            request_bytes(target, headers)
    headers = ResponseHeaders([("ETag", '"a"'), ("Vary", "Accept"), ("vary", "Origin")])
    assert headers.get("etag") == '"a"' and headers.get_all("VARY") == ["Accept", "Origin"]
    assert "Etag" in headers and headers.get("missing", "-") == "-"


# --- HTTPS -----------------------------------------------------------------------------------
@pytest.fixture
def tls_server(tmp_path):
    cert, key = _make_certificate(tmp_path, "iiif.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with TestHTTPServer(ssl_context=context) as server:
        server.sni_names = names  # type: ignore[attr-defined]
        server.cert = cert  # type: ignore[attr-defined]
        yield server


def test_https_sends_sni_verifies_and_keeps_alive(tls_server, make_client) -> None:
    tls_server.text("/x", "secure")
    client = make_client(ssl_context=ssl.create_default_context(cafile=str(tls_server.cert)),
                         resolver=lambda host, port: ["127.0.0.1"], **FAST)
    for _ in range(3):
        assert client.get(f"https://iiif.test:{tls_server.port}/x", policy=FetchPolicy.allowing(f"iiif.test:{tls_server.port}")).content == b"secure"
    assert tls_server.sni_names == ["iiif.test"]  # one handshake, with the name
    assert len({r.client_port for r in tls_server.log}) == 1
    assert tls_server.log[0].host == f"iiif.test:{tls_server.port}"


def test_https_verification_is_on_by_default(tls_server, make_client) -> None:
    """Without a CA for the test certificate (certifi's bundle), the handshake fails:
    reported as a TLS error, not retried."""
    tls_server.text("/x", "secure")
    client = make_client(resolver=lambda host, port: ["127.0.0.1"], **FAST)
    with pytest.raises(FetchError) as info:
        client.get(f"https://iiif.test:{tls_server.port}/x", policy=FetchPolicy.allowing(f"iiif.test:{tls_server.port}"))
    assert info.value.kind == "network" and "TLS error" in str(info.value)
    assert "certificate verify failed" in str(info.value)
    assert client.stats.retries == 0 and tls_server.log == []
