"""What the commands that run jobs share (`loupe index`, `loupe tag`, `loupe demo`): the checks
before a job is recorded (the same ``JobKind.prepare`` the API uses), queueing a job for a
worker (``--background``), and the one foreground runner with its progress bar."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from tqdm import tqdm

from connector.catalog import Catalog, CatalogError
from connector.errors import FetchError
from loupe_core.settings import Settings
from loupe_index import VectorIndexError
from loupe_models import ModelError, ModelWeightsMissing
from loupe_tagging import ScopeError, VocabularyError
from training_worker.broker import broker_location, job_queue, make_broker
from training_worker.jobs import SUCCEEDED, JobQueue, JobRecord, JobStore, run_job
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import ParamError
from training_worker.kinds import default_registry, job_kind

# Exit status when the model's weights are missing (the message says where to put them).
EXIT_WEIGHTS_MISSING = 2

# Errors a job reports to its user (bad input, a missing resource); anything else is a bug and
# keeps its traceback.
EXPECTED_ERRORS = (ModelError, VectorIndexError, CatalogError, ScopeError, VocabularyError, ParamError, FetchError)


def prepare(settings: Settings, kind: str, values: dict[str, Any], options: dict[str, str] | None = None) -> dict:
    """The job's parameters, checked before a job is recorded, as the API checks them: a wrong
    value is a usage error naming its option (``options``: field -> "--option"), a reference
    to nothing (source, collection, vocabulary) an error saying what is known."""
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    try:
        return job_kind(kind).prepare(values, settings, catalog).as_dict()
    except UnknownReference as e:
        raise click.ClickException(str(e)) from None
    except ParamError as e:
        hint = (options or {}).get(e.field or "")
        raise (click.BadParameter(str(e), param_hint=hint) if hint else click.UsageError(str(e))) from None
    finally:
        catalog.close()


def enqueue(settings: Settings, kind: str, params: dict[str, Any], as_json: bool, *, here: str) -> None:
    """Record a ``kind`` job and send it to the worker: on Redis when ``redis_url`` is set,
    else for the server's embedded worker. ``here``: what leaving out --background does
    ("index here and now"). Prints the job (``as_json``) or how to follow it."""
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


def send_to_redis(settings: Settings, store: JobStore, kind: str, params: dict[str, Any]) -> JobRecord:
    broker = make_broker(settings, store=store)
    try:
        return job_queue(broker).submit(kind, params)
    except Exception as e:  # noqa: BLE001 - redis raises many kinds; the message says what to do
        raise click.ClickException(
            f"cannot queue the job on Redis at {broker_location(settings)} ({type(e).__name__}: {e}). "
            "It is recorded as queued: once Redis is up, `loupe jobs retry ID` sends it again.") from None
    finally:
        broker.close()


def run_here(settings: Settings, kind: str, params: dict[str, Any], *, progress: bool, desc: str,
             weights_fatal: bool = True) -> JobRecord:
    """Record a ``kind`` job and run it in this process, as a worker would (same state,
    progress and log; `loupe jobs list` shows it), with a progress bar on stderr.

    Missing weights exit with EXIT_WEIGHTS_MISSING and the message saying where to put them
    (``weights_fatal=False``: raised instead); other expected errors end the command with
    their message and the job's id; the job keeps its log either way."""
    unit = job_kind(kind).progress_unit
    settings.ensure_dirs()
    with JobStore.open(settings) as store, JobProgressBar(progress, desc=desc, unit=unit) as bar:
        job = store.create(kind, params)
        try:
            record = run_job(job.id, settings=settings, store=store, registry=default_registry(),
                             observer=bar.update, raise_errors=True)
        except ModelWeightsMissing as e:
            bar.close()
            if not weights_fatal:
                raise
            click.echo(f"Error: {e}", err=True)
            sys.exit(EXIT_WEIGHTS_MISSING)
        except EXPECTED_ERRORS as e:
            raise click.ClickException(f"{e}\n(job {job.id}; `loupe jobs show {job.id}`)") from None
        return record or store.get(job.id)  # None only if another process took the job over


def print_job(record: JobRecord, as_json: bool) -> None:
    """The job as JSON (``as_json``) or its one-line state; exits 1 unless it succeeded."""
    click.echo(json.dumps(record.as_dict()) if as_json else f"job {record.id} {record.state}: {record.message}")
    if record.state != SUCCEEDED:
        sys.exit(1)


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
