"""The scale-out services for real, without Docker: PostgreSQL (catalog and jobs), Redis
(broker), the API under gunicorn with two worker processes reading the local index, `loupe
worker --index-owner` (the one process that writes it) and `loupe scheduler`, with a IIIF
collection served over HTTP on 127.0.0.1.

One stack for the module (the tests run in order and build on each other): a scheduled
harvest is indexed and searched over HTTP; an index job survives its worker being killed;
restarting the API loses nothing; a harvest interrupted by a database restart resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from tests.conftest import PROJECT_ROOT
from tests.connector.harvest_fixtures import CTX3, jpeg, manifest_v3, serve_json
from tests.support.deps import need
from tests.support.httpserver import TestHTTPServer
from tests.support.postgres import PostgresUnavailable, temporary_postgres
from tests.support.redis import RedisUnavailable, temporary_redis

KEY = "stack-admin-key"
FIRST = [f"a{i}" for i in range(6)]
SECOND = [f"b{i}" for i in range(24)]
pytestmark = pytest.mark.timeout(240)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], what: str, timeout_s: float = 60.0, every_s: float = 0.2) -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = check()
        except (requests.RequestException, OSError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)


@dataclass
class Stack:
    root: Path
    env: dict[str, str]
    api: str
    api_port: int
    catalog_url: str
    http: TestHTTPServer
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        process = subprocess.Popen(list(args), cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def loupe(self, name: str, *args: str) -> subprocess.Popen:
        return self.start(name, sys.executable, "-m", "loupe", *args)

    def start_api(self) -> None:
        self.start("api", sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2", "--timeout", "120", "--graceful-timeout", "5",
                   "--bind", f"127.0.0.1:{self.api_port}", "search_service.wsgi:app")
        wait_until(lambda: requests.get(f"{self.api}/api/health", timeout=2).ok, "the API to answer", 60)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def sql(self, query: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.catalog_url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as c:
            return list(c.execute(query, params).fetchall())

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(f"{self.api}{path}", headers={"X-API-Key": KEY, **kw.pop("headers", {})}, timeout=30, **kw)

    def job(self, job_id: int) -> dict:
        return self.get(f"/api/admin/jobs/{job_id}").json()["job"]


def serve_source(http: TestHTTPServer, name: str, items: list[str]) -> str:
    base = http.base_url
    serve_json(http, f"/{name}.json", {
        "@context": CTX3, "id": f"{base}/{name}.json", "type": "Collection", "label": {"en": [name]},
        "items": [{"id": f"{base}/m/{n}.json", "type": "Manifest", "label": {"en": [n]}} for n in items]})
    for i, n in enumerate(items):
        serve_json(http, f"/m/{n}.json", manifest_v3(base, n, label=f"painting {n}"))
        http.bytes(f"/img/{n}.jpg", jpeg(96, 64, color=(40 * i % 256, 90, 255 - 9 * i % 256)), content_type="image/jpeg")
    return f"{base}/{name}.json"


def add_scheduled_source(stack: Stack, url: str, name: str) -> None:
    add = subprocess.run([sys.executable, "-m", "loupe", "source", "add", url, "--kind", "collection", "--name", name,
                          "--allow-private"], cwd=PROJECT_ROOT, env=stack.env, capture_output=True, text=True,
                         timeout=120)
    assert add.returncode == 0, add.stderr
    scheduled = subprocess.run([sys.executable, "-m", "loupe", "source", "schedule", name, "--every", "1h"],
                               cwd=PROJECT_ROOT, env=stack.env, capture_output=True, text=True, timeout=120)
    assert scheduled.returncode == 0, scheduled.stderr


def restart_postgres(stack: Stack) -> None:
    data = stack.sql("SHOW data_directory")[0][0]
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    pg_ctl = str(bindir[-1]) if bindir else shutil.which("pg_ctl")
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(prefix + [pg_ctl, "-D", data, "-l", str(Path(data).parent / "log"), "-m", "fast", "-w", "restart"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    need("psycopg", reason="psycopg is not installed (the test extra)")
    need("gunicorn", reason="gunicorn is not installed (the server and test extras)")
    root = tmp_path_factory.mktemp("stack")
    try:
        with temporary_postgres() as catalog_url, temporary_redis() as redis_url, TestHTTPServer() as http:
            port = free_port()
            env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1",
                   "LOUPE_DATA_DIR": str(root / "data"), "LOUPE_CATALOG_URL": catalog_url,
                   "LOUPE_REDIS_URL": redis_url, "LOUPE_MODEL": "loupe-tiny", "LOUPE_MODEL_DOWNLOAD": "false",
                   "LOUPE_IMAGE_MAX_SIDE": "128", "LOUPE_API_KEYS": KEY, "LOUPE_LOCAL_INDEX_ACCESS": "reader",
                   "LOUPE_INDEX_REFRESH_S": "0.3", "LOUPE_SCHEDULER_TICK_S": "0.5", "LOUPE_SCHEDULER_RETRY_S": "1",
                   "LOUPE_JOB_HEARTBEAT_S": "0.5", "LOUPE_JOB_STALE_AFTER_S": "3", "LOUPE_RATE_LIMIT_PER_HOST": "8",
                   "LOUPE_LOG_FORMAT": "json", "LOUPE_LOG_LEVEL": "info", "LOUPE_TORCH_THREADS": "1",
                   "LOUPE_MODEL_RATE_PER_MINUTE": "0"}
            stack = Stack(root, env, f"http://127.0.0.1:{port}", port, catalog_url, http)
            try:
                stack.loupe("owner", "worker", "--index-owner", "--threads", "1")
                wait_until(lambda: (root / "data" / "index" / "compact" / "store.sqlite").is_file(),
                           "the index owner to create the index", 60)
                stack.start_api()
                stack.loupe("scheduler", "scheduler")
                yield stack
            finally:
                for name in list(stack.processes):  # nothing to keep: no graceful stop
                    stack.stop(name, signal.SIGKILL)
    except PostgresUnavailable as e:
        pytest.skip(f"no PostgreSQL server here: {e}")
    except RedisUnavailable as e:
        pytest.skip(f"needs a real Redis: {e}")


def search(stack: Stack, q: str, **params) -> list[dict]:
    response = requests.get(f"{stack.api}/api/search", params={"q": q, "limit": 50, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def searchable(stack: Stack, q: str = "a painting") -> int:
    """Canvases a search finds now with the vector index among its rankers (0 while the index
    is not ready: 503, or words alone)."""
    response = requests.get(f"{stack.api}/api/search", params={"q": q, "limit": 100, "one_per_canvas": "true"}, timeout=30)
    if not response.ok or "vector" not in response.json().get("rankers", ["vector"]):
        return 0
    return len({json.dumps(r["canvas"], sort_keys=True) for r in response.json()["results"]})


def points(stack: Stack) -> int:
    """Points the API processes see in the index (all vectors)."""
    return sum(stack.get("/healthz").json()["checks"]["index"].get("points", {}).values())


def indexed(stack: Stack, source: str) -> dict | None:
    """The succeeded index job of ``source``, if any."""
    source_id = str(stack.sql("SELECT id FROM sources WHERE name = %s", source)[0][0])
    return next((j for j in stack.get("/api/admin/jobs").json()["jobs"]
                 if j["kind"] == "index" and j["state"] == "succeeded" and j["params"].get("source") == source_id), None)


def test_a_scheduled_harvest_is_indexed_and_searched_through_http(stack):
    add_scheduled_source(stack, serve_source(stack.http, "first", FIRST), "first")
    job = wait_until(lambda: indexed(stack, "first"), "the first source's scheduled index job", 90, every_s=0.5)
    assert job["result"]["indexed"] == len(FIRST), job
    wait_until(lambda: points(stack) == job["result"]["points_total"], "the API processes to read the new points", 30)
    assert searchable(stack) == len(FIRST)
    health = stack.get("/healthz").json()
    assert health["checks"]["catalog"]["backend"] == "postgresql" and health["checks"]["broker"]["kind"] == "redis"
    assert health["checks"]["index"]["mode"] == "local"
    jobs = stack.get("/api/admin/jobs").json()["jobs"]
    assert [(j["kind"], j["state"]) for j in jobs] == [("index", "succeeded")]
    assert "index owner" in jobs[0]["worker"] or jobs[0]["worker"]  # ran in the owner process
    # Several API processes answered, each reading the index the owner wrote.
    pids = {int(line.split()[-1]) for _ in range(12)
            for line in stack.get("/metrics").text.splitlines() if line.startswith("loupe_process_id ")}
    assert len(pids) >= 2
    # Structured logs with the request id, from the API processes.
    requests.get(f"{stack.api}/api/health", headers={"X-Request-ID": "stack-check-1"}, timeout=10)
    lines = [json.loads(line) for line in stack.log("api").splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "stack-check-1" and line["path"] == "/api/health" for line in lines)


def test_an_index_job_survives_its_worker_being_killed(stack):
    response = requests.post(f"{stack.api}/api/admin/index", json={"model": "efficientnet-lite0", "batch_images": 1},
                             headers={"X-API-Key": KEY}, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]
    wait_until(lambda: (j := stack.job(job_id))["state"] == "running" and j["progress"]["done"] >= 1,
               "the job to be running", 90, every_s=0.1)
    stack.stop("owner", signal.SIGKILL)  # mid-job: no chance to hand it back
    assert stack.job(job_id)["state"] == "running"
    stack.loupe("owner", "worker", "--index-owner", "--threads", "1")
    done = wait_until(lambda: (j := stack.job(job_id))["state"] in ("succeeded", "failed") and j, "the job to end", 120)
    assert done["state"] == "succeeded", done
    assert done["attempts"] == 2 and done["result"]["points_total"] >= len(FIRST), done
    assert any("interrupted" in line or "stale" in line for line in done["log"]), done["log"]


def test_restarting_the_api_loses_nothing(stack):
    before = [r["id"] for r in search(stack, "a painting")]
    jobs = stack.get("/api/admin/jobs").json()["jobs"]
    stack.stop("api")
    stack.start_api()
    assert [r["id"] for r in search(stack, "a painting")] == before
    assert stack.get("/api/admin/jobs").json()["jobs"] == jobs


def test_a_harvest_interrupted_by_a_database_restart_resumes(stack):
    add_scheduled_source(stack, serve_source(stack.http, "second", SECOND), "second")

    def harvesting() -> bool:
        rows = stack.sql("SELECT count(*) FROM manifests m JOIN sources s ON s.id = m.source_id WHERE s.name = %s",
                         "second")
        return 3 <= rows[0][0] < len(SECOND) - 5

    wait_until(harvesting, "the second harvest to be under way", 90, every_s=0.1)
    before = points(stack)
    restart_postgres(stack)
    job = wait_until(lambda: indexed(stack, "second"), "the second source's index job, after the restart", 120, every_s=0.5)
    assert job["result"]["indexed"] == len(SECOND), job
    wait_until(lambda: points(stack) > before, "the API processes to read the new points", 30)
    assert searchable(stack) == len(FIRST) + len(SECOND)
    runs = stack.sql("SELECT r.status FROM harvest_runs r JOIN sources s ON s.id = r.source_id WHERE s.name = %s "
                     "ORDER BY r.id", "second")
    assert [r[0] for r in runs][-1] == "completed" and len(runs) >= 2, runs
    assert "harvest of second failed" in stack.log("scheduler")
