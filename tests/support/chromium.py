"""Headless Chromium for the browser tests: Debian's ``chromium`` (or ``LOUPE_CHROMIUM``),
driven by Playwright; a test is skipped, saying what to install, when either is missing."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.deps import need

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def executable() -> str:
    found = os.environ.get("LOUPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium found (apt-get install chromium, or set LOUPE_CHROMIUM)")
    return found


@contextmanager
def playwright() -> Iterator:
    sync_api = need("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        yield p


def launch(playwright, args: list[str] = ()):  # noqa: ANN001, ANN201 - Playwright's objects
    """A headless Chromium with the usual flags and ``args``."""
    return playwright.chromium.launch(executable_path=executable(), args=[*CHROMIUM_FLAGS, *args], timeout=30_000)


@contextmanager
def chromium(*needed: Path, hint: str = "npm ci in lens/") -> Iterator:
    """A browser for a module's tests; skipped when a file they serve (``needed``) is absent."""
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"{', '.join(missing)} absent ({hint})")
    executable()
    with playwright() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()
