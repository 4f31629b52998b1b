"""The dashboard's plots as PNG bytes (matplotlib, imported only when drawing)."""

from __future__ import annotations

import io

from .report import Report

TOP = 15


def report_plots(report: Report) -> dict[str, bytes]:
    """``{name: PNG}``: top artworks, top details, hours, dwell time, languages (those with data)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def bars(title: str, labels: list[str], values: list[float], xlabel: str, horizontal: bool = True) -> bytes:
        fig = Figure(figsize=(6.4, max(2.4, 0.32 * len(labels) + 1.2)) if horizontal else (6.4, 3.2), dpi=100)
        ax = fig.add_subplot()
        if horizontal:
            ax.barh(labels[::-1], values[::-1], color="#3b6ea5")
            ax.set_xlabel(xlabel)
        else:
            ax.bar(labels, values, color="#3b6ea5")
            ax.set_ylabel(xlabel)
            ax.tick_params(axis="x", labelrotation=45 if len(labels) > 8 else 0)
        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()

    plots: dict[str, bytes] = {}
    for kind, title in (("artwork", "Top artworks"), ("detail", "Top details")):
        rows = [r for r in report.items if r.get("kind") == kind][:TOP]
        if rows:
            plots[f"top_{kind}s"] = bars(title, [_short(r["label"]) for r in rows], [r["sessions"] for r in rows],
                                         "sessions")
    if report.hours:
        by_hour = {r["key"]: r["sessions"] for r in report.hours}  # hidden hours stay empty
        plots["hours"] = bars("Hours (visitors' local time)", [f"{h:02d}" for h in range(24)],
                              [by_hour.get(h, 0) for h in range(24)], "sessions", horizontal=False)
    if report.dwell:
        plots["dwell"] = bars("Dwell time", [r["key"] for r in report.dwell], [r["events"] for r in report.dwell],
                              "events", horizontal=False)
    if report.languages:
        plots["languages"] = bars("Languages", [r["key"] for r in report.languages],
                                  [r["sessions"] for r in report.languages], "sessions")
    return plots


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
