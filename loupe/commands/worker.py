"""``loupe worker``: run jobs from the Redis broker (the scale-out deployment)."""

from __future__ import annotations

import signal
import threading

import click

from loupe_core.settings import Settings
from training_worker.broker import QUEUE_NAME, broker_location, make_broker, start_worker, stop_worker

EMBEDDED_REFUSAL = (
    "`loupe worker` serves the Redis broker, and redis_url is empty: the embedded default runs "
    "jobs inside `loupe serve` (worker threads in the server process), so no worker is needed. "
    "For separate workers, run Redis and set LOUPE_REDIS_URL (e.g. redis://localhost:6379/0) for "
    "the server and the workers alike.")


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Jobs run at once (default: the job_threads setting).")
@click.pass_obj
def worker(settings: Settings, threads: int | None) -> None:
    """Run jobs (indexing, training) from the Redis queue until stopped (Ctrl-C or SIGTERM).

    On stop, running jobs stop after their current batch and go back on the queue; another
    worker continues them where they stopped. Jobs of a worker that died are taken over
    once their heartbeat is older than job_stale_after_s."""
    if not settings.redis_url:
        raise click.ClickException(EMBEDDED_REFUSAL)

    settings.ensure_dirs()
    threads = threads or settings.job_threads
    broker = make_broker(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = start_worker(broker, threads)
    click.echo(f"worker: {threads} thread(s) on {broker_location(settings)}, queue {QUEUE_NAME}; "
               "Ctrl-C or SIGTERM stops", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        click.echo("worker: stopping; running jobs are re-enqueued after their current batch", err=True)
        stop_worker(running)
