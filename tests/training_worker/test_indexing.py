"""The ``index`` job on the demo collection with the tiny model: cancel and resume, broken
images, a worker killed mid-run, and what the vectors are worth (nearest neighbour)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from connector.images import FetchedImage
from iiif.model import Box
from loupe_index import VectorIndex
from loupe_index.catalog_targets import images_to_index
from tests.support.demo import DEMO_IMAGES
from tests.training_worker.support import age_heartbeat, expected_points, wait_for, worker_running
from training_worker.broker import EmbeddedWorker, make_broker
from training_worker.indexing.crops import full_size
from training_worker.jobs import JobStore, run_job
from training_worker.kinds import default_registry

VECTOR = "loupe-tiny__random"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(demo_settings):
    s = JobStore.open(demo_settings)
    yield s
    s.close()


def test_cancel_after_the_first_batch_then_retry_in_the_embedded_worker_completes_it(demo_settings, store):
    total = sum(expected_points(demo_settings).values())
    job = store.create("index", {"batch_images": 2})

    def cancel_on_first_progress(done, total_images, message):
        if done > 0:
            store.request_cancel(job.id)

    cancelled = run_job(job.id, settings=demo_settings, store=store, registry=default_registry(), observer=cancel_on_first_progress)
    assert cancelled.state == "cancelled" and cancelled.result["stopped"] == "cancel"
    assert cancelled.progress_done == cancelled.result["indexed"] == 2 < DEMO_IMAGES
    with VectorIndex.open(demo_settings, role="test") as index:
        assert len(index.indexed_keys(VECTOR)) == 2

    with EmbeddedWorker(demo_settings, threads=1) as worker:
        worker.queue.retry(job.id)
        done = wait_for(store, job.id)
    assert (done.state, done.attempts) == ("succeeded", 2)
    assert (done.result["skipped"], done.result["indexed"]) == (2, DEMO_IMAGES - 2)
    assert done.result["points_total"] == total and (done.progress_done, done.progress_total) == (28, 28)


def test_a_broken_image_is_logged_and_counted_and_the_job_goes_on(demo_settings, store):
    demo_settings = demo_settings.replace(local_points_warning=100)  # and the index outgrows local mode
    catalog = Catalog.open(demo_settings)
    victim = next(images_to_index(catalog))
    with CatalogImages(demo_settings, catalog) as images:
        cached = images.fetch(victim.source_id, victim.image)
    catalog.close()
    assert cached.from_cache  # harvested images are read from the cache
    cached.path.write_bytes(b"this is not a JPEG")
    job = store.create("index")
    ended = run_job(job.id, settings=demo_settings, store=store, registry=default_registry())
    assert ended.state == "succeeded"
    assert (ended.result["failed"], ended.result["indexed"]) == (1, DEMO_IMAGES - 1)
    assert ended.progress_done == DEMO_IMAGES
    assert any(victim.canvas in line for line in ended.log)
    assert "more than local mode is measured for (100)" in ended.result["warning"]
    assert "WARNING: " in ended.message and "LOUPE_QDRANT_URL" in ended.message


def test_the_exact_embedding_of_an_image_finds_its_canvas_first(demo_settings, store):
    from loupe_models import load_model

    run_job(store.create("index").id, settings=demo_settings, store=store, registry=default_registry())
    model = load_model(demo_settings)
    catalog = Catalog.open(demo_settings)
    items = list(images_to_index(catalog))
    with CatalogImages(demo_settings, catalog) as images, VectorIndex.open(demo_settings, role="test") as index:
        for item in (items[0], items[len(items) // 2], items[-1]):
            query = model.encode_images([images.fetch(item.source_id, item.image).open()])[0]
            best = index.search(query, limit=1).hits[0]
            assert (best.canvas, best.kind) == (item.canvas, "image"), item.canvas
            assert best.score > 0.99
    catalog.close()


KILLABLE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from loupe_core.settings import Settings
    from training_worker.jobs import JobStore, run_job
    from training_worker.kinds import default_registry
    settings = Settings.load(env={}, config_file=None, data_dir=Path(sys.argv[1]), image_max_side=256,
                             model="loupe-tiny", job_heartbeat_s=0.2)
    store = JobStore.open(settings)
    # slow enough to be killed in the middle: a pause after each batch of two images
    run_job(int(sys.argv[2]), settings=settings, store=store, registry=default_registry(),
            observer=lambda done, total, m: time.sleep(0.3))
""")


def test_a_worker_killed_mid_run_leaves_a_job_that_a_new_worker_resumes_where_it_stopped(
        demo_settings, store, redis_url):
    total = sum(expected_points(demo_settings).values())
    job = store.create("index", {"batch_images": 2})
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(demo_settings.data_dir), str(job.id)], env=env,
                            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while store.get(job.id).progress_done < 4:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)  # no chance to record anything
        proc.wait()
    left = store.get(job.id)
    assert left.state == "running" and 4 <= left.progress_done < DEMO_IMAGES

    age_heartbeat(store, job.id, 600)  # ten minutes later, a worker starts
    with worker_running(make_broker(demo_settings.replace(redis_url=redis_url, job_stale_after_s=60))):
        done = wait_for(store, job.id)
    assert (done.state, done.attempts) == ("succeeded", 2)
    assert done.result["skipped"] >= 4 and done.result["indexed"] == DEMO_IMAGES - done.result["skipped"]
    assert done.result["points_total"] == total
    assert any("interrupted: no heartbeat" in line for line in done.log)


def test_boxes_are_cropped_in_the_fetched_pixels():
    # a 4000x2000 image fetched at 1000x500
    fetched = FetchedImage(path=Path("x.jpg"), width=1000, height=500, format="JPEG", scale_x=4.0, scale_y=4.0,
                           offset_x=0.0, offset_y=0.0, source_url="u", source_format="JPEG")
    assert full_size(fetched) == (4000, 2000)
    assert fetched.pixel_box(Box(0, 0, 4000, 2000)) == (0, 0, 1000, 500)
    assert fetched.pixel_box(Box(666, 333, 2667, 1333)) == (166, 83, 834, 417)
    assert fetched.pixel_box(Box(3999, 1999, 1, 1)) == (999, 499, 1000, 500)  # at least one pixel, inside
    assert fetched.pixel_box(Box(-50, -50, 5000, 5000)) == (0, 0, 1000, 500)  # clamped
