"""The evaluation dashboard at ``/evaluations``: per task, a table of each model version's
Recall@1/5/10 and mAP (latest run per version and data set) and a plot comparing them.

The plots are drawn with matplotlib when the page is asked for, written to
``<data_dir>/evaluations/plots/<task>.png`` and shown in the page as PNG data. Results come
from `loupe eval` (``evaluate`` jobs); the page only reads them.
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, make_response, render_template

from loupe_models.training.evaluations import TASK_METRICS, TASK_TITLES, EvaluationStore

from ..services import get_services

bp = Blueprint("evaluations", __name__, template_folder="templates")


@bp.get("/evaluations")
def evaluations_page() -> Response:
    store = EvaluationStore(get_services().settings)
    latest = store.latest()
    plots = {task: base64.b64encode(path.read_bytes()).decode("ascii") for task, path in store.write_plots().items()}
    best: dict[tuple[str, str, str], float] = {}  # (task, data set, metric) -> the best value measured
    for task, rows in latest.items():
        for ev in rows:
            for m in TASK_METRICS.get(task, ()):
                if ev.metrics.get(m) is not None:
                    key = (task, ev.dataset, m)
                    best[key] = max(best.get(key, ev.metrics[m]), ev.metrics[m])
    response = make_response(render_template("web/evaluations.html", latest=latest, plots=plots, metrics=TASK_METRICS,
                                             best=best,
                                             titles=TASK_TITLES, plots_dir=str(store.plots_dir)))
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "no-store"
    return response
