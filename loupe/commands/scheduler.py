"""``loupe scheduler``: scheduled incremental harvests, then indexing of what changed."""

from __future__ import annotations

import json
import signal
import threading

import click

from loupe.scheduler import Scheduler
from loupe_core.settings import Settings


@click.command("scheduler")
@click.option("--once", is_flag=True, help="One round (harvest what is due, queue its indexing), then exit.")
@click.pass_obj
def scheduler(settings: Settings, once: bool) -> None:
    """Harvest each source on its schedule (`loupe source schedule REF --every 6h [--window
    22:00-06:00]`) and queue an index job for each source that changed, until stopped
    (Ctrl-C or SIGTERM). A failed harvest is tried again after scheduler_retry_s."""
    settings.ensure_dirs()
    runner = Scheduler(settings)
    try:
        if once:
            for outcome in runner.run_once():
                click.echo(json.dumps(outcome))
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        click.echo(f"scheduler: looking for sources due every {settings.scheduler_tick_s:g} s; Ctrl-C or SIGTERM "
                   "stops", err=True)
        runner.run(stop)
        click.echo("scheduler: stopped", err=True)
    finally:
        runner.close()
