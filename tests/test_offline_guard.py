"""The suite's network guard (tests/support/offline.py, on for every test) refuses
off-machine connections and lookups before any packet is sent, and lets loopback through."""

from __future__ import annotations

import socket

import pytest

from tests.support.netaudit import OffMachineTraffic


@pytest.mark.parametrize("address", [("192.0.2.1", 80), ("8.8.8.8", 53)])
def test_off_machine_connections_are_refused(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(OffMachineTraffic):
        s.connect(address)


def test_off_machine_name_lookups_are_refused():
    with pytest.raises(OffMachineTraffic):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_connections_go_through():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
