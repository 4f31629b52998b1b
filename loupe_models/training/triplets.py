"""(reference, modification text, target) triplets for composed search, read from the CIRR and
FashionIQ JSON formats or a simple CSV.

A reference is either an image file (a path, relative to the file's folder or to ``images``)
or a catalog region: a canvas URI, optionally with ``#xywh=x,y,w,h`` (canvas coordinates).

- CIRR (``captions/cap.rc2.<split>.json``): ``[{"reference", "target_hard", "caption", ...}]``;
  names are resolved by the split file (``image_splits/split.rc2.<split>.json``:
  ``{name: "./train/34/name.png"}``) when given, else as ``<images>/<name>.(png|jpg)``.
- FashionIQ (``captions/cap.<category>.<split>.json``): ``[{"candidate", "target",
  "captions": [two texts]}]``; the two captions are joined as CLIP4Cir does ("is darker and
  has short sleeves"); names are ``<images>/<name>.(png|jpg)``.
- CSV: columns ``reference,text,target``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

FORMATS = ("auto", "cirr", "fashioniq", "csv")
_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


class TripletError(ValueError):
    """A triplet file cannot be read; the message says where."""


@dataclass(frozen=True)
class Triplet:
    reference: str  # a file path (absolute once read) or a canvas URI with an optional #xywh=
    text: str
    target: str


def is_catalog_ref(ref: str) -> bool:
    return "://" in ref


def read_triplets(path: str | Path, fmt: str = "auto", *, images: str | Path | None = None,
                  split_file: str | Path | None = None) -> list[Triplet]:
    path = Path(path)
    if fmt == "auto":
        fmt = "csv" if path.suffix.lower() == ".csv" else _sniff(path)
    folder = Path(images) if images else path.parent
    if fmt == "csv":
        return read_csv(path, folder)
    data = _json_list(path)
    if fmt == "cirr":
        names = json.loads(Path(split_file).read_text(encoding="utf-8")) if split_file else {}
        base = Path(split_file).parent if split_file else folder
        return [Triplet(_named(str(_field(r, "reference", path, i)), folder, names, base), _field(r, "caption", path, i),
                        _named(str(_field(r, "target_hard", path, i)), folder, names, base)) for i, r in enumerate(data)]
    if fmt == "fashioniq":
        out = []
        for i, r in enumerate(data):
            captions = _field(r, "captions", path, i)
            if not isinstance(captions, list) or not captions:
                raise TripletError(f"{path}: entry {i}: captions must be a list of texts")
            out.append(Triplet(_named(str(_field(r, "candidate", path, i)), folder), join_captions(captions),
                               _named(str(_field(r, "target", path, i)), folder)))
        return out
    raise TripletError(f"unknown triplet format {fmt!r}; known: {', '.join(FORMATS)}")


def join_captions(captions: list[str]) -> str:
    """FashionIQ's two relative captions as one text, as CLIP4Cir joins them."""
    parts = [str(c).strip(".?, ") for c in captions if str(c).strip(".?, ")]
    if not parts:
        return ""
    return " and ".join([parts[0][:1].upper() + parts[0][1:], *parts[1:]])


def read_csv(path: Path, folder: Path) -> list[Triplet]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"reference", "text", "target"} - set(reader.fieldnames or ())
        if missing:
            raise TripletError(f"{path}: the CSV needs the columns reference,text,target (missing {', '.join(sorted(missing))})")
        return [Triplet(_ref(r["reference"], folder), r["text"].strip(), _ref(r["target"], folder)) for r in reader
                if r["reference"] and r["target"]]


def _ref(value: str, folder: Path) -> str:
    value = value.strip()
    return value if is_catalog_ref(value) else str((folder / value).absolute())


def _named(name: str, folder: Path, names: dict | None = None, base: Path | None = None) -> str:
    if names and name in names:
        return str(((base or folder) / names[name]).absolute())
    for suffix in ("", *_SUFFIXES):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return str(candidate.absolute())
    return str((folder / f"{name}.png").absolute())  # reported as missing when its pixels are read


def _sniff(path: Path) -> str:
    first = _json_list(path)[:1]
    if first and "target_hard" in first[0]:
        return "cirr"
    if first and "candidate" in first[0]:
        return "fashioniq"
    raise TripletError(f"{path}: not a CIRR or FashionIQ captions file (entries need reference/target_hard/caption "
                       "or candidate/target/captions)")


def _json_list(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise TripletError(f"{path}: {e}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TripletError(f"{path}: a triplet file is a JSON list of objects")
    return data


def _field(record: dict, key: str, path: Path, i: int) -> object:
    if key not in record:
        raise TripletError(f"{path}: entry {i} has no {key!r}")
    return record[key]
