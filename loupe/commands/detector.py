"""``loupe detector train``: a detector of the annotated regions (a ``detector`` job);
``loupe detector list``: its versions with their evaluation."""

from __future__ import annotations

import json
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_models.detector.store import DetectorStore
from training_worker.detector import DetectorParams

from ._jobs import enqueue, prepare, print_job, run_here

P = DetectorParams
OPTIONS = {"name": "--name", "input_size": "--input-size", "epochs": "--epochs", "views": "--views",
           "background_views": "--background-views", "view_rounds": "--view-rounds",
           "frozen_stages": "--frozen-stages", "validation": "--validation",
           "validation_views": "--validation-views", "batch_size": "--batch-size", "learning_rate": "--lr",
           "seed": "--seed", "processes": "--processes", "checkpoint_every": "--checkpoint-every",
           "export": "--export/--no-export"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _option(name: str, **kw: Any):  # noqa: ANN202 - a click decorator
    return click.option(OPTIONS[name], name, default=P.default(name), show_default=True,
                        help=_sentence(P.help(name)), **kw)


@click.group("detector")
def detector() -> None:
    """Detectors of the curators' annotated regions, for the lens and for suggestions."""


@detector.command("train")
@click.argument("collection", default="all")
@_option("name")
@_option("input_size", type=int)
@_option("epochs", type=int)
@_option("views", type=int)
@_option("background_views", type=int)
@_option("view_rounds", type=int)
@_option("frozen_stages", type=int)
@_option("validation", type=float)
@_option("validation_views", type=int)
@_option("batch_size", type=int)
@_option("learning_rate", type=float)
@_option("seed", type=int)
@_option("processes", type=int)
@_option("checkpoint_every", type=int)
@click.option("--export/--no-export", "export", default=P.default("export"), show_default=True,
              help=_sentence(P.help("export")))
@click.option("--background", is_flag=True, help="Queue a job for a worker instead of training here.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def train(settings: Settings, collection: str, background: bool, as_json: bool, no_progress: bool,
          **values: Any) -> None:
    """Train a detector of COLLECTION's annotated regions ('all', a source, a IIIF Collection
    URI or key): each region's label or tag is a class. Fine-tunes EfficientNet-Lite0 with a
    CenterNet-style head on visitor-camera views; thresholds per class and mAP@0.5 come from
    held-out views. The result is NAME@vN under <data_dir>/models/detectors/ with a
    TensorFlow.js graph model and loupe.json for the lens.

    Runs as a job: progress per step, `loupe jobs cancel` between steps, and `loupe jobs
    retry` resumes from the last saved step."""
    params = prepare(settings, "detector", {"collection": collection, **values}, OPTIONS)
    if background:
        enqueue(settings, "detector", params, as_json, here="train here and now")
        return
    record = run_here(settings, "detector", params, progress=not (no_progress or as_json), desc="training")
    print_job(record, as_json)


@detector.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_detectors(settings: Settings, as_json: bool) -> None:
    """The detector versions, with their classes and mAP@0.5 on held-out views."""
    rows = []
    for ckpt in DetectorStore(settings).list():
        info = ckpt.info()
        ev = info.get("evaluation") or {}
        rows.append({"ref": ckpt.ref, "created": info.get("created"), "classes": info.get("classes"),
                     "map50": ev.get("map50"), "held_out_views": ev.get("held_out_views"),
                     "tfjs": (info.get("tfjs") or {}).get("folder"), "path": str(ckpt.weights_file)})
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no detectors yet (`loupe detector train`)")
    for row in rows:
        click.echo(f"{row['ref']}  {row['created']}  {len(row['classes'] or [])} classes  "
                   f"mAP@0.5 {row['map50']} on {row['held_out_views']} held-out views")
