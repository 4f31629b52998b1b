"""An audit hook that keeps tests on this machine: while active, a ``socket.connect`` to
anything but a loopback address, and a ``socket.getaddrinfo`` of anything but an IP
literal or a ``localhost`` name (a DNS query would leave the machine), raise
``OffMachineTraffic`` and are recorded in ``attempts``.

Audit hooks cannot be removed (PEP 578), so ``install`` adds one hook once per process and
``loopback_only`` switches it on for a block (``tests/connector/conftest.py`` does so for
every connector test). Unix sockets (local by nature) pass.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class OffMachineTraffic(RuntimeError):
    """A test tried to reach beyond loopback. Not an ``OSError``, so no client retries it."""


attempts: list[str] = []
_state = {"active": False, "installed": False}
_lock = threading.Lock()


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _is_local_lookup(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
        return True
    except ValueError:
        # Numeric spellings such as 2130706433 or 0x7f.1 are parsed locally by inet_aton.
        return all(re.fullmatch(r"0x[0-9a-f]*|[0-9]+", part) for part in name.split("."))


def _refuse(what: str) -> None:
    with _lock:
        attempts.append(what)
    raise OffMachineTraffic(f"test tried to leave the machine: {what}")


def _hook(event: str, args: tuple) -> None:
    if not _state["active"]:
        return
    if event == "socket.connect":
        sock, address = args
        if getattr(sock, "family", None) == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_loopback(host):
            _refuse(f"connect to {address!r}")
    elif event == "socket.getaddrinfo":
        if not _is_local_lookup(args[0]):
            _refuse(f"name lookup of {args[0]!r}")


def install() -> None:
    with _lock:
        if not _state["installed"]:
            sys.addaudithook(_hook)
            _state["installed"] = True


def activate() -> None:
    """On for good (the whole test session: tests/support/offline.py)."""
    _state["active"] = True


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse off-machine traffic inside the block; yields the attempts made in it."""
    install()
    start = len(attempts)
    previous, _state["active"] = _state["active"], True
    seen: list[str] = []
    try:
        yield seen
    finally:
        _state["active"] = previous
        seen.extend(attempts[start:])
