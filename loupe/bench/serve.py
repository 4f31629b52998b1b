"""The API under load: concurrent clients on loopback against gunicorn with N worker processes.

The bundled demo collection is published, harvested and indexed (``--model``, default the
tiny test model) into a temporary data directory, with the catalog in SQLite and, given
``--postgres URL`` (an empty database), in PostgreSQL. For each catalog the API runs under
``gunicorn --workers N`` (the workers read the local index: ``local_index_access = reader``),
and for ``seconds`` per endpoint ``clients`` threads, each on its own keep-alive connection,
send requests one after another: text search, image search (a region of the collection),
IIIF annotation pages and IIIF Content Search 2.0, each request to another canvas or word.
After a short warm-up (each worker loads the model on its first search) the requests per
second and the latency percentiles are taken; any answer other than 200 counts as an error.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import numpy as np

from connector.catalog.keys import uri_key
from loupe.bench.demo_data import indexed_demo
from loupe_core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORDS = ("angel", "lily", "portrait", "ship", "night sky", "flowers", "a horse", "the sea", "hands", "gold")
WARMUP_S = 3.0


class BenchError(RuntimeError):
    pass


Request = tuple[str, str, bytes | None]  # method, path, JSON body


def run(settings: Settings, *, workers: int, clients: int, seconds: float, postgres_url: str = "",
        model: str = "loupe-tiny", progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    if importlib.util.find_spec("gunicorn") is None:  # the server measured (the `server` extra)
        raise BenchError("gunicorn is needed: pip install 'iiif-loupe[server]'")
    backends = {"sqlite": ""} | ({"postgresql": postgres_url} if postgres_url else {})
    endpoints: dict[str, dict[str, float]] = {}
    errors = 0
    for backend, catalog_url in backends.items():
        with tempfile.TemporaryDirectory(prefix="loupe-bench-serve-") as tmp:
            port = _free_port()
            bench = settings.replace(data_dir=Path(tmp) / "var", catalog_url=catalog_url, qdrant_url="", redis_url="",
                                     model=model, port=port, public_url="", api_keys="")
            progress(f"{backend}: publishing, harvesting and indexing the demo collection")
            targets = _indexed_demo(bench, port)
            with _Gunicorn(bench, port, workers, Path(tmp)) as base:
                for name, requests in _plans(targets).items():
                    progress(f"{backend}: {name}, {clients} clients for {seconds:g} s")
                    _load(base, requests, clients, WARMUP_S)
                    result = _load(base, requests, clients, seconds)
                    errors += result.pop("errors")
                    endpoints[f"{backend}/{name}"] = result
    return {"errors": errors, "endpoints": endpoints, "workers": workers, "clients": clients, "seconds": seconds,
            "model": model, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def _indexed_demo(settings: Settings, port: int) -> dict[str, list[str]]:
    try:
        demo = indexed_demo(settings, port, settings.model, activate=True)
    except RuntimeError as e:
        raise BenchError(str(e)) from None
    canvases = [m.replace("/manifests/", "/canvas/").removesuffix(".json") for m in demo.manifests]
    return {"manifests": demo.manifests, "canvases": canvases, "base": [demo.base]}


def _plans(targets: dict[str, list[str]]) -> dict[str, list[Request]]:
    manifests, canvases = targets["manifests"], targets["canvases"]
    references = [json.dumps({"reference": {"manifest": m, "canvas": c, "xywh": "10,10,200,200"}, "limit": 20}).encode()
                  for m, c in zip(manifests, canvases)]
    return {
        "text_search": [("GET", f"/api/search?q={quote(w)}&limit=20", None) for w in WORDS],
        "image_search": [("POST", "/api/search/image", body) for body in references],
        "annotation_pages": [("GET", f"/iiif/annotations/{uri_key(c)}.json", None) for c in canvases],
        "content_search": [("GET", f"/iiif/search/2/manifest/{uri_key(m)}?q={quote(w)}", None)
                           for m in manifests for w in WORDS[:3]],
    }


def _load(base: tuple[str, int], requests: list[Request], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads sending ``requests`` in turn for ``seconds``; rps and percentiles."""
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    first_failure: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(*base, timeout=60)
        n = i
        while time.monotonic() < stop:
            method, path, body = requests[n % len(requests)]
            n += clients
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body,
                             headers={"Content-Type": "application/json"} if body is not None else {})
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException) as e:
                ok, data = False, str(e).encode()
                conn.close()
                conn = http.client.HTTPConnection(*base, timeout=60)
            latencies[i].append(time.perf_counter() - started)
            if not ok:
                failures[i] += 1
                if not first_failure:
                    first_failure.append(f"{method} {path}: {data[:300]!r}")
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    ms = np.array([x for per in latencies for x in per]) * 1000
    out: dict[str, Any] = {"rps": round(len(ms) / elapsed, 1), "requests": len(ms), "errors": sum(failures)}
    for q in (50, 95, 99):
        out[f"p{q}_ms"] = round(float(np.percentile(ms, q)), 1) if len(ms) else None
    if first_failure:
        out["first_error"] = first_failure[0]
    return out


class _Gunicorn:
    """``gunicorn --workers N search_service.wsgi:app`` on 127.0.0.1:PORT over ``settings``."""

    def __init__(self, settings: Settings, port: int, workers: int, folder: Path) -> None:
        self.port = port
        self.log = folder / "gunicorn.log"
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                             os.environ.get("PYTHONPATH")])),
                    "LOUPE_DATA_DIR": str(settings.data_dir), "LOUPE_CATALOG_URL": settings.catalog_url,
                    "LOUPE_MODEL": settings.model, "LOUPE_IMAGE_MAX_SIDE": str(settings.image_max_side),
                    "LOUPE_QDRANT_URL": "", "LOUPE_REDIS_URL": "", "LOUPE_LOCAL_INDEX_ACCESS": "reader",
                    "LOUPE_MODEL_RATE_PER_MINUTE": "0", "LOUPE_LOG_LEVEL": "warning", "LOUPE_TORCH_THREADS": "1",
                    "LOUPE_API_KEYS": ""}
        self.args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4",
                     "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "5",
                     "search_service.wsgi:app"]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> tuple[str, int]:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.args, cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return "127.0.0.1", self.port
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not start: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
