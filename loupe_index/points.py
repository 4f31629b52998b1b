"""What one indexed vector stands for: its deterministic id and its payload.

Ids are UUIDv5 of (canvas URI, image content_key, kind, region xywh), so re-indexing the
same pixels upserts the same point instead of adding a duplicate, and a changed image (new
content_key) gets new ids while its old points are deleted by content_key.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

KINDS = ("image", "region", "view")
POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/loupe-iiif/iiif-loupe#index-point")

Xywh = tuple[int, int, int, int]


def as_xywh(box: Sequence[float] | Any | None) -> Xywh | None:
    """Integer ``(x, y, w, h)`` from a sequence or an object with x, y, w, h (``iiif.model.Box``)."""
    if box is None:
        return None
    if hasattr(box, "x"):
        box = (box.x, box.y, box.w, box.h)
    if len(box) != 4:
        raise ValueError(f"a region needs four numbers x, y, w, h, not {box!r}")
    x, y, w, h = (int(round(float(v))) for v in box)
    if w <= 0 or h <= 0:
        raise ValueError(f"region {box!r} has no area")
    return x, y, w, h


def point_id(canvas: str, content_key: str, kind: str, xywh: Sequence[float] | None) -> str:
    """The point's UUID: the same inputs always give the same id."""
    if kind not in KINDS:
        raise ValueError(f"unknown point kind {kind!r}; one of {', '.join(KINDS)}")
    box = as_xywh(xywh)
    key = json.dumps([canvas, content_key, kind, list(box) if box else None], separators=(",", ":"))
    return str(uuid.uuid5(POINT_NAMESPACE, key))


@dataclass(eq=False)
class IndexPoint:
    """One vector to index and what the search results need to show about it.

    ``xywh`` is in canvas coordinates (the whole image's painted area for kind ``image``);
    ``labels`` are the manifest label and the region's texts and tags, for display; ``date``
    is the manifest's navDate (ISO 8601) and ``year`` the number that date filters use.
    Points of one image with the same box are one point: merge their labels.
    """

    vector: np.ndarray | Sequence[float]
    canvas: str
    content_key: str
    kind: str
    xywh: Sequence[float] | None
    manifest: str
    image: str
    source_id: int | None = None
    source: str | None = None
    collection: str | None = None
    labels: Sequence[str] = field(default_factory=tuple)
    rights: str | None = None
    date: str | None = None
    year: int | None = None
    view: str | None = None  # the automatic view's label (views.VIEW_LABELS) for kind "view"

    @property
    def id(self) -> str:
        return point_id(self.canvas, self.content_key, self.kind, self.xywh)

    def payload(self, vector_name: str) -> dict[str, Any]:
        box = as_xywh(self.xywh)
        out: dict[str, Any] = {
            "source_id": self.source_id,
            "source": self.source,
            "collection": self.collection,
            "manifest": self.manifest,
            "canvas": self.canvas,
            "image": self.image,
            "xywh": list(box) if box else None,
            "kind": self.kind,
            "labels": _unique(self.labels),
            "rights": self.rights,
            "date": self.date,
            "year": self.year,
            "content_key": self.content_key,
            "vector": vector_name,
        }
        if self.view:
            out["view"] = self.view
        return out


def _unique(texts: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        t = " ".join(str(t).split())
        if t:
            seen.setdefault(t, None)
    return list(seen)


# --- dates -----------------------------------------------------------------------------------
_YEAR_RE = re.compile(r"(?<![\d-])(1\d{3}|20\d{2})(?!\d)")
_DATE_LABELS = ("date", "dated", "datum", "datering", "year", "jahr", "année", "annee", "fecha",
                "data", "période", "period", "created", "creation", "création", "entstehung", "anno")


def year_from(nav_date: str | None, metadata: Iterable[Mapping[str, Any]] | None = None) -> int | None:
    """The year to filter on: navDate's when present, else the first year in a metadata
    entry whose label looks like a date ("Date", "Datum", "Date de création", ...)."""
    if nav_date:
        m = re.match(r"\s*(-?\d{1,4})-", nav_date)
        if m:
            return int(m.group(1))
    for entry in metadata or ():
        if not isinstance(entry, Mapping):
            continue
        label = " ".join(_texts(entry.get("label"))).lower()
        if not any(word in label for word in _DATE_LABELS):
            continue
        for text in _texts(entry.get("value")):
            m = _YEAR_RE.search(re.sub(r"<[^>]+>", " ", text))
            if m:
                return int(m.group(1))
    return None


def _texts(value: Any) -> list[str]:
    """Strings in a language map (``{"en": ["..."]}``), a list or a plain string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return [str(value)]
