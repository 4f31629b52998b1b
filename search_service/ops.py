"""Operations endpoints: ``/healthz`` (is every part of the service up?) and ``/metrics``
(Prometheus). Registered like every blueprint (``app.BLUEPRINTS``); the request hooks that
feed ``/metrics`` are installed for the whole application from here.

``/healthz`` checks the catalog (a query), the index (its vectors and points) and the job
broker (Redis ``PING`` in the scale-out setup; the in-process broker otherwise), each with its
state and the time the check took; 503 when one is down, so a load balancer or
``HEALTHCHECK`` takes the instance out. ``/api/health`` stays the cheap liveness probe.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import redis
from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import func, select, text

from connector.catalog.schema import HarvestRun, ManifestRow
from training_worker.broker import broker_location
from training_worker.jobs.store import JobRow

from .metrics import RequestMetrics, gauge, process_lines
from .responses import json_response
from .services import get_services

bp = Blueprint("ops", __name__)
METRICS = "loupe.metrics"
CHECK_TIMEOUT_S = 2.0


@bp.record_once
def _install(state: Any) -> None:
    app: Flask = state.app
    app.extensions[METRICS] = RequestMetrics()
    app.before_request(_started)
    app.after_request(_finished)


def _started() -> None:
    g.loupe_started = time.perf_counter()


def _finished(response: Response) -> Response:
    started = g.get("loupe_started")
    if started is not None:
        endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        current_app.extensions[METRICS].observe(endpoint, request.method, response.status_code,
                                                time.perf_counter() - started)
    return response


# --- /healthz -----------------------------------------------------------------------------
def _check(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = {"state": "up", **probe()}
    except Exception as e:  # noqa: BLE001 - any failure means "down", with its reason
        result = {"state": "down", "error": " ".join(f"{type(e).__name__}: {e}".split())[:300]}
    result["ms"] = round(1000 * (time.perf_counter() - started), 1)
    return result


def _catalog() -> dict[str, Any]:
    with get_services().catalog.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"backend": get_services().catalog.engine.dialect.name}


def _index() -> dict[str, Any]:
    index = get_services().index
    return {"mode": index.mode, "active": index.active_vector(),
            "points": {name: index.count(name) for name in index.vector_names()}}


def _broker() -> dict[str, Any]:
    settings = get_services().settings
    if not settings.redis_url:
        return {"kind": "embedded", "location": broker_location(settings)}
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=CHECK_TIMEOUT_S,
                                  socket_connect_timeout=CHECK_TIMEOUT_S)
    try:
        client.ping()
    finally:
        client.close()
    return {"kind": "redis", "location": broker_location(settings)}


@bp.get("/healthz")
def healthz() -> Response:
    checks = {"catalog": _check(_catalog), "index": _check(_index), "broker": _check(_broker)}
    up = all(c["state"] == "up" for c in checks.values())
    return json_response({"status": "up" if up else "down", "checks": checks}, status=200 if up else 503)


# --- /metrics -----------------------------------------------------------------------------
def _grouped(column: Any) -> list[tuple[dict[str, str], float]]:
    with get_services().catalog.session() as s:
        return [({column.key: str(key)}, n) for key, n in s.execute(select(column, func.count()).group_by(column))]


@bp.get("/metrics")
def metrics() -> Response:
    lines = current_app.extensions[METRICS].lines() + process_lines()
    for name, help_text, collect in (
        ("loupe_jobs", "Jobs by state.", lambda: _grouped(JobRow.state)),
        ("loupe_harvest_runs", "Harvest runs by status.", lambda: _grouped(HarvestRun.status)),
        ("loupe_manifests", "Catalog manifests by status.", lambda: _grouped(ManifestRow.status)),
        ("loupe_index_points", "Points in the index, by vector.",
         lambda: [({"vector": n}, get_services().index.count(n)) for n in get_services().index.vector_names()]),
    ):
        try:
            samples = collect()
        except Exception:  # noqa: BLE001 - a part that is down has no samples; /healthz says why
            samples = []
        lines += gauge(name, help_text, samples)
    response = Response("\n".join(lines) + "\n")
    response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    return response


OPENAPI_PATHS: dict[str, Any] = {
    "/healthz": {"get": {"tags": ["system"], "summary": "Health of the catalog, the index and the job broker",
                         "description": "Each part with its state (up or down), details and the time its check "
                                        "took. 503 when any part is down.",
                         "responses": {"200": {"description": "Every part is up."},
                                       "503": {"description": "At least one part is down (see checks)."}}}},
    "/metrics": {"get": {"tags": ["system"], "summary": "Metrics in the Prometheus text format",
                         "description": "Requests and latencies per endpoint (this process), jobs by state, "
                                        "harvest runs and manifests by status, index points per vector.",
                         "responses": {"200": {"description": "Prometheus text format 0.0.4.",
                                               "content": {"text/plain": {}}}}}},
}
