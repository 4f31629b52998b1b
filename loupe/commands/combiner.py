"""``loupe combiner TRIPLETS``: train CLIP4Cir's Combiner for composed search (a job);
``loupe combiner list``: the trained Combiners per vector, the active one marked;
``loupe combiner activate VECTOR VERSION`` / ``deactivate VECTOR`` switch composed search."""

from __future__ import annotations

import json
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_models.training.combiner_store import CombinerStore
from training_worker.combiner import CombinerParams

from ._jobs import enqueue, prepare, print_job, run_here

P = CombinerParams
OPTIONS = {"triplets": "--triplets", "format": "--format", "images": "--images", "split_file": "--split-file",
           "model": "--model", "epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr",
           "projection_dim": "--projection-dim", "hidden_dim": "--hidden-dim", "holdout": "--holdout",
           "activate": "--activate/--no-activate", "seed": "--seed"}


@click.group("combiner", invoke_without_command=True)
@click.option("--triplets", default=None, help=P.help("triplets"))
@click.option("--format", default=P.default("format"), show_default=True, help=P.help("format"))
@click.option("--images", default=None, help=P.help("images"))
@click.option("--split-file", default=None, help=P.help("split_file"))
@click.option("--model", default=None, help=P.help("model"))
@click.option("--epochs", type=int, default=P.default("epochs"), show_default=True, help=P.help("epochs"))
@click.option("--batch-size", type=int, default=P.default("batch_size"), show_default=True, help=P.help("batch_size"))
@click.option("--lr", "learning_rate", type=float, default=P.default("learning_rate"), show_default=True,
              help=P.help("learning_rate"))
@click.option("--projection-dim", type=int, default=P.default("projection_dim"), show_default=True,
              help=P.help("projection_dim"))
@click.option("--hidden-dim", type=int, default=P.default("hidden_dim"), show_default=True, help=P.help("hidden_dim"))
@click.option("--holdout", type=float, default=P.default("holdout"), show_default=True, help=P.help("holdout"))
@click.option("--activate/--no-activate", default=P.default("activate"), show_default=True, help=P.help("activate"))
@click.option("--seed", type=int, default=P.default("seed"), show_default=True, help=P.help("seed"))
@click.option("--background", is_flag=True, help="Queue a job for a worker instead of training here.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def combiner(ctx: click.Context, background: bool, as_json: bool, no_progress: bool, **values: Any) -> None:
    """Train CLIP4Cir's Combiner on (reference, text, target) triplets (--triplets: CIRR or
    FashionIQ captions JSON, or a CSV of image files or canvas URIs with #xywh=) for the
    vector of --model (default: the model setting); composed search then uses it instead of
    the zero-shot baseline (unless --no-activate)."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    params = prepare(settings, "combiner", values, OPTIONS)
    if background:
        enqueue(settings, "combiner", params, as_json, here="train here and now")
        return
    record = run_here(settings, "combiner", params, progress=not (no_progress or as_json), desc="training")
    print_job(record, as_json)


@combiner.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_combiners(settings: Settings, as_json: bool) -> None:
    """The trained Combiners per vector, with their evaluation; * marks the active one."""
    store = CombinerStore(settings)
    rows = []
    for stored in store.list():
        active = store.active(stored.vector)
        rows.append({"vector": stored.vector, "name": stored.name, "active": active == stored, **stored.info()})
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    for row in rows:
        ev = row.get("evaluation") or {}
        mark = "*" if row["active"] else " "
        click.echo(f"{mark} {row['vector']} {row['name']}: composed R@1 {ev.get('combiner', {}).get('R@1', 0):.2f} "
                   f"(baseline {ev.get('baseline', {}).get('R@1', 0):.2f})")


@combiner.command("activate")
@click.argument("vector")
@click.argument("version", type=int)
@click.pass_obj
def activate_combiner(settings: Settings, vector: str, version: int) -> None:
    """Make VERSION (the N of combiner-vN) the Combiner of VECTOR's composed search."""
    store = CombinerStore(settings)
    stored = store.get(vector, version)
    if stored is None:
        held = [f"{c.vector} v{c.version}" for c in store.list()]
        raise click.ClickException(f"no Combiner version {version} for vector {vector!r}; trained: "
                                   f"{', '.join(held) or 'none (loupe combiner --triplets FILE trains one)'}")
    store.activate(stored)
    click.echo(f"{vector}: composed search uses {stored.name}")


@combiner.command("deactivate")
@click.argument("vector")
@click.pass_obj
def deactivate_combiner(settings: Settings, vector: str) -> None:
    """Return VECTOR's composed search to the zero-shot baseline (the trained versions stay)."""
    CombinerStore(settings).deactivate(vector)
    click.echo(f"{vector}: composed search uses the zero-shot baseline")
