"""``loupe lens``: build a guide's bundle (a ``lens_build`` job), train one mode for the
default guide, and the browser's decision from the command line (recognize, eval)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import click

from loupe_core.settings import Settings
from loupe_guide import DEFAULT_GUIDE
from training_worker.jobs import SUCCEEDED
from training_worker.lens_build import LensBuildParams

from ._jobs import enqueue, prepare, run_here

OPTIONS = {"views": "--views", "epochs": "--epochs", "input_size": "--input-size", "processes": "--processes",
           "seed": "--seed", "calibration_views": "--calibration-views", "non_artworks": "--non-artworks"}


def _option(name: str, **kw: Any):  # noqa: ANN202 - a click decorator
    return click.option(OPTIONS[name], name, default=LensBuildParams.default(name), show_default=True,
                        help=LensBuildParams.help(name).capitalize() + ".", **kw)


def _build_options(fn):  # noqa: ANN001, ANN202 - stacks click decorators
    for name in reversed(list(OPTIONS)):
        fn = _option(name, type=int)(fn)
    fn = click.option("--background", is_flag=True, help="Queue a job instead of building here.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print the job's result as JSON.")(fn)
    return click.option("--no-progress", is_flag=True, help="No progress bar.")(fn)


# recognize and eval load TensorFlow: their module is imported only when one of them runs.
SUBCOMMANDS = {"recognize": "loupe.commands.lens_recognize:recognize_cmd",
               "eval": "loupe.commands.lens_recognize:eval_cmd"}


class _LensGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *SUBCOMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in SUBCOMMANDS:
            module, attr = SUBCOMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group("lens", cls=_LensGroup)
def lens() -> None:
    """The lens: on-device recognition of artworks and details for visitors' phones."""


def _run(settings: Settings, values: dict[str, Any], background: bool, as_json: bool, no_progress: bool) -> None:
    params = prepare(settings, "lens_build", values, {**OPTIONS, "modes": "--modes", "collection": "--collection",
                                                                 "detector": "--detector"})
    if background:
        enqueue(settings, "lens_build", params, as_json, here="build here and now")
        return
    record = run_here(settings, "lens_build", params, progress=not (no_progress or as_json), desc="building")
    if record.state != SUCCEEDED:
        raise click.ClickException(f"job {record.id} {record.state}: {record.message}")
    result = record.result or {}
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"guide {result['guide']!r} v{result['version']}: {result['artworks']} artworks, {result['details']} "
               f"details, languages {', '.join(result['languages']) or '-'}; modes {', '.join(result['modes'])}")
    click.echo(f"models (MB): {json.dumps(result['sizes_mb'])}; calibration: {json.dumps(result['calibration'])}")
    click.echo(f"written to {result['folder']}")


@lens.command("build")
@click.argument("guide", default=DEFAULT_GUIDE)
@click.option("--collection", default="", help="Define GUIDE as this collection first (a IIIF Collection URI, or a "
                                              "source's id, name or URL).")
@click.option("--modes", default=LensBuildParams.default("modes"), show_default=True,
              help="Modes to build: retrieval, classify, detect (comma-separated).")
@click.option("--detector", default="", help="Detect mode with this trained detector (NAME or NAME@vN); "
                                           "default: details through the verification homography.")
@_build_options
@click.pass_obj
def build(settings: Settings, guide: str, collection: str, modes: str, detector: str, background: bool,
          as_json: bool, no_progress: bool, **values: Any) -> None:
    """Build GUIDE's bundle ('default': every artwork in the catalog): guide texts and media from
    IIIF with the curators' overrides, recognition models fine-tuned on visitor-camera views,
    calibrated, exported under <data_dir>/lens/GUIDE/v<N>/ (a job)."""
    _run(settings, {"guide": guide, "collection": collection, "modes": modes, "detector": detector, **values},
         background, as_json, no_progress)


@lens.command("train")
@click.option("--mode", type=click.Choice(["retrieval", "classify", "detect"]), default="retrieval",
              show_default=True, help="The mode to train (classify and detect build on retrieval).")
@_build_options
@click.pass_obj
def train(settings: Settings, mode: str, background: bool, as_json: bool, no_progress: bool, **values: Any) -> None:
    """Train one mode for the default guide (every published and harvested artwork); the result
    is a new version of the default guide's bundle."""
    _run(settings, {"guide": DEFAULT_GUIDE, "modes": mode, **values}, background, as_json, no_progress)
