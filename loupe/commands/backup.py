"""``loupe backup DIR`` and ``loupe restore DIR`` (see ``loupe.backup``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from loupe.backup import BackupError, backup, restore
from loupe_core.settings import Settings
from loupe_index.errors import VectorIndexError


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-cache", is_flag=True, help="Also copy the caches (images fetched at the bounded size).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def backup_cmd(settings: Settings, folder: Path, with_cache: bool, as_json: bool) -> None:
    """Back up the catalog, the index, models, published collections, guides and lens
    bundles into FOLDER (new or empty). In the embedded default, stop `loupe serve` first:
    one process at a time may open the index."""
    say = (lambda _: None) if as_json else (lambda line: click.echo(line, err=True))
    try:
        summary = backup(settings, folder, with_cache=with_cache, say=say)
    except (BackupError, VectorIndexError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(json.dumps(summary.as_dict()) if as_json else f"backup written to {folder}")


@click.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Restore into a data directory that is not empty, replacing its "
                                             "catalog, index and files.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def restore_cmd(settings: Settings, folder: Path, force: bool, as_json: bool) -> None:
    """Restore a backup made by `loupe backup` into the data directory (--data-dir,
    LOUPE_DATA_DIR) and the catalog database (LOUPE_CATALOG_URL) in force."""
    say = (lambda _: None) if as_json else (lambda line: click.echo(line, err=True))
    try:
        summary = restore(settings, folder, force=force, say=say)
    except (BackupError, VectorIndexError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(json.dumps(summary.as_dict()) if as_json else f"restored {folder} into {settings.data_dir}")
