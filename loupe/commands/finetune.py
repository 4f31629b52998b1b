"""``loupe finetune``: fine-tune CLIP on the catalog's annotated regions and images (a job);
``loupe finetune list``: the checkpoint versions with their evaluation."""

from __future__ import annotations

import json
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_models.training.checkpoints import CheckpointStore
from training_worker.finetune import FinetuneParams

from ._jobs import enqueue, prepare, print_job, run_here

P = FinetuneParams
OPTIONS = {"model": "--model", "source": "--source", "freeze": "--freeze", "train_last": "--train-last",
           "learning_rate": "--lr", "weight_decay": "--weight-decay", "epochs": "--epochs",
           "batch_size": "--batch-size", "views": "--views/--no-views", "holdout": "--holdout",
           "checkpoint_every": "--checkpoint-every", "seed": "--seed"}


@click.group("finetune", invoke_without_command=True)
@click.option("--model", default=None, help=P.help("model"))
@click.option("--source", default=None, help=P.help("source"))
@click.option("--freeze", type=click.Choice(["none", "image", "text"]), default=P.default("freeze"), show_default=True,
              help=P.help("freeze"))
@click.option("--train-last", type=int, default=P.default("train_last"), show_default=True, help=P.help("train_last"))
@click.option("--lr", "learning_rate", type=float, default=P.default("learning_rate"), show_default=True,
              help=P.help("learning_rate"))
@click.option("--weight-decay", type=float, default=P.default("weight_decay"), show_default=True,
              help=P.help("weight_decay"))
@click.option("--epochs", type=int, default=P.default("epochs"), show_default=True, help=P.help("epochs"))
@click.option("--batch-size", type=int, default=P.default("batch_size"), show_default=True, help=P.help("batch_size"))
@click.option("--views/--no-views", default=P.default("views"), show_default=True, help=P.help("views"))
@click.option("--holdout", type=float, default=P.default("holdout"), show_default=True, help=P.help("holdout"))
@click.option("--checkpoint-every", type=int, default=P.default("checkpoint_every"), show_default=True,
              help=P.help("checkpoint_every"))
@click.option("--seed", type=int, default=P.default("seed"), show_default=True, help=P.help("seed"))
@click.option("--background", is_flag=True, help="Queue a job for a worker instead of training here.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def finetune(ctx: click.Context, background: bool, as_json: bool, no_progress: bool, **values: Any) -> None:
    """Fine-tune the CLIP model on the catalog: region crops with their annotation texts, tags
    and labels (every language), whole images with their labels and metadata; symmetric
    contrastive loss. The result is the next checkpoint version NAME@vN (under
    <data_dir>/models/finetuned) with its parameters and evaluation. Searches keep using the
    active model until you index the new one and ask: `loupe index --model NAME@vN --activate`.

    Runs as a job: progress per step, `loupe jobs cancel` between steps, and `loupe jobs
    retry` resumes from the last saved step."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    params = prepare(settings, "finetune", values, OPTIONS)
    if background:
        enqueue(settings, "finetune", params, as_json, here="train here and now")
        return
    record = run_here(settings, "finetune", params, progress=not (no_progress or as_json), desc="fine-tuning")
    print_job(record, as_json)


@finetune.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_checkpoints(settings: Settings, as_json: bool) -> None:
    """The fine-tuned versions, with their loss and held-out region recall before and after."""
    rows = []
    for ckpt in CheckpointStore(settings).list():
        info = ckpt.info()
        rows.append({"ref": ckpt.ref, "vector": info.get("vector"), "created": info.get("created"),
                     "params": info.get("params"), "evaluation": info.get("evaluation"),
                     "path": str(ckpt.weights_file)})
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no fine-tuned checkpoints yet (`loupe finetune`)")
    for row in rows:
        ev = row["evaluation"] or {}
        before, after = (ev.get("recall_before") or {}).get("R@1"), (ev.get("recall_after") or {}).get("R@1")
        recall = f", region R@1 {before:.2f} -> {after:.2f}" if before is not None and after is not None else ""
        click.echo(f"{row['ref']}  {row['created']}  loss {ev.get('loss_before', 0):.3f} -> "
                   f"{ev.get('loss_after', 0):.3f}{recall}  ({row['vector']})")
