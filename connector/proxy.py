"""An explicit egress proxy for the harvester (``proxy_url``, ``proxy_bypass``).

Institutions often reach the internet only through a proxy. Loupe never takes one from the
environment (``HTTPS_PROXY`` stays ignored): it is named in the settings, so that the
operator knows the SSRF guard then works differently:

* **https** goes through an HTTP ``CONNECT`` tunnel; TLS (SNI, certificate and host name
  checks) runs end to end with the target, inside the tunnel. The tunnel is opened to the
  host *name* (what filtering proxies expect), or to the address the guard checked with
  ``proxy_pin_address`` (then the proxy cannot resolve the name differently).
* **http** is forwarded: ``GET http://host/path`` to the proxy, which resolves the name.

Before anything is sent, the URL passes the guard as always (``connector.netguard``):
scheme, blocked names and suffixes, IP literals, and every address the name resolves to
*here*. What remains is documented in the README (Safety): the proxy resolves the name
again and may get another answer, and a name that does not resolve here at all (common
behind a proxy) is checked by its name only.

Hosts that resolve to private addresses the source is allowed to reach, and the hosts in
``proxy_bypass``, are fetched directly, never through the proxy.
"""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from loupe_core.settings import Settings, SettingsError

__all__ = ["Proxy", "ProxyRefused", "open_tunnel", "proxy_from_settings"]

_MAX_LINE = 65536
_MAX_HEADERS = 100


class Proxy(NamedTuple):
    """Where the proxy is, and its ``Proxy-Authorization`` value (None without credentials)."""

    host: str
    port: int
    authorization: str | None = None

    def __str__(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"


class ProxyRefused(OSError):
    """The proxy answered ``CONNECT`` with something other than 2xx (``status``)."""

    def __init__(self, proxy: Proxy, authority: str, status: int, reason: str) -> None:
        super().__init__(f"the proxy {proxy} refused CONNECT {authority}: HTTP {status} {reason}".strip())
        self.status = status


@dataclass(frozen=True)
class ProxyRoute:
    """The proxy and the hosts that bypass it (``proxy_bypass``)."""

    proxy: Proxy
    bypass: tuple[str, ...] = ()
    pin_address: bool = False

    def bypasses(self, host: str) -> bool:
        """``host`` equal to an entry, or under an entry that starts with a dot (``.museum.org``)
        or under any entry given as a bare domain (``museum.org`` covers ``iiif.museum.org``)."""
        host = host.lower().rstrip(".")
        return any(host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")) for entry in self.bypass)


def proxy_from_settings(settings: Settings) -> ProxyRoute | None:
    """The configured proxy, or None. SettingsError names what is wrong with ``proxy_url``."""
    url = settings.proxy_url.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError as e:
        raise SettingsError(f"setting 'proxy_url' = {url!r} is not a URL ({e})") from None
    if parts.scheme != "http":
        raise SettingsError(f"setting 'proxy_url' = {url!r}: only http:// proxies are supported (https targets "
                            "are tunnelled through them with CONNECT, so TLS still runs end to end)")
    if not parts.hostname:
        raise SettingsError(f"setting 'proxy_url' = {url!r} has no host")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode("latin-1", "replace")
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    bypass = tuple(e.strip().lower() for e in settings.proxy_bypass.split(",") if e.strip())
    return ProxyRoute(Proxy(parts.hostname, port or 3128, authorization), bypass, settings.proxy_pin_address)


def open_tunnel(sock: socket.socket, proxy: Proxy, authority: str, host_header: str) -> None:
    """Send ``CONNECT authority`` on ``sock`` (connected to the proxy) and read the answer;
    ``ProxyRefused`` unless it is 2xx. Reads byte by byte up to the blank line so that no
    byte of the tunnelled TLS stream is consumed here."""
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {host_header}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    status_line = _read_line(sock)
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProxyRefused(proxy, authority, 0, f"(not an HTTP answer: {status_line[:80]!r})")
    for _ in range(_MAX_HEADERS + 1):
        if _read_line(sock) == "":
            break
    else:
        raise ProxyRefused(proxy, authority, 0, "(too many header lines)")
    status = int(parts[1])
    if not 200 <= status < 300:
        raise ProxyRefused(proxy, authority, status, parts[2].strip() if len(parts) > 2 else "")


def _read_line(sock: socket.socket) -> str:
    data = bytearray()
    while not data.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            raise ConnectionResetError("the proxy closed the connection during CONNECT")
        data += byte
        if len(data) > _MAX_LINE:
            raise ConnectionError("the proxy sent an overlong line")
    return data.decode("iso-8859-1").strip()
