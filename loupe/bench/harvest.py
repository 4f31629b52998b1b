"""Harvest throughput: a first harvest and a re-harvest of unchanged data.

N generated Presentation 3 manifests (one canvas, one image with an Image API service, two
region annotations each) and a collection listing them are written to a temporary folder
and served by a static HTTP server in a separate process (so that server and harvester do
not share one interpreter), on 127.0.0.1 with politeness off for that loopback source.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.catalog import Catalog
from connector.harvest import Harvester
from loupe.static_server import StaticServer
from loupe_core.settings import Settings


def write_manifests(folder: Path, base: str, n: int) -> str:
    (folder / "m").mkdir(parents=True, exist_ok=True)
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
        (folder / "m" / f"{i}.json").write_text(json.dumps(manifest))
        items.append({"id": mid, "type": "Manifest", "label": {"en": [f"Object {i}"]}})
    coll = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{base}/collection.json",
            "type": "Collection", "label": {"en": ["Benchmark collection"]}, "items": items}
    (folder / "collection.json").write_text(json.dumps(coll))
    return coll["id"]


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
