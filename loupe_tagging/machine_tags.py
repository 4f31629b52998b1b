"""Machine tagging annotations in the catalog: proposals written by a model, decisions by
curators.

A proposal is a ``RegionRow(made_by="machine", motivation="tagging", review="proposed")``
with one tag and its provenance (model, version, confidence, date). Re-tagging replaces the
model's proposals on the canvases it tags, but a tag a curator accepted or rejected (same
canvas, same box, same label, any model) is never proposed again: decisions outlive runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import delete, select

from connector.catalog import Catalog
from connector.catalog.schema import RegionRow, utcnow

MOTIVATION = "tagging"
PROPOSED, ACCEPTED, REJECTED = "proposed", "accepted", "rejected"
DECISIONS = (ACCEPTED, REJECTED)
CREATOR = "Loupe zero-shot tagging"

Box = tuple[float, float, float, float]


class ReviewError(ValueError):
    """A review that cannot be recorded (unknown decision, not a machine annotation)."""


class RegionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Proposal:
    canvas_id: int
    box: Box | None  # canvas coordinates; None: the whole canvas
    label: str
    score: float
    image_xywh: Sequence[float] | None = None  # full-image pixels of the box, when known


@dataclass(frozen=True)
class WriteCounts:
    proposed: int  # rows written
    replaced: int  # earlier proposals of this model removed
    decided: int  # proposals skipped because a curator already decided on that tag


def _box_key(x: float | None, y: float | None, w: float | None, h: float | None) -> tuple | None:
    if x is None or y is None or w is None or h is None:
        return None
    return tuple(round(float(v), 1) for v in (x, y, w, h))


def replace_proposals(catalog: Catalog, model: str, model_version: str, canvas_ids: Iterable[int],
                      proposals: Sequence[Proposal], creator: str = CREATOR) -> WriteCounts:
    """In one transaction: drop ``model``'s proposals on ``canvas_ids`` (every version of the
    model: a new checkpoint supersedes its predecessor's guesses), then write ``proposals``
    except those a curator already decided on. ``creator``: the process (zero-shot tagging,
    a detector)."""
    canvas_ids = sorted(set(canvas_ids))
    if not canvas_ids:
        return WriteCounts(0, 0, 0)
    now = utcnow()
    with catalog.session() as s:
        machine = (RegionRow.canvas_id.in_(canvas_ids), RegionRow.made_by == "machine",
                   RegionRow.motivation == MOTIVATION)
        replaced = s.execute(delete(RegionRow).where(*machine, RegionRow.model == model,
                                                     RegionRow.review == PROPOSED)).rowcount or 0
        decided = {key for r in s.scalars(select(RegionRow).where(*machine, RegionRow.review.in_(DECISIONS)))
                   for key in _decided_keys(r)}
        written = skipped = 0
        for p in proposals:
            box = p.box
            if (p.canvas_id, _box_key(*(box or (None,) * 4)), p.label.casefold()) in decided:
                skipped += 1
                continue
            s.add(RegionRow(
                canvas_id=p.canvas_id, motivation=MOTIVATION,
                x=box[0] if box else None, y=box[1] if box else None,
                w=box[2] if box else None, h=box[3] if box else None,
                image_xywh=[round(float(v), 2) for v in p.image_xywh] if p.image_xywh else None,
                selector="xywh" if box else None, texts={}, tags=[p.label], links=[],
                made_by="machine", creator=creator, model=model, model_version=model_version,
                confidence=round(float(p.score), 6), review=PROPOSED, created_at=now))
            written += 1
        s.commit()
    return WriteCounts(written, replaced, skipped)


MAX_LABEL_LENGTH = 200


class InvalidCorrection(ValueError):
    """A corrected label or box that cannot be stored (empty, too long, off the canvas);
    ``field`` says which: ``label`` or ``xywh``."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Correction:
    """What a curator changed before accepting: the label, the box (canvas units), or both."""

    label: str | None = None
    box: Box | None = None


