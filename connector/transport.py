"""The HTTP/1.1 transport under ``connector.http``: pinned, kept-alive ``http.client`` connections.

``connector.http`` decides *what* to fetch (guard, robots, rate limits, retries, size caps);
this module only moves bytes, as cheaply as the standard library allows:

* **Address pinning.** A connection is made to the IP address the SSRF guard checked
  (``connector.netguard``), never to a fresh DNS answer, so a hostile DNS server cannot
  answer "public" to the guard and "127.0.0.1" a moment later (DNS rebinding). The request
  still names the host: the ``Host`` header, TLS SNI and the certificate check all use the
  host *name* of the URL (``server_hostname``), with certificate verification on.
* **Keep-alive pool.** Idle connections are kept per (scheme, host, port, address); a
  connection is handed to one thread at a time. A connection the server has closed while it
  sat idle is noticed before reuse (it reads as readable), and a request that fails on a
  reused connection before any byte of an answer arrived (the server closed it just then)
  is sent once more on a fresh connection, transparently.
* **Timeouts.** ``connect_timeout`` covers the TCP connect and the TLS handshake;
  ``read_timeout`` is then set on the socket and bounds every send and receive.

* **Proxy.** A key with a ``proxy`` (``connector.proxy``) connects to the proxy instead:
  https through a ``CONNECT`` tunnel (to ``address`` when the key is pinned, to the host
  name when ``address`` is empty), http forwarded with the absolute URL as request target.

Not supported: proxies from the environment (``HTTP(S)_PROXY`` is ignored on purpose: only
an explicit ``proxy_url`` is used, see ``connector.proxy``), HTTP/2, cookies, and
``Content-Encoding`` other than gzip and deflate (``ContentDecoder``).
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import select
import socket
import ssl
import threading
import zlib
from collections import OrderedDict
from typing import Any, Iterator, Mapping, NamedTuple

import certifi

from connector.proxy import Proxy, open_tunnel

log = logging.getLogger(__name__)

__all__ = ["PoolKey", "ConnectError", "ConnectionPool", "ContentDecoder", "Response", "ResponseHeaders",
           "UnsupportedEncoding", "default_ssl_context", "host_header", "request_bytes"]

#: Errors that mean "the server closed this kept-alive connection": seen on a *reused*
#: connection before any byte of the answer, the request is sent again on a new one.
STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                ConnectionAbortedError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class PoolKey(NamedTuple):
    """Connections are shared only between requests with the same key."""

    scheme: str  # http | https
    host: str  # the checked host name, lower case (Host header, SNI, certificate)
    port: int
    address: str  # the IP the guard checked; the socket connects here ("" through a proxy that resolves the name)
    proxy: Proxy | None = None  # connect through this proxy (connector.proxy)


class ConnectError(Exception):
    """No connection could be made (refused, unreachable, connect or TLS-handshake timeout,
    TLS failure); nothing was sent. ``cause`` is the underlying ``OSError``."""

    def __init__(self, key: PoolKey, cause: OSError) -> None:
        where = f"{key.address or key.host} port {key.port}"
        if key.proxy is not None:
            where += f" through the proxy {key.proxy}"
        super().__init__(f"cannot connect to {where}: {cause}")
        self.key = key
        self.cause = cause


def default_ssl_context(ca_bundle: str = "") -> ssl.SSLContext:
    """Certificate and host name verification on, TLS >= 1.2, HTTP/1.1 by ALPN.

    Trusts certifi's CA bundle (a declared dependency; what ``requests`` used before) and,
    with ``ca_bundle``, the certificates of that PEM file (or folder of hashed PEM files) as
    well: an institution's own CA, e.g. of a TLS-inspecting proxy."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        if os.path.isdir(ca_bundle):
            context.load_verify_locations(capath=ca_bundle)
        else:
            context.load_verify_locations(cafile=ca_bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


def _ascii_host(host: str) -> str:
    """The host as it goes on the wire: IDNA (punycode) for internationalised names."""
    try:
        host.encode("ascii")
        return host
    except UnicodeEncodeError:
        return host.encode("idna").decode("ascii")


def host_header(scheme: str, host: str, port: int) -> str:
    """``Host`` header value: the name (IPv6 literals bracketed), port only if not the default."""
    name = _ascii_host(host)
    if ":" in name:
        name = f"[{name}]"
    default = 443 if scheme == "https" else 80
    return name if port == default else f"{name}:{port}"


def _looks_dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable has been closed by the server (EOF or
    reset) or carries junk; either way it must not be reused."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        if _HAS_POLL:
            poller = select.poll()
            poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


_HAS_POLL = hasattr(select, "poll")
_MAX_LINE = 65536  # as http.client
_MAX_HEADERS = 100
_ILLEGAL_IN_TARGET = re.compile("[\x00-\x20\x7f]")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class ResponseHeaders:
    """Response header fields, looked up case-insensitively (what ``http.client`` offers, minus
    the cost of the ``email`` parser). ``get`` gives the first field of a name."""

    __slots__ = ("_fields", "_first")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        self._first: dict[str, str] = {}
        for name, value in fields:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str, failobj: Any = None) -> Any:
        lower = name.lower()
        return [v for n, v in self._fields if n.lower() == lower] or failobj

    def __getitem__(self, name: str) -> str | None:
        return self._first.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def keys(self) -> list[str]:
        return [name for name, _ in self._fields]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._fields!r})"


