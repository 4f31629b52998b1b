"""Server-side request forgery (SSRF) guard.

Loupe fetches URLs that come from other people's documents (manifests, collections,
redirects), so a hostile or careless document must not make it read the harvesting
machine's own services (loopback), the office network (RFC 1918, ULA), or a cloud
provider's metadata endpoint (169.254.169.254) and then index or echo what it found.

``check_url`` accepts only http/https, resolves the host (every address ``getaddrinfo``
returns, not just the first) and refuses the URL if *any* address is non-public, unless
the source was explicitly allowed to reach private networks. The HTTP client calls it on
the first request and on every redirect hop, and then connects to one of the addresses
checked here (see ``connector.transport``) so that a second, different DNS answer cannot
slip in between check and connect (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from connector.errors import FetchError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``resolver(host, port) -> [ip, ...]``; injectable so tests can simulate public DNS answers.
Resolver = Callable[[str, int], list[str]]

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

ALLOW_PRIVATE_HINT = ("to harvest from a local or private server on purpose, "
                      "add it with `loupe source add URL --allow-private`")

# Names that point at the machine itself or at cloud metadata services whatever DNS says;
# refused even before resolution (defence in depth: some resolvers answer them specially).
BLOCKED_HOSTNAMES = frozenset({
    "localhost",
    "metadata",
    "metadata.google.internal",
    "instance-data",
    "instance-data.ec2.internal",
})
# Private-use and special-use name spaces (RFC 6761 .localhost, RFC 6762 .local,
# RFC 8375 .home.arpa, ICANN's private-use .internal).
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CLOUD_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard, with the addresses that were checked (connect to one of these)."""

    url: str
    scheme: str
    host: str  # lower case, without brackets or trailing dot
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver returns for ``host`` (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if ip not in out:
            out.append(ip)
    return out


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any.

    ``::ffff:127.0.0.1`` reaches 127.0.0.1 on a dual-stack socket, so it must be judged as
    the IPv4 address it stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched from without an explicit allowance, or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem:
                return f"{problem} (as IPv4 {embedded} embedded in IPv6)"
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d *is* a.b.c.d, which is public
    if ip in _CLOUD_METADATA:
        return "link-local cloud metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT 100.64.0.0/10)"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _ULA:
        return "private (unique local fc00::/7)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "private (site-local fec0::/10)"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not globally routable"
    return None


def hostname_problem(host: str) -> str | None:
    """Why a host *name* is refused before any lookup, or None."""
    name = host.rstrip(".").lower()
    if name in BLOCKED_HOSTNAMES:
        return f"the name {name!r} is reserved for the local machine or a cloud metadata service"
    if name.endswith(BLOCKED_SUFFIXES):
        return f"the name {name!r} is in a local/private-use domain"
    return None


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL; FetchError kind scheme/invalid otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(url, "invalid", f"malformed URL ({e})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}://" if scheme else "a URL without a scheme"
        raise FetchError(url, "scheme", f"only http:// and https:// URLs are fetched, not {shown}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(url, "invalid", "the URL has no host")
    return scheme, host, port or DEFAULT_PORTS[scheme]


def check_url(url: str, *, allow_private: bool = False, resolver: Resolver = system_resolver) -> CheckedTarget:
    """Refuse ``url`` unless it is http(s) and every address of its host is public.

    With ``allow_private`` the addresses are still resolved (the client connects to them),
    but any address class is accepted. Raises ``FetchError`` with kind ``scheme``,
    ``invalid``, ``blocked`` or ``network`` (name does not resolve).
    """
    scheme, host, port = split_url(url)
    if not allow_private:
        problem = hostname_problem(host)
        if problem:
            raise FetchError(url, "blocked", f"refused: {problem}; {ALLOW_PRIVATE_HINT}")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as e:
            raise FetchError(url, "network", f"cannot resolve host {host!r} ({e})") from None
        if not addresses:
            raise FetchError(url, "network", f"host {host!r} resolves to no address")
    if not allow_private:
        for text in addresses:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                raise FetchError(url, "blocked", f"refused: resolver returned {text!r}, not an IP address") from None
            problem = address_problem(ip)
            if problem:
                where = f"{host} is" if literal is not None else f"{host} resolves to {ip}, which is"
                raise FetchError(url, "blocked", f"refused: {where} a {problem} address; {ALLOW_PRIVATE_HINT}")
    return CheckedTarget(url=url, scheme=scheme, host=host.lower(), port=port, addresses=tuple(addresses))
