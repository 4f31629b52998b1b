"""What an evaluation reads: the gallery (a folder of images, or the catalog's images keyed by
canvas and manifest URI), and the ground truth CSV (triplets' images: ``loupe_index.catalog_references``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_index.catalog_targets import images_to_index

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")


@dataclass
class Gallery:
    """Items to rank: ``load(i)`` gives item i's pixels; ``keys[i]`` the names it answers to."""

    keys: list[set[str]] = field(default_factory=list)
    loaders: list[Callable[[], Image.Image]] = field(default_factory=list)

    def find(self, name: str) -> set[int]:
        name = name.strip()
        return {i for i, keys in enumerate(self.keys) if name in keys}


def open_image(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.draft("RGB", (512, 512))
        return im.convert("RGB")


def folder_gallery(folder: Path) -> Gallery:
    g = Gallery()
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        g.keys.append({path.name, path.stem})
        g.loaders.append(lambda p=path: open_image(p))
    return g


def catalog_gallery(catalog: Catalog, images: CatalogImages) -> Gallery:
    g = Gallery()
    for item in images_to_index(catalog):
        g.keys.append({item.canvas, item.manifest, *item.labels})
        g.loaders.append(lambda it=item: images.fetch(it.source_id, it.image).open())
    return g


def read_ground_truth(path: Path) -> list[tuple[str, list[str]]]:
    """(query or caption, relevant names) per row: the first column, then the second split at |."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r]
    if rows and rows[0][0].strip().lower() in ("query", "caption", "text"):
        rows = rows[1:]
    out = []
    for n, row in enumerate(rows, start=2):
        if len(row) < 2:
            raise ValueError(f"{path}: line {n}: a ground truth row is query,relevant")
        out.append((row[0].strip(), [r.strip() for r in row[1].split("|") if r.strip()]))
    return out


