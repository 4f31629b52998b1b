"""What the index answers: hits, pages of hits, and the outcome of a write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    payload: dict[str, Any]

    @property
    def manifest(self) -> str | None:
        return self.payload.get("manifest")

    @property
    def canvas(self) -> str | None:
        return self.payload.get("canvas")

    @property
    def xywh(self) -> list[int] | None:
        return self.payload.get("xywh")

    @property
    def kind(self) -> str | None:
        return self.payload.get("kind")


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None


@dataclass(frozen=True)
class UpsertResult:
    written: int
    total: int  # points now held for the vector
    too_big_for_local: bool = False
    message: str | None = None
