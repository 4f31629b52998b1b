"""``loupe worker``: run jobs from the Redis broker (the scale-out deployment)."""

from __future__ import annotations

import signal
import threading

import click

from loupe_core.settings import Settings
from loupe_index import IndexLockedError, VectorIndex, VectorIndexError
from loupe_models.hardware import choose_device
from training_worker.broker import (
    GPU_JOBS,
    GPU_QUEUE_NAME,
    broker_location,
    make_broker,
    routes_index_jobs,
    start_worker,
    stop_worker,
    worker_queues,
)
from training_worker.resources import JobResources

EMBEDDED_REFUSAL = (
    "`loupe worker` serves the Redis broker, and redis_url is empty: the embedded default runs "
    "jobs inside `loupe serve` (worker threads in the server process), so no worker is needed. "
    "For separate workers, run Redis and set LOUPE_REDIS_URL (e.g. redis://localhost:6379/0) for "
    "the server and the workers alike.")


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Jobs run at once (default: the job_threads setting).")
@click.option("--index-owner", is_flag=True,
              help="Own the local index (no qdrant_url) and run the jobs that write vectors (indexing); "
                   "run exactly one. Other workers then run every other kind.")
@click.option("--gpu-jobs", type=click.Choice(GPU_JOBS), default=None,
              help="Jobs that train on model_device (finetune, combiner): take them too, take only them (a GPU "
                   "worker kept for training), or leave them to GPU workers (default: the worker_gpu_jobs setting).")
@click.pass_obj
def worker(settings: Settings, threads: int | None, index_owner: bool, gpu_jobs: str | None) -> None:
    """Run jobs (indexing, training) from the Redis queue until stopped (Ctrl-C or SIGTERM).

    With a local index (no qdrant_url) one process may open it: indexing jobs go to their own
    queue, run by the one `loupe worker --index-owner`, which keeps the index open; API
    processes read it (local_index_access = "reader"). With a Qdrant server every worker runs
    every kind. Training jobs (finetune, combiner) go to a GPU queue: beside a GPU worker, run
    CPU workers with --gpu-jobs leave so that training waits for the GPU. On stop, running
    jobs stop after their current batch and go back on the queue; another worker continues
    them where they stopped. Jobs of a worker that died are taken over once their heartbeat is
    older than job_stale_after_s."""
    if not settings.redis_url:
        raise click.ClickException(EMBEDDED_REFUSAL)
    if index_owner and settings.qdrant_url:
        raise click.ClickException("--index-owner is for a local index; with qdrant_url set every worker runs "
                                   "indexing jobs: leave the option out")

    settings.ensure_dirs()
    threads = threads or settings.job_threads
    resources, index = None, None
    if index_owner:
        try:
            index = VectorIndex.open(settings.replace(local_index_access="owner"), role="index owner (loupe worker)")
        except (IndexLockedError, VectorIndexError) as e:
            raise click.ClickException(str(e)) from None
        resources = JobResources(index=index)
    broker = make_broker(settings, resources=resources)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queues = worker_queues(settings, index_owner, gpu_jobs)
    running = start_worker(broker, threads, queues=queues)
    device = choose_device(settings)
    click.echo(f"worker: {threads} thread(s) on {broker_location(settings)}, queue(s) {', '.join(sorted(queues))}"
               f"{' (owns the local index)' if index_owner else ''}, models on {device}; Ctrl-C or SIGTERM stops",
               err=True)
    if queues == {GPU_QUEUE_NAME} and device == "cpu":
        click.echo("worker: --gpu-jobs only, but there is no CUDA device here: training runs on the CPU", err=True)
    if routes_index_jobs(settings) and not index_owner:
        click.echo("worker: indexing jobs (local index) are run by `loupe worker --index-owner`, not here: run "
                   "one such worker beside this one", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        click.echo("worker: stopping; running jobs are re-enqueued after their current batch", err=True)
        stop_worker(running)
        if index is not None:
            index.close()
