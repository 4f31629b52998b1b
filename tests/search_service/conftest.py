"""Fixtures for the search service: apps over the indexed demo collection (``indexed_demo``,
``private_settings``: tests/conftest.py).

Tests that only read share ``services``/``app``/``client`` (which own the session's index).
Tests that write (catalog rows, index points, jobs) or need the index in another process
work on ``private_settings``: a copy of the data directory of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from loupe_core.settings import Settings
from tests.support.demo import DEMO_FOLDER


@pytest.fixture(scope="session")
def services(indexed_demo) -> Iterator:
    from search_service.services import Services

    s = Services(indexed_demo.settings, index_role="test services")
    yield s
    s.close()


@pytest.fixture(scope="session")
def app(services):
    from search_service.app import create_app

    return create_app(services.settings, services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_app(services):
    """``make_app(**setting_changes)``: an app over the session's catalog and index with other
    settings (API keys, upload limits); nothing of the session is closed afterwards."""
    from search_service.app import create_app
    from search_service.services import Services

    def make(label_cache=None, **changes):
        settings = services.settings.replace(**changes)
        shared = Services(settings, catalog=services.catalog, index=services.index, model_cache=services.model_cache,
                          label_cache=label_cache)
        return create_app(settings, services=shared)

    return make


@pytest.fixture
def private_app(private_settings: Settings) -> Iterator:
    """An app over a private copy (owns its catalog and index; closed after the test)."""
    from search_service.app import create_app
    from search_service.services import Services

    s = Services(private_settings, index_role="test private app")
    yield create_app(private_settings, services=s)
    s.close()


@pytest.fixture(scope="session")
def v3_schema(shared_data: Path) -> Path:
    path = shared_data / "iiif" / "IIIF-presentation-validator" / "schema" / "iiif_3_0.json"
    if not path.is_file():
        pytest.skip(f"IIIF v3 schema not found at {path}")
    return path


@pytest.fixture(scope="session")
def demo_jpeg() -> Callable[[str], bytes]:
    """``demo_jpeg(slug)`` -> the bytes of an original demo image."""
    return lambda slug: (DEMO_FOLDER / f"{slug}.jpg").read_bytes()
