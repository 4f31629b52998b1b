"""Detection quality on held-out views: matches at IoU 0.5, AP per class (all-point
interpolated, as PASCAL VOC 2010+), mAP@0.5, and per-class thresholds calibrated for F1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from loupe_models.detector.config import Detection

IOU = 0.5
DEFAULT_THRESHOLD = 0.5  # for a class with no held-out box to calibrate on
MIN_THRESHOLD = 0.05


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of boxes x0, y0, x1, y1."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass
class ClassRecord:
    scores: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    truths: int = 0


@dataclass
class Matcher:
    """Detections and ground truth of many views, matched class by class."""

    classes: Sequence[str]
    records: dict[str, ClassRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.records = {c: ClassRecord() for c in self.classes}

    def add(self, detections: Sequence[Detection], boxes: np.ndarray, labels: Sequence[str]) -> None:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        for name, record in self.records.items():
            truth = boxes[[i for i, lbl in enumerate(labels) if lbl == name]]
            record.truths += len(truth)
            mine = sorted((d for d in detections if d.label == name), key=lambda d: -d.score)
            taken = np.zeros(len(truth), bool)
            overlaps = iou(np.array([d.box for d in mine]), truth) if mine and len(truth) else None
            for n, d in enumerate(mine):
                hit = False
                if overlaps is not None:
                    free = np.where(taken, -1.0, overlaps[n])
                    best = int(np.argmax(free))
                    if free[best] >= IOU:
                        taken[best] = hit = True
                record.scores.append(d.score)
                record.hits.append(hit)


def average_precision(scores: Sequence[float], hits: Sequence[bool], truths: int) -> float:
    if truths == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    tp = np.cumsum(np.asarray(hits, bool)[order])
    fp = np.cumsum(~np.asarray(hits, bool)[order])
    recall = np.concatenate([[0.0], tp / truths, [1.0]]) if len(tp) else np.array([0.0, 1.0])
    precision = np.concatenate([[1.0], tp / np.maximum(tp + fp, 1), [0.0]]) if len(tp) else np.array([1.0, 0.0])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.nonzero(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def calibrate(record: ClassRecord) -> tuple[float, dict]:
    """The score threshold with the best F1 on the held-out views (ties: the higher threshold)."""
    if record.truths == 0 or not record.scores:
        return DEFAULT_THRESHOLD, {"calibrated": False}
    order = np.argsort(-np.asarray(record.scores), kind="stable")
    scores = np.asarray(record.scores)[order]
    tp = np.cumsum(np.asarray(record.hits)[order])
    precision = tp / np.arange(1, len(tp) + 1)
    recall = tp / record.truths
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(recall), where=precision + recall > 0)
    best = int(np.argmax(f1))
    threshold = max(float(scores[best]), MIN_THRESHOLD)
    return threshold, {"calibrated": True, "f1": round(float(f1[best]), 4), "precision": round(float(precision[best]), 4),
                       "recall": round(float(recall[best]), 4)}


def summary(matcher: Matcher) -> dict:
    """mAP@0.5 over the classes with held-out boxes, AP and calibrated threshold per class."""
    per_class, thresholds = {}, []
    for name, record in matcher.records.items():
        ap = average_precision(record.scores, record.hits, record.truths)
        threshold, info = calibrate(record)
        thresholds.append(threshold)
        per_class[name] = {"ap50": None if np.isnan(ap) else round(ap, 4), "boxes": record.truths,
                           "threshold": round(threshold, 4), **info}
    aps = [v["ap50"] for v in per_class.values() if v["ap50"] is not None]
    return {"map50": round(float(np.mean(aps)), 4) if aps else None, "classes_evaluated": len(aps),
            "thresholds": [round(t, 4) for t in thresholds], "per_class": per_class}


def found_share(matcher: Matcher, thresholds: Sequence[float]) -> dict:
    """At the calibrated thresholds: held-out boxes found, and detections that were right."""
    hits = truths = kept = 0
    for (name, record), t in zip(matcher.records.items(), thresholds):
        keep = np.asarray(record.scores) >= t
        hits += int(np.asarray(record.hits, bool)[keep].sum()) if len(keep) else 0
        kept += int(keep.sum())
        truths += record.truths
    return {"recall": round(hits / truths, 4) if truths else None,
            "precision": round(hits / kept, 4) if kept else None, "boxes": truths}
