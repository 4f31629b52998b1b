"""Politeness is per host and hosts run in parallel: several loopback hosts (127.0.0.2 ...),
measured at the servers. Within one source whose manifests live on several hosts (listed
host by host, the worst order for a plain pool), and across sources (``harvest_many``)."""

from __future__ import annotations

import time

import pytest

from connector.catalog import Catalog
from connector.catalog.schema import HarvestRun
from connector.harvest import Harvester
from tests.connector.harvest_fixtures import CTX3, manifest_v3, serve_json

RATE = 10.0  # requests per second per host: one every 0.1 s
HOSTS = 4
PER_HOST = 4


@pytest.fixture
def hosts(http_server_factory):
    servers = [http_server_factory(f"127.0.0.{2 + i}") for i in range(HOSTS)]
    for server in servers:
        server.robots("User-agent: *\nAllow: /\n")
        for k in range(PER_HOST):
            serve_json(server, f"/m/{k}.json", manifest_v3(server.base_url, str(k)))
    return servers


@pytest.fixture
def catalog(settings):
    cat = Catalog.open(settings)
    yield cat
    cat.close()


def _collection(server, manifests: list[str]) -> str:
    serve_json(server, "/collection.json", {"@context": CTX3, "id": f"{server.base_url}/collection.json",
                                            "type": "Collection", "label": {"en": ["c"]},
                                            "items": [{"id": m, "type": "Manifest"} for m in manifests]})
    return f"{server.base_url}/collection.json"


def _check_polite(servers) -> list[tuple[float, float]]:
    """Every host saw its requests at least 1/RATE apart; returns each host's (first, last) time."""
    spans = []
    for server in servers:
        times = sorted(r.time for r in server.log)
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert times and min(gaps, default=1.0) >= 1 / RATE, (server.host, gaps)
        spans.append((times[0], times[-1]))
    return spans


def _overlap(spans: list[tuple[float, float]]) -> bool:
    """Every host was being harvested while every other one was (their spans intersect)."""
    return max(first for first, _ in spans) < min(last for _, last in spans)


def test_one_source_on_several_hosts_runs_them_in_parallel(hosts, settings, catalog) -> None:
    home = hosts[0]
    manifests = [f"{s.base_url}/m/{k}.json" for s in hosts for k in range(PER_HOST)]  # host by host
    source = catalog.add_source(_collection(home, manifests), "collection", allow_private=True,
                                allowed_hosts=[s.base_url for s in hosts[1:]])
    fast = settings.replace(rate_limit_per_host=RATE, harvest_workers=2)
    started = time.monotonic()
    with Harvester(fast, catalog) as harvester:
        report = harvester.harvest(source, fetch_images=False)
    elapsed = time.monotonic() - started
    assert report.counts["new"] == HOSTS * PER_HOST, report.as_dict()
    assert _overlap(_check_polite(hosts))
    # One host after the other: at least 16 manifest requests 0.1 s apart (1.5 s); in parallel
    # each host needs only its own four (plus robots.txt): about 0.5 s.
    assert elapsed < 1.3, elapsed


def test_sources_on_different_hosts_are_harvested_side_by_side(hosts, settings, catalog) -> None:
    sources = [catalog.add_source(_collection(s, [f"{s.base_url}/m/{k}.json" for k in range(PER_HOST)]),
                                  "collection", allow_private=True) for s in hosts]
    fast = settings.replace(rate_limit_per_host=RATE, harvest_parallel_sources=HOSTS)
    started = time.monotonic()
    with Harvester(fast, catalog) as harvester:
        reports = dict((src.id, report) for src, report in harvester.harvest_many(sources, fetch_images=False))
    elapsed = time.monotonic() - started
    assert all(reports[s.id].counts["new"] == PER_HOST for s in sources), reports
    assert _overlap(_check_polite(hosts))
    # Each host: robots.txt, the collection, four manifests = 0.5 s at least; one source after
    # the other would take four times that.
    assert elapsed < 1.5, elapsed
    with catalog.session() as s:  # every run was closed, and every write committed
        assert {run.status for run in s.query(HarvestRun)} == {"completed"}
