"""Fixtures shared by the whole suite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from loupe_core.settings import Settings
from tests.support import offline
from tests.support.demo import copy_data_dir, harvest_demo
from tests.support.deps import need, unavailable
from tests.support.postgres import PostgresUnavailable, fresh_database, temporary_postgres

offline.install()  # no test reaches beyond this machine

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
    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path_factory.mktemp("demo") / "var",
                             image_max_side=256, model="loupe-tiny")
    return harvest_demo(settings)


@pytest.fixture
def demo_settings(harvested_demo, tmp_path) -> Settings:
    """Settings on a private copy of the harvested demo (catalog, image cache)."""
    return copy_data_dir(harvested_demo, tmp_path / "demo-var")


# --- The demo indexed with the tiny test model (search service, tagging, jobs) -----------------
TEST_SETTINGS = {"image_max_side": 256, "model": "loupe-tiny", "model_download": False,
                 "model_rate_per_minute": 0}  # tests of rate limits turn them on


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
    from loupe_index import VectorIndex
    from loupe_models import load_model
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


@pytest.fixture
def private_settings(indexed_demo: IndexedDemo, tmp_path: Path) -> Settings:
    """Settings on a private copy of the indexed demo's data directory."""
    return copy_data_dir(indexed_demo, tmp_path / "var")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def label_cache(tmp_path_factory):
    from loupe_tagging import LabelEmbeddingCache

    return LabelEmbeddingCache(tmp_path_factory.mktemp("label-embeddings"))


# --- PostgreSQL (the scale-out catalog): one throwaway server per session --------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 (Debian's binaries; `make test` installs them).
    Skipped where absent, a failure under CI (see tests/support/deps.py)."""
    need("psycopg", reason="psycopg is not installed (the test extra)")
    try:
        with temporary_postgres() as url:
            yield url
    except PostgresUnavailable as e:
        unavailable(f"no PostgreSQL server here: {e}")


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_settings(request, settings) -> Settings:
    """``settings`` with the catalog (and so the job store and vocabularies) in SQLite, then
    in a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return settings
    return settings.replace(catalog_url=fresh_database(request.getfixturevalue("postgres_server")))
