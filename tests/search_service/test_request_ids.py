"""Request ids: taken from X-Request-ID or made, echoed, and on every log line of the request
(the access line and an error's traceback), in JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest

from loupe_core.logs import make_handler


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_given_id_is_echoed_and_on_the_access_line(client, json_log):
    response = client.get("/api/health", headers={"X-Request-ID": "lb-4711.a:b"})
    assert response.headers["X-Request-ID"] == "lb-4711.a:b"
    access = [line for line in json_log() if line["logger"] == "loupe.access"]
    assert access[-1] | {"ms": 0, "time": ""} == {
        "time": "", "level": "info", "logger": "loupe.access", "message": access[-1]["message"],
        "request_id": "lb-4711.a:b", "method": "GET", "path": "/api/health", "status": 200, "ms": 0,
        "client": "127.0.0.1"}


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "<script>"])
def test_a_missing_or_unusable_id_is_replaced_by_a_new_one(client, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    first = client.get("/api/health", headers=headers).headers["X-Request-ID"]
    second = client.get("/api/health", headers=headers).headers["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0 and first != second


def test_errors_carry_the_id_in_the_answer_and_in_every_log_line(make_app, json_log):
    app = make_app()

    def fails():
        logging.getLogger("loupe.test").warning("about to fail")
        raise RuntimeError("deliberate failure")

    app.add_url_rule("/test-fails", "test_fails", fails)
    client = app.test_client()
    response = client.get("/test-fails", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "err-1"
    assert "request id err-1" in response.get_json()["error"]["message"]
    assert "deliberate" not in response.get_data(as_text=True)
    lines = [line for line in json_log() if line.get("request_id") == "err-1"]
    assert [line["logger"] for line in lines] == ["loupe.test", "search_service.errors", "loupe.access"]
    assert "RuntimeError: deliberate failure" in lines[1]["exc"] and lines[2]["status"] == 500
    missing = client.get("/no-such-page", headers={"X-Request-ID": "err-2"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "err-2"
