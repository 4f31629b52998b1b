"""SSRF guard: every non-public address class, names, schemes; DNS faked where public."""

from __future__ import annotations

import ipaddress

import pytest

from connector.errors import FetchError
from connector.netguard import PrivateAllowance, address_problem, check_url

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def resolver_for(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.10", "private"),
    ("169.254.10.20", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),  # "this network"
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),  # broadcast
    ("192.0.2.1", "private"),  # documentation: not routable
    ("198.18.0.1", "private"),  # benchmarking
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "unique local"),
    ("fd12:3456:789a::1", "unique local"),
    ("fd00:ec2::254", "cloud metadata"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback (as IPv4 127.0.0.1 embedded"),
    ("::ffff:10.0.0.1", "private (as IPv4"),
    ("::ffff:169.254.169.254", "cloud metadata (as IPv4"),
    ("::ffff:100.64.1.1", "CGNAT"),
    ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
    ("2002:7f00:1::1", "loopback (as IPv4 127.0.0.1"),  # 6to4 wrapping loopback
    ("2002:c0a8:101::1", "private (as IPv4 192.168.1.1"),
    ("64:ff9b::7f00:1", "loopback (as IPv4"),  # NAT64 of 127.0.0.1
    ("2001:db8::1", "private"),  # documentation
])
def test_non_public_addresses_are_refused(address: str, expected: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and expected in problem, (address, problem)


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", "1.1.1.1", PUBLIC_V6, "2001:4860:4860::8888",
                                     "::ffff:8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_public_host_passes_with_all_its_addresses() -> None:
    resolve = resolver_for({"iiif.example.org": [PUBLIC_V4, PUBLIC_V6]})
    target = check_url("https://IIIF.example.org./m.json", resolver=resolve)
    assert (target.scheme, target.host, target.port) == ("https", "iiif.example.org", 443)
    assert target.addresses == (PUBLIC_V4, PUBLIC_V6)


def test_one_private_address_among_public_ones_blocks_the_host() -> None:
    resolve = resolver_for({"mixed.example.org": [PUBLIC_V4, "10.0.0.5"]})
    with pytest.raises(FetchError) as info:
        check_url("http://mixed.example.org/", resolver=resolve)
    assert info.value.kind == "blocked"
    assert "10.0.0.5" in str(info.value) and "private" in str(info.value)


def test_public_name_resolving_to_metadata_address_is_blocked() -> None:
    resolve = resolver_for({"evil.example.com": ["169.254.169.254"]})
    with pytest.raises(FetchError) as info:
        check_url("http://evil.example.com/latest/meta-data/", resolver=resolve)
    assert info.value.kind == "blocked"
    assert "never fetched" in str(info.value) and "evil.example.com" in str(info.value)


def test_redirect_target_public_to_private_is_refused() -> None:
    """What the client does on each hop: the first hop passes, the redirect target does not."""
    resolve = resolver_for({"public.example.org": [PUBLIC_V4], "intranet.example.org": ["192.168.0.7"]})
    check_url("https://public.example.org/manifest", resolver=resolve)
    with pytest.raises(FetchError) as info:
        check_url("https://intranet.example.org/secret", resolver=resolve)
    assert info.value.kind == "blocked"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
])
def test_ip_literals_are_checked_without_dns(url: str) -> None:
    resolve = resolver_for({})
    with pytest.raises(FetchError) as info:
        check_url(url, resolver=resolve)
    assert info.value.kind == "blocked"
    assert resolve.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://127.1/"])
def test_odd_spellings_of_loopback_are_blocked_after_resolution(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url(url)  # the system resolver turns these into 127.0.0.1
    assert info.value.kind == "blocked"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "metadata.google.internal", "metadata",
                                  "foo.localhost", "printer.local", "db.internal", "nas.home.arpa"])
def test_special_names_are_blocked_before_dns(host: str) -> None:
    resolve = resolver_for({host.lower().rstrip("."): [PUBLIC_V4]})
    with pytest.raises(FetchError) as info:
        check_url(f"http://{host}/", resolver=resolve)
    assert info.value.kind == "blocked"
    assert resolve.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/",
                                 "data:text/plain,hi", "javascript:alert(1)", "example.org/no-scheme"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url(url, allow=PrivateAllowance.of(["example.org", "localhost"]))
    assert info.value.kind == "scheme"
    assert url in str(info.value)


def test_allowance_accepts_private_addresses_of_its_hosts_but_still_resolves() -> None:
    resolve = resolver_for({"intranet.example.org": ["192.168.0.7"], "localhost": ["127.0.0.1"]})
    allow = PrivateAllowance.of(["http://intranet.example.org/collection.json", "localhost:8080"])
    assert check_url("http://intranet.example.org/", allow=allow, resolver=resolve).addresses == ("192.168.0.7",)
    assert check_url("http://localhost:8080/", allow=allow, resolver=resolve).port == 8080


def test_unresolvable_host_is_a_network_error() -> None:
    with pytest.raises(FetchError) as info:
        check_url("http://nowhere.example.org/", resolver=resolver_for({}))
    assert info.value.kind == "network"


def test_malformed_urls_are_invalid() -> None:
    for url in ("http:///path", "http://example.org:99999/"):
        with pytest.raises(FetchError) as info:
            check_url(url, resolver=resolver_for({"example.org": [PUBLIC_V4]}))
        assert info.value.kind == "invalid", url
