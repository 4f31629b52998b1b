"""Log lines, plain and JSON, with the request and job ids of their context."""

from __future__ import annotations

import io
import json
import logging

import pytest

from loupe_core.logs import configure_logging, job_id, make_handler, request_id
from loupe_core.settings import Settings, SettingsError


def logged(log_format: str, emit) -> str:  # noqa: ANN001
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logs.{log_format}")
    logger.propagate = False
    handler = make_handler(log_format, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_carry_the_context_extra_fields_and_the_traceback():
    def emit(log):  # noqa: ANN001
        log.info("plain %s", "line")
        token = request_id.set("req-1")
        try:
            log.warning("answered", extra={"status": 201, "path": "/api/x"})
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                log.exception("failed")
        finally:
            request_id.reset(token)
        job = job_id.set(7)
        log.error("in a job")
        job_id.reset(job)

    lines = [json.loads(line) for line in logged("json", emit).splitlines()]
    assert [line["message"] for line in lines] == ["plain line", "answered", "failed", "in a job"]
    assert "request_id" not in lines[0] and lines[0]["level"] == "info" and lines[0]["time"].endswith("+00:00")
    assert lines[1]["request_id"] == "req-1" and lines[1]["status"] == 201 and lines[1]["path"] == "/api/x"
    assert lines[2]["request_id"] == "req-1" and "RuntimeError: boom" in lines[2]["exc"]
    assert lines[3]["job_id"] == 7 and "request_id" not in lines[3]


def test_plain_lines_name_the_ids_on_their_first_line():
    def emit(log):  # noqa: ANN001
        token = request_id.set("abc")
        try:
            raise ValueError("bad")
        except ValueError:
            log.exception("oops")
        finally:
            request_id.reset(token)

    first, *rest = logged("plain", emit).splitlines()
    assert first.endswith("oops [request_id=abc]") and rest[-1] == "ValueError: bad"


def test_unknown_format_or_level_is_a_settings_error():
    with pytest.raises(SettingsError, match="log_format"):
        configure_logging(Settings(log_format="xml"))
    with pytest.raises(SettingsError, match="log_level"):
        configure_logging(Settings(log_level="loud"))
