"""What a museum hands to ``loupe publish``: a folder of images, a metadata CSV, regions.

Pure reading and normalising, no IIIF: slugs from file names, metadata rows and region
rows keyed by file name or slug, and the problems found in them (reported, never fatal).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from iiif.model import Problem

SUPPORTED_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp"})
KEY_COLUMNS = ("file", "filename", "file_name", "image", "slug")
# Files a publishable folder may hold beside its images; found without being named.
METADATA_FILE_NAMES = ("metadata.csv",)
REGIONS_FILE_NAMES = ("regions.csv", "regions.json")


# --- slugs -----------------------------------------------------------------------------
def slugify(text: str, fallback: str = "image") -> str:
    """Lowercase ASCII with hyphens: ``"Ritratto d'Ercole II.JPG"`` -> ``"ritratto-d-ercole-ii-jpg"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or fallback


def assign_slugs(files: Iterable[Path], folder: Path, previous: Mapping[str, str] | None = None) -> dict[Path, str]:
    """A unique, stable slug per file, from its path below ``folder`` without the suffix.
    ``previous`` (path below the folder -> slug, from an earlier publication) is honoured
    first, so that adding a file never renames another. Clashes (``a.jpg`` and ``a.png``)
    are settled in sorted order: the first keeps the plain slug, the next gets its suffix
    appended, then a counter."""
    ordered = sorted(files, key=lambda p: p.relative_to(folder).as_posix())
    slugs: dict[Path, str] = {}
    taken: set[str] = set()
    for path in ordered:
        kept = (previous or {}).get(path.relative_to(folder).as_posix())
        if kept and kept not in taken:
            slugs[path] = kept
            taken.add(kept)
    for path in ordered:
        if path in slugs:
            continue
        base = slugify(path.relative_to(folder).with_suffix("").as_posix())
        candidates = [base, f"{base}-{slugify(path.suffix)}"]
        slug = next((c for c in candidates if c not in taken), None)
        n = 2
        while slug is None:
            slug = f"{base}-{n}" if f"{base}-{n}" not in taken else None
            n += 1
        taken.add(slug)
        slugs[path] = slug
    return {path: slugs[path] for path in ordered}


def find_images(folder: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Image files below ``folder`` (recursively; hidden files and folders skipped)."""
    excluded = [p.resolve() for p in exclude]
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        resolved = path.resolve()
        if any(resolved == e or e in resolved.parents for e in excluded):
            continue
        found.append(path)
    return sorted(found)


def find_companion(folder: Path, names: Iterable[str]) -> Path | None:
    """The first of ``names`` present in ``folder`` (metadata.csv, regions.csv, ...)."""
    return next((folder / n for n in names if (folder / n).is_file()), None)


def lookup_keys(path: Path, folder: Path, slug: str) -> list[str]:
    """The keys a metadata or region row may use for this image, most specific first."""
    rel = path.relative_to(folder).as_posix()
    return [k.lower() for k in (rel, path.name, path.stem, slug)]


# --- CSV -------------------------------------------------------------------------------
def read_csv_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file (UTF-8, Excel's BOM tolerated; ``,`` ``;`` or tab separated) as
    (line number, {normalised header: stripped value}); headers are lower-case snake_case."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [re.sub(r"[^a-z0-9]+", "_", h.strip().lower()).strip("_") for h in next(reader, [])]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, values) if h}))
    return rows


def row_key(row: dict[str, str]) -> str | None:
    """The file name or slug a row is about."""
    return next((row[k].lower() for k in KEY_COLUMNS if row.get(k)), None)


def read_metadata(path: Path) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """Metadata rows keyed by (lower-cased) file name, stem or slug."""
    rows: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for line, row in read_csv_rows(path):
        key = row_key(row)
        if key is None:
            problems.append(Problem(f"{path.name}:{line}", f"no {' or '.join(KEY_COLUMNS)} column value; row ignored",
                                    "warning"))
            continue
        if key in rows:
            problems.append(Problem(f"{path.name}:{line}", f"second row for {key!r}; the first one is used", "warning"))
            continue
        rows[key] = row
    return rows, problems


# --- regions ---------------------------------------------------------------------------
@dataclass
class Region:
    """A curator's region in pixels of the original image (EXIF orientation applied, before
    any resizing): a box and what it shows."""

    key: str  # file name or slug, lower-case
    box: tuple[float, float, float, float]  # x, y, w, h
    text: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    creator: str | None = None
    where: str = ""  # file:line, for messages


def read_regions(path: Path) -> tuple[list[Region], list[Problem]]:
    """Regions from a CSV (``file``/``slug``; ``x,y,w,h`` columns, ``xywh`` or ``bbox_xyxy``;
    ``label``/``text``; ``language``; ``tag``/``tags``) or from JSON (a list of objects with
    ``file``/``slug``, ``xywh`` or ``bbox_xyxy``, ``text``/``label``, ``language``, ``tags``)."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            return [], [Problem(path.name, f"not readable as JSON: {e}")]
        if isinstance(data, dict):
            data = data.get("regions", data.get("items"))
        if not isinstance(data, list):
            return [], [Problem(path.name, "expected a list of region objects (or {\"regions\": [...]})")]
        entries = [(f"{path.name}[{i}]", item) for i, item in enumerate(data)]
    else:
        entries = [(f"{path.name}:{line}", row) for line, row in read_csv_rows(path)]
    regions: list[Region] = []
    problems: list[Problem] = []
    for where, entry in entries:
        try:
            regions.append(_region_from(entry, where))
        except ValueError as e:
            problems.append(Problem(where, f"{e}; region ignored", "warning"))
    return regions, problems


def _region_from(entry: Any, where: str) -> Region:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    entry = {re.sub(r"[^a-z0-9]+", "_", str(k).strip().lower()).strip("_"): v for k, v in entry.items()}
    key = row_key({k: str(v) for k, v in entry.items() if k in KEY_COLUMNS and v})
    if key is None:
        raise ValueError(f"no {' or '.join(KEY_COLUMNS)}")
    box = _box_of(entry)
    text = _text(entry.get("text") or entry.get("label") or entry.get("comment"))
    tags = _tags(entry.get("tags", entry.get("tag")))
    if not text and not tags:
        raise ValueError("neither text nor tags")
    return Region(key=key, box=box, text=text, language=_text(entry.get("language") or entry.get("lang")),
                  tags=tags, creator=_text(entry.get("creator") or entry.get("annotator")), where=where)


def _box_of(entry: dict[str, Any]) -> tuple[float, float, float, float]:
    if all(entry.get(k) not in (None, "") for k in ("x", "y", "w", "h")):
        x, y, w, h = (_number(entry[k]) for k in ("x", "y", "w", "h"))
    elif entry.get("xywh") not in (None, ""):
        x, y, w, h = _numbers(entry["xywh"], "xywh")
    elif entry.get("bbox_xyxy") not in (None, ""):
        x1, y1, x2, y2 = _numbers(entry["bbox_xyxy"], "bbox_xyxy")
        x, y, w, h = x1, y1, x2 - x1, y2 - y1
    else:
        raise ValueError("no box (x,y,w,h columns, xywh or bbox_xyxy)")
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise ValueError(f"empty or negative box {x:g},{y:g},{w:g},{h:g}")
    return x, y, w, h


def _numbers(value: Any, name: str) -> list[float]:
    parts = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    if len(parts) != 4:
        raise ValueError(f"{name} needs 4 numbers, got {value!r}")
    return [_number(p) for p in parts]


def _number(value: Any) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else re.split(r"[;|]", str(value))
    return [str(t).strip() for t in items if str(t).strip()]
