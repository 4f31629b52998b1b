"""The CLIP trainer's frozen features: computed once, in the arithmetic asked for (bf16 where
the CPU has it, as the index's embeddings), and training from them reaches the loss that
fp32 features give."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tests.support.deps import need


@pytest.fixture(scope="module")
def tiny():  # noqa: ANN201
    need("open_clip")
    import open_clip
    from PIL import Image

    from loupe_models import Weights, get_spec
    from loupe_models.loading import create_open_clip_model, register_project_configs
    from loupe_models.training.clip_trainer import Pair

    spec = get_spec("loupe-tiny")
    parts = create_open_clip_model(spec, Weights.random(0))
    register_project_configs()
    rng = np.random.default_rng(0)
    pairs = [Pair(Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)), f"detail {i} of a painting")
             for i in range(12)]
    return parts, open_clip.get_tokenizer(spec.architecture), pairs


def _trainer(tiny, **config):  # noqa: ANN001, ANN202
    from loupe_models.training.clip_trainer import ClipTrainer, TrainConfig

    parts, tokenizer, pairs = tiny
    trainer = ClipTrainer(copy.deepcopy(parts.module), parts.preprocess, tokenizer,
                          TrainConfig(freeze="text", batch_size=4, learning_rate=1e-3, **config))
    trainer.prepare(pairs)
    return trainer


def test_bf16_frozen_features_are_fp32_ones_and_train_alike(tiny) -> None:  # noqa: ANN001
    import torch

    fp32, bf16 = _trainer(tiny, frozen_precision="fp32"), _trainer(tiny, frozen_precision="bf16")
    a, b = fp32._cached["text"], bf16._cached["text"]
    assert a.dtype == b.dtype == torch.float32  # kept in fp32: training stays fp32
    assert not torch.equal(a, b)  # bf16 arithmetic did run
    assert float(torch.nn.functional.cosine_similarity(a, b).min()) > 0.999
    losses = {t.config.frozen_precision: [t.step(batch) for e in range(2) for batch in t.epoch_batches(e)]
              for t in (fp32, bf16)}
    assert losses["fp32"][-1] < losses["fp32"][0]  # it trains
    assert max(abs(x - y) for x, y in zip(losses["fp32"], losses["bf16"])) < 1e-2


def test_frozen_precision_follows_the_setting_and_the_cpu(tiny) -> None:  # noqa: ANN001
    from loupe_models.hardware import native_bf16

    assert _trainer(tiny).config.frozen_precision == ("bf16" if native_bf16("cpu") else "fp32")
    with pytest.raises(ValueError, match="frozen_precision"):
        _trainer(tiny, frozen_precision="fp16")


def test_create_takes_model_precision_from_settings(tiny, tmp_path) -> None:  # noqa: ANN001
    from loupe_core.settings import Settings
    from loupe_models import Weights, get_spec
    from loupe_models.training.clip_trainer import ClipTrainer, TrainConfig

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path, model_precision="fp32")
    trainer = ClipTrainer.create(get_spec("loupe-tiny"), Weights.random(0), TrainConfig(freeze="text"), settings)
    assert trainer.config.frozen_precision == "fp32"


def test_create_trains_on_the_model_device_and_says_when_there_is_none(tiny, tmp_path) -> None:  # noqa: ANN001
    import torch

    from loupe_core.settings import Settings, SettingsError
    from loupe_models import Weights, get_spec
    from loupe_models.training.clip_trainer import ClipTrainer, TrainConfig

    spec = get_spec("loupe-tiny")
    cpu = Settings.load(env={}, config_file=None, data_dir=tmp_path, model_device="cpu")
    trainer = ClipTrainer.create(spec, Weights.random(0), TrainConfig(freeze="text"), cpu)
    assert trainer.device.type == "cpu" and next(trainer.module.parameters()).device.type == "cpu"
    if not torch.cuda.is_available():
        cuda = cpu.replace(model_device="cuda")
        with pytest.raises(SettingsError, match="model_device"):
            ClipTrainer.create(spec, Weights.random(0), TrainConfig(freeze="text"), cuda)
