"""/healthz (catalog, index, broker, each with its state; 503 when one is down) and /metrics
(Prometheus text format) over the indexed demo."""

from __future__ import annotations

import re

SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf]+$')


def test_healthz_is_up_with_every_part(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "up"
    assert set(body["checks"]) == {"catalog", "index", "broker"}
    assert all(check["state"] == "up" and check["ms"] >= 0 for check in body["checks"].values())
    assert body["checks"]["broker"]["kind"] == "embedded"
    assert sum(body["checks"]["index"]["points"].values()) > 0


def test_healthz_pings_redis(make_app, redis_url) -> None:
    body = make_app(redis_url=redis_url).test_client().get("/healthz").get_json()
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "state": "up", "kind": "redis"}


def test_healthz_is_503_when_the_broker_is_down(make_app) -> None:
    response = make_app(redis_url="redis://127.0.0.1:1/0").test_client().get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["broker"]["state"] == "down" and "onnect" in checks["broker"]["error"]
    assert checks["catalog"]["state"] == "up" and checks["index"]["state"] == "up"


def test_healthz_is_503_when_the_catalog_is_down(services, tmp_path) -> None:
    from search_service.app import create_app
    from search_service.services import Services

    broken = services.settings.replace(catalog_url=f"sqlite:///{tmp_path}")  # a folder: cannot be opened
    shared = Services(broken, index=services.index, model_cache=services.model_cache)
    response = create_app(broken, services=shared).test_client().get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["catalog"]["state"] == "down" and checks["index"]["state"] == "up"


def test_metrics_in_prometheus_text_format(make_app) -> None:
    client = make_app().test_client()  # an app of its own: its own counters
    assert client.get("/api/search", query_string={"q": "a ship"}).status_code == 200
    client.get("/api/search", query_string={"q": "a portrait"})
    client.get("/no/such/page")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line
    assert 'loupe_http_requests_total{endpoint="/api/search",method="GET",status="200"} 2' in text
    assert 'loupe_http_requests_total{endpoint="(unmatched)",method="GET",status="404"} 1' in text
    assert 'loupe_http_request_duration_seconds_count{endpoint="/api/search"} 2' in text
    assert 'loupe_http_request_duration_seconds_bucket{endpoint="/api/search",le="+Inf"} 2' in text
    assert re.search(r'^loupe_index_points\{vector="[^"]+"\} [1-9]\d*$', text, re.M)
    assert 'loupe_manifests{status="ok"} 30' in text or 'loupe_manifests{status="problems"}' in text
    assert 'loupe_harvest_runs{status="completed"} 1' in text
    assert "# TYPE loupe_jobs gauge" in text
