"""The catalog on PostgreSQL (by URL), with a real throwaway server: the same harvest gives
the same catalog as on SQLite."""

from __future__ import annotations

import pytest

from connector.catalog import Catalog
from connector.harvest import Harvester
from tests.connector.harvest_fixtures import manifest_v3, serve_collection, serve_json
from tests.support.postgres import fresh_database


@pytest.fixture
def postgres_url(postgres_server):
    return fresh_database(postgres_server)


def _harvest_twice(catalog: Catalog, settings, url: str, server) -> list[dict]:
    src = catalog.add_source(url, "collection", allow_private=True)
    with Harvester(settings, catalog) as h:
        first = h.harvest(catalog.get_source(src.id))
        serve_json(server, "/m/a.json", manifest_v3(server.base_url, "a", label="changed", notes=["n"]))
        second = h.harvest(catalog.get_source(src.id))
    return [first.counts, second.counts]


def test_postgres_catalog_matches_sqlite(postgres_url, settings, http_server):
    fast = settings.replace(rate_limit_per_host=500.0)
    url = serve_collection(http_server, ["a", "b", "c"])
    pg = Catalog.from_url(postgres_url)
    pg_counts = _harvest_twice(pg, fast, url, http_server)
    serve_collection(http_server, ["a", "b", "c"])  # back to the original documents
    lite = Catalog.open(fast)
    lite_counts = _harvest_twice(lite, fast, url, http_server)
    assert pg_counts == lite_counts
    assert pg_counts[0]["new"] == 3 and pg_counts[1]["updated"] == 1 and pg_counts[1]["unchanged"] == 2
    assert pg.snapshot() == lite.snapshot()
    assert pg.stats() == lite.stats()
    pg.close()
