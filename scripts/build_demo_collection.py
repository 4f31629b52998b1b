#!/usr/bin/env python3
"""(Re)create ``demo/collection`` — the bundled demo collection — from ``../shared/data/lens``.

Only artworks marked ``redistributable=yes`` in ``artworks.csv`` are copied (public-domain
works from MIT-licensed repositories, and CC0 Met prints); their attribution is kept in
``metadata.csv`` and ``ATTRIBUTION.md``. Each image is made upright, resized to at most
1600 px on its longest side and re-encoded as JPEG at the highest quality that keeps the
whole folder under 15 MB. ``regions.csv`` holds the details of ``details.csv`` (kind
``detail``) for those artworks, scaled to the resized images.

    python scripts/build_demo_collection.py [--lens DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from PIL import Image, ImageOps

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LENS = PROJECT_ROOT.parent / "shared" / "data" / "lens"
DEFAULT_OUT = PROJECT_ROOT / "demo" / "collection"
MAX_SIDE = 1600
BUDGET_BYTES = 15_000_000  # the whole folder, images and text files
QUALITIES = (90, 88, 86, 84, 82, 80, 78, 76, 74, 72, 70, 65, 60)
METADATA_COLUMNS = ("slug", "title", "artist", "date", "language", "attribution", "licence", "rights",
                    "source_repo", "source_path")
CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"
MIT_NOTICE = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""
REGION_COLUMNS = ("slug", "bbox_xyxy", "label", "language", "tag")


def redistributable_artworks(lens: Path) -> list[dict[str, str]]:
    with open(lens / "artworks.csv", encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["redistributable"].strip().lower() == "yes"]


def load_resized(path: Path, max_side: int = MAX_SIDE) -> tuple[Image.Image, tuple[int, int]]:
    """The image upright and in RGB, no larger than ``max_side``; and its size before resizing."""
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    original = image.size
    if max(original) > max_side:
        scale = max_side / max(original)
        image = image.resize((round(original[0] * scale), round(original[1] * scale)), Image.Resampling.LANCZOS)
    return image, original


def encode(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def scaled_regions(lens: Path, sizes: dict[str, tuple[tuple[int, int], tuple[int, int]]]) -> list[dict[str, str]]:
    """Details of the copied artworks as region rows, boxes scaled from the source image to
    the resized one and clipped to it."""
    rows = []
    with open(lens / "details.csv", encoding="utf-8", newline="") as f:
        for d in csv.DictReader(f):
            if d["artwork"] not in sizes or d["kind"] != "detail":
                continue
            (ow, oh), (w, h) = sizes[d["artwork"]]
            x1, y1, x2, y2 = (float(v) for v in d["bbox_in_artwork_xyxy"].split(","))
            box = (max(0, round(x1 * w / ow)), max(0, round(y1 * h / oh)),
                   min(w, round(x2 * w / ow)), min(h, round(y2 * h / oh)))
            if box[2] > box[0] and box[3] > box[1]:
                rows.append({"slug": d["artwork"], "bbox_xyxy": ",".join(map(str, box)), "label": d["shows"],
                             "language": "en", "tag": d["kind"]})
    return rows


def metadata_row(art: dict[str, str]) -> dict[str, str]:
    return {
        "slug": art["slug"], "title": art["title"], "artist": art["artist"], "date": art["date"], "language": "en",
        "attribution": f"Reproduction from the GitHub repository {art['source_repo']} ({art['source_path']})",
        "licence": art["license"], "rights": CC0 if "CC0" in art["license"] else "",
        "source_repo": art["source_repo"], "source_path": art["source_path"],
    }


def attribution_markdown(artworks: list[dict[str, str]]) -> str:
    lines = [
        "# Attribution of the demo collection",
        "",
        "These images are reproductions of public-domain artworks, copied from the repositories named",
        "below under the licence each one states (MIT-licensed repositories, or The Met Open Access CC0",
        "images). They are resized to at most 1600 px and re-encoded as JPEG. No other image of the",
        "shared test data is redistributed here.",
        "",
        "The repositories marked MIT distribute their files under the MIT licence, whose notice",
        "applies to these copies (copyright: the authors named in each repository):",
        "",
        *(("> " + line).rstrip() for line in MIT_NOTICE.splitlines()),
        "",
    ]
    for art in artworks:
        lines += [
            f"## {art['slug']}.jpg",
            "",
            f"- Title: {art['title']}",
            f"- Artist: {art['artist']}",
            f"- Date: {art['date']}",
            f"- Source: https://github.com/{art['source_repo']} — `{art['source_path']}`",
            f"- Licence: {art['license']}",
            "",
        ]
    return "\n".join(lines)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


def build(lens: Path, out: Path, max_side: int = MAX_SIDE, budget: int = BUDGET_BYTES) -> dict:
    """Write the demo folder; returns a summary (images, quality, total bytes)."""
    artworks = redistributable_artworks(lens)
    images: dict[str, Image.Image] = {}
    sizes: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    for art in artworks:
        image, original = load_resized(lens / "artworks" / f"{art['slug']}.jpg", max_side)
        images[art["slug"]], sizes[art["slug"]] = image, (original, image.size)

    out.mkdir(parents=True, exist_ok=True)
    text_bytes = len(write_csv(out / "metadata.csv", METADATA_COLUMNS, [metadata_row(a) for a in artworks]))
    text_bytes += len(write_csv(out / "regions.csv", REGION_COLUMNS, scaled_regions(lens, sizes)))
    markdown = attribution_markdown(artworks).encode("utf-8")
    (out / "ATTRIBUTION.md").write_bytes(markdown)
    text_bytes += len(markdown)

    for quality in QUALITIES:
        encoded = {slug: encode(image, quality) for slug, image in images.items()}
        total = text_bytes + sum(len(b) for b in encoded.values())
        if total <= budget:
            break
    else:
        raise SystemExit(f"cannot fit the demo under {budget} bytes even at quality {QUALITIES[-1]}")

    for stale in out.glob("*.jpg"):
        if stale.stem not in encoded:
            stale.unlink()
    for slug, data in encoded.items():
        (out / f"{slug}.jpg").write_bytes(data)
    return {"images": len(encoded), "quality": quality, "bytes": total,
            "regions": sum(1 for _ in open(out / "regions.csv", encoding="utf-8")) - 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lens", type=Path, default=DEFAULT_LENS, help=f"shared lens data (default {DEFAULT_LENS})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"demo folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not (args.lens / "artworks.csv").is_file():
        print(f"{args.lens}/artworks.csv not found: the shared data folder is needed to rebuild the demo",
              file=sys.stderr)
        return 2
    summary = build(args.lens, args.out)
    print(f"{summary['images']} images, {summary['regions']} regions, JPEG quality {summary['quality']}, "
          f"{summary['bytes'] / 1e6:.2f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
