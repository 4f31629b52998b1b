"""Fixtures for the search service: the demo collection published, harvested and indexed with
the tiny test model into a real Qdrant local storage, once per session, and apps over it.

Tests that only read share ``services``/``app``/``client`` (which own the session's index).
Tests that write (catalog rows, index points, jobs) or need the index in another process
work on ``private_settings``: a copy of the data directory of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from loupe_core.settings import Settings
from tests.support.demo import DEMO_FOLDER, copy_data_dir, harvest_demo

TEST_SETTINGS = {"image_max_side": 256, "model": "loupe-tiny", "model_download": False}


@dataclass(frozen=True)
class IndexedDemo:
    settings: Settings  # the pristine data directory: copy it (private_settings) before writing
    collection_url: str
    source_id: int
    vector: str
    points: int

    def manifest(self, slug: str) -> str:
        return self.collection_url.rsplit("/", 1)[0] + f"/manifests/{slug}.json"

    def canvas(self, slug: str) -> str:
        return self.collection_url.rsplit("/", 1)[0] + f"/canvas/{slug}"


@pytest.fixture(scope="session")
def indexed_demo(tmp_path_factory: pytest.TempPathFactory) -> IndexedDemo:
    from connector.catalog import Catalog
    from loupe_models import load_model
    from search_service.index import VectorIndex
    from training_worker.indexing.indexer import Indexer

    root = tmp_path_factory.mktemp("search-demo")
    settings = Settings.load(env={}, config_file=None, data_dir=root / "var", **TEST_SETTINGS)
    demo = harvest_demo(settings)
    catalog = Catalog.open(settings)
    try:
        with VectorIndex.open(settings, role="test fixture") as index:
            summary = Indexer(settings, catalog, index, load_model(settings)).run(activate=True)
    finally:
        catalog.close()
    assert summary.failed == 0 and summary.points_total > 0, summary.as_dict()
    return IndexedDemo(settings, demo.collection_url, demo.source_id, summary.vector, summary.points_total)


@pytest.fixture(scope="session")
def services(indexed_demo: IndexedDemo) -> Iterator:
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

    def make(**changes):
        settings = services.settings.replace(**changes)
        shared = Services(settings, catalog=services.catalog, index=services.index, model_cache=services.model_cache)
        return create_app(settings, services=shared)

    return make


@pytest.fixture
def private_settings(indexed_demo: IndexedDemo, tmp_path: Path) -> Settings:
    """Settings on a private copy of the indexed demo's data directory."""
    return copy_data_dir(indexed_demo, tmp_path / "var")  # type: ignore[arg-type]


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
