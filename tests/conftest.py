"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe_core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a clear reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (it sits beside the project in CI)")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data directory and politeness delays shortened for tests."""
    return Settings.load(env={}, config_file=None, data_dir=tmp_path / "var",
                         backoff_base_s=0.05, max_retry_after_s=5.0)
