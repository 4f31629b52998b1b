"""``loupe bench``: benchmarks, run on purpose; the last line printed is JSON."""

from __future__ import annotations

import json

import click

from loupe_core.settings import Settings


@click.group("bench")
def bench() -> None:
    """Measure Loupe's speed on this machine (not part of the tests)."""


@bench.command("harvest")
@click.option("-n", "--manifests", type=int, default=1000, show_default=True, help="How many manifests to serve.")
@click.option("--workers", type=int, default=None, help="Parallel fetches (default: the harvest_workers setting).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def harvest(settings: Settings, manifests: int, workers: int | None, as_json: bool) -> None:
    """First harvest and re-harvest of N generated manifests served on 127.0.0.1.

    Targets on 2 cores: first harvest >= 100 manifests/s, re-harvest < 10% of its time."""
    from loupe.bench.harvest import run

    result = run(manifests, workers or settings.harvest_workers, progress=not as_json)
    if not as_json:
        click.echo(f"first harvest: {result['first_per_s']} manifests/s ({result['first_s']} s); "
                   f"re-harvest: {result['reharvest_per_s']} manifests/s ({result['reharvest_s']} s, "
                   f"{100 * result['reharvest_ratio']:.1f}% of the first)")
    click.echo(json.dumps(result))
