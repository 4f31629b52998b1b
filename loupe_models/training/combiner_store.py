"""Trained Combiners on disk, per index vector, and their numpy inference (no torch: the
search service runs them on every composed query).

    <data_dir>/models/combiners/<vector>/v0001/combiner.npz    weights (numpy arrays)
                                           /combiner.json   params, evaluation
    <data_dir>/models/combiners/<vector>/active.json        {"version": 1}

CLIP4Cir's Combiner (Baldrati et al. 2022), at inference (dropout off):

    t = relu(W_t text), i = relu(W_i image), r = [t, i]
    g = sigmoid(w_2 relu(W_g r))                        the gate, a scalar per query
    out = normalise(W_o relu(W_c r) + g * text + (1 - g) * image)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from loupe_core.settings import Settings

FOLDER = "combiners"
LOGIT_SCALE = 100.0
_DIR_RE = re.compile(r"^v(\d{4,6})$")


class NumpyCombiner:
    """A trained Combiner for ``search_service.combiner.CombinerRegistry``."""

    def __init__(self, name: str, weights: dict[str, np.ndarray]) -> None:
        self.name = name
        self.w = {k: np.asarray(v, np.float32) for k, v in weights.items()}

    def combine(self, image: np.ndarray, text: np.ndarray) -> np.ndarray:
        return self.combine_batch(np.asarray(image, np.float32)[None], np.asarray(text, np.float32)[None])[0]

    def combine_batch(self, image: np.ndarray, text: np.ndarray) -> np.ndarray:
        w = self.w
        image, text = _unit(image), _unit(text)
        t = _relu(text @ w["text_projection.weight"].T + w["text_projection.bias"])
        i = _relu(image @ w["image_projection.weight"].T + w["image_projection.bias"])
        raw = np.concatenate([t, i], axis=-1)
        combined = _relu(raw @ w["combiner_layer.weight"].T + w["combiner_layer.bias"])
        gate_hidden = _relu(raw @ w["gate.0.weight"].T + w["gate.0.bias"])
        gate = 1.0 / (1.0 + np.exp(-(gate_hidden @ w["gate.3.weight"].T + w["gate.3.bias"])))
        out = combined @ w["output_layer.weight"].T + w["output_layer.bias"] + gate * text + (1 - gate) * image
        return _unit(out)


@dataclass(frozen=True)
class StoredCombiner:
    vector: str
    version: int
    folder: Path

    @property
    def name(self) -> str:
        return f"combiner-v{self.version}"

    @property
    def weights_file(self) -> Path:
        return self.folder / "combiner.npz"

    @property
    def info_file(self) -> Path:
        return self.folder / "combiner.json"

    def info(self) -> dict[str, Any]:
        try:
            return json.loads(self.info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def load(self) -> NumpyCombiner:
        with np.load(self.weights_file) as data:
            return NumpyCombiner(self.name, {k: data[k] for k in data.files})


class CombinerStore:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.models_dir / FOLDER

    def vector_dir(self, vector: str) -> Path:
        return self.root / vector

    def list(self, vector: str | None = None) -> list[StoredCombiner]:
        vectors = [vector] if vector else sorted(p.name for p in self.root.glob("*") if p.is_dir())
        out = []
        for v in vectors:
            for folder in sorted(self.vector_dir(v).glob("v*")):
                m = _DIR_RE.match(folder.name)
                if m and (folder / "combiner.npz").is_file() and (folder / "combiner.json").is_file():
                    out.append(StoredCombiner(v, int(m.group(1)), folder))
        return out

    def new(self, vector: str) -> StoredCombiner:
        existing = [int(m.group(1)) for p in self.vector_dir(vector).glob("v*") if (m := _DIR_RE.match(p.name))]
        version = max(existing, default=0) + 1
        folder = self.vector_dir(vector) / f"v{version:04d}"
        folder.mkdir(parents=True, exist_ok=False)
        return StoredCombiner(vector, version, folder)

    def save(self, stored: StoredCombiner, weights: dict[str, np.ndarray], info: dict[str, Any]) -> StoredCombiner:
        np.savez(stored.weights_file, **weights)
        _write_json(stored.info_file, {"vector": stored.vector, "version": stored.version, "name": stored.name,
                                       "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **info})
        return stored

    def activate(self, stored: StoredCombiner) -> None:
        _write_json(self.vector_dir(stored.vector) / "active.json", {"version": stored.version})

    def deactivate(self, vector: str) -> None:
        (self.vector_dir(vector) / "active.json").unlink(missing_ok=True)

    def get(self, vector: str, version: int) -> StoredCombiner | None:
        return next((c for c in self.list(vector) if c.version == version), None)

    def active(self, vector: str) -> StoredCombiner | None:
        try:
            version = json.loads((self.vector_dir(vector) / "active.json").read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            return None
        return self.get(vector, version)

    def run_dir(self, vector: str, job_id: int) -> Path:
        return self.vector_dir(vector) / "runs" / f"job-{job_id}"


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