class Response(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` with a lean status line and header parser.

    ``begin`` does what the standard one does (skip 1xx, limits on line length and header
    count, chunked / Content-Length / keep-alive rules), but keeps the fields in a
    ``ResponseHeaders`` instead of parsing them with the ``email`` package, which costs more
    than the rest of a 304 exchange together. Body reading (Content-Length, chunked) is the
    standard library's."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        fp = self.fp
        while True:
            line = fp.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                raise http.client.LineTooLong("status line")
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            text = line.decode("iso-8859-1")
            parts = text.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                self._close_conn()
                raise http.client.BadStatusLine(text)
            version, code = parts[0], parts[1]
            if len(code) != 3 or not code.isdigit() or code[0] == "0":
                raise http.client.BadStatusLine(text)
            status = int(code)
            fields = self._read_fields()
            if status != 100:
                break
        self.code = self.status = status
        self.reason = parts[2].strip() if len(parts) > 2 else ""
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        headers = self.headers = self.msg = ResponseHeaders(fields)  # type: ignore[assignment]

        transfer_encoding = headers.get("transfer-encoding")
        self.chunked = bool(transfer_encoding) and transfer_encoding.lower() == "chunked"
        self.chunk_left = None
        connection = (headers.get("connection") or "").lower()
        if self.version == 11:
            self.will_close = "close" in connection
        else:
            self.will_close = not (headers.get("keep-alive") or "keep-alive" in connection)
        self.length = None
        declared = headers.get("content-length")
        if declared and not self.chunked:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            self.length = length if length >= 0 else None
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body ends when the server closes the connection

    def _read_fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        fp = self.fp
        while True:
            line = fp.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                raise http.client.LineTooLong("header line")
            if line in (b"\r\n", b"\n", b""):
                return fields
            if len(fields) >= _MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
            text = line.decode("iso-8859-1")
            if text[0] in " \t" and fields:  # obsolete line folding: continues the previous field
                name, value = fields[-1]
                fields[-1] = (name, f"{value} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if colon:
                fields.append((name.strip(), value.strip()))


class _Connection:
    """One socket to one pinned address; frames requests, hands out ``Response`` objects."""

    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock

    def exchange(self, request: bytes) -> Response:
        sock = self.sock
        if sock is None:
            raise http.client.NotConnected("connection closed")
        sock.sendall(request)
        response = Response(sock, method="GET")
        try:
            response.begin()
        except BaseException:
            response.close()
            raise
        return response

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def request_bytes(target: str, headers: Mapping[str, str], *, prefix: str = "",
                  extra: Mapping[str, str] | None = None) -> bytes:
    """``GET prefix+target HTTP/1.1`` with ``headers`` (and ``extra``); ValueError for anything
    that could split or smuggle a request (CR, LF or NUL in a value, a bad field name, spaces
    in the target). ``prefix``: ``http://host:port`` for a request forwarded by a proxy."""
    if not target.startswith("/") or _ILLEGAL_IN_TARGET.search(prefix + target):
        raise ValueError(f"illegal request target {prefix + target!r}")
    lines = [f"GET {prefix}{target} HTTP/1.1"]
    for name, value in {**headers, **(extra or {})}.items():
        value = str(value)
        if "\r" in value or "\n" in value or "\0" in value or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"illegal header {name}: {value!r}")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


class ConnectionPool:
    """Thread-safe pool of kept-alive connections (see the module docstring).

    ``max_idle_per_key`` idle connections are kept per key, for at most ``max_keys`` keys
    (the least recently used key is closed first). Counters: ``opened`` (connections made),
    ``reused`` (requests sent on a kept-alive connection), ``stale`` (requests resent
    because a kept-alive connection turned out closed).
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, ssl_context: ssl.SSLContext | None = None,
                 ca_bundle: str = "", max_idle_per_key: int = 10, max_keys: int = 64) -> None:
        self.connect_timeout = connect_timeout
        self._ca_bundle = ca_bundle
        self.read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._ssl_lock = threading.Lock()
        self.max_idle_per_key = max(1, max_idle_per_key)
        self.max_keys = max(1, max_keys)
        self._idle: OrderedDict[PoolKey, list[_Connection]] = OrderedDict()
        self._lock = threading.Lock()
        self.opened = 0
        self.reused = 0
        self.stale = 0

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # made on first https use: loading the CAs takes a while
            with self._ssl_lock:
                if self._ssl_context is None:
                    self._ssl_context = default_ssl_context(self._ca_bundle)
        return self._ssl_context

    # --- one request ---------------------------------------------------------------------
    def request(self, key: PoolKey, target: str, headers: Mapping[str, str]) -> tuple[_Connection, Response]:
        """Send ``GET target`` with ``headers`` (``Host`` among them) and read the status line
        and header fields.

        Returns the connection (give it back with ``release`` or ``discard``) and the
        response, whose body is still to be read. Raises ``ConnectError`` when no connection
        could be made; ``ValueError`` for an illegal header or target (nothing is sent); any
        other exception (``OSError``, ``TimeoutError``, ``http.client.HTTPException``) leaves
        nothing open."""
        if key.proxy is not None and key.scheme == "http":
            # Forwarded by the proxy: the absolute URL as request target (RFC 9112 3.2.2).
            data = request_bytes(target, headers, prefix=f"http://{host_header(key.scheme, key.host, key.port)}",
                                 extra={"Proxy-Authorization": key.proxy.authorization} if key.proxy.authorization
                                 else None)
        else:
            data = request_bytes(target, headers)
        conn = self._checkout(key)
        if conn is not None:
            try:
                response = conn.exchange(data)
            except STALE_ERRORS as e:
                conn.close()
                with self._lock:
                    self.stale += 1
                log.debug("kept-alive connection to %s:%s was closed by the server (%s); sending again "
                          "on a new connection", key.host, key.port, type(e).__name__)
            except BaseException:
                conn.close()
                raise
            else:
                with self._lock:
                    self.reused += 1
                return conn, response
        conn = self._connect(key)
        try:
            return conn, conn.exchange(data)
        except BaseException:
            conn.close()
            raise

    def release(self, key: PoolKey, conn: _Connection, response: http.client.HTTPResponse) -> None:
        """Keep ``conn`` for the next request if ``response`` was read to its end and the
        connection stays open; close it otherwise."""
        if conn.sock is None or not response.isclosed() or response.will_close:
            self.discard(conn, response)
            return
        with self._lock:
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = []
                while len(self._idle) > self.max_keys:
                    _, evicted = self._idle.popitem(last=False)
                    for old in evicted:
                        old.close()
            else:
                self._idle.move_to_end(key)
            if len(idle) < self.max_idle_per_key:
                idle.append(conn)
                return
        conn.close()

    def discard(self, conn: _Connection, response: http.client.HTTPResponse | None = None) -> None:
        """Close ``conn`` (and ``response``): its body was not read to the end, or it failed."""
        if response is not None:
            response.close()
        conn.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), OrderedDict()
        for idle in pools:
            for conn in idle:
                conn.close()

    # --- internals -----------------------------------------------------------------------
    def _checkout(self, key: PoolKey) -> _Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                conn = idle.pop()  # the most recently used one is the least likely to be closed
            if conn.sock is not None and not _looks_dropped(conn.sock):
                return conn
            conn.close()

    def _connect(self, key: PoolKey) -> _Connection:
        proxy = key.proxy
        try:
            if proxy is None:
                sock = socket.create_connection((key.address, key.port), timeout=self.connect_timeout)
            else:
                sock = socket.create_connection((proxy.host, proxy.port), timeout=self.connect_timeout)
        except OSError as e:
            raise ConnectError(key, e) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if proxy is not None and key.scheme == "https":
                name = _ascii_host(key.address or key.host)
                authority = f"[{name}]:{key.port}" if ":" in name else f"{name}:{key.port}"
                open_tunnel(sock, proxy, authority, authority)
            if key.scheme == "https":
                # SNI and the certificate's host name check use the name, not the address;
                # the handshake runs under the connect timeout.
                sock = self.ssl_context.wrap_socket(sock, server_hostname=_ascii_host(key.host))
            sock.settimeout(self.read_timeout)
        except OSError as e:  # ssl.SSLError is one
            sock.close()
            raise ConnectError(key, e) from None
        with self._lock:
            self.opened += 1
        return _Connection(sock)


class UnsupportedEncoding(Exception):
    """A ``Content-Encoding`` Loupe did not ask for and cannot decode."""


class ContentDecoder:
    """Incremental ``Content-Encoding`` decoding (gzip, x-gzip, deflate; identity passes
    through) that bounds the *decoded* output of every call, so that a small compressed body
    cannot expand to gigabytes in memory (gzip bomb).

    ``decode(data, room)`` returns at most ``room + 1`` bytes: more than ``room`` means the
    decoded body is larger than the caller allows, and the caller stops. Raises
    ``zlib.error`` for a corrupt body; the constructor raises ``UnsupportedEncoding`` for
    other or stacked codings.
    """

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UnsupportedEncoding(content_encoding)
        self.coding = codings[0] if codings else None
        self._gzip = self.coding in ("gzip", "x-gzip")
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._members = 1  # gzip members started
        self._ignore_rest = False  # junk after a complete gzip member
        self._deflate_settled = self._gzip  # deflate: zlib-wrapped or raw still to be seen
        self._seen = b""

    @property
    def active(self) -> bool:
        return self.coding is not None

    def decode(self, data: bytes, room: int) -> bytes:
        if self.coding is None:
            return data
        if self._ignore_rest or not data:
            return b""
        if self._deflate_settled:
            return self._bounded(data, room)
        # "deflate" means zlib-wrapped, but some servers send raw deflate: fall back once,
        # replaying what was fed so far (as browsers and urllib3 do).
        self._seen += data
        try:
            out = self._bounded(data, room)
        except zlib.error:
            self._deflate_settled = True
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            replay, self._seen = self._seen, b""
            return self._bounded(replay, room)
        if len(self._seen) > 16:  # the two-byte zlib header has been accepted
            self._deflate_settled, self._seen = True, b""
        return out

    def _bounded(self, data: bytes, room: int) -> bytes:
        out: list[bytes] = []
        produced = 0
        while True:
            try:
                piece = self._zlib.decompress(data, room + 1 - produced)
            except zlib.error:
                if self._members > 1:  # not a second gzip member after all: trailing junk
                    self._ignore_rest = True
                    break
                raise
            out.append(piece)
            produced += len(piece)
            if produced > room:
                break  # the rest stays unconsumed: the caller refuses or truncates the body
            if self._gzip and self._zlib.eof and self._zlib.unused_data:
                # Concatenated gzip members decode as one body (RFC 1952).
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._members += 1
                continue
            break
        return b"".join(out)

    def flush(self) -> bytes:
        """What the decompressor still holds at the end of the body (normally nothing)."""
        if self.coding is None or self._ignore_rest:
            return b""
        return self._zlib.flush()
