"""The HTTP server of `loupe serve`: werkzeug's threaded server, answering in JSON even the
errors it finds before a request reaches the app.

A request line over 64 KiB (414), headers too large or too many (431), a malformed request
line (400) or HTTP version (505) are refused by the server itself (Python's http.server),
which would answer with an HTML page; here they are JSON like every other error of the
service (``{"error": {"code", "message"}}``), with the headers of ``security_headers``.
Behind gunicorn or a proxy, those servers answer such requests themselves.

A connection on which the client sends nothing for ``IDLE_TIMEOUT_S`` is closed (a request
whose body stops arriving is answered 400), so that clients which open connections and
trickle bytes, or go silent, do not hold the server's threads for ever.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .security_headers import DATA_POLICY, REFERRER_POLICY

IDLE_TIMEOUT_S = 60.0
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
                            ("Content-Length", str(len(body))), ("X-Content-Type-Options", "nosniff"),
                            ("Content-Security-Policy", DATA_POLICY), ("Referrer-Policy", REFERRER_POLICY)):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def make_json_server(host: str, port: int, app, *,  # noqa: ANN001 - a WSGI application
                     idle_timeout_s: float = IDLE_TIMEOUT_S) -> BaseWSGIServer:
    """A threaded werkzeug server whose own errors are JSON and whose connections time out."""
    handler = type("LoupeRequestHandler", (JSONErrorRequestHandler,), {"timeout": idle_timeout_s})
    return make_server(host, port, app, threaded=True, request_handler=handler)
