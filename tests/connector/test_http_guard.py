"""The SSRF guard inside the client: default refusal of loopback, the explicit allowance,
per-hop checks on redirects, and connecting to the checked address (HTTP and HTTPS)."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from connector import netguard
from connector.http import FetchError, FetchPolicy
from tests.support.httpserver import TestHTTPServer


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)
FAST = {"rate_limit_per_host": 1000.0}


def test_loopback_is_refused_by_default(http_server, make_client) -> None:
    http_server.text("/x", "x")
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/x"))
    assert info.value.kind == "blocked"
    assert "loopback" in str(info.value) and "loupe source add URL --allow-private" in str(info.value)
    assert http_server.log == []  # not even robots.txt was asked for


def test_localhost_name_is_refused_by_default(http_server, make_client) -> None:
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/x", host="localhost"))
    assert info.value.kind == "blocked" and http_server.log == []


def test_allow_private_reaches_loopback(http_server, make_client) -> None:
    http_server.text("/x", "x")
    assert make_client(**FAST).get(http_server.url("/x"), policy=local(http_server)).content == b"x"


def test_ipv6_loopback_with_allowance(make_client, http_server_factory) -> None:
    try:
        server = http_server_factory("::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server.text("/x", "six")
    assert make_client(**FAST).get(server.url("/x"), policy=local(server)).content == b"six"
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(server.url("/x"))
    assert info.value.kind == "blocked"


def test_redirect_from_allowed_host_to_private_host_is_refused(http_server_factory, make_client, monkeypatch) -> None:
    """Pretend 127.0.0.1 is a public address; 127.0.0.2 stays loopback. A redirect from the
    "public" server to the loopback one must be refused before anything is sent to it."""
    public, private = http_server_factory("127.0.0.1"), http_server_factory("127.0.0.2")
    real_problem = netguard.address_problem
    monkeypatch.setattr(netguard, "address_problem",
                        lambda ip: None if ip == ipaddress.ip_address("127.0.0.1") else real_problem(ip))
    private.text("/secret", "secret")
    public.redirect("/manifest.json", private.url("/secret"))
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(public.url("/manifest.json"))
    assert info.value.kind == "blocked" and "127.0.0.2" in str(info.value)
    assert len(public.requests_for("/manifest.json")) == 1
    assert private.log == []


def test_connects_to_the_checked_address_and_keeps_the_host_name(http_server, make_client) -> None:
    """``iiif.test`` exists only in the injected resolver: the request can succeed only if
    the client dials the address the guard checked instead of resolving the name again."""
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    http_server.text("/x", "pinned")
    client = make_client(resolver=resolver, respect_robots=False, **FAST)
    url = f"http://iiif.test:{http_server.port}/x"
    assert client.get(url, policy=FetchPolicy.allowing(url)).content == b"pinned"
    assert http_server.requests_for("/x")[0].host == f"iiif.test:{http_server.port}"
    assert calls == ["iiif.test"]


def _make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}"], check=True, capture_output=True)
    return cert, key


def test_https_pinning_keeps_sni_and_certificate_checks_on_the_name(tmp_path, make_client) -> None:
    cert, key = _make_certificate(tmp_path, "iiif.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with TestHTTPServer(ssl_context=context) as server:
        server.text("/x", "secure")
        client = make_client(ssl_context=ssl.create_default_context(cafile=str(cert)),
                             resolver=lambda host, port: ["127.0.0.1"], respect_robots=False, **FAST)
        policy = FetchPolicy.allowing(f"iiif.test:{server.port}", f"other.test:{server.port}")
        result = client.get(f"https://iiif.test:{server.port}/x", policy=policy)
        assert result.content == b"secure"
        # The same address under a name the certificate does not cover must fail verification.
        with pytest.raises(FetchError) as info:
            client.get(f"https://other.test:{server.port}/x", policy=policy)
        assert info.value.kind == "network" and "TLS" in str(info.value)


def test_falls_back_to_the_next_checked_address_at_once(http_server, make_client) -> None:
    """A name with a dead address first (as a broken IPv6 route would be) still works,
    without a retry or backoff, and only checked addresses are dialled."""
    http_server.text("/x", "second address")
    client = make_client(resolver=lambda host, port: ["127.0.0.3", "127.0.0.1"], respect_robots=False, **FAST)
    result = client.get(f"http://two.test:{http_server.port}/x", policy=FetchPolicy.allowing(f"two.test:{http_server.port}"))
    assert result.content == b"second address"
    assert client.stats.retries == 0 and client.stats.requests == 2
