"""A small static file server for published IIIF folders (demo and benchmark).

It answers conditional requests (Last-Modified / If-Modified-Since, and a weak ETag from
size and mtime with If-None-Match), keeps connections alive (HTTP/1.1) and sends CORS
headers so that IIIF viewers can read what it serves. Loupe's own web service takes over
this job in the full product; this server exists so that the harvester can be shown and
measured against a real HTTP server with nothing else running.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/ld+json"}

    def __init__(self, *args, prefix: str = "", **kwargs):
        self._prefix = prefix.rstrip("/")
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _outside_prefix(self, path: str) -> bool:
        path = path.split("?", 1)[0].split("#", 1)[0]
        return bool(self._prefix) and not (path == self._prefix or path.startswith(self._prefix + "/"))

    def translate_path(self, path: str) -> str:
        if self._prefix and not self._outside_prefix(path):
            path = path[len(self._prefix):] or "/"
        return super().translate_path(path)

    def send_head(self):  # noqa: ANN201 - same contract as the base class
        if self._outside_prefix(self.path):  # not one of the published files: a plain 404
            self.send_error(HTTPStatus.NOT_FOUND, "not a published file")
            return None
        path = Path(self.translate_path(self.path))
        if path.is_file():
            st = path.stat()
            etag = 'W/"' + hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self._etag = None
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
        pass


class StaticServer:
    """Serve ``folder`` at ``http://host:port{prefix}/`` in a background thread."""

    def __init__(self, folder: str | Path, host: str = "127.0.0.1", port: int = 0, prefix: str = ""):
        handler = partial(_Handler, directory=str(folder), prefix=prefix)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.prefix = prefix.rstrip("/")
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="static-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.prefix}"

    def start(self) -> "StaticServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "StaticServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
