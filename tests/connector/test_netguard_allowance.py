"""The private-network allowance: which (host, port) pairs it covers, how entries are
spelled, and the cloud metadata addresses that no allowance lets through (checked without
connecting or resolving)."""

from __future__ import annotations

import ipaddress

import pytest

from connector.errors import FetchError
from connector.http import FetchPolicy
from connector.netguard import PrivateAllowance, canonical_host, check_url, ip_literal, never_allowed


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the guard resolved {host!r}; it must decide without DNS")


def resolver_for(table: dict[str, list[str]]):
    return lambda host, port: table[host]


# --- entries -----------------------------------------------------------------------------

@pytest.mark.parametrize("entry, pairs", [
    ("http://127.0.0.1:8765/collection.json", {("127.0.0.1", 8765)}),
    ("https://intranet.museum/iiif/collection", {("intranet.museum", 80), ("intranet.museum", 443)}),
    ("http://intranet.museum:80/", {("intranet.museum", 80), ("intranet.museum", 443)}),
    ("images.intranet", {("images.intranet", 80), ("images.intranet", 443)}),
    ("IMAGES.Intranet.:8182", {("images.intranet", 8182)}),
    ("10.0.0.5:8080", {("10.0.0.5", 8080)}),
    ("[::1]:8080", {("::1", 8080)}),
    ("[fd12::7]", {("fd12::7", 80), ("fd12::7", 443)}),
    ("::1", {("::1", 80), ("::1", 443)}),
    ("0x7f.1:9000", {("127.0.0.1", 9000)}),  # spellings of one address are one entry
])
def test_entries(entry: str, pairs: set) -> None:
    assert PrivateAllowance.of([entry]).pairs == pairs


@pytest.mark.parametrize("entry", ["host:port", "host:0", "host:70000", "[::1]x", "ftp://host/", ":8080", ""])
def test_bad_entries_are_refused_with_the_entry_named(entry: str) -> None:
    with pytest.raises((ValueError, FetchError)) as info:
        PrivateAllowance.of([entry])
    assert repr(entry) in str(info.value) or entry in str(info.value)


@pytest.mark.parametrize("entry", ["169.254.169.254", "169.254.169.254:80", "http://169.254.169.254/latest/",
                                   "2852039166", "[fd00:ec2::254]", "[::ffff:169.254.169.254]:80",
                                   "metadata.google.internal", "169.254.170.2:80"])
def test_metadata_addresses_cannot_be_allowed(entry: str) -> None:
    with pytest.raises(ValueError, match="cloud metadata"):
        PrivateAllowance.of([entry])


def test_allowance_is_per_host_and_port() -> None:
    allow = PrivateAllowance.of(["http://127.0.0.1:8765/collection.json"])
    loopback = resolver_for({})
    assert check_url("http://127.0.0.1:8765/m/1.json", allow=allow, resolver=loopback).port == 8765
    for url in ("http://127.0.0.1:6333/collections", "http://127.0.0.2:8765/", "http://127.0.0.1/",
                "http://[::1]:8765/", "http://localhost:8765/"):
        with pytest.raises(FetchError) as info:
            check_url(url, allow=allow, resolver=loopback)
        assert info.value.kind == "blocked", url
        assert "covers only 127.0.0.1:8765" in str(info.value) and "--allow-host" in str(info.value)


def test_other_spellings_of_the_allowed_address_are_the_same_host() -> None:
    allow = PrivateAllowance.of(["127.0.0.1:8765"])
    for url in ("http://0x7f.1:8765/", "http://2130706433:8765/", "http://127.0.0.1.:8765/"):
        assert check_url(url, allow=allow, resolver=no_dns).addresses == ("127.0.0.1",)


def test_allowed_name_may_resolve_to_private_addresses_other_names_may_not() -> None:
    resolve = resolver_for({"intranet.museum": ["10.0.0.5"], "other.museum": ["10.0.0.5"]})
    allow = PrivateAllowance.of(["intranet.museum"])
    assert check_url("https://intranet.museum/m.json", allow=allow, resolver=resolve).addresses == ("10.0.0.5",)
    with pytest.raises(FetchError) as info:
        check_url("https://other.museum/m.json", allow=allow, resolver=resolve)
    assert info.value.kind == "blocked" and "10.0.0.5" in str(info.value)
    with pytest.raises(FetchError):  # a bare host name allows the web ports only
        check_url("http://intranet.museum:8080/m.json", allow=allow, resolver=resolve)


def test_public_hosts_stay_reachable_with_an_allowance() -> None:
    resolve = resolver_for({"iiif.example.org": ["93.184.215.14"]})
    allow = PrivateAllowance.of(["10.0.0.5:8080"])
    assert check_url("https://iiif.example.org/m.json", allow=allow, resolver=resolve).addresses == ("93.184.215.14",)


