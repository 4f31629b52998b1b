"""Server-side request forgery (SSRF) guard.

Loupe fetches URLs that come from other people's documents (manifests, collections,
redirects), so a hostile or careless document must not make it read the harvesting
machine's own services (loopback), the office network (RFC 1918, ULA), or a cloud
provider's metadata endpoint (169.254.169.254) and then index or echo what it found.

``check_url`` accepts only http/https, resolves the host (every address ``getaddrinfo``
returns, not just the first) and refuses the URL if *any* address is non-public. The HTTP
client calls it on the first request and on every redirect hop, and then connects to one of
the addresses checked here (see ``connector.transport``) so that a second, different DNS
answer cannot slip in between check and connect (DNS rebinding).

A source may be allowed private addresses (``loupe source add URL --allow-private``,
``--allow-host HOST[:PORT]``). That allowance is a ``PrivateAllowance``: a set of
``(host, port)`` pairs, never "anything private". Only a URL whose host and port are in
the set may resolve to loopback or private addresses, so a redirect or an image link from
the allowed intranet server to another private host, or to another port of the same
machine (a database, Redis, Qdrant, Loupe's own admin API), is refused like any other.
The pair includes the port because on one machine each port is a different service. Cloud
metadata addresses (``NEVER_ALLOWED``, in every spelling: decimal, hex, octal, IPv4-mapped,
NAT64, 6to4, Teredo) and names are refused whatever the allowance says.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable
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
ALLOW_HOST_HINT = ("to let this source reach another private host, add the source again with "
                   "`--allow-private --allow-host HOST:PORT`")

# Names that point at the machine itself or at cloud metadata services whatever DNS says;
# refused even before resolution (defence in depth: some resolvers answer them specially).
BLOCKED_HOSTNAMES = frozenset({
    "localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
})
# Of those, the cloud metadata names: refused even for a source with an allowance.
METADATA_HOSTNAMES = BLOCKED_HOSTNAMES - {"localhost"}
# Private-use and special-use name spaces (RFC 6761 .localhost, RFC 6762 .local,
# RFC 8375 .home.arpa, ICANN's private-use .internal).
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_CLOUD_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

#: Never fetched, whatever a source's allowance says. All of IPv4 link-local, because cloud
#: providers put credentials there (169.254.169.254 for AWS, GCP, Azure, OpenStack,
#: Oracle; 169.254.170.2 for AWS ECS task roles) and no museum serves IIIF from a
#: self-assigned address; AWS's IPv6 metadata prefix; Alibaba Cloud's and Oracle Cloud's
#: metadata addresses.
NEVER_ALLOWED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fd00:ec2::/48"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("192.0.0.192/32"),
)

_INET_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard, with the addresses that were checked (connect to one of these)."""

    url: str
    scheme: str
    host: str  # lower case, without brackets or trailing dot
    port: int
    addresses: tuple[str, ...]  # empty only for a name left to a proxy to resolve (``unresolved_ok``)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver returns for ``host`` (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if ip not in out:
            out.append(ip)
    return out


# --- host names and addresses ------------------------------------------------------------

def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of the historic spellings ``inet_aton`` (and so ``getaddrinfo``)
    accepts: ``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``, ``169.254.43518``..."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(p) for p in parts):
        return None
    numbers = [int(p, 16) if p[:2].lower() == "0x" and len(p) > 2 else
               0 if p[:2].lower() == "0x" else int(p, 8) if p.startswith("0") else int(p) for p in parts]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def canonical_host(host: str) -> str:
    """``host`` as the resolver will understand it, so that two spellings of one address or
    name compare equal: Unicode compatibility forms folded (fullwidth digits and dots are
    what IDNA makes of them), lower case, no trailing dot, IP literals in their normal form
    (``0x7f.1`` -> ``127.0.0.1``, ``0:0::1`` -> ``::1``)."""
    name = unicodedata.normalize("NFKC", host).translate(_IDEOGRAPHIC_DOTS).strip().rstrip(".").lower()
    name = name.removeprefix("[").removesuffix("]")
    ip = ip_literal(name)
    return str(ip) if ip is not None else name


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells directly (any IPv4 or IPv6 form), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        return _inet_aton(host)


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


