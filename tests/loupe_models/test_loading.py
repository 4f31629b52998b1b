"""A model is loaded once per cache (per process by default); torch threads follow settings."""

from __future__ import annotations

import threading

import pytest

from tests.support.deps import need

need("open_clip")

from loupe_models import ModelCache, load_model  # noqa: E402


def test_a_model_is_loaded_once_per_cache(tiny_settings) -> None:
    cache = ModelCache()
    first = load_model(tiny_settings, cache=cache)
    assert load_model(tiny_settings, "loupe-tiny", cache=cache) is first
    assert cache.loads == 1
    other = load_model(tiny_settings, "loupe-tiny-32", cache=cache)
    assert other.dim == 32 and cache.loads == 2 and len(cache) == 2


def test_concurrent_first_loads_build_one_model(tiny_settings) -> None:
    cache = ModelCache()
    got = []
    threads = [threading.Thread(target=lambda: got.append(load_model(tiny_settings, cache=cache)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.loads == 1 and all(m is got[0] for m in got)


def test_the_process_cache_is_the_default(tiny_settings) -> None:
    from loupe_models import PROCESS_MODELS

    model = load_model(tiny_settings, "loupe-tiny-32")
    assert load_model(tiny_settings, "loupe-tiny-32") is model
    assert model in PROCESS_MODELS._models.values()


def test_torch_threads_follow_the_setting(tiny_settings) -> None:
    import torch

    from loupe_models.hardware import available_cores

    before = torch.get_num_threads()
    try:
        load_model(tiny_settings.replace(torch_threads=1), cache=ModelCache())
        assert torch.get_num_threads() == 1
        load_model(tiny_settings.replace(torch_threads=0), cache=ModelCache())
        assert torch.get_num_threads() == available_cores()
    finally:
        torch.set_num_threads(before)


def test_invalid_precision_is_a_settings_error(tiny_settings) -> None:
    from loupe_core.settings import SettingsError

    with pytest.raises(SettingsError, match="model_precision"):
        load_model(tiny_settings.replace(model_precision="fp8"), cache=ModelCache())
