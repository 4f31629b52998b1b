"""A lens bundle's files (``lens/BUNDLE.md``): descriptors, ORB records, ``bundle.json``, and
the Python twin of each exported model (the browser's weights, to compute the browser's
features here). Reading and writing only; the build decides what goes in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from loupe_models.errors import ModelError
from loupe_models.lens.orb import RECORD

FORMAT = "loupe-lens-bundle/1"
BUNDLE_FILE = "bundle.json"
# Not served to browsers (the app never asks for it): the browser model's weights for Python.
PYTHON_DIR = "python"

Features = Callable[[np.ndarray], np.ndarray]  # (N, size, size, 3) RGB 0-255 -> (N, out)


def write_descriptors(path: Path, descriptors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.ascontiguousarray(descriptors, "<f4").tofile(path)


def write_orb(path: Path, per_item: list[tuple[int, np.ndarray]]) -> list[dict]:
    """All artworks' RECORD rows in one file; returns the bundle's ``verification.items``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries, offset = [], 0
    with open(path, "wb") as f:
        for item, records in per_item:
            f.write(np.ascontiguousarray(records, RECORD).tobytes())
            entries.append({"item": item, "offset": offset, "count": len(records)})
            offset += len(records)
    return entries


def save_python_model(folder: Path, name: str, weights: list[np.ndarray], config: dict) -> Path:
    """The browser model's weights (folded, on the quantisation grid) and how to build it."""
    path = folder / PYTHON_DIR / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, config=json.dumps(config), **{f"w{i:03d}": w for i, w in enumerate(weights)})
    return path


@dataclass
class Bundle:
    folder: Path
    meta: dict
    descriptors: np.ndarray | None = None
    orb: dict[int, np.ndarray] = field(default_factory=dict)  # artwork index -> RECORD rows
    models: dict[str, Features] = field(default_factory=dict)

    @property
    def items(self) -> list[dict]:
        return self.meta["items"]

    def index(self, item_id: str) -> int | None:
        return next((i for i, it in enumerate(self.items) if it["id"] == item_id), None)


def load_bundle(folder: Path) -> Bundle:
    """A bundle version folder (``.../v3``), without its models (``keras_models.load_models``
    adds their Python twins). Raises ModelError when it is not one."""
    path = Path(folder) / BUNDLE_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path} is not a lens bundle ({e})") from None
    if meta.get("format") != FORMAT:
        raise ModelError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    bundle = Bundle(Path(folder), meta)
    retrieval = meta.get("modes", {}).get("retrieval")
    if retrieval:
        raw = np.fromfile(bundle.folder / retrieval["descriptors"], "<f4")
        bundle.descriptors = raw.reshape(-1, int(retrieval["dim"]))
    verification = meta.get("verification")
    if verification:
        records = np.fromfile(bundle.folder / verification["features"], RECORD)
        for entry in verification["items"]:
            bundle.orb[int(entry["item"])] = records[entry["offset"]:entry["offset"] + entry["count"]]
    return bundle


def read_python_model(path: Path) -> tuple[dict, list[np.ndarray]]:
    """The config and weights `save_python_model` wrote."""
    with np.load(path) as data:
        return json.loads(str(data["config"])), [data[k] for k in sorted(k for k in data.files if k.startswith("w"))]
