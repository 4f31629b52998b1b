"""No test may reach beyond this machine: the audit hook of ``netaudit`` (connections only to
loopback, name lookups only of local names) is on for the whole session, and Hugging Face is
told it is offline, so a test that would download weights or call a real server fails at
once instead of sending traffic (or passing on a machine that happens to have internet)."""

from __future__ import annotations

import os

from tests.support import netaudit


def install() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    netaudit.install()
    netaudit.activate()
