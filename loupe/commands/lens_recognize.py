"""``loupe lens recognize`` and ``loupe lens eval``: the browser's decision (lens/BUNDLE.md)
made in Python on the guide's bundle, for photos from the command line. Loads TensorFlow."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import click
import numpy as np
from PIL import Image, ImageOps

from loupe_core.settings import Settings
from loupe_guide import DEFAULT_GUIDE, GuideError, current_version, guide_dir
from loupe_models import ModelError
from loupe_models.lens.bundle import Bundle
from loupe_models.lens.decision import recognize
from loupe_models.lens.keras_models import load_with_models


def _bundle(settings: Settings, guide: str, version: int | None) -> Bundle:
    try:
        version = version or current_version(settings.data_dir, guide)
        if version is None:
            raise click.ClickException(f"guide {guide!r} has no bundle yet: run `loupe lens build {guide}`")
        return load_with_models(guide_dir(settings.data_dir, guide) / f"v{version}")
    except (GuideError, ModelError) as e:
        raise click.ClickException(str(e)) from None


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


_guide = click.option("--guide", default=DEFAULT_GUIDE, show_default=True, help="The guide whose bundle decides.")
_version = click.option("--version", "version", type=int, default=None, help="Bundle version (default: current).")
_mode = click.option("--mode", type=click.Choice(["retrieval", "classify", "detect"]), default="retrieval", show_default=True,
                     help="The mode that decides.")


@click.command("recognize")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_guide
@_version
@_mode
@click.option("--json", "as_json", is_flag=True, help="One JSON decision per line (lens/BUNDLE.md).")
@click.pass_obj
def recognize_cmd(settings: Settings, images: tuple[Path, ...], guide: str, version: int | None, mode: str,
                  as_json: bool) -> None:
    """The decision the browser makes for each IMAGE: the artwork or detail, or nothing."""
    bundle = _bundle(settings, guide, version)
    for path in images:
        decision = recognize(bundle, _read_rgb(path), mode)
        if as_json:
            click.echo(json.dumps({"image": str(path), **decision}))
        else:
            what = decision["item"] or "nothing known"
            click.echo(f"{path}: {what} (score {decision['score']})")


def read_truth(path: Path) -> list[tuple[str, str | None]]:
    """(file, item or None) rows of a CSV with columns file,item."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"file", "item"} <= {n.strip() for n in reader.fieldnames}:
            raise click.ClickException(f"{path}: expected the columns file,item (found {reader.fieldnames})")
        return [((row.get("file") or "").strip(), (row.get("item") or "").strip() or None) for row in reader
                if (row.get("file") or "").strip()]


def score_decision(bundle: Bundle, truth: str | None, decision: dict) -> dict[str, bool]:
    """Whether the decision is right (an artwork's truth is met by it or one of its details; a
    detail's only by that detail), in the top 3 candidates, empty, or a false recognition."""
    items = {i["id"]: i for i in bundle.items}
    answered = decision["item"] is not None
    if truth is None:
        return {"known": False, "top1": False, "top3": False, "no_answer": not answered, "false": answered}
    parent = items.get(truth, {}).get("parent")
    artwork = parent or truth

    def meets(item: str | None) -> bool:
        return item == truth or (parent is None and item is not None and (items.get(item, {}).get("parent") == truth))

    top1 = meets(decision["item"])
    ranked = [c["item"] for c in decision.get("candidates", [])][:3]
    top3 = top1 or (artwork in ranked if parent is None else (top1 or artwork in ranked))
    return {"known": True, "top1": top1, "top3": bool(top3), "no_answer": not answered,
            "false": answered and not top1 and (decision["artwork"] != artwork)}


@click.command("eval")
@click.option("--photos", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder of photos.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV file,item (empty item: a photo of no known artwork).")
@_guide
@_version
@_mode
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on the last line.")
@click.pass_obj
def eval_cmd(settings: Settings, photos: Path, truth: Path, guide: str, version: int | None, mode: str,
             as_json: bool) -> None:
    """Recognition measured on photos: top-1 and top-3 (shares of photos of known artworks),
    no_answer (known artworks given no answer), false_recognitions (photos of no known artwork
    given one), wrong (known artworks given another artwork)."""
    bundle = _bundle(settings, guide, version)
    rows = read_truth(truth)
    unknown = sorted({t for _, t in rows if t is not None and bundle.index(t) is None})
    if unknown:
        raise click.ClickException(f"{truth}: items not in guide {guide!r}: {', '.join(unknown[:10])}")
    scores, seconds = [], []
    for name, item in rows:
        path = photos / name
        if not path.is_file():
            raise click.ClickException(f"{path} (row of {truth}) does not exist")
        started = time.perf_counter()
        decision = recognize(bundle, _read_rgb(path), mode)
        seconds.append(time.perf_counter() - started)
        scores.append(score_decision(bundle, item, decision))
        if not as_json:
            click.echo(f"{name}: truth {item or '-'}, answer {decision['item'] or '-'} ({decision['score']})")
    known = [s for s in scores if s["known"]]
    none = [s for s in scores if not s["known"]]

    def share(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    summary = {"photos": len(scores), "top1": share([s["top1"] for s in known]),
               "top3": share([s["top3"] for s in known]), "no_answer": share([s["no_answer"] for s in known]),
               "false_recognitions": share([s["false"] for s in none]),
               "wrong": share([s["false"] for s in known]), "known_photos": len(known), "unknown_photos": len(none),
               "mode": mode, "guide": guide, "version": bundle.meta["version"],
               "seconds_per_photo_p50": round(float(np.median(seconds)), 3) if seconds else None}
    click.echo(json.dumps(summary) if as_json else
               "\n".join(f"{k}: {v}" for k, v in summary.items()))
