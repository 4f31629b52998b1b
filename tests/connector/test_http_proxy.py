"""The explicit proxy (proxy_url) and the extra CA bundle (ca_bundle), against a proxy and a
TLS server of our own on loopback, with a throwaway certificate authority.

The client's resolver answers a public address for the test names (so the guard lets them
through and they go to the proxy); the proxy resolves them to the loopback servers."""

from __future__ import annotations

import base64
import socket

import pytest

from connector.http import FetchError, FetchPolicy
from connector.proxy import Proxy, ProxyRoute
from loupe_core.settings import SettingsError
from tests.support.httpserver import TestHTTPServer
from tests.support.proxy import TestProxy
from tests.support.tls import make_ca

PUBLIC = "93.184.216.34"  # what the client's "DNS" says; never dialled (the netaudit guard would fail the test)
FAST = {"rate_limit_per_host": 1000.0, "respect_robots": False}


def public_dns(host: str, port: int) -> list[str]:
    return [PUBLIC]


@pytest.fixture
def tls_server(tmp_path):
    ca = make_ca(tmp_path / "ca", "iiif.test")
    with TestHTTPServer(ssl_context=ca.server_context()) as server:
        server.text("/x", "through the tunnel")
        yield ca, server


def test_https_goes_through_a_connect_tunnel_and_trusts_the_ca_bundle(tls_server, make_client) -> None:
    ca, server = tls_server
    with TestProxy({"iiif.test": "127.0.0.1"}) as proxy:
        client = make_client(resolver=public_dns, proxy_url=proxy.url, ca_bundle=str(ca.ca_cert), **FAST)
        url = f"https://iiif.test:{server.port}/x"
        assert client.get(url).content == b"through the tunnel"
        assert client.get(url).content == b"through the tunnel"  # the tunnel is kept alive
    assert [(r.method, r.target) for r in proxy.log] == [("CONNECT", f"iiif.test:{server.port}")]
    assert [r.host for r in server.log] == [f"iiif.test:{server.port}"] * 2


def test_without_the_ca_bundle_the_certificate_is_refused(tls_server, make_client) -> None:
    _ca, server = tls_server
    with TestProxy({"iiif.test": "127.0.0.1"}) as proxy:
        client = make_client(resolver=public_dns, proxy_url=proxy.url, **FAST)
        with pytest.raises(FetchError) as info:
            client.get(f"https://iiif.test:{server.port}/x")
    assert info.value.kind == "network" and "TLS" in str(info.value) and "certificate" in str(info.value)
    assert server.log == []


def test_pinned_connect_names_the_checked_address_and_tls_still_checks_the_name(tls_server, make_client) -> None:
    ca, server = tls_server
    with TestProxy({PUBLIC: "127.0.0.1"}) as proxy:
        client = make_client(resolver=public_dns, proxy_url=proxy.url, proxy_pin_address=True,
                             ca_bundle=str(ca.ca_cert), **FAST)
        assert client.get(f"https://iiif.test:{server.port}/x").content == b"through the tunnel"
    assert [r.target for r in proxy.log] == [f"{PUBLIC}:{server.port}"]


def test_http_is_forwarded_with_proxy_credentials(http_server, make_client) -> None:
    http_server.text("/m.json", "{}")
    with TestProxy({"plain.test": "127.0.0.1"}) as proxy:
        client = make_client(resolver=public_dns, proxy_url=f"http://harvester:s%40cret@127.0.0.1:{proxy.port}", **FAST)
        assert client.get(f"http://plain.test:{http_server.port}/m.json?a=1").content == b"{}"
    [seen] = proxy.log
    assert (seen.method, seen.target) == ("GET", f"http://plain.test:{http_server.port}/m.json?a=1")
    assert seen.headers["proxy-authorization"] == "Basic " + base64.b64encode(b"harvester:s@cret").decode()
    [arrived] = http_server.log
    assert arrived.host == f"plain.test:{http_server.port}" and "proxy-authorization" not in arrived.headers


@pytest.mark.parametrize("url, dns", [
    ("https://169.254.169.254/latest/meta-data/", None),
    ("http://metadata.google.internal/computeMetadata/v1/", None),
    ("https://localhost/x", None),
    ("http://127.0.0.1:6379/", None),
    ("https://[::ffff:10.0.0.5]/x", None),
    ("https://intranet.test/x", "10.0.0.5"),
    ("https://rebind.test/x", "169.254.169.254"),
])
def test_the_guard_refuses_before_anything_reaches_the_proxy(make_client, url: str, dns: str | None) -> None:
    with TestProxy() as proxy:
        client = make_client(resolver=lambda host, port: [dns or PUBLIC], proxy_url=proxy.url, **FAST)
        with pytest.raises(FetchError) as info:
            client.get(url)
    assert info.value.kind == "blocked"
    assert proxy.log == []


def test_a_name_that_does_not_resolve_here_is_left_to_the_proxy(http_server, make_client) -> None:
    http_server.text("/x", "resolved by the proxy")

    def no_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with TestProxy({"far.test": "127.0.0.1"}) as proxy:
        client = make_client(resolver=no_dns, proxy_url=proxy.url, **FAST)
        assert client.get(f"http://far.test:{http_server.port}/x").content == b"resolved by the proxy"
    with pytest.raises(FetchError) as info:
        make_client(resolver=no_dns, **FAST).get(f"http://far.test:{http_server.port}/x")
    assert info.value.kind == "network" and "cannot resolve" in str(info.value)


def test_an_allowed_private_host_is_fetched_directly(http_server, make_client) -> None:
    http_server.text("/x", "intranet")
    with TestProxy() as proxy:
        client = make_client(proxy_url=proxy.url, **FAST)
        assert client.get(http_server.url("/x"), policy=FetchPolicy.allowing(http_server.base_url)).content == b"intranet"
    assert proxy.log == []


def test_a_refusing_proxy_gives_a_clear_error_without_retries(make_client) -> None:
    with TestProxy(refuse=403) as proxy:
        client = make_client(resolver=public_dns, proxy_url=proxy.url, **FAST)
        with pytest.raises(FetchError) as info:
            client.get("https://iiif.test/x")
    assert "refused CONNECT iiif.test:443: HTTP 403" in str(info.value) and proxy.url in str(info.value)
    assert len(proxy.log) == 1


def test_bypass_matches_names_and_their_subdomains() -> None:
    route = ProxyRoute(Proxy("proxy", 3128), bypass=("museum.org", ".archive.test"))
    assert route.bypasses("museum.org") and route.bypasses("IIIF.Museum.org.")
    assert route.bypasses("img.archive.test") and not route.bypasses("notmuseum.org")


@pytest.mark.parametrize("changes, message", [
    ({"proxy_url": "https://proxy.example:3128"}, "only http:// proxies"),
    ({"proxy_url": "http://:3128"}, "has no host"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "no such file"),
])
def test_unusable_settings_are_named(make_client, changes: dict, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        make_client(**changes)
    assert message in str(info.value)


def test_config_masks_the_proxy_password(settings) -> None:
    shown = settings.replace(proxy_url="http://harvester:secret@proxy:3128").as_dict()["proxy_url"]
    assert shown == "http://harvester:***@proxy:3128"