# --- cloud metadata, in every spelling, never ----------------------------------------------

METADATA_HOSTS = [
    "169.254.169.254", "2852039166", "0xa9fea9fe", "0XA9FEA9FE", "0251.0376.0251.0376", "169.254.43518",
    "169.16689662", "0xa9.0xfe.0xa9.0xfe", "0251.254.169.0376", "00000251.254.169.254",
    "\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14",  # fullwidth digits
    "169\u3002254\u3002169\u3002254",  # ideographic full stops
    "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[0:0:0:0:0:ffff:a9fe:a9fe]", "[::a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "[2001::5601:5601]",  # NAT64, 6to4, Teredo
    "[fd00:ec2::254]", "[FD00:0EC2:0000:0000:0000:0000:0000:0254]", "[fd00:ec2::254%25eth0]",
    "169.254.170.2", "100.100.100.200", "[::ffff:100.100.100.200]", "192.0.0.192",
]


@pytest.mark.parametrize("host", METADATA_HOSTS)
def test_metadata_forms_are_refused_even_when_the_allowance_covers_them(host: str) -> None:
    """The allowance is built directly (``of`` would refuse these entries): even a source
    that somehow holds one never reaches the address. Decided without DNS or a connection."""
    url = f"http://{host}/latest/meta-data/iam/security-credentials/"
    ip = ip_literal(canonical_host(host.strip("[]").replace("%25", "%")))
    assert ip is not None and never_allowed(ip), host
    allow = PrivateAllowance(frozenset({(canonical_host(host.strip("[]").replace("%25", "%")), 80)}))
    assert allow.covers(canonical_host(host.strip("[]").replace("%25", "%")), 80)
    for policy_allow in (allow, PrivateAllowance.of(["127.0.0.1:80"]), PrivateAllowance()):
        with pytest.raises(FetchError) as info:
            check_url(url, allow=policy_allow, resolver=no_dns)
        assert info.value.kind == "blocked", host
        assert "metadata" in str(info.value), (host, str(info.value))


@pytest.mark.parametrize("name", ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata",
                                  "instance-data.ec2.internal", "metadata.goog"])
def test_metadata_names_are_refused_even_when_covered(name: str) -> None:
    allow = PrivateAllowance(frozenset({(canonical_host(name), 80)}))
    with pytest.raises(FetchError) as info:
        check_url(f"http://{name}/computeMetadata/v1/", allow=allow, resolver=no_dns)
    assert info.value.kind == "blocked" and "metadata" in str(info.value)


def test_an_allowed_name_that_resolves_to_metadata_is_refused() -> None:
    """DNS of an allowed intranet name answering 169.254.169.254 (or its IPv6 twin)."""
    allow = PrivateAllowance.of(["intranet.museum"])
    for answer in (["10.0.0.5", "169.254.169.254"], ["::ffff:169.254.169.254"], ["fd00:ec2::254"]):
        with pytest.raises(FetchError) as info:
            check_url("http://intranet.museum/", allow=allow, resolver=resolver_for({"intranet.museum": answer}))
        assert info.value.kind == "blocked" and "never fetched" in str(info.value), answer


@pytest.mark.parametrize("address", ["169.254.0.1", "169.254.255.255", "fd00:ec2::23", "::ffff:169.254.1.1"])
def test_never_allowed_covers_the_whole_metadata_ranges(address: str) -> None:
    assert never_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "fd00:ec3::254", "fe80::1", "8.8.8.8", "::1"])
def test_never_allowed_leaves_other_addresses_to_the_allowance(address: str) -> None:
    assert not never_allowed(ipaddress.ip_address(address))


# --- the policy of a source -----------------------------------------------------------------

class _Source:
    def __init__(self, url: str, allow_private: bool, allowed_hosts=(), polite: bool = True) -> None:
        self.url, self.allow_private, self.allowed_hosts, self.polite = url, allow_private, allowed_hosts, polite


def test_policy_for_source() -> None:
    policy = FetchPolicy.for_source(_Source("http://127.0.0.1:8765/collection.json", True, ["127.0.0.2:9000"]))
    assert policy.private.pairs == {("127.0.0.1", 8765), ("127.0.0.2", 9000)} and policy.allow_private
    assert not FetchPolicy.for_source(_Source("http://127.0.0.1:8765/c.json", False)).allow_private
    # A local list of URLs has no host of its own: only the named hosts.
    assert FetchPolicy.for_source(_Source("file:///tmp/list.txt", True, ["10.0.0.5"])).private.pairs == {
        ("10.0.0.5", 80), ("10.0.0.5", 443)}
    assert FetchPolicy.for_source(_Source("https://x.org/c", False, polite=False)).polite is False
