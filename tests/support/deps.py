"""Optional parts in tests (a third-party module, a PostgreSQL server): skipped with a reason
where they are absent, but a failure under CI (``CI=true``), where `make test` installs
everything, so that a broken install can never pass as skipped tests."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under CI, fail with it."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; under CI everything the tests use must be installed (`make test` does it)")
    pytest.skip(reason)


def need(module: str, reason: str | None = None) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        unavailable(f"{reason or f'{module} is not installed'} ({e})")
        raise  # not reached: skip and fail raise
