"""``loupe eval``: Recall@1/5/10 and mAP of a model version (an ``evaluate`` job), stored per
version; ``loupe eval list``: the stored results. The page /evaluations compares them."""

from __future__ import annotations

import json
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_models.training.evaluations import METRICS, TASK_METRICS, TASKS, EvaluationStore
from training_worker.evaluate import EvaluateParams

from ._jobs import enqueue, prepare, print_job, run_here

P = EvaluateParams
OPTIONS = {"task": "--task", "model": "--model", "queries": "--queries", "ground_truth": "--ground-truth",
           "gallery": "--gallery", "triplets": "--triplets", "format": "--format", "images": "--images",
           "split_file": "--split-file", "dataset": "--dataset", "detector": "--detector",
           "collection": "--collection"}


@click.group("eval", invoke_without_command=True)
@click.option("--task", type=click.Choice(TASKS), default=None, help=P.help("task"))
@click.option("--model", default=None, help=P.help("model"))
@click.option("--detector", default=None, help=P.help("detector"))
@click.option("--collection", default=None, help=P.help("collection"))
@click.option("--queries", default=None, help=P.help("queries"))
@click.option("--ground-truth", default=None, help=P.help("ground_truth"))
@click.option("--gallery", default=None, help=P.help("gallery"))
@click.option("--triplets", default=None, help=P.help("triplets"))
@click.option("--format", default=P.default("format"), show_default=True, help=P.help("format"))
@click.option("--images", default=None, help=P.help("images"))
@click.option("--split-file", default=None, help=P.help("split_file"))
@click.option("--dataset", default=None, help=P.help("dataset"))
@click.option("--background", is_flag=True, help="Queue a job for a worker instead of evaluating here.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_cmd(ctx: click.Context, background: bool, as_json: bool, no_progress: bool, **values: Any) -> None:
    """Evaluate a model version (NAME, or a fine-tuned NAME@vN): image-to-image (--queries
    FOLDER --ground-truth CSV), text-to-image (--ground-truth CSV of captions) or composed
    retrieval (--triplets FILE: the active Combiner and the zero-shot baseline), or a trained
    detector's mAP@0.5 on held-out views (--task detection --detector NAME@vN). Results are
    stored per version; the search service's /evaluations page shows them as a table and plots."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    params = prepare(settings, "evaluate", values, OPTIONS)
    if background:
        enqueue(settings, "evaluate", params, as_json, here="evaluate here and now")
        return
    record = run_here(settings, "evaluate", params, progress=not (no_progress or as_json), desc="evaluating")
    print_job(record, as_json)


@eval_cmd.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_results(settings: Settings, as_json: bool) -> None:
    """The latest result of each model version, per task and data set."""
    latest = EvaluationStore(settings).latest()
    if as_json:
        click.echo(json.dumps({task: [e.as_dict() for e in rows] for task, rows in latest.items()}))
        return
    for task, rows in latest.items():
        click.echo(f"{task}:")
        for e in rows:
            scores = "  ".join(f"{m} {e.metrics.get(m) or 0:.3f}" for m in TASK_METRICS.get(task, METRICS))
            click.echo(f"  {e.label:<36} {e.dataset:<24} {scores}")
