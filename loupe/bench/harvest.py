"""Harvest throughput.

``run``: a first harvest and a re-harvest of unchanged data. N generated Presentation 3
manifests (one canvas, one image with an Image API service, two region annotations each)
and a collection listing them are written to a temporary folder and served by a static HTTP
server in a separate process (so that server and harvester do not share one interpreter),
on 127.0.0.1 with politeness off for that loopback source.

``run_hosts``: the aggregator's harvest. Every one of H hosts (127.0.0.2 ...) serves a
robots.txt and its own collection of M manifests; each is a source, politeness on. The
servers (``loupe.bench.multihost``) log when each request arrived, so the highest rate any
host was asked at is measured where it matters.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from connector.catalog import Catalog
from connector.harvest import Harvester
from loupe.bench import multihost
from loupe.static_server import StaticServer
from loupe_core.settings import Settings


def write_manifests(folder: Path, base: str, n: int) -> str:
    (folder / "m").mkdir(parents=True, exist_ok=True)
    for path, body in site(base, n).items():
        (folder / path.lstrip("/")).write_bytes(body)
    return f"{base}/collection.json"


def site(base: str, n: int) -> dict[str, bytes]:
    """``/collection.json`` listing ``n`` manifests ``/m/<i>.json`` (path -> body)."""
    pages: dict[str, bytes] = {}
    items = []
    for i in range(n):
        mid = f"{base}/m/{i}.json"
        canvas = f"{base}/m/{i}/canvas/1"
        manifest = {
            "@context": "http://iiif.io/api/presentation/3/context.json",
            "id": mid, "type": "Manifest",
            "label": {"en": [f"Object {i}"]},
            "metadata": [{"label": {"en": ["Maker"]}, "value": {"none": [f"Workshop {i % 17}"]}}],
            "rights": "http://creativecommons.org/publicdomain/zero/1.0/",
            "items": [{
                "id": canvas, "type": "Canvas", "width": 4000, "height": 3000,
                "items": [{"id": f"{canvas}/page", "type": "AnnotationPage", "items": [{
                    "id": f"{canvas}/painting", "type": "Annotation", "motivation": "painting",
                    "body": {"id": f"{base}/img/{i}/full/max/0/default.jpg", "type": "Image",
                             "format": "image/jpeg", "width": 4000, "height": 3000,
                             "service": [{"id": f"{base}/img/{i}", "type": "ImageService3", "profile": "level1"}]},
                    "target": canvas}]}],
                "annotations": [{"id": f"{canvas}/notes", "type": "AnnotationPage", "items": [
                    {"id": f"{canvas}/note/{k}", "type": "Annotation", "motivation": "commenting",
                     "body": {"type": "TextualBody", "value": f"detail {k} of object {i}", "language": "en"},
                     "target": f"{canvas}#xywh={100 * k},{50 * k},800,600"} for k in range(2)]}],
            }],
        }
        pages[f"/m/{i}.json"] = json.dumps(manifest).encode()
        items.append({"id": mid, "type": "Manifest", "label": {"en": [f"Object {i}"]}})
    coll = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{base}/collection.json",
            "type": "Collection", "label": {"en": ["Benchmark collection"]}, "items": items}
    pages["/collection.json"] = json.dumps(coll).encode()
    return pages


def _serve(folder: str, port_queue: Any) -> None:  # runs in the server process
    server = StaticServer(folder)
    port_queue.put(server.port)
    server.httpd.serve_forever()


def run(n: int = 1000, workers: int = 4, progress: bool = True) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="loupe-bench-") as tmp:
        tmp_path = Path(tmp)
        site = tmp_path / "site"
        site.mkdir()
        q = ctx.Queue()
        proc = ctx.Process(target=_serve, args=(str(site), q), daemon=True)
        proc.start()
        try:
            port = q.get(timeout=30)
            base = f"http://127.0.0.1:{port}"
            url = write_manifests(site, base, n)
            settings = Settings.load(env={}, data_dir=tmp_path / "var", harvest_workers=workers)
            catalog = Catalog.open(settings)
            src = catalog.add_source(url, "collection", allow_private=True, polite=False, name="bench")
            with Harvester(settings, catalog, progress=progress) as h:
                t0 = time.perf_counter()
                first = h.harvest(src, fetch_images=False)
                t1 = time.perf_counter()
                second = h.harvest(catalog.get_source(src.id), fetch_images=False)
                t2 = time.perf_counter()
            first_s, re_s = t1 - t0, t2 - t1
            ok = first.counts.get("new", 0) == n and second.counts.get("unchanged", 0) == n
            return {
                "manifests": n,
                "first_s": round(first_s, 3),
                "reharvest_s": round(re_s, 3),
                "first_per_s": round(n / first_s, 1),
                "reharvest_per_s": round(n / re_s, 1),
                "reharvest_ratio": round(re_s / first_s, 4),
                "workers": workers,
                "correct": ok,
            }
        finally:
            proc.terminate()
            proc.join(5)


ROBOTS = b"User-agent: *\nAllow: /\n"


def _host_site(per_host: int) -> Callable[[str], dict[str, bytes]]:
    return functools.partial(_site_with_robots, n=per_host)


def _site_with_robots(base: str, n: int) -> dict[str, bytes]:
    return {**site(base, n), "/robots.txt": ROBOTS}


def run_hosts(settings: Settings, hosts: int = 50, per_host: int = 20, rate: float | None = None,
              workers: int | None = None, progress: bool = True) -> dict:
    """Harvest ``hosts`` collections of ``per_host`` manifests, one source per host, politely
    (``rate`` requests per second per host; default the ``rate_limit_per_host`` setting).

    Returns hosts, manifests (harvested), per_s (manifests per second, wall time from the
    first request to the last write), per_host_max_rate (the highest rate the servers saw on
    any one host), and the details: rate, target_per_s, seconds, requests."""
    rate = settings.rate_limit_per_host if rate is None else rate
    addresses = [multihost.host_address(i) for i in range(hosts)]
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=multihost.serve_process, args=(addresses, _host_site(per_host), child), daemon=True)
    proc.start()
    with tempfile.TemporaryDirectory(prefix="loupe-bench-hosts-") as tmp:
        try:
            deadline = time.monotonic() + 60
            while not parent.poll(0.1):
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the benchmark's servers did not start (see the error above)")
            bases = parent.recv()
            run_settings = settings.replace(
                data_dir=Path(tmp) / "var", catalog_url="", rate_limit_per_host=rate, respect_robots=True,
                harvest_parallel_sources=hosts, **({"harvest_workers": workers} if workers else {}))
            catalog = Catalog.open(run_settings)
            sources = [catalog.add_source(f"{base}/collection.json", "collection", allow_private=True,
                                          name=f"host {address}") for address, base in bases.items()]
            problems = []
            with Harvester(run_settings, catalog, progress=progress) as harvester:
                started = time.perf_counter()
                manifests = 0
                for source, report in harvester.harvest_many(sources, fetch_images=False):
                    if isinstance(report, Exception):
                        problems.append(f"{source.url}: {report}")
                        continue
                    manifests += report.counts.get("new", 0)
                    problems += [f"{p.where}: {p.what}" for p in report.problems if p.severity == "error"]
                seconds = time.perf_counter() - started
            catalog.close()
        finally:
            log = []
            if proc.is_alive():
                parent.send("stop")
                log = parent.recv() if parent.poll(30) else []
            proc.terminate()
            proc.join(5)
    max_rate, requests = multihost.max_rate(log)
    return {
        "hosts": hosts, "manifests": manifests, "per_s": round(manifests / seconds, 2),
        "per_host_max_rate": round(max_rate, 3),
        "rate": rate, "target_per_s": round(0.8 * hosts * rate, 2), "seconds": round(seconds, 3),
        "requests": sum(requests.values()), "hosts_asked": len(requests), "problems": problems[:10],
    }
