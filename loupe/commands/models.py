"""``loupe models``: the CLIP models Loupe knows and whether they can be used here."""

from __future__ import annotations

import json

import click

from loupe_core.settings import Settings
from loupe_models import get_spec, model_names
from loupe_models.errors import UnknownModel
from loupe_models.listing import describe_models


@click.group("models")
def models() -> None:
    """CLIP models: LOUPE_MODEL (setting model) picks the one used for indexing and search."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: [{"name", "pretrained", "dim", "available"}, ...].')
@click.pass_obj
def list_models(settings: Settings, as_json: bool) -> None:
    """Every model, its weights tag, embedding size, and whether its weights are here.

    Looks only at local files (LOUPE_MODEL_PATH, <data_dir>/models/<name>/, the Hugging Face
    cache); nothing is downloaded."""

    rows = describe_models(settings)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows]))
        return
    name_w = max(len(r.name) for r in rows) + 2
    tag_w = max(len(r.pretrained) for r in rows) + 2
    click.echo(f"  {'name':{name_w}}{'pretrained':{tag_w}}{'dim':>5}  {'available':11}{'languages':14}where")
    for r in rows:
        mark = "*" if r.default else " "
        click.echo(f"{mark} {r.name:{name_w}}{r.pretrained:{tag_w}}{r.dim:>5}  {('yes' if r.available else 'no'):11}"
                   f"{r.languages:14}{r.where}")
    try:
        get_spec(settings.model)
        click.echo("* the model in use (LOUPE_MODEL / setting model).")
    except UnknownModel:
        click.echo(f"The model setting names {settings.model!r}, which is none of these: "
                   f"{', '.join(model_names())}.", err=True)
