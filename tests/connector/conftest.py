"""Fixtures for connector tests; ``http_server`` is importable by other test folders too:
``from tests.connector.conftest import http_server`` or use ``tests.support.httpserver``."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support import netaudit
from tests.support.httpserver import TestHTTPServer


@pytest.fixture
def http_server() -> Iterator[TestHTTPServer]:
    """A real threaded HTTP server on 127.0.0.1 with a random port (see tests/support/httpserver.py)."""
    with TestHTTPServer() as server:
        yield server


@pytest.fixture
def http_server_factory() -> Iterator:
    """Start more servers (e.g. ``http_server_factory("127.0.0.2")`` for a second loopback host)."""
    started: list[TestHTTPServer] = []

    def start(host: str = "127.0.0.1") -> TestHTTPServer:
        server = TestHTTPServer(host).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_client(settings) -> Iterator:
    """``make_client(**setting_changes)`` -> an ``HttpClient`` closed after the test.

    The suite's ``settings`` already shorten backoff; tests raise ``rate_limit_per_host``
    unless they measure it."""
    from connector.http import HttpClient

    clients: list[HttpClient] = []

    def make(ssl_context=None, resolver=None, **changes) -> HttpClient:
        client = HttpClient(settings.replace(**changes), ssl_context=ssl_context, resolver=resolver)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Every connector test stays on this machine: a connection beyond loopback, or a DNS
    lookup, raises ``OffMachineTraffic`` and fails the test (tests/support/netaudit.py)."""
    with netaudit.loopback_only() as attempts:
        yield
    assert not attempts, f"the test tried to leave the machine: {attempts}"
