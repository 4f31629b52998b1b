"""``loupe config``: show the settings in force and where they came from."""

from __future__ import annotations

import json

import click

from loupe_core.settings import Settings


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config(settings: Settings, as_json: bool) -> None:
    """Show the settings in force (defaults < loupe.toml < LOUPE_* environment)."""
    data = settings.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for k, v in data.items():
        click.echo(f"{k:24} {v}")
