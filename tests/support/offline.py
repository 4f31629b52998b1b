"""No test may reach beyond this machine: an audit hook refuses every connection to an
address that is not loopback (or a local socket file), and Hugging Face is told it is
offline, so a test that would download weights or call a real server fails at once instead
of sending traffic (or passing on a machine that happens to have internet)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_installed = False


class OffMachineConnection(ConnectionRefusedError):
    pass


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if not isinstance(address, tuple) or not address:
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:  # a name: resolved (and checked) by the caller's own connect later
        return False


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise OffMachineConnection(f"tests may not connect off this machine (to {address!r})")


def install() -> None:
    """Once per process (audit hooks cannot be removed)."""
    global _installed
    if _installed:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sys.addaudithook(_hook)
    _installed = True
