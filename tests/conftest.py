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


# --- Jobs and indexing (training_worker); usable by every test folder -------------------------
from tests.support.redis import redis_server, redis_url  # noqa: E402,F401 - fixtures: a real redis-server


@pytest.fixture(scope="session")
def harvested_demo(tmp_path_factory):
    """The bundled demo collection (30 images, 16 regions) published as a static source and
    harvested once per session, images cached at 256 px; model setting loupe-tiny. Read-only:
    tests that change anything use ``demo_settings`` (a private copy)."""
    from tests.support.demo import harvest_demo

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path_factory.mktemp("demo") / "var",
                             image_max_side=256, model="loupe-tiny")
    return harvest_demo(settings)


@pytest.fixture
def demo_settings(harvested_demo, tmp_path) -> Settings:
    """Settings on a private copy of the harvested demo (catalog, image cache)."""
    from tests.support.demo import copy_data_dir

    return copy_data_dir(harvested_demo, tmp_path / "demo-var")
