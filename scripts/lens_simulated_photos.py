"""Simulated visitor photos of the shared lens artworks for ``loupe lens eval``, made with
camera settings unlike the build's training views (wider lens range, more roll, stronger
glare, blur and JPEG, a larger photo, another seed), plus photos of no known artwork
(procedural paintings in the same galleries). Writes OUT/*.jpg and OUT/truth.csv (file,item):
the item is the artwork, or its detail when the photo's centre is well inside that detail
(as the lens names a detail: ``detail_margin``).

    python scripts/lens_simulated_photos.py ../shared/data/lens OUT [--per-artwork 2] [--none 136] [--seed 4242]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from loupe_models.augmentation import Sample, VisitorCamera
from loupe_models.augmentation.parallel import augment
from loupe_models.lens.build import BuildSettings
from loupe_models.lens.negatives import procedural_painting

EVAL_CAMERA = dataclasses.replace(
    VisitorCamera(), long_side=640, yaw=35.0, pitch=20.0, roll=20.0, focal=(0.6, 1.45), detail_p=0.3,
    margin=(-0.05, 0.5), glare_p=0.5, people_p=0.3, motion_blur_p=0.3, defocus_p=0.2, jpeg_quality=(30, 85),
    neighbours_p=0.8, brightness=0.3, contrast=0.3)
SEED = 4242
DETAIL_MARGIN = BuildSettings.detail_margin  # a photo shows a detail when its centre is this far inside it


def _samples(lens: Path) -> list[Sample]:
    boxes: dict[str, list[tuple[list[float], str]]] = {}
    with open(lens / "details.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "detail":
                box = [float(v) for v in row["bbox_in_artwork_xyxy"].split(",")]
                boxes.setdefault(row["artwork"], []).append((box, Path(row["file"]).stem))
    out = []
    for path in sorted((lens / "artworks").glob("*.jpg")):
        mine = boxes.get(path.stem, [])
        out.append(Sample(path.stem, path, np.asarray([b for b, _ in mine], np.float32).reshape(-1, 4),
                          tuple(name for _, name in mine)))
    return out


def _truth(view, sample: Sample) -> str:
    """The detail whose box holds the photo's centre well inside (not in the band of
    DETAIL_MARGIN of its sides; the smallest such), else the artwork: where the centre falls
    on the work, through the view's exact map (its boxes are only rectangles around the
    mapped corners, clipped to the photo)."""
    h, w = view.image.shape[:2]
    to_photo = np.asarray(view.info["sample_to_photo"], np.float64).reshape(3, 3)
    x, y, z = np.linalg.inv(to_photo) @ np.array([w / 2, h / 2, 1.0])
    if z <= 0:
        return sample.source_id
    cx, cy = x / z, y / z
    best = None
    for (x0, y0, x1, y1), label in zip(sample.boxes, sample.labels):
        mx, my = (x1 - x0) * DETAIL_MARGIN, (y1 - y0) * DETAIL_MARGIN
        if x0 + mx < cx < x1 - mx and y0 + my < cy < y1 - my:
            area = (x1 - x0) * (y1 - y0)
            if best is None or area < best[0]:
                best = (area, label)
    return best[1] if best else sample.source_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("lens", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--per-artwork", type=int, default=2)
    ap.add_argument("--none", type=int, default=136)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N artworks")
    ap.add_argument("--seed", type=int, default=SEED, help="another seed: another, independent set of photos")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    samples = _samples(args.lens)
    if args.limit:
        samples = samples[:args.limit]
    rows = []
    for sample, views in zip(samples, augment(samples, args.per_artwork, args.seed, EVAL_CAMERA, args.processes, samples)):
        for view in views:
            name = f"{sample.source_id}-{view.index}.jpg"
            Image.fromarray(view.image).save(args.out / name, quality=90)
            rows.append((name, _truth(view, sample)))
    others = [Sample(f"none-{i}", procedural_painting(args.seed * 7 + i)) for i in range(args.none)]
    for sample, views in zip(others, augment(others, 1, args.seed, EVAL_CAMERA, args.processes, others[:10])):
        name = f"{sample.source_id}.jpg"
        Image.fromarray(views[0].image).save(args.out / name, quality=90)
        rows.append((name, ""))
    with open(args.out / "truth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "item"])
        w.writerows(rows)
    print(f"{len(rows)} photos in {args.out}")


if __name__ == "__main__":
    main()
