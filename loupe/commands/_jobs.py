"""What the commands that run jobs share (`loupe index`, `loupe tag`): queueing a job for a
worker (``--background``) and a progress bar fed by a foreground job's reports."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from loupe_core.settings import Settings


def enqueue(settings: Settings, kind: str, params: dict[str, Any], as_json: bool, *, here: str) -> None:
    """Record a ``kind`` job and send it to the worker: on Redis when ``redis_url`` is set,
    else for the server's embedded worker. ``here``: what leaving out --background does
    ("index here and now"). Prints the job (``as_json``) or how to follow it."""
    from training_worker.jobs import JobQueue, JobStore

    settings.ensure_dirs()
    with JobStore.open(settings) as store:
        if settings.redis_url:
            job = send_to_redis(settings, store, kind, params)
            note = (f"queued as job {job.id} on Redis; a `loupe worker` process runs it. "
                    f"Follow it with `loupe jobs show {job.id}`.")
        else:
            job = JobQueue(store).submit(kind, params)  # recorded; the server's worker picks it up
            note = (f"queued as job {job.id}. In the embedded default jobs run inside `loupe serve`: the server "
                    f"starts it within seconds when it is running, or as soon as it starts. Follow it with "
                    f"`loupe jobs show {job.id}`; to {here}, leave out --background.")
    if as_json:
        click.echo(json.dumps(job.as_dict()))
    else:
        click.echo(note)


def send_to_redis(settings: Settings, store, kind: str, params: dict[str, Any]):  # noqa: ANN001, ANN201
    from training_worker.broker import broker_location, job_queue, make_broker

    broker = make_broker(settings, store=store)
    try:
        return job_queue(broker).submit(kind, params)
    except Exception as e:  # noqa: BLE001 - redis raises many kinds; the message says what to do
        raise click.ClickException(
            f"cannot queue the job on Redis at {broker_location(settings)} ({type(e).__name__}: {e}). "
            "It is recorded as queued: once Redis is up, `loupe jobs retry ID` sends it again.") from None
    finally:
        broker.close()


class JobProgressBar:
    """A tqdm bar on stderr fed by job progress reports (or nothing)."""

    def __init__(self, enabled: bool, desc: str = "indexing", unit: str = "image") -> None:
        self.enabled = enabled
        self.desc = desc
        self.unit = unit
        self._bar = None

    def __enter__(self) -> "JobProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int, total: int | None, message: str | None) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if not total:
                return  # nothing to count (yet)
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, dynamic_ncols=True)
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.enabled = False
