"""A small HTTP proxy on loopback for tests: ``CONNECT`` tunnels and forwarded ``GET``s.

It resolves names with its own table (``names``: host -> address; IP literals pass as they
are), so tests can give the client one DNS answer and the proxy another, and it logs every
request it receives (``log``: method, target, headers) before doing anything with it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class ProxyRequest:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)


class TestProxy:
    __test__ = False

    def __init__(self, names: dict[str, str] | None = None, *, refuse: int = 0) -> None:
        self.names = dict(names or {})
        self.refuse = refuse  # answer every request with this status (e.g. 403) when set
        self.log: list[ProxyRequest] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "TestProxy":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _resolve(self, host: str) -> str:
        return self.names.get(host.strip("[]"), host.strip("[]"))

    def _handle(self, client: socket.socket, rfile) -> None:
        line = rfile.readline(65537).decode("latin-1").strip()
        if not line:
            return
        method, target, _version = line.split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            header = rfile.readline(65537).decode("latin-1")
            if header in ("\r\n", "\n", ""):
                break
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        with self._lock:
            self.log.append(ProxyRequest(method, target, headers))
        if self.refuse:
            client.sendall(f"HTTP/1.1 {self.refuse} Refused by policy\r\nContent-Length: 0\r\n\r\n".encode())
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((self._resolve(host), int(port)), timeout=10)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(client, upstream)  # the client waits for the 200 before its TLS hello
            return
        parts = urlsplit(target)  # forwarded: GET http://host:port/path
        upstream = socket.create_connection((self._resolve(parts.hostname or ""), parts.port or 80), timeout=10)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()
                                                  if k not in ("proxy-authorization", "connection")]
        upstream.sendall(("\r\n".join(lines + ["Connection: close"]) + "\r\n\r\n").encode("latin-1"))
        while chunk := upstream.recv(65536):
            client.sendall(chunk)
        upstream.close()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        def copy(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=copy, args=(b, a), daemon=True)
        other.start()
        copy(a, b)
        other.join(10)
        b.close()
