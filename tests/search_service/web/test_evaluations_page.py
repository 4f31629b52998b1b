"""The evaluation dashboard: a table per task comparing model versions and matplotlib plots
(in the page and on disk), served by the real app and looked at in headless Chromium."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from loupe_core.settings import Settings

RESULTS = [
    ("loupe-tiny", "image", {"R@1": 0.25, "R@5": 0.6, "R@10": 0.9, "mAP": 0.4, "queries": 16}),
    ("loupe-tiny@v1", "image", {"R@1": 0.5, "R@5": 0.8, "R@10": 1.0, "mAP": 0.62, "queries": 16}),
    ("loupe-tiny", "text", {"R@1": 0.1, "R@5": 0.3, "R@10": 0.5, "mAP": 0.2, "queries": 30}),
    ("details@v1", "detection", {"mAP@0.5": 0.42, "recall": 0.5, "precision": None, "queries": 12}),
    ("details@v2", "detection", {"mAP@0.5": 0.71, "recall": 0.6, "precision": 0.55, "queries": 12}),
]


@pytest.fixture
def eval_settings(tmp_path: Path) -> Settings:
    from loupe_models.training.evaluations import EvaluationStore

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path / "var", model="loupe-tiny")
    store = EvaluationStore(settings)
    for model, task, metrics in RESULTS:
        store.save(model, task, {"image": "lens details", "text": "captions"}.get(task, "all (held-out views)"), metrics)
    return settings


def test_the_page_has_a_table_per_task_and_the_plots_on_disk(eval_settings: Settings) -> None:
    pytest.importorskip("matplotlib")
    from search_service.app import create_app

    body = create_app(eval_settings).test_client().get("/evaluations")
    assert body.status_code == 200
    html = body.get_data(as_text=True)
    assert html.count('<section id="task-') == 3 and html.count("data:image/png;base64,") == 3
    assert "loupe-tiny@v1" in html and '<td class="best">0.500</td>' in html
    detection = html[html.index('<section id="task-detection">'):]
    assert "<th>mAP@0.5</th><th>recall</th><th>precision</th><th>views</th>" in detection
    assert '<td class="best">0.710</td>' in detection and "<td class=\"\">–</td>" in detection  # none measured
    for task in ("image", "text", "detection"):
        assert (eval_settings.data_dir / "evaluations" / "plots" / f"{task}.png").read_bytes()[:4] == b"\x89PNG"


def test_the_dashboard_in_chromium(eval_settings: Settings, browser, screenshot_dir: Path) -> None:  # noqa: ANN001
    pytest.importorskip("matplotlib")
    from werkzeug.serving import make_server

    from search_service.app import create_app

    server = make_server("127.0.0.1", 0, create_app(eval_settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, device_scale_factor=1)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{server.server_port}/evaluations")
        page.wait_for_selector("img.plot")
        sizes = page.eval_on_selector_all("img.plot", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        assert sizes == [[True, 700]] * 3  # the PNGs decoded (700 px wide, as drawn)
        assert page.locator("#task-image tbody tr").count() == 2 and page.locator("#task-text tbody tr").count() == 1
        assert page.locator("#task-detection tbody tr").count() == 2
        page.screenshot(path=str(screenshot_dir / "evaluations.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=10)
