"""What an indexing run did: the job's result (JSON) and its one-line message."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class IndexSummary:
    model: str
    vector: str
    images: int = 0  # catalog images in scope (every source, or the one asked for)
    to_index: int = 0  # new or changed: what this run had to embed
    indexed: int = 0  # embedded and written
    skipped: int = 0  # already indexed with the same content
    failed: int = 0  # could not be fetched or decoded (see the job's log)
    points_written: int = 0
    points_removed: int = 0  # of images gone from the catalog or whose content changed
    points_total: int = 0  # held for the vector afterwards
    seconds: float = 0.0
    # Where the time went: the model's forward passes, the model waiting for fetched, decoded
    # and cropped images (reading is the bottleneck when this is large), writing to the index.
    encode_seconds: float = 0.0
    wait_seconds: float = 0.0
    write_seconds: float = 0.0
    stopped: str | None = None  # "cancel" or "shutdown" when the run ended early
    active: str | None = None  # the index's active vector afterwards
    mode: str | None = None  # local or server
    warning: str | None = None  # local mode's size warning, with how to move to a server

    @property
    def images_per_s(self) -> float:
        return round(self.indexed / self.seconds, 2) if self.seconds else 0.0

    @property
    def points_per_s(self) -> float:
        return round(self.points_written / self.seconds, 1) if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("seconds", "encode_seconds", "wait_seconds", "write_seconds"):
            out[key] = round(out[key], 3)
        out["images_per_s"] = self.images_per_s
        out["points_per_s"] = self.points_per_s
        return out

    def message(self) -> str:
        if self.to_index:
            text = (f"{self.indexed} of {self.to_index} images indexed ({self.points_written} points, "
                    f"{self.points_per_s} points/s), {self.skipped} already indexed, {self.failed} failed")
        else:
            text = f"nothing new to index ({self.skipped} images already indexed)"
        text += f", {self.points_removed} stale points removed; {self.points_total} points in {self.vector}"
        if self.stopped:
            text = f"stopped early ({self.stopped}): {text}"
        if self.warning:
            text = f"{text}. WARNING: {self.warning}"
        return text
