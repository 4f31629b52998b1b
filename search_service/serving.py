"""The HTTP server of `loupe serve`: werkzeug's threaded server, answering in JSON even the
errors it finds before a request reaches the app.

A request line over 64 KiB (414), headers too large or too many (431), a malformed request
line (400) or HTTP version (505) are refused by the server itself (Python's http.server),
which would answer with an HTML page; here they are JSON like every other error of the
service (``{"error": {"code", "message"}}``), with the headers of ``security_headers``.
Behind gunicorn or a proxy, those servers answer such requests themselves.

A connection on which the client sends nothing for ``IDLE_TIMEOUT_S`` is closed (a request
whose body stops arriving is answered 400), so that clients which open connections and
trickle bytes, or go silent, do not hold the server's threads for ever. At most
``max_connections`` connections are served at once (a thread each); one more is answered 503
with ``Retry-After`` at once and closed, instead of starting threads without bound.
"""

from __future__ import annotations

import json
import socket
import threading
from http import HTTPStatus

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from .security_headers import DATA_POLICY, REFERRER_POLICY

IDLE_TIMEOUT_S = 60.0
MAX_CONNECTIONS = 200
BUSY_RETRY_AFTER_S = 2
_SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", DATA_POLICY),
                     ("Referrer-Policy", REFERRER_POLICY))
MESSAGES = {
    HTTPStatus.REQUEST_URI_TOO_LONG: "the URL is longer than this server reads (65,536 bytes with the method); "
                                     "send long input in a JSON body",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "the request has more headers (at most 100) or longer header "
                                                "lines (at most 65,536 bytes) than this server reads",
}


class JSONErrorRequestHandler(WSGIRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        status = HTTPStatus(code)
        self.log_error("code %d, message %s", code, message or status.phrase)
        body = json.dumps({"error": {
            "code": status.phrase.lower().replace("-", "_").replace(" ", "_"),
            "message": MESSAGES.get(status) or message or explain or status.description,
        }}).encode() + b"\n"
        self.send_response(code, status.phrase)
        for name, value in (("Connection", "close"), ("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *_SECURITY_HEADERS):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class CappedThreadedServer(ThreadedWSGIServer):
    """werkzeug's threaded server with at most ``max_connections`` connection threads."""

    def __init__(self, host: str, port: int, app, handler: type[WSGIRequestHandler], *,  # noqa: ANN001
                 max_connections: int) -> None:
        super().__init__(host, port, app, handler)
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:  # noqa: ANN001
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        body = json.dumps({"error": {"code": "server_busy", "message": (
            f"the server is answering {self.max_connections} connections already (setting max_connections); "
            f"try again in {BUSY_RETRY_AFTER_S} s")}}).encode() + b"\n"
        head = [f"HTTP/1.1 503 {HTTPStatus.SERVICE_UNAVAILABLE.phrase}", "Connection: close",
                "Content-Type: application/json", f"Content-Length: {len(body)}", f"Retry-After: {BUSY_RETRY_AFTER_S}",
                *(f"{name}: {value}" for name, value in _SECURITY_HEADERS)]
        try:
            request.settimeout(1.0)
            request.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:
            pass  # the client is gone already


def make_json_server(host: str, port: int, app, *,  # noqa: ANN001 - a WSGI application
                     idle_timeout_s: float = IDLE_TIMEOUT_S,
                     max_connections: int = MAX_CONNECTIONS) -> BaseWSGIServer:
    """A threaded werkzeug server whose own errors are JSON, whose connections time out, and
    which serves at most ``max_connections`` connections at once."""
    handler = type("LoupeRequestHandler", (JSONErrorRequestHandler,), {"timeout": idle_timeout_s})
    return CappedThreadedServer(host, port, app, handler, max_connections=max(1, max_connections))