def _decided_keys(row: RegionRow) -> set[tuple]:
    """(canvas, box, label) of a decided region, and of the model's proposal it corrected:
    a corrected suggestion must not come back in its original form either."""
    keys = {(row.canvas_id, _box_key(row.x, row.y, row.w, row.h), str(t).casefold()) for t in row.tags or ()}
    original = row.corrected_from or {}
    box = original.get("xywh") or (None,) * 4
    keys |= {(row.canvas_id, _box_key(*box), str(t).casefold()) for t in original.get("tags") or ()}
    return keys


def set_review(catalog: Catalog, region_id: int, decision: str, *, reviewer: str | None = None,
               correction: Correction | None = None) -> dict:
    """Record a curator's decision on a machine annotation, who took it (``reviewer``: an
    anonymous, stable name such as a fingerprint of the curator's key) and when; an accepted
    one may be corrected first (the model's proposal is kept in ``corrected_from``). Returns
    the region as JSON."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if correction is not None and decision != ACCEPTED and (correction.label is not None or correction.box):
        raise InvalidCorrection("only an accepted annotation can be corrected: send the label or box with "
                                '{"decision": "accepted"}', "label" if correction.label is not None else "xywh")
    with catalog.session() as s:
        row = s.get(RegionRow, region_id)
        if row is None:
            raise RegionNotFound(f"no annotation region {region_id}")
        if row.made_by != "machine":
            raise ReviewError(f"region {region_id} was made by a person; only machine annotations are reviewed")
        if correction is not None:
            _apply_correction(row, correction)
        row.review = decision
        row.reviewed_by = reviewer
        row.reviewed_at = utcnow()
        s.commit()
        return region_json(row)


def _apply_correction(row: RegionRow, correction: Correction) -> None:
    label = None if correction.label is None else " ".join(correction.label.split())
    if label is not None and not 0 < len(label) <= MAX_LABEL_LENGTH:
        raise InvalidCorrection(f"the label must have 1 to {MAX_LABEL_LENGTH} characters", "label")
    box = correction.box
    if box is not None:
        _check_box(box, row.canvas.width, row.canvas.height)
    old_box = None if row.x is None else [row.x, row.y, row.w, row.h]
    changed_label = label is not None and list(row.tags or ()) != [label]
    changed_box = box is not None and old_box != [float(v) for v in box]
    if not (changed_label or changed_box):
        return
    if row.corrected_from is None:  # keep what the model proposed, not an earlier correction
        row.corrected_from = {"tags": list(row.tags or ()), "xywh": old_box}
    if changed_label:
        row.tags = [label]
    if changed_box:
        row.x, row.y, row.w, row.h = (round(float(v), 2) for v in box)
        row.image_xywh = None  # the pixels of the model's box no longer apply
        row.selector = "xywh"


def _check_box(box: Box, width: int | None, height: int | None) -> None:
    x, y, w, h = box
    if not (w > 0 and h > 0 and x >= 0 and y >= 0):
        raise InvalidCorrection("the box needs x, y >= 0 and a width and height > 0 (canvas units)", "xywh")
    if width and height and (x + w > width + 0.5 or y + h > height + 0.5):
        raise InvalidCorrection(f"the box {list(box)} reaches past the {width} x {height} canvas", "xywh")


def region_json(row: RegionRow) -> dict:
    box = None if row.x is None else [row.x, row.y, row.w, row.h]
    return {"id": row.id, "canvas_id": row.canvas_id, "motivation": row.motivation, "xywh": box,
            "tags": list(row.tags or ()), "made_by": row.made_by, "model": row.model,
            "model_version": row.model_version, "confidence": row.confidence, "review": row.review,
            "created_at": row.created_at.isoformat() + "Z" if row.created_at else None,
            "reviewed_by": row.reviewed_by,
            "reviewed_at": row.reviewed_at.isoformat(timespec="seconds") + "Z" if row.reviewed_at else None,
            "corrected_from": row.corrected_from}
