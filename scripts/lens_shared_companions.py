"""Companion files for publishing the shared lens artworks (``../shared/data/lens``) with
``loupe publish``: metadata.csv (title, artist, date) and regions.csv (the details, tagged by
their names, so that their items are ``<artwork>__<detail>``).

    python scripts/lens_shared_companions.py ../shared/data/lens OUT
    loupe publish ../shared/data/lens/artworks --name lens --metadata OUT/metadata.csv --regions OUT/regions.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def main(lens: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(lens / "artworks.csv", newline="") as f, open(out / "metadata.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["slug", "title", "artist", "date", "language"])
        for row in csv.DictReader(f):
            w.writerow([row["slug"], row["title"], row["artist"], row["date"], "en"])
    with open(lens / "details.csv", newline="") as f, open(out / "regions.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["slug", "bbox_xyxy", "label", "language", "tag"])
        for row in csv.DictReader(f):
            if row["kind"] != "detail":
                continue
            name = Path(row["file"]).stem.split("__", 1)[1]
            w.writerow([row["artwork"], row["bbox_in_artwork_xyxy"], row["shows"], "en", name])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
