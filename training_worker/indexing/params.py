"""Parameters of an ``index`` job (stored as JSON with the job)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

# Images whose points are written to the index together; progress is reported and
# cancellation checked after each such write.
DEFAULT_BATCH_IMAGES = 16


@dataclass(frozen=True)
class IndexParams:
    source: str | None = None  # id, name or URL of one catalog source; None: every source
    model: str | None = None  # registry name; None: the model setting
    activate: bool = False  # make this model's vector the one searches use when done
    batch_images: int = DEFAULT_BATCH_IMAGES

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> "IndexParams":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown index job parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(params)
        if values.get("source") is not None:
            values["source"] = str(values["source"])
        values["activate"] = bool(values.get("activate", False))
        batch = int(values.get("batch_images") or DEFAULT_BATCH_IMAGES)
        if batch < 1:
            raise ValueError(f"batch_images must be at least 1, not {batch}")
        values["batch_images"] = batch
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults (what `loupe jobs show` prints)."""
        defaults = IndexParams()
        return {k: v for k, v in asdict(self).items() if v != getattr(defaults, k)}
