"""Fine-tuned CLIP checkpoints, versioned in the data directory beside their parameters and
evaluation, and named ``NAME@vN`` wherever a model is chosen (``loupe index --model
loupe-tiny@v2``). No torch here: listing and resolving only read files.

    <data_dir>/models/finetuned/<model>/v0002/<model>-ft-v2.pt   open_clip state dict
                                             /checkpoint.json        params, training, evaluation
    <data_dir>/models/finetuned/<model>/runs/job-<id>/state.pt      a run's resumable state

A version's weights are loaded by open_clip like any checkpoint file; its vector name
carries the version and the file's fingerprint (``identity.vector_name_for``), so it is
indexed beside the base model and never shares its vectors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loupe_core.settings import Settings
from loupe_models.errors import ModelError, UnknownModel
from loupe_models.identity import vector_name_for
from loupe_models.registry import ModelSpec, get_spec
from loupe_models.weights import Weights, resolve_weights

FOLDER = "finetuned"
SEPARATOR = "@"
_VERSION_RE = re.compile(r"^v?(\d{1,6})$")
_DIR_RE = re.compile(r"^v(\d{4,6})$")


class UnknownCheckpoint(UnknownModel):
    """``NAME@vN`` names no checkpoint in the data directory."""

    def __init__(self, ref: str, known: list[str]) -> None:
        ModelError.__init__(self, f"no fine-tuned checkpoint {ref!r} in the data directory; known: "
                                  f"{', '.join(known) or 'none yet (run `loupe finetune`)'}")
        self.name = ref
        self.known = known


@dataclass(frozen=True)
class Checkpoint:
    model: str  # the registry model it was fine-tuned from
    version: int
    folder: Path

    @property
    def ref(self) -> str:
        return f"{self.model}{SEPARATOR}v{self.version}"

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def weights_file(self) -> Path:
        return self.folder / f"{self.model}-ft-v{self.version}.pt"

    @property
    def info_file(self) -> Path:
        return self.folder / "checkpoint.json"

    def weights(self) -> Weights:
        return Weights(self.weights_file, "finetuned", version=self.tag)

    def info(self) -> dict[str, Any]:
        try:
            return json.loads(self.info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def vector(self) -> str:
        return vector_name_for(get_spec(self.model), self.weights())

    def update_info(self, **changes: Any) -> dict[str, Any]:
        data = {**self.info(), **changes}
        _write_json(self.info_file, data)
        return data


def split_ref(ref: str) -> tuple[str, int | None]:
    """``("loupe-tiny", 2)`` from ``"loupe-tiny@v2"``; ``(ref, None)`` without a version.
    ValueError for a version that is not ``vN``."""
    name, sep, version = ref.strip().partition(SEPARATOR)
    if not sep:
        return name, None
    m = _VERSION_RE.match(version.strip().lower())
    if not m:
        raise ValueError(f"{ref!r}: a fine-tuned model is NAME{SEPARATOR}vN, e.g. loupe-tiny{SEPARATOR}v1")
    return name.strip(), int(m.group(1))


class CheckpointStore:
    checkpoint_class = Checkpoint  # what `list` and `new` make (the detector store has its own)

    def __init__(self, settings: Settings) -> None:
        self.root = settings.models_dir / FOLDER

    def model_dir(self, model: str) -> Path:
        return self.root / model

    def list(self, model: str | None = None) -> list[Checkpoint]:
        """Finished checkpoints (weights and checkpoint.json written), oldest first."""
        models = [model] if model else sorted(p.name for p in self.root.glob("*") if p.is_dir())
        out = []
        for name in models:
            for folder in sorted(self.model_dir(name).glob("v*")):
                m = _DIR_RE.match(folder.name)
                ckpt = self.checkpoint_class(name, int(m.group(1)), folder) if m else None
                if ckpt and ckpt.weights_file.is_file() and ckpt.info_file.is_file():
                    out.append(ckpt)
        return sorted(out, key=lambda c: (c.model, c.version))

    def get(self, ref: str) -> Checkpoint:
        model, version = split_ref(ref)
        found = next((c for c in self.list(model) if c.version == version), None)
        if found is None:
            raise UnknownCheckpoint(ref, [c.ref for c in self.list()])
        return found

    def for_vector(self, vector: str) -> Checkpoint | None:
        """The checkpoint whose vectors are named ``vector`` (the search service's query model)."""
        return next((c for c in self.list() if f"__ft-{c.tag}__" in vector and c.vector() == vector), None)

    def new(self, model: str) -> Checkpoint:
        """The next version's folder, created (never an existing one)."""
        existing = [int(m.group(1)) for p in self.model_dir(model).glob("v*") if (m := _DIR_RE.match(p.name))]
        version = max(existing, default=0) + 1
        folder = self.model_dir(model) / f"v{version:04d}"
        folder.mkdir(parents=True, exist_ok=False)
        return self.checkpoint_class(model, version, folder)

    def run_dir(self, model: str, job_id: int) -> Path:
        """Where job ``job_id`` keeps its resumable state (removed when it finishes)."""
        return self.model_dir(model) / "runs" / f"job-{job_id}"

    def finish(self, ckpt: Checkpoint, info: dict[str, Any]) -> Checkpoint:
        _write_json(ckpt.info_file, {"model": ckpt.model, "version": ckpt.version, "ref": ckpt.ref,
                                     "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     **info, "vector": ckpt.vector()})
        return ckpt


def resolve_model_ref(settings: Settings, ref: str | None) -> tuple[ModelSpec, Weights]:
    """The registry entry and weights for ``NAME`` (published weights, as ``resolve_weights``
    finds them) or ``NAME@vN`` (a fine-tuned checkpoint here). Raises UnknownModel,
    UnknownCheckpoint or ModelWeightsMissing."""
    name, version = split_ref(ref or settings.model)
    spec = get_spec(name)
    if version is None:
        return spec, resolve_weights(spec, settings)
    return spec, CheckpointStore(settings).get(f"{name}{SEPARATOR}v{version}").weights()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
