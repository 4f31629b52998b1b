"""The audit hook that keeps connector tests on this machine really refuses (before any
packet) connections beyond loopback and DNS lookups, and lets loopback through."""

from __future__ import annotations

import socket

import pytest

from tests.support import netaudit


def test_off_machine_connect_and_lookup_are_refused_loopback_is_not(http_server) -> None:
    before = len(netaudit.attempts)
    with pytest.raises(netaudit.OffMachineTraffic):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)  # TEST-NET-1: nobody there
    with pytest.raises(netaudit.OffMachineTraffic):
        socket.getaddrinfo("iiif.example.org", 443)
    assert len(netaudit.attempts) == before + 2
    del netaudit.attempts[before:]  # expected here; the autouse fixture checks the rest
    socket.create_connection(("127.0.0.1", http_server.port), timeout=1).close()
    assert socket.getaddrinfo("2130706433", 80)[0][4][0] == "127.0.0.1"
