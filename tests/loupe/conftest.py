"""What the command-line tests share: a real HTTP server on 127.0.0.1 and ``run(*args)``,
the ``loupe`` command in-process on a private data directory (politeness shortened)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from loupe.cli import cli
from tests.support.httpserver import TestHTTPServer


@pytest.fixture
def server():
    with TestHTTPServer() as s:
        yield s


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOUPE_RATE_LIMIT_PER_HOST", "500")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result
    return invoke
