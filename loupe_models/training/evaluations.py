"""Evaluation results stored per model version, and their comparison plots.

    <data_dir>/evaluations/results/<time>-<task>-<model>.json   one run: model, task, metrics
    <data_dir>/evaluations/plots/<task>.png                       the versions compared

A curator compares versions (``loupe-tiny`` against ``loupe-tiny@v2``, or detectors
``details@v1`` against ``details@v2``) on the same task and data set, then decides to train more or to switch the active model. matplotlib is imported
only when a plot is drawn.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loupe_core.settings import Settings

RETRIEVAL_TASKS = ("image", "text", "composed")
TASKS = (*RETRIEVAL_TASKS, "detection")
TASK_TITLES = {"image": "Image to image", "text": "Text to image", "composed": "Composed (image + text)",
               "detection": "Detection of annotated details (held-out views)"}
METRICS = ("R@1", "R@5", "R@10", "mAP")
DETECTION_METRICS = ("mAP@0.5", "recall", "precision")  # recall and precision at the calibrated thresholds
TASK_METRICS = {**{t: METRICS for t in RETRIEVAL_TASKS}, "detection": DETECTION_METRICS}


@dataclass(frozen=True)
class Evaluation:
    model: str  # "loupe-tiny" or "loupe-tiny@v2"
    task: str
    dataset: str  # what was evaluated on (a file's name), so that only like is compared with like
    metrics: dict[str, float]  # TASK_METRICS[task] and queries (detection: held-out views)
    created: str
    method: str = "model"  # composed: the Combiner's name or "zero-shot-weighted-sum"
    vector: str = ""
    job: int | None = None

    @property
    def label(self) -> str:
        return self.model if self.method == "model" else f"{self.model} ({self.method})"

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "task": self.task, "dataset": self.dataset, "metrics": self.metrics,
                "created": self.created, "method": self.method, "vector": self.vector, "job": self.job}


class EvaluationStore:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.data_dir / "evaluations"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def save(self, model: str, task: str, dataset: str, metrics: dict[str, float], *, method: str = "model",
             vector: str = "", job: int | None = None) -> Evaluation:
        now = datetime.now(timezone.utc)
        ev = Evaluation(model, task, dataset, metrics, now.isoformat(timespec="seconds"), method, vector, job)
        folder = self.root / "results"
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{model}-{method}")
        path = folder / f"{now:%Y%m%dT%H%M%S%f}-{task}-{slug}.json"
        path.write_text(json.dumps(ev.as_dict(), indent=2), encoding="utf-8")
        return ev

    def all(self) -> list[Evaluation]:
        out = []
        for path in sorted((self.root / "results").glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                out.append(Evaluation(**data))
            except (OSError, ValueError, TypeError):
                continue
        return out

    def latest(self) -> dict[str, list[Evaluation]]:
        """Per task, the latest result of each (model, method, dataset), oldest model first."""
        found: dict[tuple[str, str, str, str], Evaluation] = {}
        for ev in self.all():
            found[(ev.task, ev.model, ev.method, ev.dataset)] = ev
        out: dict[str, list[Evaluation]] = {}
        for ev in found.values():
            out.setdefault(ev.task, []).append(ev)
        return {task: sorted(rows, key=lambda e: (e.dataset, _version_key(e.model), e.method))
                for task, rows in sorted(out.items(), key=lambda kv: TASKS.index(kv[0]) if kv[0] in TASKS else 99)}

    def write_plots(self) -> dict[str, Path]:
        """One PNG per task comparing the versions; returns task -> file."""
        self.plots_dir.mkdir(parents=True, exist_ok=True)
        out = {}
        for task, rows in self.latest().items():
            path = self.plots_dir / f"{task}.png"
            path.write_bytes(plot_png(task, rows))
            out[task] = path
        return out


def plot_png(task: str, rows: list[Evaluation]) -> bytes:
    """Grouped bars: one group per metric of the task, one bar per model version."""
    metrics = TASK_METRICS.get(task, METRICS)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    try:
        width = 0.8 / max(1, len(rows))
        for i, ev in enumerate(rows):
            xs = [m + i * width - 0.4 + width / 2 for m in range(len(metrics))]
            ys = [float(ev.metrics.get(k) or 0.0) for k in metrics]
            bars = ax.bar(xs, ys, width, label=ev.label)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks(range(len(metrics)), metrics)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("score")
        datasets = sorted({ev.dataset for ev in rows})
        ax.set_title(f"{TASK_TITLES.get(task, task)}: {', '.join(datasets)}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def _version_key(model: str) -> tuple[str, int]:
    name, _, version = model.partition("@v")
    return name, int(version) if version.isdigit() else 0
