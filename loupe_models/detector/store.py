"""Trained detectors, versioned in the data directory as fine-tuned CLIP checkpoints are
(``training.checkpoints``): ``NAME@vN`` names one, ``NAME`` alone the latest. No torch here.

    <data_dir>/models/detectors/<name>/v0001/detector.pt      config and PyTorch state dict
                                            /checkpoint.json   params, training, evaluation, thresholds
                                            /tfjs/             graph model (uint8) and loupe.json
    <data_dir>/models/detectors/<name>/runs/job-<id>/state.pt  a run's resumable state
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loupe_core.settings import Settings
from loupe_models.errors import ModelError
from loupe_models.training.checkpoints import Checkpoint, CheckpointStore, UnknownCheckpoint, _write_json, split_ref

FOLDER = "detectors"
WEIGHTS = "detector.pt"
TFJS = "tfjs"


class UnknownDetector(UnknownCheckpoint):
    def __init__(self, ref: str, known: list[str]) -> None:
        ModelError.__init__(self, f"no detector {ref!r} in the data directory; known: "
                                  f"{', '.join(known) or 'none yet (run `loupe detector train`)'}")
        self.name, self.known = ref, known


class DetectorCheckpoint(Checkpoint):
    @property
    def weights_file(self) -> Path:
        return self.folder / WEIGHTS

    @property
    def tfjs_folder(self) -> Path:
        return self.folder / TFJS

    def vector(self) -> str:
        raise ModelError("a detector makes no vectors")


class DetectorStore(CheckpointStore):
    """``list``, ``get``, ``new``, ``run_dir`` as the CLIP store has them, under ``models/detectors``."""

    checkpoint_class = DetectorCheckpoint

    def __init__(self, settings: Settings) -> None:
        self.root = settings.models_dir / FOLDER

    def get(self, ref: str) -> DetectorCheckpoint:  # type: ignore[override]
        name, version = split_ref(ref)
        found = self.list(name)
        match = found[-1:] if version is None else [c for c in found if c.version == version]
        if not match:
            raise UnknownDetector(ref, [c.ref for c in self.list()])
        return match[0]  # type: ignore[return-value]

    def finish(self, ckpt: Checkpoint, info: dict[str, Any]) -> Checkpoint:
        _write_json(ckpt.info_file, {"model": ckpt.model, "version": ckpt.version, "ref": ckpt.ref,
                                     "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **info})
        return ckpt
