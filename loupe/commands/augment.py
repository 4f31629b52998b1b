"""``loupe augment``: visitor-camera views of a collection's images (an ``augment`` job) and
their contact sheet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click

from loupe_core.settings import Settings
from training_worker.augmentation import AugmentParams
from training_worker.jobs import SUCCEEDED

from ._jobs import enqueue, prepare, run_here

OPTIONS = {"views": "--views", "validation": "--validation", "seed": "--seed", "min_per_class": "--min-per-class",
           "processes": "--processes", "long_side": "--long-side", "sheet_views": "--sheet-views"}


def _option(name: str, **kw: Any):  # noqa: ANN202 - a click decorator
    return click.option(OPTIONS[name], name, default=AugmentParams.default(name), show_default=True,
                        help=AugmentParams.help(name).capitalize() + ".", **kw)


@click.command("augment")
@click.argument("collection", default="all")
@_option("views", type=int)
@_option("validation", type=float)
@_option("seed", type=int)
@_option("min_per_class", type=int)
@_option("processes", type=int)
@_option("long_side", type=int)
@_option("sheet_views", type=int)
@click.option("--sheet", "sheet_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also copy the contact sheet PNG here.")
@click.option("--background", is_flag=True, help="Queue a job instead of augmenting here (`loupe worker` or the "
                                                 "server's embedded worker runs it).")
@click.option("--json", "as_json", is_flag=True, help="Print the job's result as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def augment(settings: Settings, collection: str, sheet_path: Path | None, background: bool, as_json: bool,
            no_progress: bool, **values: Any) -> None:
    """Views of COLLECTION's images ('all', a source, a IIIF Collection URI or key) as visitors'
    phones take them in a gallery: angles up to about 45 degrees, framing of the whole work or
    a detail, the wall, frame and neighbouring works, glare, people, blur, noise and JPEG, with
    the curators' annotated regions as boxes. Training and validation are split by source image
    before augmenting. Writes JPEGs, train.jsonl / validation.jsonl and contact_sheet.png under
    <data_dir>/augment/job-<id>/ (a job: `loupe jobs list` shows it)."""
    params = prepare(settings, "augment", {"collection": collection, **values}, OPTIONS)
    if background:
        enqueue(settings, "augment", params, as_json, here="augment here and now")
        return
    record = run_here(settings, "augment", params, progress=not (no_progress or as_json), desc="augmenting")
    result = record.result or {}
    if record.state != SUCCEEDED:
        raise click.ClickException(f"job {record.id} {record.state}: {record.message}")
    if sheet_path and result.get("contact_sheet"):
        sheet_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result["contact_sheet"], sheet_path)
        result["contact_sheet_copy"] = str(sheet_path)
    if as_json:
        click.echo(json.dumps(result))
        return
    for side in ("train", "validation"):
        counts = result[side]
        click.echo(f"{side}: {counts['views']} views of {counts['images']} images, {counts['boxes']} boxes")
    if result.get("pasted"):
        click.echo(f"copy-paste: {result['pasted']} training images with regions pasted from other images")
    click.echo(f"written to {result['folder']}")
    if result.get("contact_sheet"):
        click.echo(f"contact sheet: {sheet_path or result['contact_sheet']}")
