"""``loupe jobs``: the jobs' state, progress and log; cancel and retry."""

from __future__ import annotations

import json

import click

from loupe_core.settings import Settings
from training_worker.broker import job_queue, make_broker
from training_worker.jobs import STATES, JobError, JobNotFound, JobQueue, JobStore


@click.group("jobs")
def jobs() -> None:
    """Jobs (indexing, and later training): list, show, cancel, retry."""


@jobs.command("list")
@click.option("--state", "states", multiple=True, help="Only jobs in this state (repeatable): queued, running, "
                                                        "succeeded, failed, cancelled, interrupted.")
@click.option("--kind", default=None, help="Only jobs of this kind (e.g. index).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of jobs, without their logs).")
@click.pass_obj
def list_jobs(settings: Settings, states: tuple[str, ...], kind: str | None, limit: int, as_json: bool) -> None:
    """The latest jobs, newest first."""

    unknown = sorted(set(states) - set(STATES))
    if unknown:
        raise click.UsageError(f"unknown state(s) {', '.join(unknown)}; one of {', '.join(STATES)}")
    with _store(settings) as store:
        found = store.list(limit=limit, states=states or None, kind=kind)
    if as_json:
        click.echo(json.dumps([j.as_dict(with_log=False) for j in found]))
        return
    if not found:
        click.echo("no jobs yet (`loupe index` makes one)")
    for j in found:
        total = "?" if j.progress_total is None else j.progress_total
        click.echo(f"{j.id:>5}  {j.kind:8} {j.state:11} {j.progress_done}/{total:<6} attempt {j.attempts}  "
                   f"{j.created_at:%Y-%m-%d %H:%M}  {j.message or ''}")


@jobs.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the log).")
@click.pass_obj
def show(settings: Settings, job_id: int, as_json: bool) -> None:
    """One job: parameters, state, progress, result and its recent log."""
    with _store(settings) as store:
        job = _get(store, job_id)
    data = job.as_dict()
    if as_json:
        click.echo(json.dumps(data))
        return
    for key in ("id", "kind", "params", "state", "attempts", "progress", "message", "error", "cancel_requested",
                "worker", "created_at", "started_at", "finished_at", "heartbeat_at"):
        value = data[key]
        if value not in (None, {}, False) or key in ("state", "attempts"):
            click.echo(f"{key:17} {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    if job.result:
        click.echo("result")
        for key, value in job.result.items():
            click.echo(f"  {key:23} {value}")
    if job.log:
        click.echo("log")
        for line in job.log:
            click.echo(f"  {line}")


@jobs.command("cancel")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def cancel(settings: Settings, job_id: int, as_json: bool) -> None:
    """Cancel a job: a queued one at once, a running one after its current batch."""

    with _store(settings) as store:
        try:
            job = store.request_cancel(job_id)
        except JobError as e:
            raise click.ClickException(str(e)) from None
    click.echo(json.dumps(job.as_dict(with_log=False)) if as_json else f"job {job.id} {job.state}: {job.message}")


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def retry(settings: Settings, job_id: int, as_json: bool) -> None:
    """Queue a failed, cancelled or interrupted job again (an indexing job continues where it
    stopped). With redis_url set a `loupe worker` runs it; in the embedded default, the server."""

    with _store(settings) as store:
        try:
            if settings.redis_url:
                broker = make_broker(settings, store=store)
                try:
                    job = job_queue(broker).retry(job_id)
                finally:
                    broker.close()
                where = "on Redis; a `loupe worker` runs it"
            else:
                job = JobQueue(store).retry(job_id)
                where = "; the server (`loupe serve`) runs it in the embedded default"
        except JobError as e:
            raise click.ClickException(str(e)) from None
    click.echo(json.dumps(job.as_dict(with_log=False)) if as_json
               else f"job {job.id} queued again (attempt {job.attempts}){where}")


def _store(settings: Settings):  # noqa: ANN202 - training_worker.jobs.JobStore, imported late
    settings.ensure_dirs()
    return JobStore.open(settings)


def _get(store, job_id: int):  # noqa: ANN001, ANN202
    try:
        return store.get(job_id)
    except JobNotFound as e:
        raise click.ClickException(str(e)) from None
