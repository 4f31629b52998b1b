"""Many IIIF hosts on loopback that log when each request arrived, for the aggregator's harvest.

One process serves every host (127.0.0.2, 127.0.0.3, ...; each its own port) from memory
with a single-threaded selector loop (HTTP/1.1, keep-alive). Arrival times are the kernel's
receive timestamps of each request's first bytes (``SO_TIMESTAMPNS``), so what the servers
report is what the harvester did, not how late a server thread got to it.
"""

from __future__ import annotations

import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_ANCILLARY = socket.CMSG_SPACE(struct.calcsize("qq"))


def host_address(index: int) -> str:
    """127.0.0.2 for 0, then on (to 127.0.255.255): the whole of 127/8 is loopback on Linux."""
    n = index + 2
    return f"127.0.{n // 256}.{n % 256}"


@dataclass
class _Conn:
    host: str
    buffer: bytes = b""
    arrived: float | None = None  # kernel time of the first bytes of the request being read
    out: bytes = b""


@dataclass
class HostsServer:
    """Routes: (address, path) -> (status, body); ``log``: (address, path, arrival) per request."""

    routes: dict[tuple[str, str], bytes]
    log: list[tuple[str, str, float]] = field(default_factory=list)

    def listen(self, addresses: list[str]) -> dict[str, int]:
        self._selector = selectors.DefaultSelector()
        ports = {}
        for address in addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Set on the listener, so that a request that arrives before accept() is stamped too.
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.bind((address, 0))
            sock.listen(64)
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, ("listen", address))
            ports[address] = sock.getsockname()[1]
        return ports

    def serve(self, until: Any) -> None:
        """Serve until ``until.poll()`` is true (a multiprocessing connection)."""
        while not until.poll():
            for key, events in self._selector.select(timeout=0.05):
                kind, data = key.data
                if kind == "listen":
                    self._accept(key.fileobj, data)
                elif events & selectors.EVENT_READ:
                    self._read(key.fileobj, data)
                if kind == "conn" and events & selectors.EVENT_WRITE:
                    self._write(key.fileobj, data)

    def _accept(self, listener: socket.socket, address: str) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ, ("conn", _Conn(address)))

    def _close(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        sock.close()

    def _read(self, sock: socket.socket, conn: _Conn) -> None:
        try:
            data, ancdata, _flags, _addr = sock.recvmsg(65536, _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(sock)
            return
        if not data:
            self._close(sock)
            return
        if not conn.buffer:
            conn.arrived = _kernel_time(ancdata)
        conn.buffer += data
        while b"\r\n\r\n" in conn.buffer:
            head, conn.buffer = conn.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
            self.log.append((conn.host, path, conn.arrived or time.time()))
            conn.arrived = time.time() if conn.buffer else None
            body = self.routes.get((conn.host, path))
            status = "200 OK" if body is not None else "404 Not Found"
            body = body if body is not None else b"not found"
            conn.out += (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n").encode("ascii") + body
        if conn.out:
            self._write(sock, conn)

    def _write(self, sock: socket.socket, conn: _Conn) -> None:
        try:
            sent = sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(sock)
            return
        conn.out = conn.out[sent:]
        self._selector.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0),
                              ("conn", conn))


def _kernel_time(ancdata: list) -> float:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= 16:
            seconds, nanos = struct.unpack("qq", data[:16])
            return seconds + nanos / 1e9
    return time.time()


def max_rate(log: list[tuple[str, str, float]]) -> tuple[float, dict[str, int]]:
    """The highest rate any host was asked at (1 / the shortest gap between two of its
    requests), and the requests per host."""
    by_host: dict[str, list[float]] = {}
    for host, _path, at in log:
        by_host.setdefault(host, []).append(at)
    shortest = float("inf")
    for times in by_host.values():
        times.sort()
        for a, b in zip(times, times[1:]):
            shortest = min(shortest, b - a)
    rate = 0.0 if shortest == float("inf") else (float("inf") if shortest <= 0 else 1.0 / shortest)
    return rate, {h: len(t) for h, t in by_host.items()}


def serve_process(addresses: list[str], site: Callable[[str], dict[str, bytes]], conn: Any) -> None:
    """Entry point of the server process: listens, builds each host's pages with
    ``site(base_url)`` (path -> body), sends the base URLs, serves until told, sends the log."""
    server = HostsServer({})
    ports = server.listen(addresses)
    bases = {address: f"http://{address}:{port}" for address, port in ports.items()}
    for address, base in bases.items():
        for path, body in site(base).items():
            server.routes[(address, path)] = body
    conn.send(bases)
    server.serve(conn)
    conn.recv()
    conn.send(server.log)
