"""``loupe index``: embed the catalog's images into the vector index; its status and backups."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_index import VectorIndex, VectorIndexError

from ._jobs import enqueue, prepare, print_job, run_here


@click.group("index", invoke_without_command=True)
@click.option("--source", default=None, help="Only this source (id, name or URL); default: every source.")
@click.option("--model", "model_name", default=None,
              help="Model registry name (default: the model setting, LOUPE_MODEL; see `loupe models list`).")
@click.option("--activate", is_flag=True,
              help="When done, make this model's vector the one searches use (the first model indexed is anyway).")
@click.option("--background", is_flag=True,
              help="Queue a job instead of indexing here: `loupe worker` runs it (redis_url set); in the "
                   "embedded default the server (`loupe serve`) does.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON (progress, result, log).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def index(ctx: click.Context, source: str | None, model_name: str | None, activate: bool, background: bool,
          as_json: bool, no_progress: bool) -> None:
    """Embed new and changed catalog images (whole image, annotated regions, automatic views)
    into the vector index, and remove points of images that left the catalog or changed.

    Incremental and resumable: images already indexed with the same content are skipped, so a
    second run writes nothing and a stopped run continues where it stopped. Runs as a job
    (`loupe jobs list` shows it), in the foreground unless --background."""
    if ctx.invoked_subcommand is not None:
        if source or model_name or activate or background or as_json or no_progress:
            raise click.UsageError(f"the options of `loupe index` go without a subcommand; "
                                   f"see `loupe index {ctx.invoked_subcommand} --help`")
        return
    settings: Settings = ctx.obj
    params = prepare(settings, "index", {"source": source, "model": model_name, "activate": activate},
                     {"source": "--source", "model": "--model"})
    if background:
        enqueue(settings, "index", params, as_json, here="index here and now")
    else:
        record = run_here(settings, "index", params, progress=not (no_progress or as_json), desc="indexing")
        print_job(record, as_json)


@index.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: mode, location, active vector, points per vector.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """What the index holds: points per model vector, the active vector, local or server mode."""

    try:
        with VectorIndex.open(settings, role="loupe index status", exact_search=False) as idx:
            data = idx.status()
    except VectorIndexError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"mode: {data['mode']} ({data['location']})")
    click.echo(f"active vector: {data['active'] or 'none yet (run `loupe index`)'}")
    for name, v in data["vectors"].items():
        mark = "*" if name == data["active"] else " "
        click.echo(f"{mark} {name}: {v['points']} points, {v['dim']} dimensions")
    for warning in data["warnings"]:
        click.echo(f"warning: {warning}", err=True)


@index.command("snapshot")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Local mode: the export file (default: <data_dir>/index/exports/loupe-index-<time>.tar.gz).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def snapshot(settings: Settings, output: Path | None, as_json: bool) -> None:
    """Back up the index: Qdrant snapshots on the server (server mode), or an export file
    that `VectorIndex.import_export` restores here or on a server (local mode)."""

    try:
        with VectorIndex.open(settings, role="loupe index snapshot", exact_search=False) as idx:
            if idx.mode == "server":
                if output is not None:
                    raise click.UsageError("--output is for local mode: a Qdrant server keeps its snapshots "
                                           "itself (GET /collections/<name>/snapshots/<snapshot> downloads one)")
                names = idx.snapshot()
                data: dict[str, Any] = {"mode": "server", "location": idx.location, "snapshots": names}
                lines = [f"snapshot {n} (kept by the Qdrant server at {idx.location})" for n in names]
            else:
                path = output or settings.index_dir / "exports" / f"loupe-index-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"
                manifest = idx.export(path)
                points = {n: v.get("points") for n, v in manifest.get("vectors", {}).items()}
                data = {"mode": "local", "path": str(Path(path).resolve()), "vectors": points}
                lines = [f"exported {sum(p or 0 for p in points.values())} points "
                         f"({', '.join(points) or 'no vectors'}) to {data['path']}"]
    except VectorIndexError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(data))
    else:
        for line in lines or ["the index holds no vectors: nothing to snapshot"]:
            click.echo(line)


@index.command("import")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-replace", is_flag=True,
              help="Refuse a vector the index already holds instead of replacing it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: mode, location, points imported per vector.")
@click.pass_obj
def import_(settings: Settings, export: Path, no_replace: bool, as_json: bool) -> None:
    """Load an export written by `loupe index snapshot` (or `loupe backup`) into this index:
    the embedded store or the Qdrant server of `qdrant_url`. Vectors travel as they were
    written (nothing is re-encoded); each vector in the export replaces the one of the same
    name, other vectors stay, and the export's active vector becomes active. This is how a
    collection moves from the embedded default to a Qdrant server (and back)."""

    try:
        with VectorIndex.open(settings, role="loupe index import", exact_search=False) as idx:
            counts = idx.import_export(export, replace=not no_replace)
            data: dict[str, Any] = {"mode": idx.mode, "location": idx.location, "path": str(export.resolve()),
                                    "vectors": counts, "active": idx.active_vector()}
    except VectorIndexError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"imported {sum(counts.values())} points ({', '.join(counts) or 'no vectors'}) "
               f"from {data['path']} into the {data['mode']} index ({data['location']})")
    click.echo(f"active vector: {data['active'] or 'none'}")
