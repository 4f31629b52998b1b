"""Logging for every Loupe process: plain lines or one JSON object a line, each with the id of
the request (or job) it belongs to.

``configure_logging(settings)`` sets the root logger from ``log_format`` (``plain`` or
``json``) and ``log_level``. ``request_id`` is a context variable: the service sets it for
each request (``search_service.request_ids``), so every line logged while that request is
answered, errors and tracebacks included, carries it; the job runner sets ``job_id`` the
same way. A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
``request_id``/``job_id`` when set, ``exc`` (the traceback) and every ``extra`` field of the
call (the access log's ``method``, ``path``, ``status``, ``ms``, ``client``).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TextIO

from .settings import Settings, SettingsError

request_id: ContextVar[str | None] = ContextVar("loupe_request_id", default=None)
job_id: ContextVar[int | None] = ContextVar("loupe_job_id", default=None)

HANDLER_NAME = "loupe"
FORMATS = ("plain", "json")
LEVELS = ("debug", "info", "warning", "error")
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class ContextFilter(logging.Filter):
    """Puts the current request and job ids on every record (``None`` outside of them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = job_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None and key not in out:
                out[key] = value if isinstance(value, (str, int, float, bool, list, dict)) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{name}={value}" for name in ("request_id", "job_id")
               if (value := getattr(record, name, None)) is not None]
        if not ids:
            return line
        head, newline, rest = line.partition("\n")  # ids on the first line, before a traceback
        return f"{head} [{' '.join(ids)}]{newline}{rest}"


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    if log_format not in FORMATS:
        raise SettingsError(f"setting log_format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(settings: Settings, *, verbosity: int = 0, stream: TextIO | None = None) -> None:
    """Root logger: one handler on stderr in ``settings.log_format``, at ``settings.log_level``
    (each ``verbosity`` step one level more, as ``-v`` on the command line)."""
    if settings.log_level not in LEVELS:
        raise SettingsError(f"setting log_level must be one of {', '.join(LEVELS)}, not {settings.log_level!r}")
    level = getattr(logging, settings.log_level.upper()) - 10 * max(0, min(verbosity, 2))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == HANDLER_NAME:  # ours, from an earlier call; others (a test runner's) stay
            root.removeHandler(old)
    root.addHandler(make_handler(settings.log_format, stream))
    root.setLevel(max(logging.DEBUG, level))
    # The service writes its own access line (loupe.access) with the request id; werkzeug's
    # would repeat each request without it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
