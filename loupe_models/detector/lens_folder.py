"""Samples from a folder laid out as the shared lens data: ``artworks/<slug>.jpg`` and a
``details.csv`` whose rows of kind ``detail`` give a detail's box in its artwork
(``bbox_in_artwork_xyxy``). Each detail is its own class, named by its file's stem
(``<artwork>__<detail>``); artworks without details are background."""

from __future__ import annotations

import csv
from pathlib import Path

from loupe_models.augmentation import Sample


def lens_folder_samples(folder: str | Path) -> list[Sample]:
    folder = Path(folder)
    artworks = sorted((folder / "artworks").glob("*.jpg"))
    if not artworks:
        raise FileNotFoundError(f"no artworks/*.jpg in {folder}")
    details: dict[str, list[tuple[list[float], str]]] = {}
    table = folder / "details.csv"
    if table.is_file():
        with open(table, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("kind") != "detail":
                    continue
                box = [float(v) for v in row["bbox_in_artwork_xyxy"].split(",")]
                details.setdefault(row["artwork"], []).append((box, Path(row["file"]).stem))
    out = []
    for path in artworks:
        found = details.get(path.stem, [])
        out.append(Sample(path.stem, path, [b for b, _ in found], tuple(n for _, n in found)))
    return out
