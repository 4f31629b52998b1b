"""Held-out details for the fine-tuning tests: the demo catalog keeps half of its curators'
regions, and the detail photographs of the other half (and the alternative reproductions)
in ../shared/data/lens are the queries; each should find its artwork among the demo's images."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from loupe_core.settings import Settings
from tests.support.demo import DEMO_FOLDER


@dataclass(frozen=True)
class HeldOut:
    queries: list[Path]  # detail photographs and alternative reproductions (shared data)
    artworks: list[str]  # the artwork slug of each query
    gallery: list[Path]  # the demo's 30 artworks
    slugs: list[str]


def hold_out_regions(settings: Settings, lens: Path) -> HeldOut:
    """Delete every second curator region (by artwork and label) from the catalog; the queries
    are the lens details of those regions plus every alternative reproduction."""
    from connector.catalog import Catalog
    from connector.catalog.schema import CanvasRow, ManifestRow, RegionRow

    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            rows = s.execute(select(RegionRow.id, ManifestRow.uri, RegionRow.texts).join(
                CanvasRow, RegionRow.canvas_id == CanvasRow.id).join(ManifestRow, CanvasRow.manifest_id == ManifestRow.id)
                .where(RegionRow.made_by == "person", RegionRow.x.is_not(None))).all()
            keyed = sorted((uri.rsplit("/", 1)[-1].removesuffix(".json"), texts["en"][0], rid) for rid, uri, texts in rows)
            dropped = keyed[1::2]
            s.execute(delete(RegionRow).where(RegionRow.id.in_([rid for *_, rid in dropped])))
            s.commit()
    finally:
        catalog.close()
    slugs = sorted(p.stem for p in DEMO_FOLDER.glob("*.jpg"))
    held = {(slug, label) for slug, label, _ in dropped}
    queries, artworks = [], []
    with open(lens / "details.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if (lens / row["file"]).is_file() and row["artwork"] in slugs and ((row["artwork"], row["shows"]) in held or row["kind"] == "variant"):
                queries.append(lens / row["file"])
                artworks.append(row["artwork"])
    return HeldOut(queries, artworks, [DEMO_FOLDER / f"{s}.jpg" for s in slugs], slugs)


def detail_recall(model, held: HeldOut) -> dict[str, float]:  # noqa: ANN001 - a ClipModel
    from PIL import Image

    from loupe_models.training.metrics import retrieval_metrics

    def encode(paths: list[Path]):  # noqa: ANN202
        images = []
        for p in paths:
            with Image.open(p) as im:
                im.draft("RGB", (256, 256))
                images.append(im.convert("RGB"))
        return model.encode_images(images)

    return retrieval_metrics(encode(held.queries), encode(held.gallery),
                             [{held.slugs.index(a)} for a in held.artworks])