def never_allowed(ip: IPAddress) -> bool:
    """Whether ``ip`` is a cloud metadata address (``NEVER_ALLOWED``), directly or as the
    IPv4 address an IPv6 one carries (mapped, IPv4-compatible, NAT64, 6to4, Teredo)."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is None and ip in _IPV4_COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            candidates.append(embedded)
    return any(c.version == net.version and c in net for c in candidates for net in NEVER_ALLOWED)


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


# --- the allowance -----------------------------------------------------------------------

def _host_port(entry: str) -> tuple[str, int | None]:
    """``HOST``, ``HOST:PORT``, ``[V6]:PORT`` or an http(s) URL -> (canonical host, port or None)."""
    text = entry.strip()
    if "://" in text:
        scheme, host, port = split_url(text)
        explicit = urlsplit(text).port
        return canonical_host(host), explicit if explicit not in (None, DEFAULT_PORTS[scheme]) else None
    if text.startswith("["):
        host, _, tail = text[1:].partition("]")
        port_text = tail.removeprefix(":") if tail.startswith(":") else ("" if not tail else None)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a bare name, IPv4 or IPv6 address
    if port_text is None or (port_text and not port_text.isdigit()) or not host.strip():
        raise ValueError(f"{entry!r} is not HOST, HOST:PORT, [IPV6]:PORT or an http(s) URL")
    port = int(port_text) if port_text else None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{entry!r}: port {port} is out of range")
    return canonical_host(host), port


@dataclass(frozen=True)
class PrivateAllowance:
    """The ``(host, port)`` pairs one source may reach on private addresses.

    Entries are built with ``of``: ``HOST:PORT`` (or a URL with an explicit port) covers that
    port; a bare ``HOST`` (or a URL on port 80 or 443) covers the web ports 80 and 443 of that
    host, so the usual http -> https redirect keeps working. Empty: public addresses only."""

    pairs: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> "PrivateAllowance":
        """Parse entries (see the class docstring); ValueError naming a bad or forbidden one."""
        pairs: set[tuple[str, int]] = set()
        for entry in entries:
            host, port = _host_port(entry)
            ip = ip_literal(host)
            if host in METADATA_HOSTNAMES or (ip is not None and never_allowed(ip)):
                raise ValueError(f"{entry!r} is a cloud metadata address; it is never fetched")
            pairs.update({(host, port)} if port is not None else {(host, 80), (host, 443)})
        return cls(frozenset(pairs))

    def covers(self, host: str, port: int) -> bool:
        return (canonical_host(host), port) in self.pairs

    def describe(self) -> str:
        return ", ".join(sorted(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.pairs)) or "nothing"

    def __bool__(self) -> bool:
        return bool(self.pairs)


NO_ALLOWANCE = PrivateAllowance()


# --- the check ---------------------------------------------------------------------------

def check_url(url: str, *, allow: PrivateAllowance = NO_ALLOWANCE,
              resolver: Resolver = system_resolver, unresolved_ok: bool = False) -> CheckedTarget:
    """Refuse ``url`` unless it is http(s) and every address of its host is public, or its
    host and port are covered by ``allow`` (then private addresses pass too, cloud metadata
    never). Raises ``FetchError`` with kind ``scheme``, ``invalid``, ``blocked`` or
    ``network`` (name does not resolve).

    ``unresolved_ok`` (through a proxy, which resolves names itself): a name that passes the
    name rules but does not resolve here is accepted with no addresses.
    """
    scheme, raw_host, port = split_url(url)
    host = canonical_host(raw_host)
    covered = allow.covers(host, port)
    hint = (f"this source's allowance covers only {allow.describe()}; {ALLOW_HOST_HINT}" if allow
            else ALLOW_PRIVATE_HINT)
    if host in METADATA_HOSTNAMES:
        raise FetchError(url, "blocked", f"refused: the name {host!r} belongs to a cloud metadata service, "
                                         "which is never fetched")
    if not covered:
        problem = hostname_problem(host)
        if problem:
            raise FetchError(url, "blocked", f"refused: {problem}; {hint}")
    literal = ip_literal(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as e:
            if unresolved_ok and isinstance(e, OSError):
                return CheckedTarget(url=url, scheme=scheme, host=host, port=port, addresses=())
            raise FetchError(url, "network", f"cannot resolve host {host!r} ({e})") from None
        if not addresses:
            if unresolved_ok:
                return CheckedTarget(url=url, scheme=scheme, host=host, port=port, addresses=())
            raise FetchError(url, "network", f"host {host!r} resolves to no address")
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise FetchError(url, "blocked", f"refused: resolver returned {text!r}, not an IP address") from None
        where = f"{host} is" if literal is not None else f"{host} resolves to {ip}, which is"
        if never_allowed(ip):
            raise FetchError(url, "blocked", f"refused: {where} a cloud metadata address, which is never "
                                             "fetched, whatever the source allows")
        if covered:
            continue
        problem = address_problem(ip)
        if problem:
            shown = f"{where} a {problem} address"
            if allow:
                shown += f" (port {port})"
            raise FetchError(url, "blocked", f"refused: {shown}; {hint}")
    return CheckedTarget(url=url, scheme=scheme, host=host, port=port, addresses=tuple(addresses))
