"""A request id for every request: the client's ``X-Request-ID`` when it is a sane token (1 to
128 of ``A-Za-z0-9._:-``; a proxy in front often sets one), else a new one (32 hex). It is
echoed in the response's ``X-Request-ID``, carried by every log line written while the
request is answered (``loupe_core.logs.request_id``), and named in the message of a 500 so
that the line with the traceback can be found. One access line per request (logger
``loupe.access``, level info) gives method, path, status, time and client.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from loupe_core.logs import request_id

HEADER = "X-Request-ID"
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("loupe.access")


def current_request_id() -> str | None:
    return request_id.get()


def _start() -> None:
    given = request.headers.get(HEADER, "").strip()
    rid = given if SANE.match(given) else uuid.uuid4().hex
    g.loupe_request_token = request_id.set(rid)
    g.loupe_request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = request_id.get()
    if rid is not None:
        response.headers[HEADER] = rid
    started = g.get("loupe_request_started")
    if started is not None and access_log.isEnabledFor(logging.INFO):
        ms = round(1000 * (time.perf_counter() - started), 1)
        access_log.info("%s %s %d %.1f ms", request.method, request.path, response.status_code, ms,
                        extra={"method": request.method, "path": request.path, "status": response.status_code,
                               "ms": ms, "client": request.remote_addr})
    return response


def _teardown(_error: BaseException | None) -> None:
    token = g.pop("loupe_request_token", None)
    if token is not None:
        request_id.reset(token)


def register_request_ids(app: Flask) -> None:
    """Install the hooks; call first, so that the id is set before any other hook may fail."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_teardown)
