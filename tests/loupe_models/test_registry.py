"""The registry is data that agrees with open_clip, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from loupe_models import MODELS, RANDOM, UnknownModel, get_spec, model_names
from loupe_models.registry import CONFIG_DIR
from tests.support.deps import need


def test_registry_holds_the_design_models_and_the_tiny_ones() -> None:
    pairs = {(m.name, m.pretrained) for m in MODELS}
    assert {("MobileCLIP2-S0", "dfndr2b"), ("ViT-B-32", "laion2b_s34b_b79k"),
            ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"), ("loupe-tiny", RANDOM)} <= pairs
    assert len(model_names()) == len(set(model_names()))
    tiny = get_spec("loupe-tiny")
    assert (tiny.dim, tiny.preprocess.size, tiny.seed, tiny.test_only) == (64, 64, 0, True)
    # Random weights belong to test models only.
    assert all(m.test_only for m in MODELS if m.pretrained == RANDOM)
    assert get_spec("xlm-roberta-base-ViT-B-32").languages == ("multilingual",)


def test_default_setting_names_a_registry_model(settings) -> None:
    assert get_spec(settings.model).name == "MobileCLIP2-S0"


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(UnknownModel) as info:
        get_spec("ViT-Z-99")
    assert "loupe-tiny" in str(info.value) and "ViT-Z-99" in str(info.value)


@pytest.mark.parametrize("spec", [m for m in MODELS if m.pretrained != RANDOM and m.kind == "clip"],
                         ids=lambda m: m.name)
def test_entries_agree_with_open_clip(spec) -> None:
    open_clip = need("open_clip")
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(spec.architecture, spec.pretrained)
    assert cfg, f"open_clip has no pretrained tag {spec.pretrained} for {spec.architecture}"
    assert cfg["hf_hub"].rstrip("/") == spec.hf_repo
    assert tuple(cfg["mean"]) == spec.preprocess.mean and tuple(cfg["std"]) == spec.preprocess.std
    assert cfg["interpolation"] == spec.preprocess.interpolation
    assert cfg["resize_mode"] == spec.preprocess.resize_mode
    model_cfg = open_clip.get_model_config(spec.architecture)
    assert model_cfg["embed_dim"] == spec.dim
    assert model_cfg["vision_cfg"]["image_size"] == spec.preprocess.size


def test_mobileclip2_image_tower_comes_from_timm() -> None:
    open_clip = need("open_clip")
    timm = need("timm")
    name = open_clip.get_model_config("MobileCLIP2-S0")["vision_cfg"]["timm_model_name"]
    assert name in timm.list_models(name)
    assert "timm" in get_spec("MobileCLIP2-S0").requires


def test_tiny_configs_are_registered_with_open_clip_once() -> None:
    open_clip = need("open_clip")
    from loupe_models.loading import register_project_configs

    register_project_configs()
    known = open_clip.list_models()
    register_project_configs()
    assert open_clip.list_models() == known
    for path in CONFIG_DIR.glob("*.json"):
        assert path.stem in known
        assert open_clip.get_model_config(path.stem)["embed_dim"] == get_spec(path.stem).dim


def test_importing_the_package_loads_no_ml_library() -> None:
    code = ("import sys, loupe_models, loupe_models.listing, loupe.commands.models; "
            "print(sorted(m for m in ('torch', 'open_clip', 'timm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
