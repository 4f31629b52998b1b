"""A real HTTP server on 127.0.0.1 for tests: configurable routes and a request log.

It runs ``http.server.ThreadingHTTPServer`` (HTTP/1.1, keep-alive) on a random port in a
background thread, so the code under test talks real HTTP through real sockets; nothing is
mocked. Typical use, through the ``http_server`` fixture of ``tests/connector/conftest.py``::

    http_server.json("/manifest.json", {...}, etag='"v1"')
    http_server.route("/flaky", [Reply(503), Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")])
    http_server.redirect("/old", "/new")
    http_server.robots("User-agent: *\\nDisallow: /private/\\n")
    http_server.url("/manifest.json")              # http://127.0.0.1:PORT/manifest.json
    http_server.url("/manifest.json", host="localhost")  # same server, another host name
    http_server.requests_for("/flaky")             # [LoggedRequest(...), ...] with .time

A route is a ``Reply``, a list of replies (served in turn; the last one repeats), or a
callable ``(LoggedRequest) -> Reply``. Unknown paths answer 404. Conditional requests are
handled for replies with an ``etag`` or ``last_modified``: a matching ``If-None-Match`` or
``If-Modified-Since`` gets 304.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union
from urllib.parse import urlsplit


@dataclass
class Reply:
    """What the server answers to one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None  # an HTTP-date
    delay_s: float = 0.0  # wait before sending the status line (timeouts, ordering)
    chunked: bool = False  # no Content-Length; Transfer-Encoding: chunked
    chunk_delay_s: float = 0.0  # wait between chunks (slow bodies)
    chunk_size: int = 16 * 1024
    drop: bool = False  # close the connection without answering (network error)
    close_after: bool = False  # close the connection after answering, unannounced (an idle keep-alive timeout)


@dataclass
class LoggedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    time: float  # time.monotonic() when the request line arrived
    client: str  # the client's address
    client_port: int = 0  # the client's port: one per connection, so it shows keep-alive reuse

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


Route = Union[Reply, list[Reply], Callable[[LoggedRequest], Reply]]


def http_date(timestamp: float | None = None) -> str:
    return email.utils.formatdate(time.time() if timestamp is None else timestamp, usegmt=True)


class TestHTTPServer:
    """A threaded HTTP/1.1 server with routes and a request log. Use ``with`` or ``start``/``stop``."""

    __test__ = False  # not a pytest test class

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None) -> None:
        """``host`` may be another loopback address (127.0.0.2) or ``::1``; ``ssl_context``
        (a server context with a certificate loaded) makes it an HTTPS server."""
        self._routes: dict[str, Route] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        server_class = _IPv6Server if ":" in host else _Server
        self._server = server_class((host, port), _handler_for(self))
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self.host, self.port = self._server.server_address[:2]
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> "TestHTTPServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "TestHTTPServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration -------------------------------------------------------------------
    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host`` (e.g. ``localhost``) names the same server differently."""
        host = host or self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def base_url(self) -> str:
        return self.url("")

    def route(self, path: str, route: Route) -> None:
        with self._lock:
            self._routes[path] = route
            self._counters[path] = 0

    def bytes(self, path: str, body: bytes, content_type: str = "application/octet-stream", **reply: Any) -> None:
        self.route(path, Reply(body=body, content_type=content_type, **reply))

    def json(self, path: str, obj: Any, content_type: str = "application/json", **reply: Any) -> None:
        self.route(path, Reply(body=jsonlib.dumps(obj).encode(), content_type=content_type, **reply))

    def text(self, path: str, text: str, content_type: str = "text/plain; charset=utf-8", **reply: Any) -> None:
        self.route(path, Reply(body=text.encode(), content_type=content_type, **reply))

    def status(self, path: str, status: int, **reply: Any) -> None:
        self.route(path, Reply(status=status, **reply))

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.route(path, Reply(status=status, headers={"Location": location}))

    def robots(self, text: str | None, status: int = 200) -> None:
        """Serve ``/robots.txt`` (``None``: answer ``status`` without a body, e.g. 404 or 503)."""
        if text is None:
            self.status("/robots.txt", status)
        else:
            self.route("/robots.txt", Reply(status=status, body=text.encode(), content_type="text/plain"))

    # --- inspection ----------------------------------------------------------------------
    def requests_for(self, path: str) -> list[LoggedRequest]:
        """Logged requests whose path (query string ignored unless given) is ``path``."""
        with self._lock:
            return [r for r in self.log if r.path == path or ("?" not in path and r.path.split("?", 1)[0] == path)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # --- serving -------------------------------------------------------------------------
    def _reply_for(self, request: LoggedRequest) -> Reply:
        with self._lock:
            self.log.append(request)
            key = request.path if request.path in self._routes else urlsplit(request.path).path
            route = self._routes.get(key)
            if route is None:
                return Reply(404, b"not found", content_type="text/plain")
            if isinstance(route, list):
                index = min(self._counters[key], len(route) - 1)
                self._counters[key] += 1
                return route[index]
        if callable(route):
            return route(request)
        return route


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients under test hang up on purpose (size caps, timeouts, TLS refusals).
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


def _not_modified(reply: Reply, headers: dict[str, str]) -> bool:
    if reply.etag and "if-none-match" in headers:
        tags = [t.strip() for t in headers["if-none-match"].split(",")]
        return reply.etag in tags or "*" in tags
    if reply.last_modified and "if-modified-since" in headers:
        since = email.utils.parsedate_to_datetime(headers["if-modified-since"])
        modified = email.utils.parsedate_to_datetime(reply.last_modified)
        return modified <= since
    return False


def _handler_for(server: TestHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(send_body=False)

        def _serve(self, send_body: bool) -> None:
            request = LoggedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                    time.monotonic(), self.client_address[0], self.client_address[1])
            reply = server._reply_for(request)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            status, body = reply.status, reply.body
            if _not_modified(reply, request.headers):
                status, body = 304, b""
            if reply.close_after:
                self.close_connection = True
            try:
                self.send_response(status)
                if reply.content_type and status != 304:
                    self.send_header("Content-Type", reply.content_type)
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                if reply.last_modified:
                    self.send_header("Last-Modified", reply.last_modified)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if status == 304 or status < 200 or status == 204:
                    self.end_headers()
                    return
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if send_body:
                        for i in range(0, len(body), reply.chunk_size):
                            part = body[i:i + reply.chunk_size]
                            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                            self.wfile.flush()
                            if reply.chunk_delay_s:
                                time.sleep(reply.chunk_delay_s)
                        self.wfile.write(b"0\r\n\r\n")
                    return
                if "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (size cap, timeout): fine

    return Handler
